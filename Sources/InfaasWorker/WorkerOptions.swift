public import InfaasCloud
public import InfaasCore
public import InfaasPolicies
public import InfaasRuntime
public import InfaasRPC

/// How a worker daemon runs (the `infaas worker` flags).
public struct WorkerOptions: Sendable {
    public var name: String
    public var hardware: HardwareClass
    /// Cores this worker may reserve for CPU replicas.
    public var cores: Int
    public var acceleratorMemoryMB: Double
    public var neuronCores: Int
    public var slack: Bool
    /// The policy preset whose model autoscaler the worker runs (`infaas`, `static`, …).
    public var policy: String
    /// The configuration the master's user gave (`--policy-set`; the master ships it to the
    /// workers it starts), which ``policy`` builds on — so workers run the experiment's thresholds.
    public var policyConfig = PolicyConfig()
    /// The master's gRPC address (`host:port`).
    public var masterAddress: String
    /// The host the master should call this worker on.
    public var advertisedHost: String
    public var modelCache: String
    /// How often the worker reports to the master.
    public var reportIntervalMs: Double
    /// The execution device for accelerator variants (`.cuda(0)` on a GPU worker).
    public var device: ExecutionDevice
    /// Server-side dynamic batching (off by default: the reference had none).
    public var batching: DynamicBatching?
    /// The instance id the provider knows the worker by (a process id locally).
    public var instanceID: String
    /// The per-launch secret the master's provider handed this worker (`INFAAS_WORKER_SECRET`),
    /// sent on every report: its identity. Empty: a worker started by hand, which only a
    /// master without a provider (`--provider none`) accepts.
    public var launchSecret = ""
    /// The cluster token: required on this worker's API and sent on its reports (nil = open).
    public var token: ClusterToken?
    /// PEM certificates to trust when the master serves TLS (nil = plaintext to the master).
    public var masterTrustRoots: String?
    /// PEM certificate and key: this worker's API serves TLS (nil = plaintext).
    public var tls: ServerSecurity.TLSFiles?
    /// Where `s3://` models and offline data are read and written (nil: no AWS settings, and
    /// `s3://` requests are refused with a hint).
    public var objectStore: (any ObjectStore)?
    /// Folders `file://` offline jobs may read from and write into (`--offline-root`, repeatable).
    /// Empty: `file://` offline jobs are refused, with a message naming the flag.
    public var offlineRoots: [String] = []

    public init(name: String, hardware: HardwareClass = .cpu, cores: Int, acceleratorMemoryMB: Double = 0, neuronCores: Int = 0,
                slack: Bool = false, policy: String = "infaas", masterAddress: String, advertisedHost: String = "127.0.0.1",
                modelCache: String, reportIntervalMs: Double = 500, device: ExecutionDevice = .cpu,
                batching: DynamicBatching? = nil, instanceID: String = "", token: ClusterToken? = nil, masterTrustRoots: String? = nil,
                tls: ServerSecurity.TLSFiles? = nil, objectStore: (any ObjectStore)? = nil) {
        self.tls = tls
        self.token = token
        self.masterTrustRoots = masterTrustRoots
        self.objectStore = objectStore
        self.batching = batching
        self.name = name
        self.hardware = hardware
        self.cores = cores
        self.acceleratorMemoryMB = acceleratorMemoryMB
        self.neuronCores = neuronCores
        self.slack = slack
        self.policy = policy
        self.masterAddress = masterAddress
        self.advertisedHost = advertisedHost
        self.modelCache = modelCache
        self.reportIntervalMs = reportIntervalMs
        self.device = device
        self.instanceID = instanceID
    }
}

