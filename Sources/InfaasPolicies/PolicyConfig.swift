public import InfaasCore

/// The master's decision mode (reference §3.2, `queryfe_server`'s third argument).
public enum DecisionMode: Int, Hashable, Sendable, Codable, CaseIterable {
    /// Full INFaaS selection; no VM trigger on blacklisted GPU variants.
    case infaasAll = 0
    /// First running acceptable variant, ignoring blacklists, QPS and load flags.
    case noQPSLatency = 1
    /// Worker = next in round-robin over all workers (variant must be named in practice).
    case roundRobin = 2
    /// First request of a variant picks a worker round-robin among its hardware, then sticks.
    case roundRobinStatic = 3
    /// `infaasAll` + request a GPU worker when a running GPU variant is blacklisted.
    case gpuShareTrigger = 4
    /// `gpuShareTrigger` + avoid CPU variants blacklisted earlier while a GPU variant runs.
    case cpuBlacklistCheck = 5
    /// `gpuShareTrigger`, but among workers running the variant ignore the variant blacklist
    /// (the original's default).
    case gpuShareTriggerSkipBlacklist = 6
    /// `roundRobinStatic`, re-picking when the sticky worker blacklists or lost the variant.
    case roundRobinDynamic = 7

    var triggersVMScale: Bool { self == .gpuShareTrigger || self == .cpuBlacklistCheck || self == .gpuShareTriggerSkipBlacklist }
    var isRoundRobin: Bool { self == .roundRobin || self == .roundRobinStatic || self == .roundRobinDynamic }
}

/// How variants are chosen for a query.
public enum VariantSelection: String, Hashable, Sendable, Codable, CaseIterable {
    /// The reference's searches (§3.3 architecture + SLO, §3.4 use-case + accuracy + SLO).
    case infaas
    /// Each application is served by one variant fixed when the experiment starts.
    case fixed
    /// The most accurate variant whose predicted latency meets the SLO.
    case maxAccuracy = "max-accuracy"
    /// The variant with the lowest dollar cost per query that meets the SLO and accuracy floor.
    case cheapest
}

/// The worker-side model autoscaler (reference §4.2; `query_executor`'s last argument).
public enum ModelAutoscalerKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// Never replicate or unload.
    case none
    /// Keep `staticTargetReplicas` replicas of every running variant; never scale down.
    case `static`
    /// Replicate each variant by its own load (the reference's stand-in for SageMaker/Clipper).
    case individual
    /// INFaaS: replicate CPU variants, upgrade/downgrade accelerator variants, unload idle ones.
    case infaas
}

/// Whose CPU utilisation the VM autoscaler's CPU scale-out reads (§4.3).
public enum CPUScaleOutBasis: String, Hashable, Sendable, Codable, CaseIterable {
    /// The reference: the least CPU utilisation over *every* worker. An idle GPU worker's host CPU
    /// then keeps the minimum low, so CPU workers are never added while a GPU worker is idle and
    /// `utilization_threshold` has no effect on CPU scale-out.
    case allWorkers = "all-workers"
    /// Ours: the least CPU utilisation over the CPU-class workers only.
    case cpuWorkers = "cpu-workers"
}

/// Which queries share a use-case search's cache of recently chosen variants (§3.4).
public enum UseCaseCacheScope: String, Hashable, Sendable, Codable, CaseIterable {
    /// The reference: one cache per use-case. A query takes any cached variant that meets its
    /// objectives, so an application with a low accuracy floor is handed the variant another
    /// application's higher floor chose, and both pile onto it.
    case useCase = "use-case"
    /// Ours: one cache per use-case and accuracy bin of the query's floor.
    case accuracyBin = "accuracy-bin"
}

/// Every threshold and interval of the INFaaS policies, with the reference's defaults.
/// Section numbers refer to the reference notes (`INFAAS-REFERENCE.md`).
public struct PolicyConfig: Hashable, Sendable {
    // MARK: Selection (§3)

