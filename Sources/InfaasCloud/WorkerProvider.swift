public import InfaasCore

/// What the VM-level autoscaler asks a provider to start (reference §4.3 `start_vm.sh`).
public struct WorkerLaunch: Hashable, Sendable {
    /// The worker's name (`infaas-worker-cpu-0`): its identity in reports and logs.
    public var name: String
    public var hardware: HardwareClass
    /// A slack GPU (reference §3.6).
    public var slack: Bool
    /// Where the new worker reports to (`host:port` of the master's gRPC service).
    public var masterAddress: String
    /// The worker's identity (issue 13): a fresh secret the master issues for this launch. The
    /// provider hands it to the worker (``LaunchedWorker/secretVariable`` in its environment),
    /// the worker sends it on every report, and the master refuses reports without it — a
    /// client holding only the cluster token cannot pose as a worker.
    public var secret: String

    public init(name: String, hardware: HardwareClass, slack: Bool = false, masterAddress: String, secret: String = "") {
        self.name = name
        self.hardware = hardware
        self.slack = slack
        self.masterAddress = masterAddress
        self.secret = secret
    }
}

/// A worker a provider started.
public struct LaunchedWorker: Hashable, Sendable {
    public var name: String
    public var hardware: HardwareClass
    /// The provider's handle: a process id here, an EC2 instance id in the cloud.
    public var instanceID: String

    public init(name: String, hardware: HardwareClass, instanceID: String) {
        self.name = name
        self.hardware = hardware
        self.instanceID = instanceID
    }

    /// The environment variable a provider hands a worker its launch secret in (never a
    /// command-line argument: those are world-readable in /proc).
    public static let secretVariable = "INFAAS_WORKER_SECRET"
}

/// Why a provider could not start or stop a worker.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message) (\($0))" } ?? message }
}

/// Starts and stops worker machines for the master's VM-level autoscaler. The master never
/// knows whether a worker is a local process or a cloud instance.
public protocol WorkerProvider: Sendable {
    /// A short name for logs (`local`, `ec2`).
    var name: String { get }
    /// Starts a worker; returns once it has been started (not once it serves: the worker
    /// reports to the master when ready).
    func launch(_ request: WorkerLaunch) async throws(ProviderError) -> LaunchedWorker
    /// Stops a worker (reference `DELETE_MACHINES`: the provider decides stop vs terminate).
    /// A provider signals or stops only what it started itself (its own child processes, or
    /// instances found by this cluster's tag), never an id it was merely told.
    func retire(_ worker: LaunchedWorker) async throws(ProviderError)
    /// Whether the worker's process or instance still exists.
    func isAlive(_ worker: LaunchedWorker) async -> Bool
    /// Workers the provider already runs for this cluster (a restarted master adopts them
    /// instead of launching duplicates).
    func existingWorkers() async throws(ProviderError) -> [LaunchedWorker]
}

extension WorkerProvider {
    /// None by default (local workers re-register by themselves).
    public func existingWorkers() async throws(ProviderError) -> [LaunchedWorker] { [] }
}
