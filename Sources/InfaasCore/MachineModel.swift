/// What a simulator needs to know about the machine beyond the profiles, measured on it by
/// `infaas calibrate` (stored beside the profiles, `calibration.h5`, see `CalibrationStore`):
///
/// * **hops**: what a query's trip client → master → worker and back costs beyond the worker's
///   own time, by payload size (quantiles of the measured distribution);
/// * **load times**: how long loading each variant took here (quantiles);
/// * **contention**: how much slower a replica runs when the replicas running at the same time
///   on the host ask for more threads than it has cores (per intra-op thread count, slowdown as
///   a function of thread demand ÷ cores);
/// * **background**: how much slower a lone replica ran during calibration than in a quiet
///   reference calibration (a background load, such as a CPU hog, that profiles do not show);
/// * **first load on a worker**: how much longer the first load in a fresh worker process took
///   than the variant's measured load time (ONNX Runtime's first session in a process, the
///   library's code paged in, and the live load path: master → worker, the model fetched);
/// * **serving CPU**: the CPU a query's serving path (client, master and worker encoding,
///   copying and decoding its input) takes per query, by payload size, besides the inference —
///   CPU on the same cores the replicas' threads run on;
/// * **after idle**: how much slower a variant's lone run, and how much longer a hop, is when
///   the host sat idle for a while before it than back to back (as profiles and hop costs are
///   measured). On the 2-vCPU dev VM a 2-thread int8 ResNet-18 run after ≥ 20 ms of idle took
///   1.5× as long (about its 1-thread time; the fp32 one, with fewer and longer parallel
///   sections, no longer), and a batch-1 hop about 1 ms more.
///
/// Pure values and arithmetic: the simulator draws from it with its own seeded generator, so a
/// run stays deterministic for a seed.
public struct MachineModel: Sendable, Equatable {
    /// An empirical distribution as quantiles: `valuesMs[i]` at cumulative probability `levels[i]`
    /// (increasing, 0 … 1). Drawn by inverse transform with linear interpolation.
    public struct Quantiles: Sendable, Equatable {
        public var levels: [Double]
        public var valuesMs: [Double]

        public init(levels: [Double], valuesMs: [Double]) {
            self.levels = levels
            self.valuesMs = valuesMs
        }

        /// The quantiles of `samples` at ``standardLevels`` (nil for no samples).
        public init?(samples: [Double]) {
            let sorted = samples.filter(\.isFinite).sorted()
            guard !sorted.isEmpty else { return nil }
            levels = Self.standardLevels
            valuesMs = levels.map { p in
                let x = p * Double(sorted.count - 1)
                let i = Int(x), f = x - Double(i)
                return i + 1 < sorted.count ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i]
            }
        }

        /// 0, 5, 10, 25, 50, 75, 90, 95, 99 and 100 %.
        public static let standardLevels: [Double] = [0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]

        /// The value at cumulative probability `u` (0 … 1).
        public func value(at u: Double) -> Double {
            guard let first = valuesMs.first else { return 0 }
            guard levels.count == valuesMs.count, levels.count > 1 else { return first }
            let p = min(max(u, levels[0]), levels[levels.count - 1])
            var i = 0
            while i + 2 < levels.count, levels[i + 1] < p { i += 1 }
            let span = levels[i + 1] - levels[i]
            let f = span > 0 ? (p - levels[i]) / span : 0
            return valuesMs[i] + f * (valuesMs[i + 1] - valuesMs[i])
        }

