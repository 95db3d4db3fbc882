public import InfaasCore
public import InfaasPolicies
public import InfaasRegistry
public import InfaasRPC

/// The live master's face of the shared ``ControlLoop``: it turns worker reports into the
/// loop's observations, keeps each worker's identity (address, instance id, last report), and
/// turns the loop's effects into provider actions. Every decision — routing, following a load
/// under way, static placement, the VM autoscaler, replacing lost workers, backing off failed
/// launches — is the loop's, the same code the simulator runs.
///
/// It is a value: the ``MasterServer`` keeps it behind a lock and hands it the time, so tests
/// drive it with any clock they like.
public struct ClusterController: Sendable {
    /// A worker's identity beside its ``WorkerState``.
    public struct Handle: Sendable, Hashable {
        public var name: String
        /// `host:port` of its Worker service (empty until it reports).
        public var address: String
        public var instanceID: String
        public var lastReport: SimTime
        public var sequence: UInt64
        /// Launched by this master's provider (retired through it).
        public var launchedByUs: Bool
        /// Why it left, once gone.
        public var goneReason: String?
    }

    /// What the caller must do: start or stop workers through the provider, or load replicas of
    /// a static deployment on a worker.
    public enum ProviderAction: Sendable, Hashable {
        case launch(name: String, hardware: HardwareClass, slack: Bool)
        case retire(name: String, instanceID: String, reason: String)
        case load(workerName: String, address: String, spec: Infaas_V1_VariantSpec, replicas: Int)
    }

    /// A routed query: where it goes and what to send.
    public struct Ticket: Sendable {
        public var variant: Int
        public var worker: Int
        public var group: Int
        public var spec: Infaas_V1_VariantSpec
        public var address: String
        public var workerName: String
        public var coldStart: Bool
        public var predictedMs: Double
        public var reason: String
        /// A static deployment this query's application needs first (its first query, live).
        public var actions: [ProviderAction] = []
    }

    public let limits: ClusterLimits
    public let machines: MachineCatalogue
    public let policyName: String
    /// The configuration the user gave (the policy adjusts it: ``config`` is what runs).
    public let baseConfig: PolicyConfig
    /// Reports older than this mark a worker gone (2 report periods, as the issue asks).
    public let staleAfter: SimTime
    /// A launched worker that has not reported by then is retired with an error.
    public let bootTimeout: SimTime

    public private(set) var registered: [RegisteredVariant] = []
    /// The shared control loop (snapshot, policy state, autoscalers).
    public internal(set) var control: ControlLoop
    public private(set) var handles: [Handle] = []
    /// Held queries the loop let go (a worker became ready, or they expired), for the master
    /// to answer (``takeReleased()``), and provider actions their release asked for.
    var released: [(token: UInt64, result: Result<Ticket, RejectReason>)] = []
    var releaseActions: [ProviderAction] = []
    var specs: [Infaas_V1_VariantSpec] = []
    /// Instances the VM autoscaler scaled in: their reports are ignored (a worker left running
    /// under `DELETE_MACHINES=2` must not rejoin) until a launch reuses the instance. A worker
    /// dropped for silence may rejoin.
    var retiredInstances: Set<String> = []
    /// Initial GPU workers started as slack GPUs (the original's `SLACK_GPU`, reference §3.6).
    public var initialSlackGPUs = 0

    public var snapshot: ClusterSnapshot { control.snapshot }
    public var policy: any PolicySet { control.policy }
    public var config: PolicyConfig { control.config }
    public var catalogue: PolicyCatalogue { control.catalogue }
    public var launchFailures: Int { control.launchFailures }
    public var nextLaunchAllowed: SimTime { control.nextLaunchAllowed }
    public var launched: Int { control.launched }
    public var retired: Int { control.retired }

    public init(policyName: String = "infaas", config: PolicyConfig = PolicyConfig(), limits: ClusterLimits,
                machines: MachineCatalogue = MachineCatalogue(), staleAfter: SimTime = .seconds(1),
                bootTimeout: SimTime = .seconds(60), seed: UInt64 = 1) throws(ValidationError) {
        try limits.validate()
        self.limits = limits
        self.machines = machines
        self.policyName = policyName
        baseConfig = config
        self.staleAfter = staleAfter
        self.bootTimeout = bootTimeout
        let policy = try PolicyRegistry.make(policyName, PolicyContext(catalogue: try PolicyCatalogue([]), limits: limits, machines: machines, config: config))
        control = ControlLoop(policy: policy, seed: seed)
    }

    /// Starts keeping the loop's decisions (``ControlLoop/journal``), for the parity test.
    public mutating func startJournal() { control.journal = [] }

    // MARK: Catalogue

