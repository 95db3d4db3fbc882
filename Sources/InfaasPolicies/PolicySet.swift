public import InfaasCore

/// A complete set of policies: how queries are routed, how each worker's model autoscaler and
/// the VM autoscaler decide. The simulator and the live master drive any `PolicySet`; the
/// baselines of DESIGN.md §5 are ``StandardPolicySet`` presets.
///
/// A `PolicySet` is the only seam between the policies and the two faces: the ``ControlLoop``
/// (which both faces run) calls nothing else. Register a new one in ``PolicyRegistry``.
public protocol PolicySet: Sendable {
    var name: String { get }
    var config: PolicyConfig { get }
    var catalogue: PolicyCatalogue { get }
    /// Worker counts: the floor and the ceiling of each hardware class.
    var limits: ClusterLimits { get }
    /// Machine types (cores, accelerator memory, price, boot time) per hardware class.
    var machines: MachineCatalogue { get }
    /// Routes a query (variant selection, then worker selection).
    func route(_ query: PolicyQuery, snapshot: ClusterSnapshot, now: SimTime, state: inout MasterState) -> RouteResult
    /// The monitor's update of one group after an interval.
    func monitor(_ group: ReplicaGroup, counters: GroupCounters, intervalSeconds: Double) -> ReplicaGroup
    /// Parent scale-down flags for a worker.
    func parentScaleDown(worker: Int, snapshot: ClusterSnapshot) -> Set<Int>
    /// The model autoscaler's plan for a worker.
    func modelPlan(worker: Int, snapshot: ClusterSnapshot) -> ModelScalingPlan
    /// One VM-autoscaler iteration (no decision when VM scaling is off).
    func workerDecision(snapshot: ClusterSnapshot, state: inout WorkerAutoscalerState) -> WorkerScalingDecision
    /// A static deployment: the replicas to place for application `application` (a query
    /// stream, `query` its objectives) before it is served, on the ready workers of `snapshot`.
    /// Records the application's fixed variant in `state`. Policies that load on demand place
    /// nothing (the default).
    func placement(for application: Int, query: PolicyQuery, snapshot: ClusterSnapshot, state: inout MasterState) -> [PlacedReplica]
}

/// One replica of a static deployment.
public struct PlacedReplica: Hashable, Sendable {
    public var variant: Int
    public var worker: Int

    public init(variant: Int, worker: Int) {
        self.variant = variant
        self.worker = worker
    }
}

extension PolicySet {
    public func placement(for application: Int, query: PolicyQuery, snapshot: ClusterSnapshot, state: inout MasterState) -> [PlacedReplica] { [] }
}

/// The policies of this code base, configured by a ``PolicyConfig``.
public struct StandardPolicySet: PolicySet {
    public let name: String
    public let config: PolicyConfig
    public let catalogue: PolicyCatalogue
    public let limits: ClusterLimits
    public let machines: MachineCatalogue
    let selector: VariantSelector
    let workers: WorkerSelector
    let monitorPolicy: Monitor
    let modelAutoscaler: any ModelScalingRule
    let workerAutoscaler: WorkerAutoscaler

    /// `modelRule`: the model autoscaler to run instead of the reference's kind named by
    /// `config.modelAutoscaler` (a policy such as `slo-autoscaler` brings its own).
    public init(name: String, config: PolicyConfig, catalogue: PolicyCatalogue, limits: ClusterLimits,
                machines: MachineCatalogue = MachineCatalogue(), modelRule: (any ModelScalingRule)? = nil) throws(ValidationError) {
        try config.validate()
        try limits.validate()
        self.name = name
        self.config = config
        self.catalogue = catalogue
        self.limits = limits
        self.machines = machines
        selector = VariantSelector(catalogue: catalogue, config: config, machines: machines)
        workers = WorkerSelector(catalogue: catalogue, config: config)
        monitorPolicy = Monitor(catalogue: catalogue, config: config)
        modelAutoscaler = modelRule ?? ModelAutoscaler(catalogue: catalogue, config: config)
        workerAutoscaler = WorkerAutoscaler(config: config, limits: limits)
    }

