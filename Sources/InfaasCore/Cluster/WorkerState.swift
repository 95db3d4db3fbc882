/// Where a worker is in its life.
public enum WorkerStatus: String, Hashable, Sendable, Codable {
    /// Started, not yet answering (VM boot or process start).
    case booting
    /// Serving.
    case ready
    /// Removed by the VM autoscaler, or vanished; never chosen again.
    case gone
}

/// A worker machine as the master sees it (reference §1.3 per-worker keys).
public struct WorkerState: Hashable, Sendable {
    public var id: Int
    public var name: String
    public var hardware: HardwareClass
    public var status: WorkerStatus
    public var startedAt: SimTime
    /// CPU cores (vCPUs) the worker has, and those reserved by loaded CPU replicas.
    public var cores: Int
    public var usedCores: Int
    /// Accelerator memory (GPU) in MB, and that reserved by loaded GPU replicas.
    public var acceleratorMemoryMB: Double
    public var usedAcceleratorMemoryMB: Double
    /// NeuronCores (Inferentia), and those reserved.
    public var neuronCores: Int
    public var usedNeuronCores: Int
    /// Utilisations in percent from the last resource monitor (reference §4.1).
    public var cpuUtilization: Double
    public var gpuUtilization: Double
    public var inferentiaUtilization: Double
    /// The master skips the worker until then (`<w>-blist`, 2 s TTL).
    public var blacklistedUntil: SimTime
    /// A slack GPU (reference §3.6): reserved for one popular variant.
    public var isSlack: Bool
    /// The variant a slack GPU serves exclusively, once assigned.
    public var exclusiveVariant: Int?
    /// Replica groups on this worker (indices into ``ClusterSnapshot/groups``).
    public var groups: [Int]
    /// Architectures flagged for "parent scale-down" on this worker (reference §4.1).
    public var parentScaleDown: Set<Int>

    public init(id: Int, name: String, hardware: HardwareClass, status: WorkerStatus, startedAt: SimTime,
                cores: Int, acceleratorMemoryMB: Double, neuronCores: Int, isSlack: Bool = false) {
        self.id = id
        self.name = name
        self.hardware = hardware
        self.status = status
        self.startedAt = startedAt
        self.cores = cores
        self.usedCores = 0
        self.acceleratorMemoryMB = acceleratorMemoryMB
        self.usedAcceleratorMemoryMB = 0
        self.neuronCores = neuronCores
        self.usedNeuronCores = 0
        self.cpuUtilization = 0
        self.gpuUtilization = hardware == .gpu ? 0 : 101
        self.inferentiaUtilization = hardware == .inferentia ? 0 : 101
        self.blacklistedUntil = .zero
        self.isSlack = isSlack
        self.exclusiveVariant = nil
        self.groups = []
        self.parentScaleDown = []
    }

    /// Whether the worker can run a variant of this hardware class (a GPU or Inferentia worker
    /// also runs CPU variants, as in the reference §1.1).
    @inlinable
    public func canHost(_ hardware: HardwareClass) -> Bool { hardware == .cpu || hardware == self.hardware }
}

/// The replicas of one variant on one worker, and what the worker's monitor last reported
/// about them (reference §1.3 `<v>-modqps`, `<v>-modavglat`, `<w>-<v>-blistmod`).
public struct ReplicaGroup: Hashable, Sendable {
    public var variant: Int
    public var worker: Int
    /// Replicas that serve.
    public var replicas: Int
    /// Replicas being loaded.
    public var loading: Int
    /// Being unloaded: not routable.
    public var unloading: Bool
    /// Requests per second (all replicas) in the last monitor interval.
    public var qps: Double
    public var averageLatencyMs: Double
    public var averageBatch: Int
    public var averageSLOMs: Double
    /// Requests accepted and not completed.
    public var outstanding: Int
    /// Overloaded or interfered: the reference's per-worker variant blacklist.
    public var blacklisted: Bool
    /// Whether the group is in use (slots are reused).
    public var active: Bool
    /// The model autoscaler's pending scale-down count (reference §4.2 daemons): a scale-down
    /// runs only once it exceeds the class's delay; any executed request resets it.
    public var pendingScaleDown: Int
    /// Consecutive arbiter periods an autoscaler with scale-up hysteresis has wanted more
    /// replicas (0 for the reference's, which scale up at once).
    public var pendingScaleUp: Int
    /// Share of the group's queries completed in the last monitor interval that met their SLO
    /// (1 until some complete).
    public var sloAttainment: Double

    public init(variant: Int, worker: Int) {
        self.variant = variant
        self.worker = worker
        self.replicas = 0
        self.loading = 0
        self.unloading = false
        self.qps = 0
        self.averageLatencyMs = 0
        self.averageBatch = 1
        self.averageSLOMs = 0
        self.outstanding = 0
        self.blacklisted = false
        self.active = true
        self.pendingScaleDown = 0
        self.pendingScaleUp = 0
        self.sloAttainment = 1
    }

    /// Serving and routable.
    @inlinable
    public var isRunning: Bool { active && replicas > 0 && !unloading }
}