    /// Master decision mode (§3.2). Default 6, as `start_infaas.sh`.
    public var decisionMode: DecisionMode = .gpuShareTriggerSkipBlacklist
    /// How the variant is chosen; `infaas` is the reference behaviour.
    public var variantSelection: VariantSelection = .infaas
    /// Fast-path candidates `inf_lat_bin(parent, min_lat, L, 5)` (§3.3).
    public var fastPathCandidates = 5
    /// An SLO above this is "loose": the fast path only considers variants whose batch-1
    /// latency is at least this (CPU-class), and `gpar` skips variants predicted below it (§3.3, §3.4).
    public var looseSLOMs = 100.0
    /// The reference's loose-SLO rule (§3.3, §3.4): for an SLO above `looseSLOMs`, consider only
    /// variants predicted at least that slow (CPU-class ones). A steady load at an accuracy floor
    /// only slow variants of low throughput meet then misses nearly every SLO above 100 ms while it
    /// meets most at 100 ms; `false` (ours) treats every SLO alike.
    public var looseSLORule = true
    /// CPU variants are skipped when the SLO is at most this (§3.3 general path).
    public var cpuExcludedAtOrBelowSLOMs = 50.0
    /// Batch cap for accelerator latency estimates, `MAX_ONLINE_BATCH` (§5.1).
    public var maxOnlineBatch = 32
    /// Probability of sending a query to a running-but-blacklisted variant anyway, so its
    /// blacklist can clear, `blist_skip_thresh` (§3.3).
    public var blacklistTrickleProbability = 0.1
    /// Use-case search LRU cache size, `gmod_max_lru` (§3.4).
    public var useCaseCacheSize = 5
    /// Which queries share that cache; the reference's `useCase` by default.
    public var useCaseCacheScope: UseCaseCacheScope = .useCase
    /// `N = max(minimum, floor(fraction·L / lookupMs))` use-case search budget (§3.4).
    public var useCaseSearchFraction = 0.15
    public var useCaseSearchLookupMs = 0.6
    public var useCaseSearchMinimum = 3
    /// Accuracy bin edges of the grandparent index (§1.3).
    public var accuracyBinEdges: [Double] = [0, 50, 70, 75, 78, 100]
    /// Score penalty that keeps cold variants behind running ones (§3.4).
    public var coldPenaltyMs = 1000.0
    /// Workers considered for a running variant, `min_qps_name(v, 3)` (§3.5).
    public var runningWorkerCandidates = 3
    /// Least-CPU-utilised workers considered for a cold load, `min_cpu_util_name(15)` (§3.5).
    public var cpuCandidateWorkers = 15
    /// Least-GPU/Inferentia-utilised workers considered, `min_gpu_util_name(10)` (§3.5).
    public var acceleratorCandidateWorkers = 10
    /// Consecutive queries under `popularityGapMs` apart that make a GPU variant "popular"
    /// and earn it an exclusive slack GPU, `qps_model_query_limit` (§3.6).
    public var popularVariantQueries = 100
    public var popularityGapMs = 1000.0
    /// Queries routed to one worker within one window that blacklist it,
    /// `qps_vm_scale_query_limit` (§3.7).
    public var workerGuardQueries = 200
    public var workerGuardWindowMs = 1000.0
    /// How long a worker stays blacklisted (the `<w>-blist` TTL, §3.7, §4.3).
    public var workerBlacklistMs = 2000.0
    /// Route to running replicas even when their variant is blacklisted (a hand-configured
    /// deployment does not react to load). Default false: the reference's behaviour.
    public var ignoreBlacklists = false
    /// The §3.7 per-worker overload guard.
    public var workerGuardEnabled = true
    /// Load a variant on a worker when a query needs it there (reference §3.8). `false`: only
    /// replicas placed up front serve, as in a hand-configured deployment.
    public var loadOnDemand = true
    /// Ours (the original has no $ term): among variants that meet the objectives, pick the
    /// cheapest per query when a cold variant must be chosen.
    public var preferCheapest = false

    // MARK: Monitoring (§4.1)

    /// QPS monitor period (§4.1).
    public var monitorIntervalMs = 1000.0
    /// Resource (utilisation) monitor period (§4.1).
    public var resourceMonitorIntervalMs = 2500.0
    /// Blacklist thresholds: default, then GPU, then single-replica CPU overrides (§4.1).
    public var latencyFactor = 2.5
    public var qpsFactor = 0.5
    public var queueFactor = 0.8
    public var unsetFactor = 1.5
    public var gpuQPSFactor = 0.3
    public var gpuQueueFactor = 0.8
    public var gpuUnsetFactor = 1.25
    public var singleCPULatencyFactor = 4.0
    public var singleCPUQPSFactor = 1.0
    public var singleCPUQueueFactor = 1.1
    /// Idle average-latency decay divisor: CPU 15, others 1.5 (§4.1).
    public var cpuLatencyDecay = 15.0
    public var otherLatencyDecay = 1.5
    /// Parent scale-down: GPU variants with `avg_slo > 10·inf` and `qps < 0.03·1000/inf`;
    /// Inferentia with `5·inf` and `0.2·1000/inf` (§4.1).
    public var scaleDownGPUSLOFactor = 10.0
    public var scaleDownGPUQPSFactor = 0.03
    public var scaleDownInferentiaSLOFactor = 5.0
    public var scaleDownInferentiaQPSFactor = 0.2

