import Foundation
import InfaasRuntime

/// Server-side dynamic batching (off by default: the reference ran each client batch as one
/// call, §5.1). Queries for one variant that arrive within `maxDelay` of the first waiting one
/// run together as one batch of at most `maxBatch` rows; each query gets its own rows back.
public struct DynamicBatching: Sendable, Hashable {
    public var maxBatch: Int
    public var maxDelayMs: Double

    public init(maxBatch: Int, maxDelayMs: Double) {
        self.maxBatch = maxBatch
        self.maxDelayMs = maxDelayMs
    }
}

/// One variant's batch queue.
actor DynamicBatcher {
    typealias Outcome = Result<(outputs: [Tensor], inferenceNanos: UInt64, queueNanos: UInt64), WorkerError>
    typealias Run = @Sendable (Tensor) async -> Result<([Tensor], UInt64), WorkerError>

    struct Waiting {
        var input: Tensor
        var enqueued: UInt64
        var continuation: CheckedContinuation<Outcome, Never>
    }

    let maxRows: Int
    let maxDelayNanos: UInt64
    let run: Run
    var waiting: [Waiting] = []
    var rows = 0
    var timer: Task<Void, Never>?

    init(maxRows: Int, maxDelayMs: Double, run: @escaping Run) {
        self.maxRows = max(1, maxRows)
        maxDelayNanos = UInt64(max(0, maxDelayMs) * 1e6)
        self.run = run
    }

    /// Queues one query's input (its first dimension is its batch) and waits for its rows.
    func submit(_ input: Tensor) async -> Outcome {
        await withCheckedContinuation { continuation in
            let n = input.shape.first ?? 1
            if rows + n > maxRows, !waiting.isEmpty { flush() }
            waiting.append(Waiting(input: input, enqueued: DispatchTime.now().uptimeNanoseconds, continuation: continuation))
            rows += n
            if rows >= maxRows {
                flush()
            } else if timer == nil {
                let delay = maxDelayNanos
                timer = Task { [weak self] in
                    try? await Task.sleep(for: .nanoseconds(Int64(delay)))
                    await self?.timerFired()
                }
            }
        }
    }

    func timerFired() {
        timer = nil
        if !waiting.isEmpty { flush() }
    }

    /// Runs what is waiting as one batch (in a task, so the queue keeps accepting).
    func flush() {
        timer?.cancel()
        timer = nil
        let batch = waiting
        waiting = []
        rows = 0
        guard let first = batch.first else { return }
        let run = self.run
        Task {
            let started = DispatchTime.now().uptimeNanoseconds
            let itemShape = Array(first.input.shape.dropFirst())
            guard batch.allSatisfy({ Array($0.input.shape.dropFirst()) == itemShape }) else {
                // Different item shapes cannot share a batch: run them one by one.
                for w in batch { w.continuation.resume(returning: Self.splitOne(await run(w.input), w, started: started)) }
                return
            }
            var values: [Float] = []
            values.reserveCapacity(batch.reduce(0) { $0 + $1.input.values.count })
            for w in batch { values += w.input.values }
            let total = batch.reduce(0) { $0 + ($1.input.shape.first ?? 1) }
            let result = await run(Tensor(shape: [total] + itemShape, values: values))
            let outcomes = Self.split(result, batch, started: started)
            for (w, outcome) in zip(batch, outcomes) { w.continuation.resume(returning: outcome) }
        }
    }

    /// Gives each waiting query its rows of every output.
    static func split(_ result: Result<([Tensor], UInt64), WorkerError>, _ batch: [Waiting], started: UInt64) -> [Outcome] {
        switch result {
        case .failure(let error): return batch.map { _ in .failure(error) }
        case .success(let (outputs, nanos)):
            var offset = 0
            return batch.map { w in
                let n = w.input.shape.first ?? 1
                let mine = outputs.map { out -> Tensor in
                    let rowSize = out.shape.dropFirst().reduce(1, *)
                    let slice = Array(out.values[(offset * rowSize)..<min(out.values.count, (offset + n) * rowSize)])
                    return Tensor(shape: [n] + out.shape.dropFirst(), values: slice)
                }
                offset += n
                return .success((mine, nanos, started > w.enqueued ? started - w.enqueued : 0))
            }
        }
    }

    static func splitOne(_ result: Result<([Tensor], UInt64), WorkerError>, _ waiting: Waiting, started: UInt64) -> Outcome {
        split(result, [waiting], started: started)[0]
    }
}
