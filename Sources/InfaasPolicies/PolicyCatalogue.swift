public import InfaasCore

/// The variant catalogue in the form the policies read on every query: integer ids, flat
/// arrays, and the reference's indices (variants of an architecture by batch-1 latency and by
/// load + batch-1 latency; use-case accuracy bins) built once.
public struct PolicyCatalogue: Sendable {
    public let variants: [ModelVariant]
    public let architectureNames: [String]
    /// The use-cases queries can name, by task and dataset. The input size is not part of the
    /// key (`inputDimension` is 0 here): a client resizes its input to the variant's, so a
    /// `classification/imagenet` query may use a 299-pixel Inception as well as a 224-pixel ResNet.
    public let useCases: [UseCase]
    /// Per variant.
    public let architecture: [Int]
    public let useCase: [Int]
    public let hardware: [HardwareClass]
    public let maxBatch: [Int]
    public let model: [LinearLatencyModel]
    public let batch1Ms: [Double]
    public let loadMs: [Double]
    public let accuracy: [Double?]
    public let memoryMB: [Double]
    public let cpus: [Int]
    public let neuronCores: [Int]
    /// Per architecture: variants by ascending batch-1 latency (`<p>-modvariants`).
    public let byBatch1: [[Int]]
    /// Per architecture: variants by ascending load + batch-1 latency (`<p>b1totlat`).
    public let byTotal: [[Int]]
    /// Per use-case: its variants by ascending batch-1 latency.
    public let byUseCase: [[Int]]
    /// Per use-case, per accuracy bin: variants by ascending accuracy (`<g>-<bin>-gparacc`).
    public let accuracyBins: [[[Int]]]
    public let binEdges: [Double]
    /// Variants unregistered while a live master runs: they keep their id (replica groups and
    /// policy memory stay valid) but no name lookup finds them and no index lists them, so
    /// no query names or chooses them. A later registration of the name gets a new id.
    public let withdrawn: Set<Int>
    private let variantIndex: [String: Int]
    private let architectureIndex: [String: Int]

    /// Memory assumed for a variant whose profile has none, in MB.
    public static let defaultMemoryMB = 1024.0
    /// Load latency assumed for a variant whose profile has none, in ms.
    public static let defaultLoadMs = 1000.0

    public init(_ variants: [ModelVariant], binEdges: [Double] = PolicyConfig().accuracyBinEdges, withdrawn: Set<Int> = []) throws(ValidationError) {
        var variantIndex: [String: Int] = [:]
        var architectureIndex: [String: Int] = [:]
        var liveArchitectures: Set<Int> = []
        var architectureNames: [String] = []
        var useCaseIndex: [UseCase: Int] = [:]
        var useCases: [UseCase] = []
        var architecture: [Int] = [], useCase: [Int] = []
        for (i, v) in variants.enumerated() {
            if !withdrawn.contains(i), variantIndex.updateValue(i, forKey: v.name) != nil {
                throw ValidationError(field: "variant", value: v.name, reason: "appears twice in the catalogue")
            }
            let a = architectureIndex[v.architecture] ?? {
                architectureNames.append(v.architecture)
                return architectureNames.count - 1
            }()
            architectureIndex[v.architecture] = a
            if !withdrawn.contains(i) { liveArchitectures.insert(a) }
            let key = UseCase(task: v.useCase.task, dataset: v.useCase.dataset, inputDimension: 0)
            let u = useCaseIndex[key] ?? {
                useCases.append(key)
                return useCases.count - 1
            }()
            useCaseIndex[key] = u
            architecture.append(a)
            useCase.append(u)
        }
        self.variants = variants
        self.architectureNames = architectureNames
        self.useCases = useCases
        self.architecture = architecture
        self.useCase = useCase
        hardware = variants.map(\.hardware)
        maxBatch = variants.map(\.maxBatch)
        model = variants.map(\.latency.model)
        let batch1 = variants.map(\.batch1LatencyMs)
        batch1Ms = batch1
        let load = variants.map { $0.loadLatencyMs ?? Self.defaultLoadMs }
        loadMs = load
        accuracy = variants.map(\.accuracy)
        memoryMB = variants.map { $0.memoryMB ?? Self.defaultMemoryMB }
        cpus = variants.map { $0.hardware == .cpu ? max(1, $0.cpus ?? 1) : 0 }
        neuronCores = variants.map { v in
            guard v.hardware == .inferentia else { return 0 }
            // The reference reads the NeuronCores from the integer after the name's last `_`.
            return v.name.split(separator: "_").last.flatMap { Int($0) }.map { max(1, min(4, $0)) } ?? 1
        }
        var b1 = Array(repeating: [Int](), count: architectureNames.count)
        for (i, a) in architecture.enumerated() where !withdrawn.contains(i) { b1[a].append(i) }
        byBatch1 = b1.map { $0.sorted { (batch1[$0], $0) < (batch1[$1], $1) } }
        byTotal = b1.map { $0.sorted { (batch1[$0] + load[$0], $0) < (batch1[$1] + load[$1], $1) } }
        var perUseCase = Array(repeating: [Int](), count: useCases.count)
        for (i, u) in useCase.enumerated() where !withdrawn.contains(i) { perUseCase[u].append(i) }
        byUseCase = perUseCase.map { $0.sorted { (batch1[$0], $0) < (batch1[$1], $1) } }
        self.binEdges = binEdges
        var bins = Array(repeating: Array(repeating: [Int](), count: binEdges.count - 1), count: useCases.count)
        for (i, v) in variants.enumerated() where !withdrawn.contains(i) {
            guard let acc = v.accuracy, let bin = Self.bin(of: acc, edges: binEdges) else { continue }
            bins[useCase[i]][bin].append(i)
        }
        let accuracies = variants.map { $0.accuracy ?? 0 }
        accuracyBins = bins.map { $0.map { $0.sorted { (accuracies[$0], $0) < (accuracies[$1], $1) } } }
        self.variantIndex = variantIndex
        // An architecture whose every variant was withdrawn is unknown again.
        self.architectureIndex = architectureIndex.filter { liveArchitectures.contains($0.value) }
        self.withdrawn = withdrawn
    }

