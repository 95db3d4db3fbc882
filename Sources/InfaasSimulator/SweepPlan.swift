import Foundation

/// One run of a sweep: a grid point (one value per swept key) and a seed.
public struct SweepPoint: Sendable, Equatable, Codable {
    /// Position in the whole sweep (grid-major, seed-minor); shards split on it.
    public var index: Int
    /// Stable folder name, e.g. `p003-policy=static-seed=2`.
    public var id: String
    public var overrides: [ExperimentOverride]
    public var seed: UInt64

    /// The `--set` arguments that run this point with `infaas simulate`.
    public var setArguments: [String] { overrides.flatMap { ["--set", "\($0.key)=\($0.value)"] } }
}

/// The points of a sweep: the cartesian product of the `sweep:` axes (the first key varies slowest,
/// values in file order), each run with seeds `seedBase ..< seedBase + seeds`.
public struct SweepPlan: Sendable {
    public var axes: [SweepAxis]
    public var seeds: [UInt64]
    public var points: [SweepPoint]

    public init(spec: ExperimentSpec, seeds: Int, seedBase: UInt64? = nil) {
        axes = spec.sweep
        let base = seedBase ?? spec.seed
        self.seeds = (0..<UInt64(max(seeds, 1))).map { base &+ $0 }
        var grid: [[ExperimentOverride]] = [[]]
        for axis in axes { grid = grid.flatMap { prefix in axis.values.map { prefix + [$0] } } }
        let total = grid.count * self.seeds.count
        let width = max(3, String(max(total - 1, 0)).count)
        var points: [SweepPoint] = []
        for overrides in grid {
            for seed in self.seeds {
                let index = points.count
                let number = String(repeating: "0", count: width - String(index).count) + String(index)
                let parts = ["p" + number] + overrides.map { "\(Self.shortKey($0.key))=\($0.value)" } + ["seed=\(seed)"]
                points.append(SweepPoint(index: index, id: Self.sanitise(parts.joined(separator: "-")), overrides: overrides, seed: seed))
            }
        }
        self.points = points
    }

    /// The swept keys, in file order.
    public var keys: [String] { axes.map(\.key) }

    /// `policy_config.` is dropped in ids (its keys name no other setting).
    static func shortKey(_ key: String) -> String {
        key.hasPrefix("policy_config.") ? String(key.dropFirst("policy_config.".count)) : key
    }

    /// Letters, digits and `._=+-` kept; anything else becomes `_`; at most 120 characters.
    static func sanitise(_ text: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._=+-")
        return String(String(text.map { allowed.contains($0) ? $0 : "_" }).prefix(120))
    }
}

/// One slice of a sweep: point `i` belongs to shard `i mod count`.
public struct SweepShard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws(ExperimentError) {
        guard count >= 1, index >= 0, index < count else {
            throw ExperimentError("shard \(index)/\(count) is out of range", at: "--shard", hint: "give I/N with 0 ≤ I < N")
        }
        self.index = index
        self.count = count
    }

    public func contains(_ point: SweepPoint) -> Bool { point.index % count == index }
    public var description: String { "\(index)/\(count)" }

    /// Parses `I/N`.
    public static func parse(_ text: String) throws(ExperimentError) -> SweepShard {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw ExperimentError("expected --shard I/N (e.g. 0/4), got \"\(text)\"", at: "--shard")
        }
        return try SweepShard(index: i, count: n)
    }

    /// The shard to run: `--shard I/N` first, else a cluster scheduler's array index:
    /// Slurm (`SLURM_ARRAY_TASK_ID` with `SLURM_ARRAY_TASK_COUNT`, or `_MIN`/`_MAX` and `_STEP`),
    /// Kubernetes Indexed Jobs (`JOB_COMPLETION_INDEX`) or AWS Batch (`AWS_BATCH_JOB_ARRAY_INDEX`),
    /// the last two with the count from `--shard-count` or `INFAAS_SHARD_COUNT`. Nil: run everything.
    public static func resolve(flag: String?, shardCount: Int?, environment: [String: String]) throws(ExperimentError) -> SweepShard? {
        if let flag { return try parse(flag) }
        func number(_ name: String) throws(ExperimentError) -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text) else { throw ExperimentError("\(name)=\"\(text)\" is not an integer", at: "environment") }
            return value
        }
        let explicitCount: Int?
        if let shardCount { explicitCount = shardCount } else { explicitCount = try number("INFAAS_SHARD_COUNT") }
        if let id = try number("SLURM_ARRAY_TASK_ID") {
            let minimum = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            let step = max(try number("SLURM_ARRAY_TASK_STEP") ?? 1, 1)
            var count = try number("SLURM_ARRAY_TASK_COUNT")
            if count == nil, let maximum = try number("SLURM_ARRAY_TASK_MAX") { count = (maximum - minimum) / step + 1 }
            guard let count = explicitCount ?? count else {
                throw ExperimentError("SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT (or _MAX)", at: "environment",
                                      hint: "give --shard-count N or INFAAS_SHARD_COUNT")
            }
            return try SweepShard(index: (id - minimum) / step, count: count)
        }
        for name in ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"] {
            guard let index = try number(name) else { continue }
            guard let count = explicitCount else {
                throw ExperimentError("\(name) is set but the number of shards is not", at: "environment",
                                      hint: "give --shard-count N or set INFAAS_SHARD_COUNT to the array size")
            }
            return try SweepShard(index: index, count: count)
        }
        return nil
    }
}
