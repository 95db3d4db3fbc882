import Foundation
import InfaasCore
import InfaasMaster
import InfaasPolicies
import InfaasRPC
@testable import InfaasRegistry
import InfaasSimulator
import InfaasWorker

/// Feeds a simulator's tape — queries, completions, worker reports, ticks — to the live faces
/// in process, on a manual clock: the master's ``ClusterController`` (through `ingest` of real
/// report messages, `route`, `finished`, `autoscale`, `expire`) and, for each worker, the loop a
/// ``WorkerDaemon`` runs (built by the daemon's own policy factory, driven through the calls the
/// daemon makes). What the faces decide is collected in the order they decide it.
struct LiveReplay {
    var controller: ClusterController
    let catalogue: PolicyCatalogue
    let workerOptions: (WorkerState) -> WorkerOptions
    /// Each worker's own loop (index = worker), created when the worker first reports ready.
    var workers: [Int: ControlLoop] = [:]
    var tickets: [Key: ClusterController.Ticket] = [:]
    var sequence: [Int: UInt64] = [:]
    var decisions: [String] = []
    /// Queries the master's loop may hold, by token, until it lets them go.
    var heldQueries: [UInt64: PolicyQuery] = [:]
    var nextToken: UInt64 = 0
    var controllerJournalRead = 0
    var workerJournalRead: [Int: Int] = [:]
    let monitorSeconds: Double

    struct Key: Hashable {
        var variant: Int
        var worker: Int
    }

    init(catalogue: PolicyCatalogue, policy: String, config: PolicyConfig, limits: ClusterLimits, machines: MachineCatalogue, seed: UInt64) throws {
        self.catalogue = catalogue
        controller = try ClusterController(policyName: policy, config: config, limits: limits, machines: machines,
                                           staleAfter: .seconds(1e6), bootTimeout: .seconds(1e6), seed: seed)
        var registered: [RegisteredVariant] = []
        for v in catalogue.variants {
            registered.append(RegisteredVariant(variant: v, location: .file(path: "/models/\(v.name)/"), submitter: "parity"))
        }
        try controller.setVariants(registered)
        controller.startJournal()
        workerOptions = { state in
            var options = WorkerOptions(name: state.name, hardware: state.hardware, cores: state.cores, acceleratorMemoryMB: state.acceleratorMemoryMB,
                                        neuronCores: state.neuronCores, slack: state.isSlack, policy: policy, masterAddress: "127.0.0.1:1",
                                        modelCache: "/nonexistent")
            options.policyConfig = config
            return options
        }
        monitorSeconds = try PolicyRegistry.resolvedConfig(policy, base: config).monitorIntervalMs / 1000
    }

    mutating func run(_ tape: [TapeEntry]) throws {
        for entry in tape {
            try step(entry)
            collect()
        }
    }

    mutating func step(_ entry: TapeEntry) throws {
        switch entry {
        case .declared(let t, let queries):
            for action in controller.declareApplications(queries, now: t) {
                guard case .load(let name, _, let spec, let replicas) = action, let w = controller.worker(named: name),
                      let v = catalogue.variantID(spec.name) else { continue }
                // The worker's `Load`: one replica loading at a time, as `WorkerDaemon.load` does.
                for _ in 0..<replicas { beginLoad(variant: v, on: w, now: t) }
            }
        case .route(let t, let query, let deadline):
            nextToken += 1
            switch controller.routeOrHold(query, token: nextToken, deadline: deadline, now: t) {
            case .ticket(let ticket): deliver(ticket, query, now: t)
            case .held: heldQueries[nextToken] = query
            case .rejected: break
            }
        case .finished(_, let v, let w, let latencyMs, let met):
            if let ticket = tickets[Key(variant: v, worker: w)] { controller.finished(ticket) }
            if var loop = workers[w], let g = loop.snapshot.group(variant: v, worker: 0) {
                loop.recordCompletion(group: g, latencyMs: latencyMs, met: met)
                loop.finished(group: g, variant: v)
                workers[w] = loop
            }
        case .shed(_, let v, let w):
            // The worker answers it shed: the master's ticket ends, the worker's group lets it go uncounted.
            if let ticket = tickets[Key(variant: v, worker: w)] { controller.finished(ticket) }
            if var loop = workers[w], let g = loop.snapshot.group(variant: v, worker: 0) {
                loop.finished(group: g, variant: v)
                workers[w] = loop
            }
        case .loaded(_, let v, let w):
            if var loop = workers[w], let g = loop.snapshot.group(variant: v, worker: 0) {
                loop.replicaLoaded(group: g)
                workers[w] = loop
            }
        case .arbiter(let t, let stops):
            var outcomes = stops
            for w in workers.keys.sorted() {
                guard var loop = workers[w] else { continue }
                for effect in loop.arbiterTick(now: t) {
                    guard case .stopReplica(let g, let v, _) = effect else { continue }
                    let i = outcomes.firstIndex { $0.variant == v && $0.worker == w }
                    let stopped = i.map { outcomes[$0].stopped } ?? false
                    if let i { outcomes.remove(at: i) }
                    if stopped { loop.replicaRemoved(group: g) } else { loop.couldNotPerform(effect, now: t) }
                }
                workers[w] = loop
            }
        case .tick(let t, let kind):
            switch kind {
            case .monitor:
                for w in workers.keys.sorted() { workers[w]!.monitorTick(intervalSeconds: monitorSeconds) }
            case .resource:
                controller.resourceTick(now: t)
            case .vm:
                _ = controller.autoscale(now: t)
                deliverReleased(now: t)
                _ = controller.expire(now: t, initialWorkers: controller.limits.initial, replace: true)
                // A retired worker's daemon is stopped: its loop plans no more.
                for w in workers.keys where controller.snapshot.workers[w].status == .gone { workers[w] = nil }
            case .arbiter:
                break
            }
        case .report(let t, let w, let state, let groups):
            guard state.status == .ready else { return }  // a booting machine does not report yet
            controller.ingest(report(w, state, groups), now: t)
            if workers[w] == nil {
                var loop = ControlLoop(policy: try WorkerDaemon.policy(workerOptions(state), catalogue: catalogue), seed: 1)
                loop.addWorker(WorkerState(id: 0, name: state.name, hardware: state.hardware, status: .ready, startedAt: .zero,
                                           cores: state.cores, acceleratorMemoryMB: state.acceleratorMemoryMB,
                                           neuronCores: state.neuronCores, isSlack: state.isSlack))
                loop.journal = []
                workers[w] = loop
                workerJournalRead[w] = 0
            }
            workers[w]!.snapshot.workers[0].cpuUtilization = state.cpuUtilization
            deliverReleased(now: t)  // queries held while this worker booted reach it
        }
    }

