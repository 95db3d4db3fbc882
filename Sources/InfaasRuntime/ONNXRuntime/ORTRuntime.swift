import COnnxRuntime
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One ONNX Runtime library loaded into the process: its API table, the process's one
/// `OrtEnv`, its version and execution providers. Loaded once per library path and kept
/// for the life of the process; everything in it is immutable, and ONNX Runtime's API
/// table and environment are safe to use from any thread.
final class ORTRuntime: @unchecked Sendable {
    let path: String
    let api: UnsafePointer<OrtApi>
    let env: OpaquePointer
    let version: String
    /// Execution providers compiled into this build, e.g. `CPUExecutionProvider`.
    let providers: [String]
    /// ONNX Runtime's default CPU allocator, for names it hands back.
    let allocator: UnsafeMutablePointer<OrtAllocator>

    private static let loaded = Mutex<[String: ORTRuntime]>([:])

    /// The runtime for the library at `path`, loading it on first use (thread-safe).
    static func shared(path: String) throws(RuntimeError) -> ORTRuntime {
        let key = canonicalPath(path)
        return try loaded.withLock { (cache) throws(RuntimeError) -> ORTRuntime in
            if let runtime = cache[key] { return runtime }
            let runtime = try ORTRuntime(path: key)
            cache[key] = runtime
            return runtime
        }
    }

    private init(path: String) throws(RuntimeError) {
        self.path = path
        var reason = [CChar](repeating: 0, count: 1024)
        guard let base = infaas_ort_open(path, &reason, reason.count) else {
            let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw RuntimeError(.libraryIncompatible, "cannot load ONNX Runtime from \(path): \(text)",
                               hint: "point INFAAS_ORT_LIB at the libonnxruntime.so of an onnxruntime ≥ 1.13 install, e.g. `pip install onnxruntime`")
        }
        let version = base.pointee.GetVersionString.flatMap { $0() }.map { String(cString: $0) } ?? "unknown"
        guard let getApi = base.pointee.GetApi, let api = getApi(INFAAS_ORT_API_VERSION) else {
            throw RuntimeError(.libraryIncompatible,
                               "ONNX Runtime \(version) at \(path) does not offer C API version \(INFAAS_ORT_API_VERSION)",
                               hint: "install onnxruntime 1.13 or newer (`pip install -U onnxruntime`)")
        }
        let t = api.pointee
        let required: [Bool] = [
            t.CreateStatus != nil, t.GetErrorCode != nil, t.GetErrorMessage != nil, t.CreateEnv != nil,
            t.CreateSession != nil, t.Run != nil, t.CreateSessionOptions != nil, t.SetSessionExecutionMode != nil,
            t.SetSessionGraphOptimizationLevel != nil, t.AddSessionConfigEntry != nil, t.SetIntraOpNumThreads != nil, t.SetInterOpNumThreads != nil,
            t.SessionGetInputCount != nil, t.SessionGetOutputCount != nil, t.SessionGetInputTypeInfo != nil,
            t.SessionGetOutputTypeInfo != nil, t.SessionGetInputName != nil, t.SessionGetOutputName != nil,
            t.CreateTensorWithDataAsOrtValue != nil, t.GetTensorMutableData != nil, t.CastTypeInfoToTensorInfo != nil,
            t.GetOnnxTypeFromTypeInfo != nil, t.GetTensorElementType != nil, t.GetDimensionsCount != nil,
            t.GetDimensions != nil, t.GetTensorShapeElementCount != nil, t.GetTensorTypeAndShape != nil,
            t.CreateCpuMemoryInfo != nil, t.AllocatorFree != nil, t.GetAllocatorWithDefaultOptions != nil,
            t.ReleaseStatus != nil, t.ReleaseMemoryInfo != nil, t.ReleaseSession != nil, t.ReleaseValue != nil,
            t.ReleaseTypeInfo != nil, t.ReleaseTensorTypeAndShapeInfo != nil, t.ReleaseSessionOptions != nil,
            t.GetAvailableProviders != nil, t.ReleaseAvailableProviders != nil,
            t.SessionOptionsAppendExecutionProvider_CUDA != nil,
        ]
        guard required.allSatisfy({ $0 }) else {
            throw RuntimeError(.libraryIncompatible, "ONNX Runtime \(version) at \(path) has empty entries in its C API table",
                               hint: "install an official onnxruntime build (`pip install -U onnxruntime`)")
        }
        self.api = api
        self.version = version

        var env: OpaquePointer?
        try Self.check(api, api.pointee.CreateEnv!(ORT_LOGGING_LEVEL_ERROR, "infaas", &env), "creating the ONNX Runtime environment",
                       kind: .libraryIncompatible)
        guard let env else { throw RuntimeError(.libraryIncompatible, "ONNX Runtime \(version) returned no environment") }
        self.env = env

        var allocator: UnsafeMutablePointer<OrtAllocator>?
        try Self.check(api, api.pointee.GetAllocatorWithDefaultOptions!(&allocator), "getting the default allocator",
                       kind: .libraryIncompatible)
        guard let allocator else { throw RuntimeError(.libraryIncompatible, "ONNX Runtime \(version) returned no default allocator") }
        self.allocator = allocator

        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var count: Int32 = 0
        try Self.check(api, api.pointee.GetAvailableProviders!(&names, &count), "listing execution providers",
                       kind: .libraryIncompatible)
        var providers: [String] = []
        if let names {
            for index in 0..<Int(count) {
                if let name = names[index] { providers.append(String(cString: name)) }
            }
            try Self.check(api, api.pointee.ReleaseAvailableProviders!(names, count), "releasing the provider list",
                           kind: .libraryIncompatible)
        }
        self.providers = providers
    }

