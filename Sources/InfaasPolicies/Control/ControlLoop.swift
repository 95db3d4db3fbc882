public import InfaasCore

/// The one control loop both faces run (DESIGN.md §2.1): it owns the cluster snapshot, the
/// master's policy memory, the autoscalers' state and the tick schedule, asks the
/// ``PolicySet`` for every decision, and executes every plan — the bookkeeping a decision
/// implies and the retry rules — emitting ``ControlEffect``s for the world to carry out.
///
/// The simulator runs one loop over the whole cluster with virtual time. Live, the master runs
/// one for routing and the VM autoscaler, and each worker runs one over a one-worker snapshot
/// of itself for the monitor and the model autoscaler (as the reference's `query_executor`
/// does); both take time from the clock they are handed. Neither face decides anything: the
/// simulator moves virtual time and models service; the live daemons move bytes.
///
/// A value: the same inputs in the same order give the same decisions (the parity test
/// feeds both faces one sequence and compares).
public struct ControlLoop: Sendable {
    public internal(set) var policy: any PolicySet {
        didSet { config = policy.config }
    }
    /// The policy's configuration, kept apart: reading it through the existential copied the
    /// whole struct on every routed query.
    public private(set) var config: PolicyConfig
    public var snapshot: ClusterSnapshot
    public var master: MasterState
    public var vmState: WorkerAutoscalerState
    public var schedule: TickSchedule
    /// Per group: what the worker counted since the last monitor tick.
    public internal(set) var counters: [GroupCounters] = []
    /// Loads started and not yet confirmed (live: by a worker's report), with when.
    public internal(set) var pendingLoads: [Int: SimTime] = [:]
    /// Applications (query streams) by their objectives, and each one's query.
    public internal(set) var applications: [PolicyQuery] = []
    var applicationIndex: [ApplicationKey: Int] = [:]
    var workerIndex: [String: Int] = [:]
    var launchCounter: [HardwareClass: Int] = [:]
    /// Launches that failed in a row, and the earliest time the next may be tried: with the
    /// provider down (AWS unreachable, a quota hit) the loop backs off, 2 s doubling to 60 s,
    /// instead of retrying at every tick. A launched worker becoming ready resets it.
    public internal(set) var launchFailures = 0
    public internal(set) var nextLaunchAllowed = SimTime.zero
    /// Workers known before a restart that the loop waits for, with the time it stops waiting
    /// (``expectRejoin(name:hardware:now:)``).
    public internal(set) var rejoinDeadlines: [Int: SimTime] = [:]
    /// Decisions taken, for the record (the parity test, `infaas status`).
    public internal(set) var launched = 0
    public internal(set) var retired = 0
    /// Every decision in order, when not nil (set it to `[]` to start recording).
    public var journal: [ControlDecision]? = nil
    /// Queries held while a worker boots for them, oldest first (``routeOrHold(_:token:deadline:now:)``).
    public internal(set) var held: [HeldQuery] = []
    /// Workers launched because a query found its class scaled to zero.
    public internal(set) var workersWoken = 0

    public init(policy: any PolicySet, seed: UInt64) {
        self.policy = policy
        config = policy.config
        snapshot = ClusterSnapshot(variantCount: policy.catalogue.count)
        master = MasterState(variantCount: policy.catalogue.count, useCaseCount: policy.catalogue.useCases.count, seed: seed)
        vmState = WorkerAutoscalerState(config: policy.config)
        schedule = TickSchedule(config: policy.config)
    }

    public var catalogue: PolicyCatalogue { policy.catalogue }

    /// Takes a policy over a grown catalogue (live registrations append variants): ids already
    /// given keep their meaning, and what was learnt about them is kept.
    public mutating func replacePolicy(_ new: any PolicySet) {
        policy = new
        snapshot.growVariants(to: new.catalogue.count)
        master.grow(variantCount: new.catalogue.count, useCaseCount: new.catalogue.useCases.count)
    }

    // MARK: Routing

    /// Where a routed query goes, and what the loop did about it.
    public struct Routed: Hashable, Sendable {
        public var decision: RouteDecision
        public var group: Int
        /// No serving replica of the variant on the worker yet: the query waits for a load.
        public var coldStart: Bool
        /// This query started that load (the group had none under way).
        public var startedLoad: Bool
    }

    /// Routes a query at `now`: the policy's decision, then its bookkeeping (the decision's
    /// side effects, the replica group, a cold load counted as loading so the next query follows
    /// it, the query counted outstanding). The caller sends the query to `worker`; a started
    /// load is the worker's to do (it loads on demand), or the simulator's to time.
    public mutating func route(_ query: PolicyQuery, now: SimTime) -> Result<Routed, RejectReason> {
        let (result, _) = decide(query, now: now)
        if case .failure(let reason) = result { journal?.append(.rejected(time: now, reason: reason)) }
        return result
    }

