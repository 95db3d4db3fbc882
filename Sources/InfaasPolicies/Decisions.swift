public import InfaasCore

/// What a query names, resolved to catalogue ids.
public enum PolicyTarget: Hashable, Sendable {
    case variant(Int)
    case architecture(Int)
    case useCase(Int)
}

/// A query as the policies see it.
public struct PolicyQuery: Hashable, Sendable {
    public var target: PolicyTarget
    public var batch: Int
    /// Latency SLO in ms; 0 = none (a named variant with no SLO).
    public var sloMs: Double
    /// Minimum accuracy in percent; 0 = none.
    public var minAccuracy: Double
    /// The application (query stream) it belongs to.
    public var application: Int

    public init(target: PolicyTarget, batch: Int = 1, sloMs: Double = 0, minAccuracy: Double = 0, application: Int = 0) {
        self.target = target
        self.batch = batch
        self.sloMs = sloMs
        self.minAccuracy = minAccuracy
        self.application = application
    }
}

/// Why a query was not served.
public enum RejectReason: String, Error, Hashable, Sendable, CaseIterable, Codable {
    /// No variant meets the batch, latency and accuracy objectives (the reference's
    /// "PAR/GPAR: No model can satisfy this request").
    case noVariantMeetsObjectives = "no-variant-meets-objectives"
    /// The named variant accepts a smaller batch than the query's.
    case batchAboveMaxBatch = "batch-above-max-batch"
    /// The trace named a variant, architecture or use-case the catalogue does not have.
    case unknownTarget = "unknown-target"
    /// No worker is ready ("No workers available to service request!").
    case noWorkers = "no-workers"
    /// The variant needs a GPU or Inferentia and no such worker is ready.
    case needsAccelerator = "needs-accelerator"
    /// No ready worker has room (cores, accelerator memory, NeuronCores) to load the variant.
    case noCapacity = "no-capacity"
    /// The query waited longer than its deadline in a replica's queue (10 s by default,
    /// reference §1.4): outcome `expired-in-queue`.
    case deadlineExceeded = "deadline-exceeded"
    /// A replica's queue was full (``PolicyConfig/maxQueueLength``): outcome `shed`.
    case queueFull = "queue-full"
    /// The predicted wait exceeded the SLO under `admission: shed-if-late`: outcome `shed`.
    case predictedLate = "predicted-late"
}

/// The variant chosen for a query.
public struct VariantChoice: Hashable, Sendable {
    public var variant: Int
    /// The reference's `is_running`: send to a worker already running it.
    public var running: Bool
    /// Ask the VM autoscaler for a GPU worker (`vmscale`).
    public var requestVMScale: Bool
}

/// Where a query goes, and the side effects the master must apply.
public struct RouteDecision: Hashable, Sendable {
    public var variant: Int
    public var worker: Int
    /// The worker has no serving replica of the variant: it loads one first (cold start).
    public var needsLoad: Bool
    /// Set `vmscale`: one more GPU worker is wanted.
    public var requestVMScale: Bool
    /// Set `slackscale`: one more slack GPU is wanted.
    public var requestSlackScale: Bool
    /// Blacklist this worker for the configured TTL (§3.7 overload guard).
    public var blacklistWorker: Int?
    /// Make `worker` exclusive to `variant` (§3.6).
    public var assignExclusive: Bool
    /// Workers of this class are wanted because none had room (ours; see ``RejectReason/noCapacity``).
    public var capacityShortage: HardwareClass?

    public init(variant: Int, worker: Int, needsLoad: Bool, requestVMScale: Bool = false, requestSlackScale: Bool = false,
                blacklistWorker: Int? = nil, assignExclusive: Bool = false, capacityShortage: HardwareClass? = nil) {
        self.variant = variant
        self.worker = worker
        self.needsLoad = needsLoad
        self.requestVMScale = requestVMScale
        self.requestSlackScale = requestSlackScale
        self.blacklistWorker = blacklistWorker
        self.assignExclusive = assignExclusive
        self.capacityShortage = capacityShortage
    }
}

/// A routing result: served somewhere, or rejected with a reason (and possibly a request for
/// more workers of a class).
public enum RouteResult: Hashable, Sendable {
    case route(RouteDecision)
    case reject(RejectReason, wantWorker: HardwareClass?)
}