    /// The named presets.
    public static let presetNames = ["infaas", "infaas-fixed", "infaas-no-vm-scaling", "static", "static-peak", "max-accuracy", "cheapest-meets-slo",
                                     "round-robin", "round-robin-static", "round-robin-dynamic"]

    /// What each preset is, for `--help` and the README.
    public static let presetDescriptions: [String: String] = [
        "infaas": "the reference behaviour: SLO/accuracy/batch-aware selection, model and VM autoscaling",
        "infaas-fixed": "infaas with our fixes of three reference rules: no loose-SLO rule, use-case caches per accuracy bin, CPU scale-out over CPU workers",
        "infaas-no-vm-scaling": "infaas with the VM autoscaler off (fixed workers)",
        "static": "each application's variant fixed up front, fixed replicas, no autoscaling (a hand-tuned deployment)",
        "static-peak": "static, provisioned for the peak as the paper's baselines were: per application the static variant with enough replicas and workers for its peak rate (simulator: measured from the trace; live: give static_replicas_by_application and workers)",
        "max-accuracy": "the most accurate variant that meets the SLO; per-variant replication; VM autoscaling",
        "cheapest-meets-slo": "the cheapest variant per query that meets the objectives; loads on demand; no autoscaling",
        "round-robin": "infaas selection, workers in round-robin (reference mode 2)",
        "round-robin-static": "sticky round-robin workers with the STATIC model autoscaler (reference mode 3)",
        "round-robin-dynamic": "sticky round-robin that re-picks on overload, INDIVIDUAL autoscaler (reference mode 7)",
    ]

    /// The presets as registry entries (``PolicyRegistry``).
    public static let presetEntries: [PolicyEntry] = presetNames.map { name in
        PolicyEntry(name: name, summary: presetDescriptions[name] ?? "") { context throws(ValidationError) in
            try StandardPolicySet.preset(name, catalogue: context.catalogue, limits: context.limits, base: context.config, machines: context.machines)
        }
    }

    /// The configuration of a preset, on top of `base` (which carries thresholds a user set).
    public static func presetConfig(_ name: String, base: PolicyConfig = PolicyConfig()) throws(ValidationError) -> PolicyConfig {
        var c = base
        switch name {
        case "infaas": break
        case "infaas-fixed":
            c.looseSLORule = false
            c.useCaseCacheScope = .accuracyBin
            c.cpuScaleOutBasis = .cpuWorkers
        case "infaas-no-vm-scaling": c.vmAutoscaling = false
        case "static", "static-peak":
            c.variantSelection = .fixed
            c.modelAutoscaler = .none
            c.vmAutoscaling = false
            c.ignoreBlacklists = true
            c.workerGuardEnabled = false
            c.loadOnDemand = false
        case "max-accuracy":
            c.variantSelection = .maxAccuracy
            c.modelAutoscaler = .individual
        case "cheapest-meets-slo":
            c.variantSelection = .cheapest
            c.modelAutoscaler = .none
            c.vmAutoscaling = false
        case "round-robin": c.decisionMode = .roundRobin
        case "round-robin-static":
            c.decisionMode = .roundRobinStatic
            c.modelAutoscaler = .static
        case "round-robin-dynamic":
            c.decisionMode = .roundRobinDynamic
            c.modelAutoscaler = .individual
        default:
            throw ValidationError(field: "policy", value: name, reason: NameSuggestion.hint(for: name, known: presetNames))
        }
        return c
    }

    /// A preset by name.
    public static func preset(_ name: String, catalogue: PolicyCatalogue, limits: ClusterLimits, base: PolicyConfig = PolicyConfig(),
                              machines: MachineCatalogue = MachineCatalogue()) throws(ValidationError) -> StandardPolicySet {
        try StandardPolicySet(name: name, config: presetConfig(name, base: base), catalogue: catalogue, limits: limits, machines: machines)
    }

