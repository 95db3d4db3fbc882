/// An immutable, indexed set of variants for fast discovery and selection queries.
///
/// Built once from the profile store or the registry; policies and benchmarks query it
/// without touching disk. Indices: by name, by architecture (fastest batch-1 first, the
/// reference's `<parent>-modvariants`), and by task (ascending accuracy, for "accuracy ≥ A").
public struct VariantCatalogue: Sendable {
    /// All variants, in the order given.
    public let variants: [ModelVariant]
    private let byName: [String: Int]
    private let byArchitecture: [String: [Int]]
    /// Per task: the variants with a known accuracy, ascending accuracy, as compact search
    /// entries (no strings, no retain/release in the scan).
    @usableFromInline let byTaskAccuracy: [InferenceTask: [SearchEntry]]
    /// Accuracies aligned with `byTaskAccuracy`, for binary search.
    @usableFromInline let taskAccuracies: [InferenceTask: [Double]]

    /// What the accuracy/latency search reads per variant.
    @usableFromInline
    struct SearchEntry: Sendable {
        @usableFromInline var index: Int
        @usableFromInline var maxBatch: Int
        @usableFromInline var model: LinearLatencyModel
    }

    /// Indexes `variants`. Names must be unique.
    public init(_ variants: [ModelVariant]) throws(ValidationError) {
        var byName: [String: Int] = [:]
        var byArchitecture: [String: [Int]] = [:]
        var byTask: [InferenceTask: [Int]] = [:]
        for (index, variant) in variants.enumerated() {
            if byName.updateValue(index, forKey: variant.name) != nil {
                throw ValidationError(field: "variant", value: variant.name, reason: "appears twice in the catalogue")
            }
            byArchitecture[variant.architecture, default: []].append(index)
            if variant.accuracy != nil { byTask[variant.useCase.task, default: []].append(index) }
        }
        for key in byArchitecture.keys {
            byArchitecture[key]!.sort { (variants[$0].batch1LatencyMs, variants[$0].name) < (variants[$1].batch1LatencyMs, variants[$1].name) }
        }
        var accuracies: [InferenceTask: [Double]] = [:]
        var entries: [InferenceTask: [SearchEntry]] = [:]
        for key in byTask.keys {
            byTask[key]!.sort { (variants[$0].accuracy!, variants[$0].name) < (variants[$1].accuracy!, variants[$1].name) }
            accuracies[key] = byTask[key]!.map { variants[$0].accuracy! }
            entries[key] = byTask[key]!.map { SearchEntry(index: $0, maxBatch: variants[$0].maxBatch, model: variants[$0].latency.model) }
        }
        self.variants = variants
        self.byName = byName
        self.byArchitecture = byArchitecture
        self.byTaskAccuracy = entries
        self.taskAccuracies = accuracies
    }

    public var count: Int { variants.count }

    /// The variant called `name`.
    public func variant(named name: String) -> ModelVariant? { byName[name].map { variants[$0] } }

    /// Architecture names, sorted.
    public var architectures: [String] { byArchitecture.keys.sorted() }

    /// Tasks with at least one variant, sorted.
    public var tasks: [InferenceTask] { Set(variants.map(\.useCase.task)).sorted() }

    /// Variants of an architecture, fastest batch-1 latency first.
    public func variants(ofArchitecture architecture: String) -> [ModelVariant] {
        (byArchitecture[architecture] ?? []).map { variants[$0] }
    }

    /// Architectures with a variant of this task and dataset, sorted (reference `AllParentInfo`).
    public func architectures(task: InferenceTask, dataset: Dataset) -> [String] {
        Set(variants.lazy.filter { $0.useCase.task == task && $0.useCase.dataset == dataset }.map(\.architecture)).sorted()
    }

    /// Indices (into ``variants``) of the variants of `task` with accuracy ≥ `minAccuracy`,
    /// `maxBatch ≥ batch` and predicted latency at `batch` ≤ `maxLatencyMs`, by ascending
    /// accuracy. Calls `body` for each; stop early by returning `false`.
    @inlinable
    public func forEachVariant(
        task: InferenceTask, minAccuracy: Double, maxLatencyMs: Double, batch: Int,
        _ body: (Int) -> Bool
    ) {
        guard let (entries, start) = accuracyRange(task: task, minAccuracy: minAccuracy) else { return }
        for position in start..<entries.count {
            let entry = entries[position]
            if entry.maxBatch >= batch, entry.model.predictMs(batch: batch) <= maxLatencyMs {
                if !body(entry.index) { return }
            }
        }
    }

    /// The variants ``forEachVariant(task:minAccuracy:maxLatencyMs:batch:_:)`` visits.
    public func variants(task: InferenceTask, minAccuracy: Double, maxLatencyMs: Double, batch: Int) -> [ModelVariant] {
        var found: [ModelVariant] = []
        forEachVariant(task: task, minAccuracy: minAccuracy, maxLatencyMs: maxLatencyMs, batch: batch) {
            found.append(variants[$0]); return true
        }
        return found
    }

    @usableFromInline
    func accuracyRange(task: InferenceTask, minAccuracy: Double) -> (entries: [SearchEntry], start: Int)? {
        guard let entries = byTaskAccuracy[task], let accuracies = taskAccuracies[task] else { return nil }
        var low = 0, high = accuracies.count
        while low < high {
            let mid = (low + high) / 2
            if accuracies[mid] < minAccuracy { low = mid + 1 } else { high = mid }
        }
        return (entries, low)
    }
}