    /// The query reaches the worker: a cold group loads on demand, and the query is accepted.
    mutating func deliver(_ ticket: ClusterController.Ticket, _ query: PolicyQuery, now t: SimTime) {
        tickets[Key(variant: ticket.variant, worker: ticket.worker)] = ticket
        guard var loop = workers[ticket.worker] else { return }
        let g = loop.snapshot.ensureGroup(variant: ticket.variant, worker: 0)
        if loop.snapshot.groups[g].replicas == 0, loop.snapshot.groups[g].loading == 0 { loop.beginLoad(group: g, now: t) }
        loop.accept(group: g, batch: query.batch, sloMs: query.sloMs)
        workers[ticket.worker] = loop
    }

    /// Held queries the master's loop let go: the routed ones go to their workers, as the master sends them.
    mutating func deliverReleased(now t: SimTime) {
        for (token, result) in controller.takeReleased().released {
            guard let query = heldQueries.removeValue(forKey: token) else { continue }
            if case .success(let ticket) = result { deliver(ticket, query, now: t) }
        }
    }

    mutating func beginLoad(variant v: Int, on w: Int, now: SimTime) {
        guard var loop = workers[w] else { return }
        let g = loop.snapshot.ensureGroup(variant: v, worker: 0)
        loop.beginLoad(group: g, now: now)
        workers[w] = loop
    }

    /// The report message a worker in `state` with `groups` sends (the daemon's own builder).
    mutating func report(_ w: Int, _ state: WorkerState, _ groups: [ReplicaGroup]) -> Infaas_V1_WorkerReport {
        sequence[w, default: 0] += 1
        var r = Infaas_V1_WorkerReport(name: state.name, address: "sim:\(w)", worker: state, groups: groups, catalogue: catalogue)
        r.sequence = sequence[w]!
        return r
    }

    /// New journal entries of the master's loop, then of each worker's (worker 0 there is worker w here).
    mutating func collect() {
        let journal = controller.control.journal ?? []
        for d in journal[controllerJournalRead...] { decisions.append(Self.canonical(d, worker: nil)) }
        controllerJournalRead = journal.count
        for w in workers.keys.sorted() {
            let entries = workers[w]!.journal ?? []
            let read = min(workerJournalRead[w, default: 0], entries.count)
            for d in entries[read...] { decisions.append(Self.canonical(d, worker: w)) }
            workerJournalRead[w] = entries.count
        }
    }

    /// A decision as both faces can state it: variants and workers by index, no group numbers.
    static func canonical(_ d: ControlDecision, worker: Int?) -> String {
        switch d {
        case .routed(let t, let v, let w, let cold): "\(t.nanoseconds) route v\(v) w\(w)\(cold ? " cold" : "")"
        case .rejected(let t, let reason): "\(t.nanoseconds) reject \(reason.rawValue)"
        case .held(let t): "\(t.nanoseconds) hold"
        case .effect(let t, let effect):
            switch effect {
            case .startReplica(_, let v, let w, let placement): "\(t.nanoseconds) start v\(v) w\(worker ?? w)\(placement ? " placed" : "")"
            case .stopReplica(_, let v, let w): "\(t.nanoseconds) stop v\(v) w\(worker ?? w)"
            case .launchWorker(let w, _, let hardware, let slack): "\(t.nanoseconds) launch w\(w) \(hardware.rawValue)\(slack ? " slack" : "")"
            case .retireWorker(let w, _, _): "\(t.nanoseconds) retire w\(w)"
            }
        }
    }
}