    public func route(_ query: PolicyQuery, snapshot: ClusterSnapshot, now: SimTime, state: inout MasterState) -> RouteResult {
        switch selector.select(query, snapshot: snapshot, state: &state) {
        case .failure(let reason): return .reject(reason, wantWorker: nil)
        case .success(let choice): return workers.route(choice, snapshot: snapshot, now: now, state: &state)
        }
    }

    public func monitor(_ group: ReplicaGroup, counters: GroupCounters, intervalSeconds: Double) -> ReplicaGroup {
        monitorPolicy.update(group, counters: counters, intervalSeconds: intervalSeconds)
    }

    public func parentScaleDown(worker: Int, snapshot: ClusterSnapshot) -> Set<Int> {
        monitorPolicy.parentScaleDown(worker: worker, snapshot: snapshot)
    }

    public func modelPlan(worker: Int, snapshot: ClusterSnapshot) -> ModelScalingPlan {
        modelAutoscaler.plan(worker: worker, snapshot: snapshot)
    }

    public func workerDecision(snapshot: ClusterSnapshot, state: inout WorkerAutoscalerState) -> WorkerScalingDecision {
        guard config.vmAutoscaling else { return WorkerScalingDecision() }
        return workerAutoscaler.decide(snapshot: snapshot, state: &state)
    }

    /// The `static` baseline's deployment (selection `fixed`): the application's variant is the
    /// cheapest per query that meets its objectives at its batch on hardware the cluster has
    /// (every ready worker runs CPU variants), and `staticReplicas` replicas of it (or the
    /// application's entry of `staticReplicasByApplication`) are spread
    /// over the ready workers that have room, continuing where the previous application's
    /// placement stopped (``MasterState/placementCursor``).
    public func placement(for application: Int, query: PolicyQuery, snapshot: ClusterSnapshot, state: inout MasterState) -> [PlacedReplica] {
        guard config.variantSelection == .fixed else { return [] }
        var present: Set<HardwareClass> = [.cpu]
        for w in snapshot.workers where w.status == .ready { present.insert(w.hardware) }
        let v = fixedVariant(for: query, hardware: present) ?? -1
        while state.fixedVariant.count <= application { state.fixedVariant.append(-1) }
        state.fixedVariant[application] = v
        guard v >= 0 else { return [] }
        let hosts = snapshot.workers.indices.filter { snapshot.workers[$0].status == .ready && snapshot.workers[$0].canHost(catalogue.hardware[v]) }
        guard !hosts.isEmpty else { return [] }
        var scratch = snapshot
        var placed: [PlacedReplica] = []
        let count = application < config.staticReplicasByApplication.count ? config.staticReplicasByApplication[application] : config.staticReplicas
        for _ in 0..<count {
            for attempt in 0..<hosts.count {
                let w = hosts[(state.placementCursor + attempt) % hosts.count]
                let sharedGPU = scratch.group(variant: v, worker: w) != nil && catalogue.hardware[v] == .gpu
                guard workers.hasRoom(v, on: w, scratch) || sharedGPU else { continue }
                let g = scratch.ensureGroup(variant: v, worker: w)
                scratch.reserve(variant: v, worker: w, sign: 1, catalogue: catalogue)
                scratch.groups[g].replicas += 1
                placed.append(PlacedReplica(variant: v, worker: w))
                state.placementCursor = (state.placementCursor + attempt + 1) % hosts.count
                break
            }
        }
        return placed
    }

    /// The variant a hand-tuner would fix for an application (the `static` baseline): the
    /// cheapest per query that meets the objectives at the application's batch, on hardware the
    /// deployment has (`hardware`).
    public func fixedVariant(for query: PolicyQuery, hardware: Set<HardwareClass>) -> Int? {
        if case .variant(let v) = query.target { return hardware.contains(catalogue.hardware[v]) ? v : nil }
        return VariantSelector(catalogue: catalogue, config: { var c = config; c.variantSelection = .cheapest; return c }(), machines: machines)
            .bestByRule(query, hardware: hardware)
    }
}