    /// Replicas of each application's fixed variant a static deployment places up front
    /// (the `static` baseline; selection `fixed`).
    public var staticReplicas = 1
    /// Replicas per application (by application index), overriding `staticReplicas` for the
    /// applications it covers; `static-peak` fills it from ``PeakProvisioning``.
    public var staticReplicasByApplication: [Int] = []
    /// `static-peak`: the utilisation a serving unit may reach at the peak (headroom 1 − this).
    public var staticPeakUtilization = 0.7
    /// `static-peak`: the window over which the peak arrival rate is measured, seconds.
    public var staticPeakWindowSeconds = 10.0

    /// Offline work on a worker waits while its CPU utilisation is above this percentage (§5.2).
    public var offlineCPUThreshold = 40.0

    // MARK: Model autoscaler (§4.2)

    public var modelAutoscaler: ModelAutoscalerKind = .infaas
    /// Arbiter period (§4.2).
    public var arbiterIntervalMs = 1000.0
    /// STATIC target replicas per class, `*_SLACK_SIZE` (§4.2).
    public var staticReplicasCPU = 2
    public var staticReplicasGPU = 1
    public var staticReplicasInferentia = 2
    /// Replica caps per worker, `*_MAX_REPLICAS` (§4.2).
    public var maxReplicasCPU = 2
    public var maxReplicasGPU = 1
    public var maxReplicasInferentia = 2
    /// Pending scale-down count that must be exceeded before unloading: CPU 10, GPU 20,
    /// Inferentia 15 arbiter periods of sustained low load (§4.2).
    public var scaleDownDelayCPU = 10
    public var scaleDownDelayGPU = 20
    public var scaleDownDelayInferentia = 15
    /// `loadHeuristic` (§4.2): load-latency weight in an accelerator's required throughput.
    public var loadHeuristic = 0.0002
    /// CPU replicas are added when demand exceeds `1 − cpuHeuristic` of capacity (§4.2).
    public var cpuHeuristic = 0.05
    /// Upgrade to the fastest variant when the replicas it saves cost more than this times
    /// its load latency (§4.2 step 5).
    public var upgradeCostFactor = 1.5

    // MARK: SLO-attainment model autoscaler (ours; `slo-autoscaler`, see SLOAttainmentAutoscaler)

    /// Fraction of a group's queries that must meet their SLO; below it the group scales up.
    public var sloTargetAttainment = 0.95
    /// Queries in the system (Little's law: QPS × latency) one replica should carry.
    public var sloTargetOngoingPerReplica = 1.0
    /// Consecutive arbiter periods that must want more (fewer) replicas before a scale-up (-down).
    public var sloUpscalePeriods = 1
    public var sloDownscalePeriods = 10
    /// A group scales down only while its average latency is at most this fraction of its SLO.
    public var sloDownscaleLatencyRatio = 0.5

    // MARK: VM autoscaler (§4.3)

    public var vmAutoscaling = true
    /// Loop period (§4.3).
    public var vmIntervalMs = 2000.0
    /// Scale out when the least-utilised CPU/GPU worker is above this, `CPUGPU_UTIL_THRESH`.
    public var utilizationThreshold = 80.0
    /// Whose CPU utilisation CPU scale-out compares with `utilizationThreshold`; the reference's
    /// `allWorkers` by default.
    public var cpuScaleOutBasis: CPUScaleOutBasis = .allWorkers
    /// `INFERENTIA_UTIL_THRESH`.
    public var inferentiaUtilizationThreshold = 70.0
    /// A worker above this CPU (or GPU, below 100) utilisation is blacklisted for 2 s (§4.3 step 1).
    public var blacklistUtilization = 80.0
    /// Iterations of back-off after a scaling action (≈30 s) (§4.3).
    public var backoffIterations = 15
    /// Consecutive low-load iterations before a scale-in (`vm_shutdown_thresh`, ≈30 s).
    public var scaleInIterations = 15
    /// Scale-in conditions (§4.3): (min GPU ≤ 8 and min CPU ≤ 5), (avg GPU ≤ 8 and avg CPU ≤ 30),
    /// (avg Inferentia ≤ 25 and avg CPU ≤ 30).
    public var scaleInMinGPU = 8.0
    public var scaleInMinCPU = 5.0
    public var scaleInAverageGPU = 8.0
    public var scaleInAverageCPU = 30.0
    public var scaleInAverageInferentia = 25.0
    /// Fix of reference §8 item 10: the original never scales in CPU-only workers, so a CPU
    /// fleet grown for a burst is paid for until the end. `true` lets idle CPU workers above
    /// the floor go as accelerator workers do; `false` reproduces the original.
    public var scaleInCPUWorkers = true
    /// Ours (the original assumed the master never restarts): how long a restarted master
    /// waits for the workers it knew before launching replacements (``ControlLoop/expectRejoin``).
    /// A worker retries its reports at most 2 s apart, so 20 s covers a slow reconnect.
    public var rejoinGraceS = 20.0

