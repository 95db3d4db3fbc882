import InfaasCore
import InfaasPolicies
import InfaasRPC
import InfaasRuntime

/// The queue in front of a variant's replicas on this worker: the shared rules of
/// ``QueueDiscipline`` and ``ServingQueue`` (the ones the simulator's replicas follow) applied
/// on the wall clock. A query runs at once on an idle replica; otherwise the queue admits it
/// (or sheds it, answered at once), hands replicas out high priority first with the starvation
/// bound, and answers a query whose deadline passes while it waits — even while every replica is
/// busy with a long batch — with "deadline exceeded in queue after N ms". It never runs.
extension WorkerDaemon {
    /// The queueing rules of the policy the worker runs.
    var discipline: QueueDiscipline { QueueDiscipline(config: config) }

    /// A query's deadline on this worker: `deadlineMs` after `arrival` when the master sent one
    /// (what was left of it), else the policy's rule over its SLO (a worker has no fixed deadline).
    func queueDeadline(arrival: SimTime, sloMs: Double, deadlineMs: Double) -> SimTime? {
        discipline.deadline(arrival: arrival, sloMs: sloMs, explicitMs: deadlineMs, fixedMs: nil)
    }

    /// Waits for an idle replica of group `g` under the queueing rules; the caller runs the query
    /// on it and hands it back with ``releaseReplica(_:group:)``. With dynamic batching the
    /// query's decoded `input` waits with it, and the query may instead be served in the batch of
    /// the query ahead of it that got a replica (``QueueGrant/batched(_:)``).
    func acquire(group g: Int, variant v: Int, batch: Int, sloMs: Double, arrival: SimTime, deadline: SimTime?,
                 priority: QueryPriority, input: Tensor? = nil) async throws(WorkerError) -> QueueGrant {
        guard let host = hosts[g] else { throw Self.unloaded(specs[v].name) }
        if let deadline, now > deadline { throw Self.expired(waited: now - arrival) }
        if host.queue.isEmpty, let idle = host.idleReplica() {
            host.busy.insert(ObjectIdentifier(idle))
            return .replica(idle)
        }
        var admitted = priority
        let serviceMs = catalogue.model[v].predictMs(batch: batch)
        switch discipline.admit(priority: priority, sloMs: sloMs, queued: host.queue.count,
                                ahead: host.queue.ahead(of: priority) + host.busy.count, servers: max(1, host.replicas.count), serviceMs: serviceMs) {
        case .shed(let reason): throw WorkerError(.resourceExhausted, reason.message)
        case .admit(let p): admitted = p
        }
        nextTicket += 1
        let ticket = nextTicket
        host.queue.push(.init(item: ticket, arrival: arrival, deadline: deadline, priority: admitted))
        if let input { host.addBatchInput(input, ticket: ticket) }
        scheduleExpiryCheck(group: g)
        let outcome: Result<QueueGrant, WorkerError> = await withCheckedContinuation { continuation in
            host.waiting[ticket] = continuation
            if input != nil { wakeLeaders(group: g) }
        }
        return try outcome.get()
    }

    /// Queries waiting in the queue of variant `name` on this worker (0 when it is not loaded).
    public func queuedQueries(variant name: String) -> Int {
        guard let v = catalogue.variantID(name), let g = control.snapshot.group(variant: v, worker: 0) else { return 0 }
        return hosts[g]?.queue.count ?? 0
    }

    /// A replica's query is done: the replica serves the next queued one.
    func releaseReplica(_ replica: Replica, group g: Int) {
        guard let host = hosts[g] else { return }
        host.busy.remove(ObjectIdentifier(replica))
        dispatchQueued(group: g)
    }

    /// Hands idle replicas to the queries the queue gives out next, answering expired ones met on the way.
    func dispatchQueued(group g: Int) {
        guard let host = hosts[g] else { return }
        while !host.queue.isEmpty, let idle = host.idleReplica() {
            let (next, expired) = host.queue.popNext(now: now, lowPriorityMaxWait: discipline.lowPriorityMaxWait)
            for entry in expired { host.answer(entry.item, with: .failure(Self.expired(waited: now - entry.arrival))) }
            guard let next else { break }
            host.busy.insert(ObjectIdentifier(idle))
            host.answer(next.item, with: .success(.replica(idle)))
        }
    }

    /// Answers every queued query of group `g` whose deadline has passed, and schedules the next check.
    func expireQueued(group g: Int) {
        guard let host = hosts[g] else { return }
        host.checkAt = nil
        let t = now
        for entry in host.queue.removeExpired(now: t) { host.answer(entry.item, with: .failure(Self.expired(waited: t - entry.arrival))) }
        scheduleExpiryCheck(group: g)
    }

    /// Arms the group's timer for the earliest deadline in its queue (just after it passes).
    func scheduleExpiryCheck(group g: Int) {
        guard let host = hosts[g], let deadline = host.queue.earliestDeadline else { return }
        let due = deadline + SimDuration(nanoseconds: 1_000)
        if let armed = host.checkAt, armed <= due { return }
        host.checkAt = due
        host.expiryTimer?.cancel()
        let delay = max(0, (due - now).nanoseconds)
        host.expiryTimer = Task { [weak self] in
            try? await Task.sleep(for: .nanoseconds(delay))
            guard !Task.isCancelled else { return }
            await self?.expireQueued(group: g)
        }
    }

    /// Fails every query still queued for a host that goes away (its last replica was removed).
    static func failQueued(_ host: VariantHost, variant: String) {
        host.expiryTimer?.cancel()
        for entry in host.queue.removeAll() { host.answer(entry.item, with: .failure(unloaded(variant))) }
    }

    static func expired(waited: SimDuration) -> WorkerError {
        WorkerError(.deadlineExceeded, QueryOutcome.expiredMessage(waited: waited),
                    hint: "the query waited past its deadline in the worker's queue and was not run; raise deadline_ms or add capacity")
    }

    static func unloaded(_ variant: String) -> WorkerError {
        WorkerError(.unavailable, "variant \(variant) was unloaded while the query waited", hint: "retry the query")
    }
}

/// What a queued query is given: a replica to run on, or (dynamic batching) its rows of the
/// batch another query ran it in.
enum QueueGrant: Sendable {
    case replica(Replica)
    case batched(BatchedRows)
}

extension Infaas_V1_QueryPriority {
    /// The queue class the wire value names (``RequestLimits/checkPriority(_:)`` refuses unknown values first).
    var queuePriority: QueryPriority { self == .low ? .low : .high }
}
