/// Something that loads models and runs them: ONNX Runtime here; the worker daemon sees only
/// this protocol.
public protocol InferenceBackend: Sendable {
    var name: String { get }
    /// Loads a model (blocking; call it off Swift's cooperative pool).
    func load(modelAt path: String, options: SessionOptions) throws(RuntimeError) -> any LoadedModel
    /// Bytes held by models this backend has loaded and not unloaded (an estimate).
    var memoryInUseBytes: Int { get }
    /// Execution devices usable on this host (always includes .cpu).
    func availableDevices() -> [ExecutionDevice]
}

/// A model ready to run.
public protocol LoadedModel: AnyObject, Sendable {
    var signature: ModelSignature { get }
    /// Resident memory this model added when loaded (bytes, measured around the load).
    var memoryBytes: Int { get }
    /// Runs one batch (blocking; safe to call from one thread at a time per LoadedModel).
    func run(_ input: Tensor) throws(RuntimeError) -> [Tensor]
    /// Releases the session; later `run` calls throw.
    func unload()
}