    // MARK: Replica queues (ours; ``QueueDiscipline``, both faces)

    /// What a replica's queue does with a query predicted to miss its SLO on arrival. Default
    /// `always` (admit it), the reference's behaviour.
    public var admission: AdmissionMode = .always
    /// Most queries waiting in one replica's queue; a query beyond it is shed. 0 = unbounded
    /// (the reference's).
    public var maxQueueLength = 0
    /// The deadline of a queued query that names none: `fixed` (the face's deadline, 10 s, as
    /// the reference) or `slo` (its SLO). A query past its deadline is answered at once,
    /// `expired-in-queue`, and never run.
    public var queueDeadline: QueueDeadlineRule = .fixed
    /// The starvation bound: a `low`-priority query that has waited this long runs before
    /// `high` ones.
    public var lowPriorityMaxWaitMs = 1000.0

    // MARK: Scale to zero (ours; ``ScaleToZero``, both faces)

    /// Replicas a loaded variant keeps however idle, per class. 0 (the reference): an idle
    /// variant's last replica unloads, and its next query waits for a load (a cold start).
    public var minReplicasCPU = 0
    public var minReplicasGPU = 0
    public var minReplicasInferentia = 0
    /// Per-variant floors by variant name, overriding the class's.
    public var minReplicasByVariant: [String: Int] = [:]
    /// Arbiter periods of low load before a variant's last replica unloads (1 → 0). −1: the
    /// class's `scale_down_delay_*`, as every other replica (the reference).
    public var scaleToZeroDelay = -1
    /// Workers of each class the VM autoscaler keeps. −1: the initial count, the reference's
    /// floor. 0: the class's last worker goes once idle (``lastWorkerIdleIterations``) and is
    /// launched again when a query needs it (held meanwhile: ``coldStartBuffer``).
    public var minWorkersCPU = -1
    public var minWorkersGPU = -1
    public var minWorkersInferentia = -1
    /// VM-autoscaler iterations the last worker of a class must be idle (nothing outstanding,
    /// no query counted) before it goes (1 → 0). −1: `scale_in_iterations`.
    public var lastWorkerIdleIterations = -1
    /// Most queries the control loop holds while a worker boots for them, and most that wait
    /// for one replica group's cold load; more are shed (`queue-full`). 0: none is held (a query
    /// with no worker ready is rejected, "no-workers") and a load's waiters are unbounded (the
    /// reference).
    public var coldStartBuffer = 0

    public init() {}

    /// Checks every field against its key's bounds (``PolicyConfig/keys``); the error names the
    /// key, the value and what it takes.
    public func validate() throws(ValidationError) {
        for key in Self.keys {
            var copy = self
            try key.set(key.value(in: self), in: &copy)
        }
        for hardware in HardwareClass.allCases where minWorkers(hardware) == 0 && coldStartBuffer == 0 {
            throw ValidationError(field: "min_workers_\(hardware.rawValue)", value: "0",
                                  reason: "lets the last \(hardware.shortName) worker go, but cold_start_buffer is 0, so no query could bring one back; set cold_start_buffer (e.g. 100)")
        }
    }

    /// Replica cap for a hardware class.
    public func maxReplicas(_ hardware: HardwareClass) -> Int {
        switch hardware {
        case .cpu: maxReplicasCPU
        case .gpu: maxReplicasGPU
        case .inferentia: maxReplicasInferentia
        }
    }

    /// The class's floor of replicas for a loaded variant (`min_replicas_*`).
    public func minReplicas(_ hardware: HardwareClass) -> Int {
        switch hardware {
        case .cpu: minReplicasCPU
        case .gpu: minReplicasGPU
        case .inferentia: minReplicasInferentia
        }
    }

    /// The class's worker floor when set (`min_workers_*` ≥ 0); nil: the initial count.
    public func minWorkers(_ hardware: HardwareClass) -> Int? {
        let n = switch hardware {
        case .cpu: minWorkersCPU
        case .gpu: minWorkersGPU
        case .inferentia: minWorkersInferentia
        }
        return n >= 0 ? n : nil
    }

    /// Scale-down delay for a hardware class.
    public func scaleDownDelay(_ hardware: HardwareClass) -> Int {
        switch hardware {
        case .cpu: scaleDownDelayCPU
        case .gpu: scaleDownDelayGPU
        case .inferentia: scaleDownDelayInferentia
        }
    }
}