    /// Replaces the catalogue with the registry's variants. Variants already known keep their
    /// ids (new ones are appended), so replica groups and policy memory stay valid; a variant
    /// gone from the registry (unregistered) keeps its id but is withdrawn
    /// (``PolicyCatalogue/withdrawn``): no query names or chooses it again, and registering
    /// its name again appends a new id.
    public mutating func setVariants(_ all: [RegisteredVariant]) throws(ValidationError) {
        let incoming = Set(all.map(\.variant.name))
        var withdrawn = catalogue.withdrawn
        for (i, old) in registered.enumerated() where !withdrawn.contains(i) && !incoming.contains(old.variant.name) { withdrawn.insert(i) }
        let live = Set(registered.indices.filter { !withdrawn.contains($0) }.map { registered[$0].variant.name })
        let ordered = registered + all.filter { !live.contains($0.variant.name) }
        guard ordered.count != registered.count || withdrawn != catalogue.withdrawn || registered.isEmpty else { return }
        let catalogue = try PolicyCatalogue(ordered.map(\.variant), binEdges: config.accuracyBinEdges, withdrawn: withdrawn)
        control.replacePolicy(try PolicyRegistry.make(policyName, PolicyContext(catalogue: catalogue, limits: limits, machines: machines, config: baseConfig)))
        registered = ordered
        specs = ordered.map { Infaas_V1_VariantSpec($0.variant, modelURL: $0.location.description) }
        catalogueVersion += 1
    }

    /// Changes of the catalogue so far: workers holding an older one are sent ``liveSpecs``.
    public private(set) var catalogueVersion: UInt64 = 0

    /// The wire specs of the variants queries may use (withdrawn ones left out).
    public var liveSpecs: [Infaas_V1_VariantSpec] {
        specs.indices.filter { !catalogue.withdrawn.contains($0) }.map { specs[$0] }
    }

    /// Workers running or loading replicas of variant `v`: name, address, replicas.
    public func workersRunning(_ v: Int) -> [(name: String, address: String, replicas: Int)] {
        snapshot.groups.compactMap { g in
            guard g.variant == v, g.replicas + g.loading > 0, snapshot.workers[g.worker].status != .gone,
                  !handles[g.worker].address.isEmpty else { return nil }
            return (handles[g.worker].name, handles[g.worker].address, g.replicas)
        }
    }

    // MARK: Routing

    /// Chooses the variant and worker for a query through the loop, and returns where to send
    /// it. The first query of an application under a static policy also places its deployment
    /// (``Ticket/actions``).
    public mutating func route(_ query: PolicyQuery, now: SimTime) -> Result<Ticket, RejectReason> {
        var query = query
        let (application, placement) = control.application(for: query, now: now)
        query.application = application
        switch control.route(query, now: now) {
        case .failure(let reason): return .failure(reason)
        case .success(let routed): return .success(ticket(for: query, routed, actions: providerActions(placement)))
        }
    }

    /// Where a routed query goes.
    func ticket(for query: PolicyQuery, _ routed: ControlLoop.Routed, actions: [ProviderAction] = []) -> Ticket {
        let d = routed.decision
        let v = d.variant
        return Ticket(variant: v, worker: d.worker, group: routed.group, spec: specs[v], address: handles[d.worker].address,
                      workerName: handles[d.worker].name, coldStart: routed.coldStart, predictedMs: catalogue.model[v].predictMs(batch: query.batch),
                      reason: catalogue.reason(for: query, variant: v), actions: actions)
    }

    /// A routed query finished (served or failed).
    public mutating func finished(_ ticket: Ticket) {
        control.finished(group: ticket.group, variant: ticket.variant)
    }

    /// The worker could not be reached: stop routing to it now (its process is gone).
    public mutating func workerUnreachable(_ w: Int, reason: String, now: SimTime) {
        markGone(w, reason: reason)
    }

    /// The loop's effects as provider actions (the bookkeeping is done; these are the world's).
    mutating func providerActions(_ effects: [ControlEffect]) -> [ProviderAction] {
        var actions: [ProviderAction] = []
        var loads: [Int: Int] = [:]  // group → replicas, for one Load call per group
        var order: [Int] = []
        for effect in effects {
            switch effect {
            case .startReplica(let g, _, _, _):
                if loads[g] == nil { order.append(g) }
                loads[g, default: 0] += 1
            case .stopReplica:
                break  // live, replicas are stopped by the worker's own loop
            case .launchWorker(let w, let name, let hardware, let slack):
                handles.append(Handle(name: name, address: "", instanceID: "", lastReport: snapshot.workers[w].startedAt, sequence: 0, launchedByUs: true))
                actions.append(.launch(name: name, hardware: hardware, slack: slack))
            case .retireWorker(let w, let name, let reason):
                handles[w].goneReason = handles[w].goneReason ?? (reason == "scale-in" ? "retired by the VM autoscaler" : reason)
                if !handles[w].instanceID.isEmpty { retiredInstances.insert(handles[w].instanceID) }
                actions.append(.retire(name: name, instanceID: handles[w].instanceID, reason: reason))
            }
        }
        for g in order {
            let group = snapshot.groups[g]
            actions.append(.load(workerName: handles[group.worker].name, address: handles[group.worker].address, spec: specs[group.variant],
                                 replicas: loads[g] ?? 1))
        }
        return actions
    }