        public var medianMs: Double { value(at: 0.5) }
    }

    /// The hop cost for payloads of `payloadBytes` (the query's input tensor), and the CPU the
    /// serving path spends on one such query.
    public struct Hop: Sendable, Equatable {
        public var payloadBytes: Int
        public var costMs: Quantiles
        /// CPU time (ms) one query's serving path took in the client, master and worker
        /// processes together, less the inference's own CPU (0: not measured).
        public var servingCPUMs: Double
        /// The worker process's part of ``servingCPUMs`` (what its CPU utilisation counts).
        public var workerCPUMs: Double
        public init(payloadBytes: Int, costMs: Quantiles, servingCPUMs: Double = 0, workerCPUMs: Double = 0) {
            self.payloadBytes = payloadBytes
            self.costMs = costMs
            self.servingCPUMs = servingCPUMs
            self.workerCPUMs = workerCPUMs
        }
    }

    /// One contention measurement: `replicas` replicas of `threads` intra-op threads each, all
    /// running at once, took `slowdown` × as long per run as one alone.
    public struct ContentionPoint: Sendable, Equatable {
        public var threads: Int
        public var replicas: Int
        public var slowdown: Double
        public init(threads: Int, replicas: Int, slowdown: Double) {
            self.threads = threads
            self.replicas = replicas
            self.slowdown = slowdown
        }
    }

    /// A lone replica's median run, per intra-op thread count (what ``background`` compares),
    /// and the share of its `threads` cores it kept busy (what a live worker's CPU utilisation,
    /// its process's CPU time, counts).
    public struct LoneRun: Sendable, Equatable {
        public var threads: Int
        public var medianMs: Double
        public var cpuShare: Double
        public init(threads: Int, medianMs: Double, cpuShare: Double = 1) {
            self.threads = threads
            self.medianMs = medianMs
            self.cpuShare = cpuShare
        }
    }

    /// A lone run of variant `variant` (`threads` intra-op threads) after the host sat idle for
    /// `gapMs`: `slowdown` × its back-to-back run (what profiles measure). Measured per variant:
    /// on the dev VM a 2-thread int8 ResNet-18 ran 1.5× slower after ≥ 20 ms of idle and the
    /// 2-thread fp32 one not at all (the int8 model's many short parallel sections each wake
    /// the other core).
    public struct IdleRun: Sendable, Equatable {
        public var variant: String
        public var threads: Int
        public var gapMs: Double
        public var slowdown: Double
        public init(variant: String, threads: Int, gapMs: Double, slowdown: Double) {
            self.variant = variant
            self.threads = threads
            self.gapMs = gapMs
            self.slowdown = slowdown
        }
    }

    /// A hop after the host sat idle for `gapMs`: `extraMs` more than a back-to-back hop (the
    /// medians' difference, for the smallest measured payload).
    public struct IdleHop: Sendable, Equatable {
        public var gapMs: Double
        public var extraMs: Double
        public init(gapMs: Double, extraMs: Double) {
            self.gapMs = gapMs
            self.extraMs = extraMs
        }
    }

    /// Hops of `queries` queries sent at the same instant take `factor` × a lone one's (median
    /// against median): their inputs cross the same cores at once.
    public struct ConcurrentHop: Sendable, Equatable {
        public var queries: Int
        public var factor: Double
        public init(queries: Int, factor: Double) {
            self.queries = queries
            self.factor = factor
        }
    }

    /// Where it was measured, in words (`hostname`, CPU model).
    public var machine: String
    /// The host's cores (what thread demand is compared with).
    public var cores: Int
    /// Whether the workers of a run share this host's cores (local workers, `infaas up --local`):
    /// then contention counts every worker's running replicas, not one worker's.
    public var sharedHost: Bool
    /// A lone replica's slowdown against the quiet reference (1 = as quiet).
    public var background: Double
    /// The 1-minute load average when calibrated (for the record).
    public var loadAverage: Double
    public var hops: [Hop]
    /// Load times by variant name.
    public var loadTimes: [String: Quantiles]
    /// What a worker's first load takes beyond ``loadTimes`` (ms; 0: not measured): the
    /// simulator adds it to the first load on each worker, which starts as a fresh process.
    public var firstLoadExtraMs: Double = 0
    public var contention: [ContentionPoint]
    public var lone: [LoneRun]
    /// Runs after idle, per variant and gap (empty: not measured, no penalty).
    public var idleRuns: [IdleRun] = []
    /// Hops after idle, per gap (empty: not measured, no penalty).
    public var idleHops: [IdleHop] = []
    /// Hops of queries sent together, per group size (empty: not measured, hops independent).
    public var concurrentHops: [ConcurrentHop] = []

    public init(machine: String, cores: Int, sharedHost: Bool = true, background: Double = 1, loadAverage: Double = 0,
                hops: [Hop] = [], loadTimes: [String: Quantiles] = [:], contention: [ContentionPoint] = [], lone: [LoneRun] = []) {
        self.lone = lone
        self.machine = machine
        self.cores = cores
        self.sharedHost = sharedHost
        self.background = background
        self.loadAverage = loadAverage
        self.hops = hops.sorted { $0.payloadBytes < $1.payloadBytes }
        self.loadTimes = loadTimes
        self.contention = contention
    }

    /// The hop cost at probability `u` for a payload of `bytes`: interpolated linearly between
    /// the two measured payload sizes around it (extrapolated along the last two beyond them;
    /// never below the smallest measured cost). 0 without hop measurements.
    public func hopMs(payloadBytes bytes: Int, u: Double) -> Double {
        guard let first = hops.first else { return 0 }
        guard hops.count > 1 else { return first.costMs.value(at: u) }
        var i = 0
        while i + 2 < hops.count, hops[i + 1].payloadBytes < bytes { i += 1 }
        let a = hops[i], b = hops[i + 1]
        let x0 = Double(a.payloadBytes), x1 = Double(b.payloadBytes)
        let y0 = a.costMs.value(at: u), y1 = b.costMs.value(at: u)
        let f = x1 > x0 ? (Double(bytes) - x0) / (x1 - x0) : 0
        return max(hops[0].costMs.value(at: 0), y0 + f * (y1 - y0))
    }

    /// Whether any serving-path CPU was measured (older calibrations have none: then the
    /// simulator counts no serving demand and runs exactly as before).
    public var hasServingCPU: Bool { hops.contains { $0.servingCPUMs > 0 || $0.workerCPUMs > 0 } }

    /// The serving path's CPU (ms, client + master + worker) for one query of `bytes` of input:
    /// interpolated linearly between the measured payload sizes around it, extrapolated along
    /// the last two beyond them, never below 0. 0 without measurements.
    public func servingCPUMs(payloadBytes bytes: Int) -> Double { interpolate(bytes, \.servingCPUMs) }

    /// The worker process's part of ``servingCPUMs(payloadBytes:)``.
    public func workerCPUMs(payloadBytes bytes: Int) -> Double { interpolate(bytes, \.workerCPUMs) }

    func interpolate(_ bytes: Int, _ value: KeyPath<Hop, Double>) -> Double {
        guard let first = hops.first else { return 0 }
        guard hops.count > 1 else { return max(0, first[keyPath: value]) }
        var i = 0
        while i + 2 < hops.count, hops[i + 1].payloadBytes < bytes { i += 1 }
        let a = hops[i], b = hops[i + 1]
        let x0 = Double(a.payloadBytes), x1 = Double(b.payloadBytes)
        let f = x1 > x0 ? (Double(bytes) - x0) / (x1 - x0) : 0
        return max(0, a[keyPath: value] + f * (b[keyPath: value] - a[keyPath: value]))
    }

    /// The share of its cores a run of `threads` intra-op threads keeps busy: the measured lone
    /// run's with the nearest thread count; 1 when none was measured.
    public func cpuShare(threads: Int) -> Double {
        lone.min(by: { (abs($0.threads - threads), $0.threads) < (abs($1.threads - threads), $1.threads) })?.cpuShare ?? 1
    }

    /// Whether runs or hops after idle were measured (older calibrations: no; then a run is
    /// timed exactly as before).
    public var hasIdleEffects: Bool { !idleRuns.isEmpty || !idleHops.isEmpty }

    /// Variant `variant`'s measured slowdowns after idle as a curve over the gap (ms): from 1 at
    /// no gap, gap rising; empty when it was not measured (no penalty).
    public func idleCurve(variant: String) -> [(Double, Double)] {
        let points = idleRuns.filter { $0.variant == variant }.map { ($0.gapMs, $0.slowdown) }.sorted { $0.0 < $1.0 }
        return points.isEmpty ? [] : [(0, 1)] + points
    }

    /// How much slower a run of `variant` goes when the host ran nothing for `idleMs` before
    /// it: its measured slowdowns interpolated linearly over the gap from 1 at no gap, held at
    /// the longest measured gap's beyond it; never below 1. 1 when it was not measured.
    public func idleSlowdown(variant: String, idleMs: Double) -> Double {
        let curve = idleCurve(variant: variant)
        guard idleMs > 0, !curve.isEmpty else { return 1 }
        return max(1, Self.interpolate(curve, at: idleMs))
    }

    /// How much longer a hop is when the host ran nothing for `idleMs` before the query: the
    /// measured extras, interpolated linearly over the gap from 0 at no gap, held at the longest
    /// measured gap's beyond it; never below 0. 0 when nothing was measured.
    public func idleHopExtraMs(idleMs: Double) -> Double {
        guard idleMs > 0, !idleHops.isEmpty else { return 0 }
        let curve = [(0.0, 0.0)] + idleHops.map { ($0.gapMs, $0.extraMs) }.sorted { $0.0 < $1.0 }
        return max(0, Self.interpolate(curve, at: idleMs))
    }

    /// How much longer a hop is when `queries` queries' hops (this one's included) overlap on
    /// the host: the measured factors interpolated over the count from 1 for a lone query,
    /// growing in proportion to the count beyond the largest measured group (the path's CPU
    /// shared out evenly); never below 1. 1 when nothing was measured.
    public func concurrentHopFactor(queries: Int) -> Double {
        guard queries > 1, !concurrentHops.isEmpty else { return 1 }
        let curve = [(1.0, 1.0)] + concurrentHops.map { (Double($0.queries), $0.factor) }.sorted { $0.0 < $1.0 }
        let last = curve[curve.count - 1]
        let x = Double(queries)
        return max(1, x > last.0 ? last.1 * x / last.0 : Self.interpolate(curve, at: x))
    }

    /// `curve` (x rising) at `x`: linear between its points, its last value beyond them.
    public static func interpolate(_ curve: [(Double, Double)], at x: Double) -> Double {
        guard let last = curve.last else { return 0 }
        if x >= last.0 { return last.1 }
        var i = 0
        while i + 2 < curve.count, curve[i + 1].0 < x { i += 1 }
        let (x0, y0) = curve[i], (x1, y1) = curve[i + 1]
        return x1 > x0 ? y0 + (x - x0) / (x1 - x0) * (y1 - y0) : y1
    }

    /// How much slower a run of `threads` intra-op threads goes while the host's running replicas
    /// (this one included) and its serving path ask for `demand` threads (cores' worth; the
    /// serving path's share may be fractional): the measured slowdowns for the nearest measured
    /// thread count, interpolated over demand ÷ cores; beyond the largest measured demand the
    /// slowdown grows in proportion to it (the cores are shared out evenly). 1 when nothing was
    /// measured or demand does not exceed one lone run.
    public func slowdown(threads: Int, demand: Double) -> Double {
        let measured = Set(contention.map(\.threads))
        guard let nearest = measured.min(by: { (abs($0 - threads), $0) < (abs($1 - threads), $1) }) else { return 1 }
        // (demand ÷ cores, slowdown), with the lone run as (threads ÷ cores, 1).
        var curve = contention.filter { $0.threads == nearest }
            .map { (Double($0.threads * $0.replicas) / Double(max(1, cores)), $0.slowdown) }
        curve.append((Double(nearest) / Double(max(1, cores)), 1))
        curve.sort { $0.0 < $1.0 }
        let r = max(demand, Double(threads)) / Double(max(1, cores))
        guard let first = curve.first, let last = curve.last else { return 1 }
        if r <= first.0 { return max(1, first.1) }
        if r >= last.0 { return max(1, last.1 * r / last.0) }
        var i = 0
        while i + 2 < curve.count, curve[i + 1].0 < r { i += 1 }
        let (x0, y0) = curve[i], (x1, y1) = curve[i + 1]
        return max(1, x1 > x0 ? y0 + (r - x0) / (x1 - x0) * (y1 - y0) : y1)
    }
}
