import COnnxRuntime
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A model loaded into an ONNX Runtime session. `run` and `unload` serialise on a lock, so
/// unloading waits for a run in progress and a later run fails cleanly.
final class ORTLoadedModel: LoadedModel {
    let signature: ModelSignature
    let memoryBytes: Int
    let path: String
    private let runtime: ORTRuntime
    private let ledger: MemoryLedger
    private let session: Mutex<ORTSessionHandles?>

    init(runtime: ORTRuntime, path: String, options: SessionOptions, ledger: MemoryLedger) throws(RuntimeError) {
        self.runtime = runtime
        self.path = path
        self.ledger = ledger
        let before = ProcessMemory.residentBytes()
        let handles = try ORTSessionHandles.open(runtime: runtime, path: path, options: options)
        let after = ProcessMemory.residentBytes()
        self.signature = handles.signature
        self.memoryBytes = max(0, after - before)
        self.session = Mutex(handles)
        ledger.add(memoryBytes)
    }

    func run(_ input: Tensor) throws(RuntimeError) -> [Tensor] {
        try session.withLock { (handles) throws(RuntimeError) -> [Tensor] in
            guard let handles else {
                throw RuntimeError(.inferenceFailed, "model \(path) was unloaded", hint: "load it again before running it")
            }
            return try handles.run(input, runtime: runtime)
        }
    }

    func unload() {
        let released = session.withLock { (handles) -> Bool in
            guard let current = handles else { return false }
            current.release(runtime: runtime)
            handles = nil
            return true
        }
        if released { ledger.add(-memoryBytes) }
    }

    deinit { unload() }
}

/// The ONNX Runtime objects behind one loaded model, with buffers reused by every run.
/// Only touched under `ORTLoadedModel`'s lock.
struct ORTSessionHandles: @unchecked Sendable {
    let session: OpaquePointer
    let memoryInfo: OpaquePointer
    let signature: ModelSignature
    /// NUL-terminated copies of the input name and output names, in the layout `Run` takes.
    let inputNames: UnsafeMutablePointer<UnsafePointer<CChar>?>
    let outputNames: UnsafeMutablePointer<UnsafePointer<CChar>?>
    let outputCount: Int
    /// Room for the input's dimensions and the output values of one run.
    let inputDimensions: UnsafeMutablePointer<Int64>
    let outputValues: UnsafeMutablePointer<OpaquePointer?>
    let outputDimensions: UnsafeMutablePointer<Int64>
    let maxOutputRank: Int