    public var count: Int { variants.count }

    /// The first bin whose closed interval holds `accuracy` (so 70.0 is in [50, 70], as the
    /// reference places it); `nil` outside the edges.
    public static func bin(of accuracy: Double, edges: [Double]) -> Int? {
        for i in 0..<(edges.count - 1) where accuracy >= edges[i] && accuracy <= edges[i + 1] { return i }
        return nil
    }

    public func variantID(_ name: String) -> Int? { variantIndex[name] }
    public func architectureID(_ name: String) -> Int? { architectureIndex[name] }
    /// The use-case of a task and dataset.
    public func useCaseID(task: InferenceTask, dataset: Dataset) -> Int? {
        useCases.firstIndex { $0.task == task && $0.dataset == dataset }
    }

    /// The batch the reference judges a variant's latency at for a query of batch `b`: `b` for
    /// CPU variants, `min(32, max_batch)` for accelerators (§3.3) — but never below `b` (an
    /// accelerator variant whose max batch exceeds 32 serving a query of more than 32).
    @inlinable
    public func judgedBatch(_ v: Int, queryBatch b: Int, maxOnlineBatch: Int) -> Int {
        hardware[v] == .cpu ? b : max(b, min(maxOnlineBatch, maxBatch[v]))
    }

    /// Predicted latency of `v` for a query of batch `b`, as the reference's `pred(v)`.
    @inlinable
    public func predictedMs(_ v: Int, queryBatch b: Int, maxOnlineBatch: Int) -> Double {
        model[v].predictMs(batch: judgedBatch(v, queryBatch: b, maxOnlineBatch: maxOnlineBatch))
    }

    /// Dollars one query of batch `b` costs on `v`: the machine's hourly price × the
    /// execution time × the share of the machine the replica holds (its vCPUs of the
    /// machine's, the whole GPU, its NeuronCores of 4).
    @inlinable
    public func costPerQueryUSD(_ v: Int, batch b: Int, machines: MachineCatalogue) -> Double {
        let machine = machines[hardware[v]]
        let share: Double
        switch hardware[v] {
        case .cpu: share = Double(cpus[v]) / Double(max(1, machine.vcpus))
        case .gpu: share = 1
        case .inferentia: share = Double(neuronCores[v]) / Double(max(1, machine.neuronCores))
        }
        return machine.hourlyUSD / 3600 * max(0, model[v].predictMs(batch: b)) / 1000 * share
    }
}
