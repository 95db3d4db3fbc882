public import InfaasCore

/// A model runtime as the worker finds it: the frameworks it serves, the file extension of the
/// models it loads, and how to start it.
public struct BackendEntry: Sendable {
    public let name: String
    /// Extension of the model file in a variant's folder (`onnx`: `model.onnx`).
    public let modelExtension: String
    let serves: @Sendable (Framework) -> Bool
    let make: @Sendable () throws(RuntimeError) -> any InferenceBackend

    public init(name: String, modelExtension: String, serves: @escaping @Sendable (Framework) -> Bool,
                make: @escaping @Sendable () throws(RuntimeError) -> any InferenceBackend) {
        self.name = name
        self.modelExtension = modelExtension
        self.serves = serves
        self.make = make
    }

    /// Whether this runtime runs variants of `framework`.
    public func serves(_ framework: Framework) -> Bool { serves(framework) }

    /// Starts the runtime.
    public func start() throws(RuntimeError) -> any InferenceBackend { try make() }
}

/// The model runtimes, by framework: the worker picks a variant's runtime here. Adding one is a
/// file with its ``InferenceBackend`` and ``BackendEntry``, and a line in ``entries``.
public enum InferenceBackends {
    public static let entries: [BackendEntry] = [
        ONNXRuntimeBackend.entry,
    ]

    /// The runtime for `framework`; none is an error naming the registered runtimes.
    public static func entry(for framework: Framework) throws(RuntimeError) -> BackendEntry {
        guard let entry = entries.first(where: { $0.serves(framework) }) else {
            throw RuntimeError(.notAvailableOnHost, "no model runtime serves framework \"\(framework.rawValue)\"",
                               hint: "runtimes here: " + entries.map { "\($0.name) (\($0.modelExtension) models)" }.joined(separator: ", ")
                                   + "; register the variant with a framework one of them serves, e.g. onnxruntime-cpu")
        }
        return entry
    }
}

extension ONNXRuntimeBackend {
    /// ONNX Runtime serves the `onnxruntime-*` frameworks (CPU, and CUDA where the GPU build is installed).
    public static let entry = BackendEntry(name: "onnxruntime", modelExtension: "onnx",
                                           serves: { $0.rawValue.hasPrefix("onnxruntime") }) { () throws(RuntimeError) -> any InferenceBackend in
        try ONNXRuntimeBackend()
    }
}
