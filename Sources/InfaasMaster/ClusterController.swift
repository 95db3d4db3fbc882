public import InfaasCore
public import InfaasPolicies
public import InfaasRegistry
public import InfaasRPC

/// The master's view of the live cluster and the one place its policies run: workers (from
/// their reports), replica groups, the variant catalogue (from the registry), and the policy
/// state. Every decision goes through the same ``StandardPolicySet`` the simulator drives;
/// this type only turns reports into a ``ClusterSnapshot`` and decisions into bookkeeping.
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

    /// What the caller must do after a tick: start or stop workers through the provider.
    public enum ProviderAction: Sendable, Hashable {
        case launch(name: String, hardware: HardwareClass, slack: Bool)
        case retire(name: String, instanceID: String, reason: String)
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
    }

    public let config: PolicyConfig
    public let limits: ClusterLimits
    public let machines: MachineCatalogue
    public let policyName: String
    /// Reports older than this mark a worker gone (2 report periods, as the issue asks).
    public let staleAfter: SimTime
    /// A launched worker that has not reported by then is retired with an error.
    public let bootTimeout: SimTime

    public private(set) var registered: [RegisteredVariant] = []
    public private(set) var policy: StandardPolicySet
    public private(set) var snapshot: ClusterSnapshot
    public private(set) var handles: [Handle] = []
    var state: MasterState
    var vmState: WorkerAutoscalerState
    var specs: [Infaas_V1_VariantSpec] = []
    var byName: [String: Int] = [:]
    /// Loads the master asked for and no report has confirmed yet, with when.
    var pendingLoads: [Int: SimTime] = [:]
    var launchCounter: [HardwareClass: Int] = [:]
    /// Instances the VM autoscaler scaled in: their reports are ignored (a worker left running
    /// under `DELETE_MACHINES=2` must not rejoin) until a launch reuses the instance. A worker
    /// dropped for silence may rejoin.
    var retiredInstances: Set<String> = []
    /// Initial GPU workers started as slack GPUs (the original's `SLACK_GPU`, reference §3.6).
    public var initialSlackGPUs = 0
    /// Launches that failed in a row, and the earliest time the next may be tried: with the
    /// provider down (AWS unreachable, a quota hit) the master backs off, 2 s doubling to 60 s,
    /// instead of retrying every expiry tick. A worker's first report resets it.
    public private(set) var launchFailures = 0
    public private(set) var nextLaunchAllowed = SimTime.zero
    public private(set) var launched = 0
    public private(set) var retired = 0

    public init(policyName: String = "infaas", config: PolicyConfig = PolicyConfig(), limits: ClusterLimits,
                machines: MachineCatalogue = MachineCatalogue(), staleAfter: SimTime = .seconds(1),
                bootTimeout: SimTime = .seconds(60), seed: UInt64 = 1) throws(ValidationError) {
        self.config = try StandardPolicySet.presetConfig(policyName, base: config)
        self.limits = limits
        self.machines = machines
        self.policyName = policyName
        self.staleAfter = staleAfter
        self.bootTimeout = bootTimeout
        let catalogue = try PolicyCatalogue([])
        policy = try StandardPolicySet(name: policyName, config: self.config, catalogue: catalogue, limits: limits, machines: machines)
        snapshot = ClusterSnapshot(variantCount: 0)
        state = MasterState(variantCount: 0, useCaseCount: 0, seed: seed)
        vmState = WorkerAutoscalerState(config: self.config)
    }

    // MARK: Catalogue

    /// Replaces the catalogue with the registry's variants. Variants already known keep their
    /// ids (new ones are appended), so replica groups and policy memory stay valid.
    public mutating func setVariants(_ all: [RegisteredVariant]) throws(ValidationError) {
        var ordered = registered.filter { old in all.contains { $0.variant.name == old.variant.name } }
        guard ordered.count == registered.count else {
            throw ValidationError(field: "registry", value: "\(registered.count) variants",
                                  reason: "variants disappeared from the registry while the master runs; restart the master")
        }
        let known = Set(ordered.map(\.variant.name))
        ordered += all.filter { !known.contains($0.variant.name) }
        let catalogue = try PolicyCatalogue(ordered.map(\.variant), binEdges: config.accuracyBinEdges)
        policy = try StandardPolicySet(name: policyName, config: config, catalogue: catalogue, limits: limits, machines: machines)
        registered = ordered
        specs = ordered.map { Infaas_V1_VariantSpec($0.variant, modelURL: $0.location.description) }
        snapshot.growVariants(to: catalogue.count)
        state.grow(variantCount: catalogue.count, useCaseCount: catalogue.useCases.count)
    }

    public var catalogue: PolicyCatalogue { policy.catalogue }

    // MARK: Routing

    /// Chooses the variant and worker for a query (the simulator's `route`), applies the
    /// decision's bookkeeping, and returns where to send it.
    public mutating func route(_ query: PolicyQuery, now: SimTime) -> Result<Ticket, RejectReason> {
        switch policy.route(query, snapshot: snapshot, now: now, state: &state) {
        case .reject(let reason, let want):
            if let want { snapshot.capacityShortage.insert(want) }
            return .failure(reason)
        case .route(var d):
            // The policies treat a loading replica as not running, so their cold placement
            // would start a second load on another worker; follow the load under way instead.
            if d.needsLoad, !d.assignExclusive, let w = loadingWorker(of: d.variant, besides: d.worker, now: now) { d.worker = w }
            snapshot.applySideEffects(of: d, now: now, config: config)
            let g = snapshot.ensureGroup(variant: d.variant, worker: d.worker)
            let cold = snapshot.groups[g].replicas == 0
            if cold && snapshot.groups[g].loading == 0 {
                // The worker loads on demand; count the replica as loading so the next query
                // does not start a second cold load elsewhere before the worker reports.
                snapshot.groups[g].loading = 1
                snapshot.reserve(variant: d.variant, worker: d.worker, sign: 1, catalogue: catalogue)
                pendingLoads[g] = now
            }
            snapshot.groups[g].outstanding += 1
            let v = d.variant
            let predicted = catalogue.model[v].predictMs(batch: query.batch)
            return .success(Ticket(
                variant: v, worker: d.worker, group: g, spec: specs[v], address: handles[d.worker].address,
                workerName: handles[d.worker].name, coldStart: cold, predictedMs: predicted,
                reason: Self.explain(query, variant: v, catalogue: catalogue, predictedMs: predicted, running: !cold)))
        }
    }

    /// A ready worker other than `w` already loading `v`, when `w` itself is not.
    func loadingWorker(of v: Int, besides w: Int, now: SimTime) -> Int? {
        if let g = snapshot.group(variant: v, worker: w), snapshot.groups[g].loading > 0 { return nil }
        for g in snapshot.variantGroups[v] where snapshot.groups[g].loading > 0 && snapshot.groups[g].worker != w {
            let worker = snapshot.workers[snapshot.groups[g].worker]
            if worker.status == .ready, config.ignoreBlacklists || worker.blacklistedUntil <= now { return worker.id }
        }
        return nil
    }

    /// A routed query finished (served or failed).
    public mutating func finished(_ ticket: Ticket) {
        guard ticket.group < snapshot.groups.count, snapshot.groups[ticket.group].active,
              snapshot.groups[ticket.group].variant == ticket.variant else { return }
        snapshot.groups[ticket.group].outstanding = max(0, snapshot.groups[ticket.group].outstanding - 1)
    }

    /// The worker could not be reached: stop routing to it now (its process is gone).
    public mutating func workerUnreachable(_ w: Int, reason: String, now: SimTime) {
        markGone(w, reason: reason)
    }

    static func explain(_ q: PolicyQuery, variant v: Int, catalogue: PolicyCatalogue, predictedMs: Double, running: Bool) -> String {
        let name = catalogue.variants[v].name
        var parts: [String] = []
        switch q.target {
        case .variant: parts.append("named by the query")
        case .architecture, .useCase:
            parts.append(String(format: "predicted %.2f ms at batch %d", predictedMs, q.batch)
                         + (q.sloMs > 0 ? String(format: " ≤ SLO %.0f ms", q.sloMs) : ""))
            if q.minAccuracy > 0, let a = catalogue.accuracy[v] { parts.append(String(format: "accuracy %.2f%% ≥ %.2f%%", a, q.minAccuracy)) }
            parts.append("max batch \(catalogue.maxBatch[v]) ≥ \(q.batch)")
        }
        return "\(name): " + parts.joined(separator: ", ")
    }

    // MARK: Reports

    /// Folds a worker's report into the snapshot; the first report registers the worker.
    /// Returns whether the worker was known before.
    @discardableResult
    public mutating func ingest(_ report: Infaas_V1_WorkerReport, now: SimTime) -> Bool {
        let known: Bool
        let w: Int
        if !report.instanceID.isEmpty, retiredInstances.contains(report.instanceID) { return false }
        if let existing = byName[report.name], snapshot.workers[existing].status != .gone {
            w = existing
            known = true
            if report.sequence != 0, report.sequence < handles[w].sequence, report.instanceID == handles[w].instanceID {
                return true  // an older report overtaken by a newer one
            }
        } else {
            let hardware = HardwareClass(name: report.hardware) ?? .cpu
            var worker = WorkerState(id: 0, name: report.name, hardware: hardware, status: .ready, startedAt: now,
                                     cores: Int(report.cores), acceleratorMemoryMB: report.acceleratorMemoryMb,
                                     neuronCores: Int(report.neuronCores), isSlack: report.slack)
            worker.status = .ready
            w = snapshot.addWorker(worker)
            handles.append(Handle(name: report.name, address: report.address, instanceID: report.instanceID, lastReport: now,
                                  sequence: report.sequence, launchedByUs: false))
            byName[report.name] = w
            known = false
        }
        handles[w].lastReport = now
        handles[w].sequence = report.sequence
        handles[w].address = report.address
        if !report.instanceID.isEmpty { handles[w].instanceID = report.instanceID }
        var worker = snapshot.workers[w]
        let becameReady = worker.status == .booting
        if becameReady { launchFailures = 0; nextLaunchAllowed = .zero }
        worker.status = .ready
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
        snapshot.workers[w] = worker
        applyGroups(report.variants, worker: w, now: now)
        if becameReady || !known || report.sequence % 4 == 0 { snapshot.refreshUtilizationOrder() }
        return known
    }

    mutating func applyGroups(_ reports: [Infaas_V1_VariantReport], worker w: Int, now: SimTime) {
        var seen = Set<Int>()
        for r in reports {
            guard let v = catalogue.variantID(r.variant) else { continue }  // loaded before a restart, not registered now
            let g = snapshot.ensureGroup(variant: v, worker: w)
            seen.insert(g)
            var group = snapshot.groups[g]
            group.replicas = Int(r.replicas)
            group.loading = Int(r.loading)
            group.unloading = r.unloading
            group.qps = r.qps
            group.averageLatencyMs = r.averageLatencyMs
            group.averageBatch = max(1, Int(r.averageBatch))
            group.averageSLOMs = r.averageSloMs
            group.blacklisted = r.blacklisted
            if group.replicas > 0 || group.loading > 0 { pendingLoads[g] = nil }
            if let asked = pendingLoads[g], group.replicas == 0, group.loading == 0 {
                // The worker has not seen the load we asked for yet.
                if (now.nanoseconds - asked.nanoseconds) < Self.pendingLoadGrace.nanoseconds { group.loading = 1 } else { pendingLoads[g] = nil }
            }
            snapshot.groups[g] = group
        }
        for g in snapshot.workers[w].groups where !seen.contains(g) {
            if let asked = pendingLoads[g], now.nanoseconds - asked.nanoseconds < Self.pendingLoadGrace.nanoseconds { continue }
            pendingLoads[g] = nil
            if snapshot.groups[g].outstanding == 0 { snapshot.removeGroup(g) } else {
                snapshot.groups[g].replicas = 0
                snapshot.groups[g].loading = 0
            }
        }
    }

    /// How long a master-initiated load counts as loading without the worker confirming it.
    static let pendingLoadGrace = SimTime.seconds(5)

    // MARK: Workers and the VM autoscaler

    /// Records a worker the provider is starting (booting until it reports).
    public mutating func booting(name: String, hardware: HardwareClass, slack: Bool, instanceID: String, now: SimTime) {
        let machine = machines[hardware]
        let worker = WorkerState(id: 0, name: name, hardware: hardware, status: .booting, startedAt: now, cores: machine.vcpus,
                                 acceleratorMemoryMB: machine.acceleratorMemoryMB, neuronCores: machine.neuronCores, isSlack: slack)
        let w = snapshot.addWorker(worker)
        handles.append(Handle(name: name, address: "", instanceID: instanceID, lastReport: now, sequence: 0, launchedByUs: true))
        byName[name] = w
    }

    /// The provider started it; remember its id.
    public mutating func launchedInstance(name: String, instanceID: String) {
        if let w = byName[name] { handles[w].instanceID = instanceID }
        retiredInstances.remove(instanceID)
    }

    /// Workers the provider already runs for this cluster (found by tag after a master restart):
    /// booting until they report, so the master waits for them instead of launching duplicates.
    public mutating func adopt(_ workers: [(name: String, hardware: HardwareClass, instanceID: String)], now: SimTime) {
        for worker in workers where byName[worker.name].map({ snapshot.workers[$0].status == .gone }) ?? true {
            booting(name: worker.name, hardware: worker.hardware, slack: false, instanceID: worker.instanceID, now: now)
        }
    }

    /// The provider failed to start it.
    public mutating func launchFailed(name: String, reason: String, now: SimTime) {
        if let w = byName[name] { markGone(w, reason: "launch failed: \(reason)") }
        launchFailures += 1
        nextLaunchAllowed = SimTime.seconds(now.seconds + Self.launchBackoff(afterFailures: launchFailures))
    }

    /// Seconds to wait after `failures` failed launches in a row: 2, 4, 8, … capped at 60.
    public static func launchBackoff(afterFailures failures: Int) -> Double {
        min(60, 2 * Double(1 << min(6, max(0, failures - 1))))
    }

    /// A name for the next worker of a class (`infaas-worker-cpu-3`), unique in this master's life.
    public mutating func nextWorkerName(_ hardware: HardwareClass) -> String {
        var i = launchCounter[hardware, default: 0]
        while byName["infaas-worker-\(hardware.shortName)-\(i)"] != nil { i += 1 }
        launchCounter[hardware] = i + 1
        return "infaas-worker-\(hardware.shortName)-\(i)"
    }

    mutating func markGone(_ w: Int, reason: String) {
        guard snapshot.workers[w].status != .gone else { return }
        snapshot.workers[w].status = .gone
        handles[w].goneReason = reason
        for g in snapshot.workers[w].groups { pendingLoads[g] = nil }
        snapshot.refreshUtilizationOrder()
    }

    /// Workers that stopped reporting leave, boots that took too long fail, and lost workers are
    /// replaced up to the initial count (the reference assumed workers never die). Run often
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
        guard replace, now.nanoseconds >= nextLaunchAllowed.nanoseconds else { return actions }
        for hardware in HardwareClass.allCases {
            let want = min(initialWorkers[hardware, default: 0], limits.maximum(hardware))
            var have = snapshot.liveWorkerCount(hardware)
            var slack = snapshot.workers.count { $0.status != .gone && $0.hardware == .gpu && $0.isSlack }
            while have < want {
                let asSlack = hardware == .gpu && slack < initialSlackGPUs
                actions.append(launch(hardware, slack: asSlack, now: now))
                if asSlack { slack += 1 }
                have += 1
            }
        }
        return actions
    }

    /// One VM-autoscaler iteration (reference §4.3, every `vmIntervalMs`).
    public mutating func autoscale(now: SimTime) -> [ProviderAction] {
        var actions: [ProviderAction] = []
        let decision = policy.workerDecision(snapshot: snapshot, state: &vmState)
        snapshot.applyBookkeeping(of: decision, now: now, config: config)
        if let launch = decision.launch, now.nanoseconds >= nextLaunchAllowed.nanoseconds {
            actions.append(self.launch(launch.hardware, slack: launch.slack, now: now))
        }
        if let w = decision.retire, snapshot.workers[w].status != .gone {
            markGone(w, reason: "retired by the VM autoscaler")
            if !handles[w].instanceID.isEmpty { retiredInstances.insert(handles[w].instanceID) }
            retired += 1
            actions.append(.retire(name: handles[w].name, instanceID: handles[w].instanceID, reason: "scale-in"))
        }
        return actions
    }

    mutating func launch(_ hardware: HardwareClass, slack: Bool, now: SimTime) -> ProviderAction {
        let name = nextWorkerName(hardware)
        booting(name: name, hardware: hardware, slack: slack, instanceID: "", now: now)
        launched += 1
        return .launch(name: name, hardware: hardware, slack: slack)
    }

    // MARK: Views

    /// Why a worker left, if it did.
    public func goneReason(_ w: Int) -> String? { handles[w].goneReason }

    /// Index of a ready worker by name.
    public func worker(named name: String) -> Int? { byName[name] }

    /// The wire spec of a variant.
    public func spec(_ v: Int) -> Infaas_V1_VariantSpec { specs[v] }
}