    // MARK: Reports

    /// Folds a worker's report into the snapshot; the first report registers the worker.
    /// Returns whether the worker was known before.
    @discardableResult
    public mutating func ingest(_ report: Infaas_V1_WorkerReport, now: SimTime) -> Bool {
        let known: Bool
        let w: Int
        if !report.instanceID.isEmpty, retiredInstances.contains(report.instanceID) { return false }
        if let existing = control.worker(named: report.name), snapshot.workers[existing].status != .gone {
            w = existing
            known = true
            if report.sequence != 0, report.sequence < handles[w].sequence, report.instanceID == handles[w].instanceID {
                return true  // an older report overtaken by a newer one
            }
        } else {
            let hardware = HardwareClass(name: report.hardware) ?? .cpu
            let worker = WorkerState(id: 0, name: report.name, hardware: hardware, status: .ready, startedAt: now,
                                     cores: Int(report.cores), acceleratorMemoryMB: report.acceleratorMemoryMb,
                                     neuronCores: Int(report.neuronCores), isSlack: report.slack)
            w = control.addWorker(worker)
            handles.append(Handle(name: report.name, address: report.address, instanceID: report.instanceID, lastReport: now,
                                  sequence: report.sequence, launchedByUs: false))
            known = false
        }
        handles[w].lastReport = now
        handles[w].sequence = report.sequence
        handles[w].address = report.address
        if !report.instanceID.isEmpty { handles[w].instanceID = report.instanceID }
        let becameReady = snapshot.workers[w].status == .booting
        control.workerReady(w)
        if becameReady || !known { releaseHeld(now: now) }  // before its groups are observed, as the simulator does
        let catalogue = self.catalogue
        var worker = snapshot.workers[w]
        worker.cores = Int(report.cores)
        worker.acceleratorMemoryMB = report.acceleratorMemoryMb
        worker.neuronCores = Int(report.neuronCores)
        worker.isSlack = report.slack
        worker.cpuUtilization = report.cpuUtilization
        if worker.hardware == .gpu { worker.gpuUtilization = report.gpuUtilization }
        if worker.hardware == .inferentia { worker.inferentiaUtilization = report.inferentiaUtilization }
        worker.usedCores = Int(report.usedCores)
        worker.usedAcceleratorMemoryMB = report.usedAcceleratorMemoryMb
        worker.usedNeuronCores = Int(report.usedNeuronCores)
        worker.parentScaleDown = Set(report.parentScaleDown.compactMap { catalogue.architectureID($0) })
        control.snapshot.workers[w] = worker
        control.observe(worker: w, groups: report.variants.compactMap { r in
            catalogue.variantID(r.variant).map {  // loaded before a restart but not registered now: ignored
                GroupObservation(variant: $0, replicas: Int(r.replicas), loading: Int(r.loading), unloading: r.unloading, qps: r.qps,
                                 averageLatencyMs: r.averageLatencyMs, averageBatch: Int(r.averageBatch), averageSLOMs: r.averageSloMs,
                                 blacklisted: r.blacklisted)
            }
        }, now: now)
        _ = becameReady  // a worker joining or becoming ready refreshed the utilisation orders; reports change them at the resource tick
        return known
    }

    /// How long a master-initiated load counts as loading without the worker confirming it.
    static let pendingLoadGrace = ControlLoop.pendingLoadGrace

    // MARK: Workers and the VM autoscaler

    /// Records a worker the provider is starting (booting until it reports).
    public mutating func booting(name: String, hardware: HardwareClass, slack: Bool, instanceID: String, now: SimTime) {
        control.addWorker(control.machineWorker(hardware, name: name, status: .booting, now: now, slack: slack))
        handles.append(Handle(name: name, address: "", instanceID: instanceID, lastReport: now, sequence: 0, launchedByUs: true))
    }

    /// The provider started it; remember its id.
    public mutating func launchedInstance(name: String, instanceID: String) {
        if let w = control.worker(named: name) { handles[w].instanceID = instanceID }
        retiredInstances.remove(instanceID)
    }

    /// Workers the provider already runs for this cluster (found by tag after a master restart):
    /// booting until they report, so the master waits for them instead of launching duplicates.
    public mutating func adopt(_ workers: [(name: String, hardware: HardwareClass, instanceID: String)], now: SimTime) {
        for worker in workers where control.worker(named: worker.name).map({ snapshot.workers[$0].status == .gone }) ?? true {
            booting(name: worker.name, hardware: worker.hardware, slack: false, instanceID: worker.instanceID, now: now)
        }
    }