    /// Creates the session and reads its signature.
    static func open(runtime: ORTRuntime, path: String, options: SessionOptions) throws(RuntimeError) -> ORTSessionHandles {
        let api = runtime.api
        var sessionOptions: OpaquePointer?
        try runtime.check(api.pointee.CreateSessionOptions!(&sessionOptions), "creating session options", kind: .inferenceFailed)
        guard let sessionOptions else { throw RuntimeError(.inferenceFailed, "ONNX Runtime returned no session options") }
        defer { api.pointee.ReleaseSessionOptions!(sessionOptions) }

        let intra = Int32(clamping: max(0, options.intraOpThreads))
        let inter = Int32(clamping: max(0, options.interOpThreads))
        try runtime.check(api.pointee.SetIntraOpNumThreads!(sessionOptions, intra), "setting \(intra) intra-op threads", kind: .inferenceFailed)
        try runtime.check(api.pointee.SetInterOpNumThreads!(sessionOptions, inter), "setting \(inter) inter-op threads", kind: .inferenceFailed)
        try runtime.check(api.pointee.SetSessionExecutionMode!(sessionOptions, ORT_SEQUENTIAL), "choosing sequential execution", kind: .inferenceFailed)
        let spin = options.allowSpinning ? "1" : "0"
        for key in ["session.intra_op.allow_spinning", "session.inter_op.allow_spinning"] {
            try runtime.check(api.pointee.AddSessionConfigEntry!(sessionOptions, key, spin), "setting \(key) = \(spin)", kind: .inferenceFailed)
        }
        try runtime.check(api.pointee.SetSessionGraphOptimizationLevel!(sessionOptions, options.graphOptimization.ortLevel),
                          "setting graph optimisation \(options.graphOptimization.rawValue)", kind: .inferenceFailed)
        if case .cuda(let deviceID) = options.device, let refusal = runtime.appendCUDA(to: sessionOptions, deviceID: deviceID) {
            throw RuntimeError(.executionProviderUnavailable, "ONNX Runtime refused the CUDA execution provider for device \(deviceID): \(refusal)",
                               hint: "check the CUDA/cuDNN libraries onnxruntime-gpu needs and the device number, or run this variant on cpu")
        }

        var created: OpaquePointer?
        if let status = api.pointee.CreateSession!(runtime.env, path, sessionOptions, &created) {
            let failure = ORTRuntime.describe(api, status)
            if failure.code == ORT_NO_SUCHFILE {
                throw RuntimeError(.modelNotFound, "ONNX Runtime cannot open \(path): \(failure.message)", hint: "check the path")
            }
            throw RuntimeError(.invalidModel, "ONNX Runtime cannot load \(path): \(failure.message)",
                               hint: "is it an ONNX model (opset ≤ what ONNX Runtime \(runtime.version) supports)? re-export it, or check the file is complete")
        }
        guard let session = created else { throw RuntimeError(.invalidModel, "ONNX Runtime returned no session for \(path)") }
        var keepSession = false
        defer { if !keepSession { api.pointee.ReleaseSession!(session) } }

        let described = try describe(session: session, runtime: runtime, path: path)

        var memoryInfo: OpaquePointer?
        try runtime.check(api.pointee.CreateCpuMemoryInfo!(OrtArenaAllocator, OrtMemTypeDefault, &memoryInfo), "describing CPU memory",
                          kind: .inferenceFailed)
        guard let memoryInfo else { throw RuntimeError(.inferenceFailed, "ONNX Runtime returned no CPU memory info") }

        let outputCount = described.outputIndices.count
        let inputNames = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: 1)
        inputNames.initialize(to: UnsafePointer(strdup(described.signature.inputName)))
        let outputNames = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: outputCount)
        for (slot, name) in described.signature.outputNames.enumerated() {
            (outputNames + slot).initialize(to: UnsafePointer(strdup(name)))
        }
        let inputRank = described.signature.inputShape.count
        let inputDimensions = UnsafeMutablePointer<Int64>.allocate(capacity: max(1, inputRank))
        let outputValues = UnsafeMutablePointer<OpaquePointer?>.allocate(capacity: outputCount)
        outputValues.initialize(repeating: nil, count: outputCount)
        let maxOutputRank = max(8, described.signature.outputShapes.map(\.count).max() ?? 0)
        let outputDimensions = UnsafeMutablePointer<Int64>.allocate(capacity: maxOutputRank)
        keepSession = true
        return ORTSessionHandles(session: session, memoryInfo: memoryInfo, signature: described.signature,
                                 inputNames: inputNames, outputNames: outputNames, outputCount: outputCount,
                                 inputDimensions: inputDimensions, outputValues: outputValues,
                                 outputDimensions: outputDimensions, maxOutputRank: maxOutputRank)
    }

    /// Reads the session's one float input and its float outputs.
    private static func describe(session: OpaquePointer, runtime: ORTRuntime, path: String) throws(RuntimeError)
        -> (signature: ModelSignature, outputIndices: [Int]) {
        let api = runtime.api
        var inputCount = 0, outputCount = 0
        try runtime.check(api.pointee.SessionGetInputCount!(session, &inputCount), "counting inputs of \(path)", kind: .invalidModel)
        try runtime.check(api.pointee.SessionGetOutputCount!(session, &outputCount), "counting outputs of \(path)", kind: .invalidModel)
        var inputNames: [String] = []
        for index in 0..<inputCount {
            var name: UnsafeMutablePointer<CChar>?
            try runtime.check(api.pointee.SessionGetInputName!(session, index, runtime.allocator, &name), "reading input \(index)'s name",
                              kind: .invalidModel)
            inputNames.append(runtime.takeString(name))
        }
        guard inputCount == 1 else {
            throw RuntimeError(.invalidModel, "\(path) has \(inputCount) inputs (\(inputNames.joined(separator: ", "))); the ONNX Runtime backend feeds exactly one float32 input",
                               hint: "export the model with a single image/tensor input")
        }
        var typeInfo: OpaquePointer?
        try runtime.check(api.pointee.SessionGetInputTypeInfo!(session, 0, &typeInfo), "reading input type", kind: .invalidModel)
        let input = try tensorType(typeInfo, runtime: runtime)
        guard let input, input.element == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT else {
            throw RuntimeError(.invalidModel, "\(path)'s input \"\(inputNames[0])\" is \(input.map { "a tensor of element type \($0.element.rawValue)" } ?? "not a tensor"); only float32 inputs are supported",
                               hint: "export the model with a float32 input")
        }
        var outputNames: [String] = [], outputShapes: [[Int]] = [], outputIndices: [Int] = []
        for index in 0..<outputCount {
            var info: OpaquePointer?
            try runtime.check(api.pointee.SessionGetOutputTypeInfo!(session, index, &info), "reading output \(index)'s type", kind: .invalidModel)
            guard let output = try tensorType(info, runtime: runtime), output.element == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT else { continue }
            var name: UnsafeMutablePointer<CChar>?
            try runtime.check(api.pointee.SessionGetOutputName!(session, index, runtime.allocator, &name), "reading output \(index)'s name",
                              kind: .invalidModel)
            outputNames.append(runtime.takeString(name))
            outputShapes.append(output.shape)
            outputIndices.append(index)
        }
        guard !outputNames.isEmpty else {
            throw RuntimeError(.invalidModel, "\(path) has no float32 output (\(outputCount) output\(outputCount == 1 ? "" : "s") of other types)",
                               hint: "the backend returns float32 tensors only; export float outputs")
        }
        let signature = ModelSignature(inputName: inputNames[0], inputShape: input.shape, outputNames: outputNames, outputShapes: outputShapes)
        return (signature, outputIndices)
    }

    /// Element type and shape of a tensor type (nil for maps, sequences, ...); releases `typeInfo`.
    private static func tensorType(_ typeInfo: OpaquePointer?, runtime: ORTRuntime) throws(RuntimeError)
        -> (element: ONNXTensorElementDataType, shape: [Int])? {
        let api = runtime.api
        guard let typeInfo else { return nil }
        defer { api.pointee.ReleaseTypeInfo!(typeInfo) }
        var kind = ONNX_TYPE_UNKNOWN
        try runtime.check(api.pointee.GetOnnxTypeFromTypeInfo!(typeInfo, &kind), "reading a value's type", kind: .invalidModel)
        guard kind == ONNX_TYPE_TENSOR else { return nil }
        var info: OpaquePointer?
        try runtime.check(api.pointee.CastTypeInfoToTensorInfo!(typeInfo, &info), "reading a tensor's type", kind: .invalidModel)
        guard let info else { return nil }
        var element = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED
        try runtime.check(api.pointee.GetTensorElementType!(info, &element), "reading a tensor's element type", kind: .invalidModel)
        var rank = 0
        try runtime.check(api.pointee.GetDimensionsCount!(info, &rank), "reading a tensor's rank", kind: .invalidModel)
        var dimensions = [Int64](repeating: 0, count: rank)
        try runtime.check(api.pointee.GetDimensions!(info, &dimensions, rank), "reading a tensor's dimensions", kind: .invalidModel)
        return (element, dimensions.map { $0 < 0 ? -1 : Int($0) })
    }

    /// Runs one batch: the input is passed to ORT over the array's own memory (no copy);
    /// each float output is copied into a `Tensor`.
    func run(_ input: Tensor, runtime: ORTRuntime) throws(RuntimeError) -> [Tensor] {
        _ = try input.validated()
        try signature.checkInput(shape: input.shape)
        let api = runtime.api
        for (axis, dimension) in input.shape.enumerated() { inputDimensions[axis] = Int64(dimension) }
        let rank = input.shape.count
        let status: OpaquePointer? = input.values.withUnsafeBufferPointer { values -> OpaquePointer? in
            var value: OpaquePointer?
            let data = UnsafeMutableRawPointer(mutating: values.baseAddress)
            if let failed = api.pointee.CreateTensorWithDataAsOrtValue!(memoryInfo, data, values.count * MemoryLayout<Float>.stride,
                                                                        inputDimensions, rank, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &value) {
                return failed
            }
            defer { api.pointee.ReleaseValue!(value) }
            return withUnsafePointer(to: value) { inputs in
                api.pointee.Run!(session, nil, inputNames, inputs, 1, outputNames, outputCount, outputValues)
            }
        }
        defer {
            for slot in 0..<outputCount {
                if let value = outputValues[slot] { api.pointee.ReleaseValue!(value) }
                outputValues[slot] = nil
            }
        }
        try runtime.check(status, "running \(signature.inputName) \(input.shape)", kind: .inferenceFailed)
        var results: [Tensor] = []
        results.reserveCapacity(outputCount)
        for slot in 0..<outputCount {
            guard let value = outputValues[slot] else {
                throw RuntimeError(.inferenceFailed, "ONNX Runtime returned no value for output \(signature.outputNames[slot])")
            }
            results.append(try copyTensor(value, runtime: runtime, name: signature.outputNames[slot]))
        }
        return results
    }

    private func copyTensor(_ value: OpaquePointer, runtime: ORTRuntime, name: String) throws(RuntimeError) -> Tensor {
        let api = runtime.api
        var info: OpaquePointer?
        try runtime.check(api.pointee.GetTensorTypeAndShape!(value, &info), "reading output \(name)'s shape", kind: .inferenceFailed)
        guard let info else { throw RuntimeError(.inferenceFailed, "ONNX Runtime returned no shape for output \(name)") }
        defer { api.pointee.ReleaseTensorTypeAndShapeInfo!(info) }
        var rank = 0, count = 0
        try runtime.check(api.pointee.GetDimensionsCount!(info, &rank), "reading output \(name)'s rank", kind: .inferenceFailed)
        guard rank <= maxOutputRank else {
            throw RuntimeError(.inferenceFailed, "output \(name) has rank \(rank), more than the \(maxOutputRank) supported")
        }
        try runtime.check(api.pointee.GetDimensions!(info, outputDimensions, rank), "reading output \(name)'s dimensions", kind: .inferenceFailed)
        try runtime.check(api.pointee.GetTensorShapeElementCount!(info, &count), "counting output \(name)'s elements", kind: .inferenceFailed)
        var shape: [Int] = []
        shape.reserveCapacity(rank)
        for axis in 0..<rank { shape.append(Int(outputDimensions[axis])) }
        guard count > 0 else { return Tensor(shape: shape, values: []) }
        var data: UnsafeMutableRawPointer?
        try runtime.check(api.pointee.GetTensorMutableData!(value, &data), "reading output \(name)'s data", kind: .inferenceFailed)
        guard let data else { throw RuntimeError(.inferenceFailed, "ONNX Runtime returned no data for output \(name)") }
        let floats = UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: count)
        return Tensor(shape: shape, values: Array(floats))
    }

    /// Releases the session and everything allocated for it.
    func release(runtime: ORTRuntime) {
        let api = runtime.api
        api.pointee.ReleaseSession!(session)
        api.pointee.ReleaseMemoryInfo!(memoryInfo)
        free(UnsafeMutableRawPointer(mutating: inputNames[0]))
        inputNames.deallocate()
        for slot in 0..<outputCount { free(UnsafeMutableRawPointer(mutating: outputNames[slot])) }
        outputNames.deallocate()
        inputDimensions.deallocate()
        outputValues.deallocate()
        outputDimensions.deallocate()
    }
}

extension GraphOptimization {
    var ortLevel: GraphOptimizationLevel {
        switch self {
        case .disabled: ORT_DISABLE_ALL
        case .basic: ORT_ENABLE_BASIC
        case .extended: ORT_ENABLE_EXTENDED
        case .all: ORT_ENABLE_ALL
        }
    }
}
