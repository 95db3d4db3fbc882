import InfaasCore

/// Measures a model on a backend the way the reference's profiler does (§2.2): load latency,
/// per-batch inference latency and peak memory. Pure measurement: it returns the numbers
/// and leaves storing them to the caller (`infaas profile` writes profiles.h5 and a .config).
public struct Profiler: Sendable {
    /// What to measure and how long.
    public struct Plan: Sendable, Equatable {
        /// Batch sizes to time, each ≥ 1, measured in this order.
        public var batches: [Int]
        public var options: SessionOptions
        /// Loads timed for the load latency (the median is reported); at least 1.
        public var loads: Int
        /// Untimed runs before each batch size's timed runs.
        public var warmupRuns: Int
        /// A fixed number of timed runs per batch size; `nil` runs adaptively: at least
        /// `minRuns`, then until `targetSecondsPerBatch` has passed or `maxRuns` is reached.
        public var runs: Int?
        public var minRuns: Int
        public var maxRuns: Int
        public var targetSecondsPerBatch: Double
        /// Sizes for symbolic input dimensions other than the batch (axis → size).
        public var symbolicDimensions: [Int: Int]
        /// Seed of the synthetic input values.
        public var seed: UInt64

        public init(batches: [Int] = [1, 4, 8, 16], options: SessionOptions = SessionOptions(), loads: Int = 3,
                    warmupRuns: Int = 3, runs: Int? = nil, minRuns: Int = 20, maxRuns: Int = 1000,
                    targetSecondsPerBatch: Double = 2, symbolicDimensions: [Int: Int] = [:], seed: UInt64 = 1) {
            self.batches = batches
            self.options = options
            self.loads = loads
            self.warmupRuns = warmupRuns
            self.runs = runs
            self.minRuns = minRuns
            self.maxRuns = maxRuns
            self.targetSecondsPerBatch = targetSecondsPerBatch
            self.symbolicDimensions = symbolicDimensions
            self.seed = seed
        }
    }

    /// Timings of one batch size, in milliseconds.
    public struct BatchMeasurement: Sendable, Equatable {
        public var batch: Int
        public var inputShape: [Int]
        /// Every timed run, in the order run.
        public var samplesMs: [Double]
        public var p50Ms: Double
        public var p90Ms: Double
        public var p99Ms: Double
        public var meanMs: Double
    }

    /// Everything measured for one model.
    public struct Result: Sendable, Equatable {
        public var signature: ModelSignature
        /// Median time to create a session (model loaded and ready to run), ms.
        public var loadMs: Double
        public var loadSamplesMs: [Double]
        /// Highest resident memory during the whole profile above what the process held
        /// before the first load, bytes (the reference's "peak memory").
        public var peakMemoryBytes: Int
        /// Resident memory the kept session added when it was loaded, bytes.
        public var modelMemoryBytes: Int
        public var batches: [BatchMeasurement]
    }

    public let backend: any InferenceBackend

    public init(backend: any InferenceBackend) {
        self.backend = backend
    }

    /// Profiles the model at `path` (blocking: run it off Swift's cooperative pool). Calls
    /// `progress` after each batch size.
    public func profile(modelAt path: String, plan: Plan,
                        progress: (BatchMeasurement) -> Void = { _ in }) throws(RuntimeError) -> Result {
        guard !plan.batches.isEmpty, let smallest = plan.batches.min(), smallest >= 1 else {
            throw RuntimeError(.inputMismatch, "batch sizes \(plan.batches) must be a non-empty list of sizes ≥ 1", hint: "e.g. 1,4,8,16")
        }
        let clock = ContinuousClock()
        let peakWasReset = ProcessMemory.resetPeak()
        let baseline = ProcessMemory.residentBytes()
        var sampledPeak = baseline

        var loadSamples: [Double] = []
        var model: (any LoadedModel)?
        for attempt in 0..<max(1, plan.loads) {
            let start = clock.now
            let loaded = try backend.load(modelAt: path, options: plan.options)
            loadSamples.append(Self.milliseconds(start.duration(to: clock.now)))
            sampledPeak = max(sampledPeak, ProcessMemory.residentBytes())
            if attempt == max(1, plan.loads) - 1 { model = loaded } else { loaded.unload() }
        }
        guard let model else { throw RuntimeError(.inferenceFailed, "no model was loaded") }
        defer { model.unload() }

        var measured: [BatchMeasurement] = []
        for batch in plan.batches {
            guard let shape = model.signature.concreteInputShape(batch: batch, fill: plan.symbolicDimensions) else {
                let symbolic = model.signature.inputShape.enumerated().dropFirst().filter { $0.element < 0 }.map(\.offset)
                throw RuntimeError(.inputMismatch,
                                   "input \"\(model.signature.inputName)\" \(model.signature.inputShape) has symbolic dimensions at axes \(symbolic) besides the batch",
                                   hint: "give their sizes (infaas profile --input-shape, the dimensions after the batch)")
            }
            let input = Self.syntheticInput(shape: shape, seed: plan.seed)
            try model.signature.checkInput(shape: shape)
            for _ in 0..<max(0, plan.warmupRuns) { _ = try model.run(input) }
            var samples: [Double] = []
            let started = clock.now
            while true {
                let start = clock.now
                _ = try model.run(input)
                let end = clock.now
                samples.append(Self.milliseconds(start.duration(to: end)))
                if let runs = plan.runs {
                    if samples.count >= max(1, runs) { break }
                } else if samples.count >= max(1, plan.maxRuns)
                            || (samples.count >= plan.minRuns && Self.milliseconds(started.duration(to: end)) >= plan.targetSecondsPerBatch * 1000) {
                    break
                }
            }
            sampledPeak = max(sampledPeak, ProcessMemory.residentBytes())
            let result = Self.summarise(batch: batch, shape: shape, samples: samples)
            measured.append(result)
            progress(result)
        }
        let peak = peakWasReset ? max(sampledPeak, ProcessMemory.peakResidentBytes()) : sampledPeak
        return Result(signature: model.signature, loadMs: Self.quantile(loadSamples.sorted(), 0.5), loadSamplesMs: loadSamples,
                      peakMemoryBytes: max(0, peak - baseline), modelMemoryBytes: model.memoryBytes, batches: measured)
    }

    static func summarise(batch: Int, shape: [Int], samples: [Double]) -> BatchMeasurement {
        let sorted = samples.sorted()
        return BatchMeasurement(batch: batch, inputShape: shape, samplesMs: samples,
                                p50Ms: quantile(sorted, 0.5), p90Ms: quantile(sorted, 0.9), p99Ms: quantile(sorted, 0.99),
                                meanMs: samples.reduce(0, +) / Double(max(1, samples.count)))
    }

    /// The `p`-quantile of ascending samples by linear interpolation between closest ranks
    /// (numpy's default, GSL's `quantile_from_sorted_data`); 0 for no samples.
    public static func quantile(_ sorted: [Double], _ p: Double) -> Double {
        guard let first = sorted.first else { return 0 }
        guard sorted.count > 1 else { return first }
        let position = min(max(p, 0), 1) * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// A deterministic input: values uniform in [-1, 1) from a SplitMix64 stream seeded by `seed`.
    public static func syntheticInput(shape: [Int], seed: UInt64) -> Tensor {
        let count = shape.reduce(1, *)
        var random = SplitMix64(seed: seed)
        var values = [Float](repeating: 0, count: max(0, count))
        for index in values.indices { values[index] = Float(random.uniform() * 2 - 1) }
        return Tensor(shape: shape, values: values)
    }

    static func milliseconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) * 1e-15
    }
}