    /// Turns an `OrtStatus` into a `RuntimeError` carrying ORT's message (and releases it);
    /// does nothing for success (NULL).
    static func check(_ api: UnsafePointer<OrtApi>, _ status: OpaquePointer?, _ what: @autoclosure () -> String,
                      kind: RuntimeError.Kind, hint: String? = nil) throws(RuntimeError) {
        guard let status else { return }
        let failure = describe(api, status)
        throw RuntimeError(kind, "\(what()): \(failure.message)", hint: hint)
    }

    /// ORT's code and message of a failed status, releasing the status.
    static func describe(_ api: UnsafePointer<OrtApi>, _ status: OpaquePointer) -> (code: OrtErrorCode, message: String) {
        let code = api.pointee.GetErrorCode!(status)
        let message = api.pointee.GetErrorMessage!(status).map { String(cString: $0) } ?? "(no message)"
        api.pointee.ReleaseStatus!(status)
        return (code, message)
    }

    func check(_ status: OpaquePointer?, _ what: @autoclosure () -> String, kind: RuntimeError.Kind,
               hint: String? = nil) throws(RuntimeError) {
        try Self.check(api, status, what(), kind: kind, hint: hint)
    }

    /// Appends the CUDA execution provider to `options`; ORT's message if it refuses.
    func appendCUDA(to options: OpaquePointer, deviceID: Int) -> String? {
        var cuda = OrtCUDAProviderOptions()
        cuda.device_id = Int32(clamping: deviceID)
        cuda.cudnn_conv_algo_search = OrtCudnnConvAlgoSearchExhaustive
        cuda.gpu_mem_limit = Int.max
        cuda.arena_extend_strategy = 0
        cuda.do_copy_in_default_stream = 1
        guard let status = api.pointee.SessionOptionsAppendExecutionProvider_CUDA!(options, &cuda) else { return nil }
        return Self.describe(api, status).message
    }

    /// Whether appending the CUDA provider to fresh session options succeeds, and ORT's
    /// message if not (probes the table entry without loading a model).
    func probeCUDA(deviceID: Int) throws(RuntimeError) -> String? {
        var options: OpaquePointer?
        try check(api.pointee.CreateSessionOptions!(&options), "creating session options", kind: .inferenceFailed)
        defer { api.pointee.ReleaseSessionOptions!(options) }
        guard let options else { return "no session options" }
        return appendCUDA(to: options, deviceID: deviceID)
    }

    /// Copies a string ORT allocated with the default allocator and frees it.
    func takeString(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        let text = String(cString: pointer)
        if let status = api.pointee.AllocatorFree!(allocator, pointer) { _ = Self.describe(api, status) }
        return text
    }

    private static func canonicalPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
