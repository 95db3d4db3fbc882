public import InfaasCore
public import InfaasPolicies

/// One query stream of an experiment: what it names and what it needs. Several applications
/// share one cluster, as INFaaS shares workers across models and users.
public struct Application: Hashable, Sendable {
    public var name: String
    /// As written in the experiment (`resnet50`, `classification/imagenet`, a variant name).
    public var targetText: String
    public var target: PolicyTarget
    public var batch: Int
    /// Latency SLO in ms (0 = none, only for a named variant).
    public var sloMs: Double
    /// Minimum accuracy in percent (0 = none).
    public var minAccuracy: Double
    /// Its queries' class in the replicas' queues (``QueueDiscipline``).
    public var priority: QueryPriority
    /// An explicit queue deadline for its queries in ms after arrival; 0 = the
    /// ``PolicyConfig/queueDeadline`` rule's.
    public var deadlineMs: Double

    public init(name: String, targetText: String, target: PolicyTarget, batch: Int, sloMs: Double, minAccuracy: Double,
                priority: QueryPriority = .high, deadlineMs: Double = 0) {
        self.name = name
        self.targetText = targetText
        self.target = target
        self.batch = batch
        self.sloMs = sloMs
        self.minAccuracy = minAccuracy
        self.priority = priority
        self.deadlineMs = deadlineMs
    }

    /// Resolves a target as a query names it (``PolicyCatalogue/resolve(_:)``).
    public static func resolve(_ text: String, in catalogue: PolicyCatalogue) -> PolicyTarget? { catalogue.resolve(text) }

    /// The application's declared query.
    public var query: PolicyQuery { PolicyQuery(target: target, batch: batch, sloMs: sloMs, minAccuracy: minAccuracy) }
}

/// Options of one simulation run.
public struct SimulationOptions: Sendable {
    public var seed: UInt64 = 1
    /// Arrivals after this many seconds are not read; the run ends when the last query is done.
    public var durationSeconds: Double? = nil
    /// The fixed queue deadline: a query still waiting this long is answered `expired-in-queue`
    /// (the reference's 10 s gRPC deadline; ``QueueDeadlineRule/fixed``).
    public var deadlineMs = 10_000.0
    /// Keep one record per query (memory grows with the trace).
    public var recordQueries = false
    /// Time-series sample period.
    public var timeseriesIntervalSeconds = 10.0
    /// Draw each batch's execution time from a log-normal fitted to the profile's p50 and p99;
    /// `false` uses the predicted latency exactly (deterministic service times).
    public var latencyNoise = true
    /// Keep every decision of the control loop (``ControlLoop/journal``), for the parity test.
    public var recordDecisions = false
    /// The measured machine (``MachineModel``, `infaas calibrate`): with it, each query pays its
    /// RPC hops, replicas slow down when the host's running replicas ask for more threads than
    /// it has cores (and by the background load), and loads take the measured times. Without
    /// it (default), the idealised machine: profiled service and load times only.
    public var machine: MachineModel? = nil

    public init() {}
}
