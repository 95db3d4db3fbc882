/// Latency measured (or published) at one batch size. Any statistic may be missing: a
/// published table may give only a mean, or only a p90.
public struct LatencyPoint: Hashable, Sendable, Codable {
    public var batch: Int
    public var p50Ms: Double?
    public var p99Ms: Double?
    public var meanMs: Double?
    public var p90Ms: Double?

    public init(batch: Int, p50Ms: Double? = nil, p99Ms: Double? = nil, meanMs: Double? = nil, p90Ms: Double? = nil) {
        self.batch = batch
        self.p50Ms = p50Ms
        self.p99Ms = p99Ms
        self.meanMs = meanMs
        self.p90Ms = p90Ms
    }

    /// The latency the linear model is fitted to: the median when known, else the mean
    /// (what the original's profiler recorded), else the p90 (MLPerf single-stream).
    public var centralMs: Double? { p50Ms ?? meanMs ?? p90Ms }

    /// The tail latency: p99, else p90, else the central value.
    public var tailMs: Double? { p99Ms ?? p90Ms ?? centralMs }
}

/// `lat(b) = slope·b + intercept`, in milliseconds (reference §2.3).
public struct LinearLatencyModel: Hashable, Sendable, Codable {
    public var slopeMs: Double
    public var interceptMs: Double

    public init(slopeMs: Double, interceptMs: Double) {
        self.slopeMs = slopeMs
        self.interceptMs = interceptMs
    }

    /// Predicted latency of a batch of `batch` inputs, in milliseconds.
    @inlinable
    public func predictMs(batch: Int) -> Double { slopeMs * Double(batch) + interceptMs }
}

/// A variant's latency profile: the points measured, the linear model fitted to them and,
/// optionally, raw samples per point (`samplesMs[i]` belongs to `points[i]`).
public struct LatencyProfile: Hashable, Sendable, Codable {
    /// Points in ascending batch order, one per batch size.
    public var points: [LatencyPoint]
    public var model: LinearLatencyModel
    public var samplesMs: [[Double]]?

    public init(points: [LatencyPoint], model: LinearLatencyModel, samplesMs: [[Double]]? = nil) {
        self.points = points.sorted { $0.batch < $1.batch }
        self.model = model
        self.samplesMs = samplesMs
    }

    /// The measured point at exactly `batch`, if there is one.
    public func point(batch: Int) -> LatencyPoint? { points.first { $0.batch == batch } }

    /// The batch-1 latency the reference ranks variants by (`inf_latency`): the measured
    /// central value at batch 1, else the model's prediction.
    public var batch1Ms: Double { point(batch: 1)?.centralMs ?? model.predictMs(batch: 1) }
}
