import Foundation
import InfaasRuntime

/// One loaded copy of a variant with its own thread: ONNX Runtime's `Run` blocks, so replicas
/// never run on Swift's cooperative pool (two threads on this machine).
final class Replica: Sendable {
    let model: any LoadedModel
    private let queue: DispatchQueue

    init(model: any LoadedModel, label: String) {
        self.model = model
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    /// Runs `body` on the replica's thread; returns its result and the time it waited there.
    func execute<T: Sendable>(_ body: @escaping @Sendable (any LoadedModel) throws(WorkerError) -> T) async throws(WorkerError) -> (T, queueNanos: UInt64) {
        let enqueued = DispatchTime.now().uptimeNanoseconds
        let result: Result<(T, UInt64), WorkerError> = await withCheckedContinuation { continuation in
            queue.async { [model] in
                let started = DispatchTime.now().uptimeNanoseconds
                do throws(WorkerError) {
                    continuation.resume(returning: .success((try body(model), started - enqueued)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }

    /// Unloads once the work queued before it has run.
    func unload() async {
        await withCheckedContinuation { continuation in
            queue.async { [model] in
                model.unload()
                continuation.resume()
            }
        }
    }

    /// Loads a model on a fresh thread (loading blocks too).
    static func load(backend: any InferenceBackend, path: String, options: SessionOptions, label: String) async throws(WorkerError) -> Replica {
        let result: Result<any LoadedModel, RuntimeError> = await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                do throws(RuntimeError) {
                    continuation.resume(returning: .success(try backend.load(modelAt: path, options: options)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        switch result {
        case .success(let model): return Replica(model: model, label: label)
        case .failure(let error): throw WorkerError(error, variant: label)
        }
    }
}
