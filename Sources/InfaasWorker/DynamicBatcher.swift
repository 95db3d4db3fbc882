import Foundation
import InfaasCore
import InfaasPolicies
import InfaasRuntime

/// Server-side dynamic batching (off by default: the reference ran each client batch as one
/// call, §5.1). Queries for one variant that wait together run as one batch of at most
/// `maxBatch` rows; each query gets its own rows back. A query that finds an idle replica waits
/// up to `maxDelay` for company.
public struct DynamicBatching: Sendable, Hashable {
    public var maxBatch: Int
    public var maxDelayMs: Double

    public init(maxBatch: Int, maxDelayMs: Double) {
        self.maxBatch = maxBatch
        self.maxDelayMs = maxDelayMs
    }
}

/// What one query of a batch gets back: its rows of every output, the batch's inference time,
/// and how long it waited from its arrival until the batch started.
struct BatchedRows: Sendable {
    var outputs: [Tensor]
    var inferenceNanos: UInt64
    var queueNanos: UInt64
}

/// The batching path of the worker's queue: batches are formed from the variant's one
/// ``ServingQueue`` (``WorkerDaemon/acquire``), so a batching worker expires, sheds and orders
/// queries by the same rules as one that runs them one by one. The query that is handed a
/// replica leads: it waits for company (``DynamicBatching/maxDelayMs``, or until the queue holds
/// enough rows to fill the batch: ``wakeLeaders(group:)``), takes the next queued queries that fit
/// (``ServingQueue/popBatch(now:lowPriorityMaxWait:capacity:rows:)``), runs them together and
/// answers each with its rows.
extension WorkerDaemon {
    /// Runs the leader's `input` with the queued queries that fit on `replica` (held by the
    /// leader); returns the leader's outputs, inference nanoseconds and time spent before the run.
    func runBatch(_ input: Tensor, on replica: Replica, group g: Int, variant v: Int, batching: DynamicBatching,
                  arrived: ContinuousClock.Instant) async throws(WorkerError) -> (([Tensor], UInt64), UInt64) {
        let name = specs[v].name
        let capacity = max(1, min(batching.maxBatch, catalogue.maxBatch[v]))
        let own = input.shape.first ?? 1
        if let host = hosts[g], own < capacity, batching.maxDelayMs > 0, host.queuedRows < capacity - own {
            let remaining = Duration.nanoseconds(Int64(batching.maxDelayMs * 1e6)) - (ContinuousClock.now - arrived)
            if remaining > .zero { await waitForCompany(group: g, room: capacity - own, for: remaining) }
        }
        // The companions: the next queued queries that fit, their continuations taken out of the
        // queue's (they are answered here, with their rows).
        let t = now
        var members: [(input: Tensor, arrival: SimTime, continuation: CheckedContinuation<Result<QueueGrant, WorkerError>, Never>)] = []
        if let host = hosts[g], own < capacity {
            let (batch, expired) = host.queue.popBatch(now: t, lowPriorityMaxWait: discipline.lowPriorityMaxWait, capacity: capacity - own) {
                host.batchInputs[$0]?.shape.first ?? 1
            }
            for entry in expired { host.answer(entry.item, with: .failure(Self.expired(waited: t - entry.arrival))) }
            for entry in batch {
                guard let tensor = host.takeBatchInput(entry.item),
                      let continuation = host.waiting.removeValue(forKey: entry.item) else { continue }
                members.append((tensor, entry.arrival, continuation))
            }
            if !host.queue.isEmpty { scheduleExpiryCheck(group: g) }
        }
        let inputs = [input] + members.map(\.input)
        let started = ContinuousClock.now
        let startedAt = now
        let outcomes = await Self.run(inputs, on: replica, variant: name)
        for (member, outcome) in zip(members, outcomes.dropFirst()) {
            let waited = UInt64(max(0, (startedAt - member.arrival).nanoseconds))
            member.continuation.resume(returning: outcome.map { .batched(BatchedRows(outputs: $0.0, inferenceNanos: $0.1, queueNanos: waited)) })
        }
        let mine = try outcomes[0].get()
        return (mine, UInt64(max(0, (started - arrived).totalNanoseconds)))
    }

    /// Waits until `maxDelay` has passed or group `g`'s queue holds `room` rows (``wakeLeaders(group:)``).
    func waitForCompany(group g: Int, room: Int, for delay: Duration) async {
        nextTicket += 1
        let id = nextTicket
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            batchLeaders[id] = (g, room, continuation)
            Task { [weak self] in
                try? await Task.sleep(for: delay)
                await self?.wakeLeader(id)
            }
        }
    }

    func wakeLeader(_ id: UInt64) {
        batchLeaders.removeValue(forKey: id)?.continuation.resume()
    }

    /// Wakes the leaders of group `g` whose batch its queued rows now fill.
    func wakeLeaders(group g: Int) {
        let rows = hosts[g]?.queuedRows ?? 0
        for (id, leader) in batchLeaders where leader.group == g && leader.room <= rows { wakeLeader(id) }
    }

    /// Runs one batch on the replica's thread and gives each input its rows of every output.
    /// Inputs of different item shapes cannot share a batch: they run one by one.
    static func run(_ inputs: [Tensor], on replica: Replica, variant: String) async -> [Result<([Tensor], UInt64), WorkerError>] {
        let itemShape = Array(inputs[0].shape.dropFirst())
        guard inputs.count > 1, inputs.allSatisfy({ Array($0.shape.dropFirst()) == itemShape }) else {
            var results: [Result<([Tensor], UInt64), WorkerError>] = []
            for input in inputs {
                do throws(WorkerError) {
                    results.append(.success(try await replica.execute { model throws(WorkerError) in try Self.run(model, input, variant: variant) }.0))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        }
        var values: [Float] = []
        values.reserveCapacity(inputs.reduce(0) { $0 + $1.values.count })
        for input in inputs { values += input.values }
        let total = inputs.reduce(0) { $0 + ($1.shape.first ?? 1) }
        let batch = Tensor(shape: [total] + itemShape, values: values)
        do throws(WorkerError) {
            let ((outputs, nanos), _) = try await replica.execute { model throws(WorkerError) in try Self.run(model, batch, variant: variant) }
            return split(outputs, nanos: nanos, rows: inputs.map { $0.shape.first ?? 1 })
        } catch {
            return inputs.map { _ in .failure(error) }
        }
    }

    /// Each input's rows (`rows[i]` of them, in order) of every output.
    static func split(_ outputs: [Tensor], nanos: UInt64, rows: [Int]) -> [Result<([Tensor], UInt64), WorkerError>] {
        var offset = 0
        return rows.map { n in
            let mine = outputs.map { out -> Tensor in
                let rowSize = out.shape.dropFirst().reduce(1, *)
                let slice = Array(out.values[min(out.values.count, offset * rowSize)..<min(out.values.count, (offset + n) * rowSize)])
                return Tensor(shape: [n] + out.shape.dropFirst(), values: slice)
            }
            offset += n
            return .success((mine, nanos))
        }
    }
}