    /// ``route(_:now:)`` without journaling a refusal; with the class of worker the policy wanted.
    /// A cold group already holding `cold_start_buffer` queries for its load sheds the query
    /// (`queue-full`).
    mutating func decide(_ query: PolicyQuery, now: SimTime) -> (Result<Routed, RejectReason>, want: HardwareClass?) {
        switch policy.route(query, snapshot: snapshot, now: now, state: &master) {
        case .reject(let reason, let want):
            if let want { snapshot.capacityShortage.insert(want) }
            return (.failure(reason), want)
        case .route(let d):
            if config.coldStartBuffer > 0, let g = snapshot.group(variant: d.variant, worker: d.worker),
               snapshot.groups[g].replicas == 0, snapshot.groups[g].outstanding >= config.coldStartBuffer {
                return (.failure(.queueFull), nil)
            }
            snapshot.applySideEffects(of: d, now: now, config: config)
            let g = snapshot.ensureGroup(variant: d.variant, worker: d.worker)
            let cold = snapshot.groups[g].replicas == 0
            let start = cold && snapshot.groups[g].loading == 0
            if start { beginLoad(group: g, now: now) }
            snapshot.groups[g].outstanding += 1
            journal?.append(.routed(time: now, variant: d.variant, worker: d.worker, coldStart: cold))
            return (.success(Routed(decision: d, group: g, coldStart: cold, startedLoad: start)), nil)
        }
    }

    /// A routed query is done (served, failed or abandoned).
    @inlinable
    public mutating func finished(group g: Int, variant v: Int) {
        guard g < snapshot.groups.count, snapshot.groups[g].active, snapshot.groups[g].variant == v else { return }
        snapshot.groups[g].outstanding = max(0, snapshot.groups[g].outstanding - 1)
    }

    // MARK: What the monitor counts (worker side)

    /// A query of `batch` with SLO `sloMs` arrived at group `g`: counted for the monitor. (It
    /// does not reset the group's pending scale-down: in the reference only an executed scaling
    /// request does, §4.2 "Executing requests".)
    public mutating func recordArrival(group g: Int, batch: Int, sloMs: Double) {
        growCounters(g)
        counters[g].requests += 1
        counters[g].batchSum += batch
        counters[g].sloSumMs += sloMs
    }

    /// A query of group `g` completed (or was abandoned) after `latencyMs`; `met`: within its SLO.
    public mutating func recordCompletion(group g: Int, latencyMs: Double, met: Bool) {
        growCounters(g)
        counters[g].completed += 1
        counters[g].latencySumMs += latencyMs
        if met { counters[g].metSLO += 1 }
    }

    mutating func growCounters(_ g: Int) {
        if counters.count <= g { counters.append(contentsOf: repeatElement(GroupCounters(), count: g + 1 - counters.count)) }
    }

    /// §4.1 QPS monitor over every active group, then the parent scale-down flags of every ready worker.
    public mutating func monitorTick(intervalSeconds: Double) {
        for g in snapshot.groups.indices where snapshot.groups[g].active {
            growCounters(g)
            snapshot.groups[g] = policy.monitor(snapshot.groups[g], counters: counters[g], intervalSeconds: intervalSeconds)
            counters[g] = GroupCounters()
        }
        for w in snapshot.workers.indices where snapshot.workers[w].status == .ready {
            snapshot.workers[w].parentScaleDown = policy.parentScaleDown(worker: w, snapshot: snapshot)
        }
    }

    /// §4.1 resource monitor: with the workers' utilisations observed (the simulator measures
    /// them, live workers report them), the utilisation orders the policies read are refreshed
    /// — at the resource monitor's period in both faces.
    public mutating func resourceTick() {
        snapshot.refreshUtilizationOrder()
    }

    /// Carries out `effects` on `actuator`, applying the loop's retry rule to those it could not
    /// do now.
    public mutating func perform<A: ClusterActuator>(_ effects: [ControlEffect], on actuator: inout A, now: SimTime) {
        for effect in effects where !actuator.perform(effect, now: now) { couldNotPerform(effect, now: now) }
    }

    /// Records effects in the journal (the tick methods call it with what they return).
    mutating func journaled(_ effects: [ControlEffect], now: SimTime) -> [ControlEffect] {
        if journal != nil, !effects.isEmpty { journal!.append(contentsOf: effects.map { .effect(time: now, $0) }) }
        return effects
    }

    /// What to do about an effect the world could not carry out now.
    public mutating func couldNotPerform(_ effect: ControlEffect, now: SimTime) {
        switch effect {
        case .stopReplica(let g, _, _): removalFailed(group: g)
        case .startReplica(let g, _, _, _): loadFailed(group: g)
        case .launchWorker(let w, _, _, _): launchFailed(worker: w, now: now)
        case .retireWorker: break  // already gone from the snapshot; the face reports why
        }
    }
}

/// An application's identity live: what a query names and asks for.
struct ApplicationKey: Hashable, Sendable {
    var target: PolicyTarget
    var batch: Int
    var sloMs: Double
    var minAccuracy: Double
}