    /// Workers a previous master launched (its persisted identities): expected back, booting
    /// under their own names, until they re-join or `rejoin_grace_s` passes (the loop's rule,
    /// ``ControlLoop/expectRejoin(name:hardware:now:)``), so a restarted master launches no
    /// duplicates of workers that are only slow to reconnect.
    public mutating func expectRejoin(_ workers: [(name: String, hardware: HardwareClass, instanceID: String)], now: SimTime) {
        for worker in workers {
            let before = snapshot.workers.count
            let w = control.expectRejoin(name: worker.name, hardware: worker.hardware, now: now)
            guard w == before else { continue }
            handles.append(Handle(name: worker.name, address: "", instanceID: worker.instanceID, lastReport: now, sequence: 0, launchedByUs: false))
        }
    }

    /// Whether the VM autoscaler scaled in the worker `instanceID` names.
    public func isRetired(instanceID: String) -> Bool { !instanceID.isEmpty && retiredInstances.contains(instanceID) }

    /// The provider failed to start it.
    public mutating func launchFailed(name: String, reason: String, now: SimTime) {
        guard let w = control.worker(named: name) else { return }
        if handles[w].goneReason == nil { handles[w].goneReason = "launch failed: \(reason)" }
        control.launchFailed(worker: w, now: now)
    }

    /// Seconds to wait after `failures` failed launches in a row: 2, 4, 8, … capped at 60.
    public static func launchBackoff(afterFailures failures: Int) -> Double { ControlLoop.launchBackoff(afterFailures: failures) }

    /// A name for the next worker of a class (`infaas-worker-cpu-3`), unique in this master's life.
    public mutating func nextWorkerName(_ hardware: HardwareClass) -> String { control.nextWorkerName(hardware) }

    mutating func markGone(_ w: Int, reason: String) {
        guard snapshot.workers[w].status != .gone else { return }
        handles[w].goneReason = reason
        control.workerGone(w)
    }

    /// Workers that stopped reporting leave and boots that took too long fail (what the master
    /// observes of the world), then the loop replaces lost workers up to the floor. Run often
    /// (every few hundred ms): it is what makes the master stop routing to a dead worker.
    public mutating func expire(now: SimTime, initialWorkers: [HardwareClass: Int], replace: Bool) -> [ProviderAction] {
        var actions: [ProviderAction] = []
        let stale = staleAfter.nanoseconds, boot = bootTimeout.nanoseconds
        for w in snapshot.workers.indices where snapshot.workers[w].status != .gone {
            let age = now.nanoseconds - handles[w].lastReport.nanoseconds
            switch snapshot.workers[w].status {
            case .ready where age > stale:
                markGone(w, reason: "no report for \(age / 1_000_000) ms")
                actions.append(.retire(name: handles[w].name, instanceID: handles[w].instanceID, reason: "stopped reporting"))
            case .booting where age > boot:
                markGone(w, reason: "did not report within \(boot / 1_000_000_000) s of its launch")
                actions.append(.retire(name: handles[w].name, instanceID: handles[w].instanceID, reason: "never became ready"))
            default: break
            }
        }
        guard replace else { return actions }
        return actions + providerActions(control.replaceLostWorkers(now: now, floor: initialWorkers, slackGPUs: initialSlackGPUs))
    }

    /// §4.1 the resource monitor's period: the utilisations reported since the last one now
    /// order the workers (``ControlLoop/resourceTick()``).
    public mutating func resourceTick(now: SimTime) {
        control.resourceTick()
    }

    /// Placements of a static deployment whose applications are known before any query
    /// (the simulator declares an experiment's up front; live, a first query declares one).
    public mutating func declareApplications(_ queries: [PolicyQuery], now: SimTime) -> [ProviderAction] {
        providerActions(control.declareApplications(queries, now: now))
    }

    /// Starts a worker of `hardware` by hand (booting under the next name).
    mutating func launch(_ hardware: HardwareClass, slack: Bool, now: SimTime) -> ProviderAction? {
        providerActions([control.launch(hardware, slack: slack, now: now)]).first
    }

    /// One VM-autoscaler iteration (reference §4.3, every `vmIntervalMs`): the loop's.
    public mutating func autoscale(now: SimTime) -> [ProviderAction] {
        let actions = providerActions(control.vmTick(now: now))
        releaseHeld(now: now)
        return actions
    }

    // MARK: Views

    /// Why a worker left, if it did.
    public func goneReason(_ w: Int) -> String? { handles[w].goneReason }

    /// Index of a worker by name.
    public func worker(named name: String) -> Int? { control.worker(named: name) }

    /// The wire spec of a variant.
    public func spec(_ v: Int) -> Infaas_V1_VariantSpec { specs[v] }
}
