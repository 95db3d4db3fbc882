public import InfaasCore
import Foundation

// Conversions between the wire messages and the core value types. Both daemons and the CLI
// use these, so a field is mapped in one place only.

extension Infaas_V1_Tensor {
    /// A tensor from float32 values (row-major) and a shape.
    public init(shape: [Int], values: [Float]) {
        self.init()
        self.shape = shape.map(Int64.init)
        self.data = values.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    /// The shape as `Int`s.
    public var dimensions: [Int] { shape.map { Int($0) } }

    /// Number of elements the shape calls for (−1 when a dimension is negative).
    public var elementCount: Int {
        dimensions.reduce(1) { $0 < 0 || $1 < 0 ? -1 : $0 * $1 }
    }

    /// The float32 values; throws when the byte count does not match the shape.
    public func floats() throws(WireError) -> [Float] {
        let count = elementCount
        guard count >= 0, data.count == count * MemoryLayout<Float>.size else {
            throw WireError("tensor of shape \(dimensions) needs \(max(0, count) * 4) bytes of float32 data, got \(data.count)",
                            hint: "send row-major little-endian float32 values, one per element of the shape")
        }
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            _ = data.copyBytes(to: buffer)
            initialized = count
        }
    }
}

/// A malformed message field.
public struct WireError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String?

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message) (\($0))" } ?? message }
}

extension Infaas_V1_QueryInput {
    /// The batch size the input carries: images, or the first tensor dimension.
    public var batchSize: Int {
        switch payload {
        case .images(let images): images.data.count
        case .tensor(let tensor): tensor.shape.first.map { Int($0) } ?? 0
        case nil: 0
        }
    }
}

extension Infaas_V1_VariantSpec {
    /// The wire form of a registered variant and where its files are.
    public init(_ variant: ModelVariant, modelURL: String) {
        self.init()
        name = variant.name
        architecture = variant.architecture
        task = variant.useCase.task.rawValue
        dataset = variant.useCase.dataset.rawValue
        framework = variant.framework.rawValue
        hardware = variant.hardware.rawValue
        maxBatch = UInt32(clamping: variant.maxBatch)
        accuracy = variant.accuracy ?? 0
        loadMs = variant.loadLatencyMs ?? 0
        memoryMb = variant.memoryMB ?? 0
        cpus = UInt32(clamping: variant.cpus ?? 1)
        slopeMs = variant.latency.model.slopeMs
        interceptMs = variant.latency.model.interceptMs
        self.modelURL = modelURL
        if variant.useCase.inputDimension > 0 {
            inputHeight = UInt32(clamping: variant.useCase.inputDimension)
            inputWidth = inputHeight
        }
    }

    /// The variant as the policies see it (a worker builds its local catalogue from these).
    public func modelVariant() throws(WireError) -> ModelVariant {
        guard !name.isEmpty else { throw WireError("variant spec has no name") }
        guard let hardware = HardwareClass(name: hardware) else {
            throw WireError("variant \(name) has hardware \"\(self.hardware)\"", hint: "use cpu, gpu or inferentia")
        }
        guard maxBatch >= 1 else { throw WireError("variant \(name) has max batch \(maxBatch)", hint: "max batch must be at least 1") }
        let model = LinearLatencyModel(slopeMs: slopeMs, interceptMs: interceptMs)
        let points = [LatencyPoint(batch: 1, p50Ms: model.predictMs(batch: 1))]
        return ModelVariant(
            name: name, architecture: architecture,
            useCase: UseCase(task: InferenceTask(rawValue: task), dataset: Dataset(rawValue: dataset), inputDimension: Int(inputHeight)),
            framework: Framework(rawValue: framework), hardware: hardware, maxBatch: Int(maxBatch),
            accuracy: accuracy > 0 ? accuracy : nil, loadLatencyMs: loadMs > 0 ? loadMs : nil, memoryMB: memoryMb > 0 ? memoryMb : nil,
            cpus: Int(max(1, cpus)), latency: LatencyProfile(points: points, model: model), kind: .measured, source: "registry")
    }
}

extension Infaas_V1_TopK {
    /// The `k` best classes of one row of a `[N, C]` (or `[N, C, 1, 1]`) output.
    public init(row: Int, of values: [Float], columns: Int, k: Int) {
        self.init()
        let base = row * columns
        guard k > 0, columns > 0, base + columns <= values.count else { return }
        // Never more than the row has columns, whatever k a request asked for (2^32 − 1 once
        // reserved 68 GB here).
        let k = min(k, columns)
        var best: [(Int, Float)] = []
        best.reserveCapacity(k + 1)
        for c in 0..<columns {
            let score = values[base + c]
            if best.count < k || score > best[best.count - 1].1 {
                let at = best.firstIndex { score > $0.1 } ?? best.count
                best.insert((c, score), at: at)
                if best.count > k { best.removeLast() }
            }
        }
        index = best.map { UInt32($0.0) }
        score = best.map { $0.1 }
    }
}
