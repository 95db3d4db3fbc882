public import InfaasCore

/// A complete set of policies: how queries are routed, how each worker's model autoscaler and
/// the VM autoscaler decide. The simulator and the live master drive any `PolicySet`; the
/// baselines of DESIGN.md §5 are ``StandardPolicySet`` presets.
public protocol PolicySet: Sendable {
    var name: String { get }
    var config: PolicyConfig { get }
    var catalogue: PolicyCatalogue { get }
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
    let modelAutoscaler: ModelAutoscaler
    let workerAutoscaler: WorkerAutoscaler

    public init(name: String, config: PolicyConfig, catalogue: PolicyCatalogue, limits: ClusterLimits,
                machines: MachineCatalogue = MachineCatalogue()) throws(ValidationError) {
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
        modelAutoscaler = ModelAutoscaler(catalogue: catalogue, config: config)
        workerAutoscaler = WorkerAutoscaler(config: config, limits: limits)
    }

    /// The named presets.
    public static let presetNames = ["infaas", "infaas-no-vm-scaling", "static", "max-accuracy", "cheapest-meets-slo",
                                     "round-robin", "round-robin-static", "round-robin-dynamic"]

    /// What each preset is, for `--help` and the README.
    public static let presetDescriptions: [String: String] = [
        "infaas": "the reference behaviour: SLO/accuracy/batch-aware selection, model and VM autoscaling",
        "infaas-no-vm-scaling": "infaas with the VM autoscaler off (fixed workers)",
        "static": "each application's variant fixed up front, fixed replicas, no autoscaling (a hand-tuned deployment)",
        "max-accuracy": "the most accurate variant that meets the SLO; per-variant replication; VM autoscaling",
        "cheapest-meets-slo": "the cheapest variant per query that meets the objectives; loads on demand; no autoscaling",
        "round-robin": "infaas selection, workers in round-robin (reference mode 2)",
        "round-robin-static": "sticky round-robin workers with the STATIC model autoscaler (reference mode 3)",
        "round-robin-dynamic": "sticky round-robin that re-picks on overload, INDIVIDUAL autoscaler (reference mode 7)",
    ]

    /// The configuration of a preset, on top of `base` (which carries thresholds a user set).
    public static func presetConfig(_ name: String, base: PolicyConfig = PolicyConfig()) throws(ValidationError) -> PolicyConfig {
        var c = base
        switch name {
        case "infaas": break
        case "infaas-no-vm-scaling": c.vmAutoscaling = false
        case "static":
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

    /// The variant a hand-tuner would fix for an application (the `static` baseline): the
    /// cheapest per query that meets the objectives at the application's batch, on hardware the
    /// deployment has (`hardware`).
    public func fixedVariant(for query: PolicyQuery, hardware: Set<HardwareClass>) -> Int? {
        if case .variant(let v) = query.target { return hardware.contains(catalogue.hardware[v]) ? v : nil }
        return VariantSelector(catalogue: catalogue, config: { var c = config; c.variantSelection = .cheapest; return c }(), machines: machines)
            .bestByRule(query, hardware: hardware)
    }
}
