public import Foundation
import COnnxRuntime
import Synchronization

/// Runs ONNX models through ONNX Runtime's C API, with the library loaded at run time
/// (`locateLibrary`). CPU always; CUDA when the library has the CUDA execution provider
/// (the `onnxruntime-gpu` wheel on a GPU host).
public final class ONNXRuntimeBackend: InferenceBackend {
    public let name = "onnxruntime"
    /// The shared library in use.
    public let libraryPath: String
    let runtime: ORTRuntime
    let ledger = MemoryLedger()

    /// Loads ONNX Runtime from `libraryPath`, or from where `locateLibrary()` finds it.
    /// The library is loaded once per process and path; later backends share it.
    public init(libraryPath: String? = nil) throws(RuntimeError) {
        let path: String
        if let libraryPath { path = libraryPath } else { path = try Self.locateLibrary() }
        guard FileManager.default.fileExists(atPath: path) else {
            throw RuntimeError(.libraryNotFound, "no ONNX Runtime library at \(path)", hint: ORTLibraryLocator.fixHint)
        }
        self.libraryPath = path
        self.runtime = try ORTRuntime.shared(path: path)
    }

    /// ONNX Runtime's version string, e.g. `1.32.0`.
    public var version: String { runtime.version }

    /// Execution providers compiled into the loaded library, e.g. `CPUExecutionProvider`.
    public var executionProviders: [String] { runtime.providers }

    /// Finds the ONNX Runtime shared library: `INFAAS_ORT_LIB` (a file path) first, then
    /// `capi/libonnxruntime.so*` of the installed `onnxruntime` Python package (where
    /// `python3` finds it, else the usual site-packages directories). `.libraryNotFound`
    /// names both ways to provide one.
    public static func locateLibrary(environment: [String: String] = ProcessInfo.processInfo.environment) throws(RuntimeError) -> String {
        try ORTLibraryLocator(environment: environment).locate()
    }

    public var memoryInUseBytes: Int { ledger.bytes.withLock { $0 } }

    public func availableDevices() -> [ExecutionDevice] {
        var devices: [ExecutionDevice] = [.cpu]
        if runtime.providers.contains(Self.cudaProvider) { devices.append(.cuda(deviceID: 0)) }
        return devices
    }

    static let cudaProvider = "CUDAExecutionProvider"

    public func load(modelAt path: String, options: SessionOptions) throws(RuntimeError) -> any LoadedModel {
        switch options.device {
        case .cpu:
            break
        case .cuda:
            guard runtime.providers.contains(Self.cudaProvider) else {
                throw RuntimeError(.executionProviderUnavailable,
                                   "\(options.device) requested, but ONNX Runtime \(version) at \(libraryPath) has no CUDA execution provider (it offers \(runtime.providers.joined(separator: ", "))); the CPU wheel `onnxruntime` never has one",
                                   hint: "on a GPU host, `pip install onnxruntime-gpu` (in place of onnxruntime, or point INFAAS_ORT_LIB at its libonnxruntime.so), or run this variant on cpu")
            }
        case .inferentia:
            throw RuntimeError(.notAvailableOnHost,
                               "Inferentia is not available to the ONNX Runtime backend on this host",
                               hint: "Inferentia variants run on AWS inf1/inf2 workers with the Neuron runtime; pick a cpu or cuda variant here")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw RuntimeError(.modelNotFound, "no model file at \(path)", hint: "check the path; models are .onnx files")
        }
        guard !isDirectory.boolValue else {
            throw RuntimeError(.modelNotFound, "\(path) is a directory, not an .onnx model file", hint: "pass the .onnx file inside it")
        }
        return try ORTLoadedModel(runtime: runtime, path: path, options: options, ledger: ledger)
    }
}

/// Bytes held by a backend's loaded models.
final class MemoryLedger: Sendable {
    let bytes = Mutex<Int>(0)
    func add(_ delta: Int) { bytes.withLock { $0 += delta } }
}
