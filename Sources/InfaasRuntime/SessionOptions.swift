/// ONNX Runtime's graph optimisation levels (`--graph-optimization`).
public enum GraphOptimization: String, Sendable, CaseIterable, Codable {
    case disabled, basic, extended, all
}

/// Where a model runs.
public enum ExecutionDevice: Hashable, Sendable, CustomStringConvertible {
    case cpu
    case cuda(deviceID: Int)
    case inferentia

    public var description: String {
        switch self {
        case .cpu: "cpu"
        case .cuda(let id): "cuda:\(id)"
        case .inferentia: "inferentia"
        }
    }

    /// Parses `cpu`, `cuda`, `cuda:N`, `gpu`, `gpu:N`, `inf`/`inferentia` (any case).
    public init?(parsing text: String) {
        let lower = text.lowercased()
        let parts = lower.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        switch parts[0] {
        case "cpu" where parts.count == 1: self = .cpu
        case "inf" where parts.count == 1, "inferentia" where parts.count == 1: self = .inferentia
        case "cuda", "gpu":
            if parts.count == 1 { self = .cuda(deviceID: 0); return }
            guard let id = Int(parts[1]), id >= 0 else { return nil }
            self = .cuda(deviceID: id)
        default: return nil
        }
    }
}

/// How a session is set up. A CPU variant's `intraOpThreads` is its CPU count.
public struct SessionOptions: Hashable, Sendable {
    /// Threads used inside one operator; values below 1 let ONNX Runtime choose.
    public var intraOpThreads: Int
    /// Threads used across operators; sessions run sequentially, so this rarely matters.
    public var interOpThreads: Int
    public var graphOptimization: GraphOptimization
    public var device: ExecutionDevice
    /// Whether ONNX Runtime's thread pools spin while idle. Off by default: a worker hosts several
    /// sessions on a few cores, and idle sessions spinning would slow the busy one (on this 2-core
    /// machine an idle 2-thread session doubled another's latency). The profiler measures with the
    /// same setting the worker serves with.
    public var allowSpinning: Bool

    public init(intraOpThreads: Int = 1, interOpThreads: Int = 1, graphOptimization: GraphOptimization = .all,
                device: ExecutionDevice = .cpu, allowSpinning: Bool = false) {
        self.allowSpinning = allowSpinning
        self.intraOpThreads = intraOpThreads
        self.interOpThreads = interOpThreads
        self.graphOptimization = graphOptimization
        self.device = device
    }
}

/// A loaded model's one input and its float outputs, as the model declares them.
public struct ModelSignature: Sendable, Equatable {
    public var inputName: String
    /// The input's dimensions; `-1` marks a symbolic (any-size) dimension such as the batch.
    public var inputShape: [Int]
    public var outputNames: [String]
    /// Each output's dimensions, `-1` for symbolic ones.
    public var outputShapes: [[Int]]

    public init(inputName: String, inputShape: [Int], outputNames: [String], outputShapes: [[Int]]) {
        self.inputName = inputName
        self.inputShape = inputShape
        self.outputNames = outputNames
        self.outputShapes = outputShapes
    }

    /// Checks `shape` against the input: same rank, equal static dimensions, every dimension
    /// ≥ 1 (a symbolic dimension, such as the batch, accepts any size).
    public func checkInput(shape: [Int]) throws(RuntimeError) {
        var fits = shape.count == inputShape.count
        if fits {
            for axis in 0..<shape.count where shape[axis] < 1 || (inputShape[axis] >= 0 && shape[axis] != inputShape[axis]) {
                fits = false
            }
        }
        guard fits else {
            let expected = inputShape.map { $0 < 0 ? "N" : String($0) }.joined(separator: ",")
            throw RuntimeError(.inputMismatch, "input \"\(inputName)\" expects shape [\(expected)], got \(shape)",
                               hint: "N may be any size ≥ 1; every other dimension must match")
        }
    }

    /// The input shape with every symbolic dimension replaced: the first by `batch`, any
    /// other by the matching entry of `fill` (nil if such a dimension has no fill value).
    public func concreteInputShape(batch: Int, fill: [Int: Int] = [:]) -> [Int]? {
        var result: [Int] = []
        for (axis, dimension) in inputShape.enumerated() {
            if dimension >= 0 { result.append(dimension); continue }
            if axis == 0 { result.append(batch); continue }
            guard let value = fill[axis] else { return nil }
            result.append(value)
        }
        return result
    }
}
