public import InfaasCore

/// A query's class in a replica's queue: `high` is served first; `low` waits behind it, up to
/// the starvation bound (``PolicyConfig/lowPriorityMaxWaitMs``). A query with no class is `high`,
/// so a run without priorities is first-in first-out, as before.
public enum QueryPriority: String, Hashable, Sendable, Codable, CaseIterable {
    case high
    case low
}

/// What a replica's queue does with a query that is predicted to miss its SLO on arrival
/// (``PolicyConfig/admission``).
public enum AdmissionMode: String, Hashable, Sendable, Codable, CaseIterable {
    /// Admit every query (the reference's behaviour).
    case always
    /// Answer at once with a `shed` status when the predicted wait already exceeds the SLO.
    case shedIfLate = "shed-if-late"
    /// Admit it as a `low`-priority query instead, so queries that can still make it go first.
    case demote
}

/// Which deadline a queued query has when it names none (``PolicyConfig/queueDeadline``).
public enum QueueDeadlineRule: String, Hashable, Sendable, Codable, CaseIterable {
    /// The face's fixed deadline: the experiment's `deadline_ms`, the master's `--deadline-ms`
    /// (10 s, the reference's gRPC deadline). The default: today's results are unchanged.
    case fixed
    /// The query's SLO: a query still queued when its SLO has passed can only be late, so it is
    /// answered at once (`expired-in-queue`) and the replica serves queries that can still make it.
    case slo
}

/// The one set of queueing rules both faces apply to a replica's queue (the simulator's servers
/// and the live worker's): a query's deadline, whether it is admitted, and — through
/// ``ServingQueue`` — which queued query runs next and which have expired. Pure: it reads no
/// clock; times are handed in.
public struct QueueDiscipline: Hashable, Sendable {
    public var admission: AdmissionMode
    /// Most queries waiting in one queue; 0 = unbounded.
    public var maxQueueLength: Int
    public var deadlineRule: QueueDeadlineRule
    /// A `low` query that has waited this long goes ahead of `high` ones (the starvation bound).
    public var lowPriorityMaxWait: SimDuration

    public init(admission: AdmissionMode = .always, maxQueueLength: Int = 0, deadlineRule: QueueDeadlineRule = .fixed,
                lowPriorityMaxWait: SimDuration = .milliseconds(1000)) {
        self.admission = admission
        self.maxQueueLength = maxQueueLength
        self.deadlineRule = deadlineRule
        self.lowPriorityMaxWait = lowPriorityMaxWait
    }

    /// The discipline a policy configuration sets.
    public init(config: PolicyConfig) {
        self.init(admission: config.admission, maxQueueLength: config.maxQueueLength, deadlineRule: config.queueDeadline,
                  lowPriorityMaxWait: .milliseconds(config.lowPriorityMaxWaitMs))
    }

    /// A query's deadline: `explicitMs` after `arrival` when it names one (> 0); else its SLO
    /// under the `slo` rule (when it has one); else `fixedMs` after arrival (the face's fixed
    /// deadline; nil = none).
    public func deadline(arrival: SimTime, sloMs: Double, explicitMs: Double = 0, fixedMs: Double?) -> SimTime? {
        if explicitMs > 0 { return arrival + .milliseconds(explicitMs) }
        if deadlineRule == .slo, sloMs > 0 { return arrival + .milliseconds(sloMs) }
        return fixedMs.map { arrival + .milliseconds($0) }
    }

    /// What the queue does with an arriving query.
    public enum Admission: Hashable, Sendable {
        /// Queue it with this priority (its own, or `low` when demoted).
        case admit(QueryPriority)
        /// Answer it at once with ``QueryOutcome/shed``.
        case shed(ShedReason)
    }

    /// Why a query was shed; ``message`` is the status it is answered with.
    public enum ShedReason: Hashable, Sendable {
        /// The queue already holds `limit` queries.
        case queueFull(queued: Int, limit: Int)
        /// The predicted wait (`ahead` queries × `serviceMs` each, over `servers`) exceeds the SLO.
        case predictedLate(waitMs: Double, sloMs: Double)

        /// The status text both faces answer a shed query with.
        public var message: String {
            switch self {
            case .queueFull(let queued, let limit):
                "shed: the replica's queue is full (\(queued) queued, max_queue_length \(limit))"
            case .predictedLate(let wait, let slo):
                "shed: predicted wait \(Self.format(wait)) ms already exceeds the SLO of \(Self.format(slo)) ms"
            }
        }

        /// The reason results count it under (`rejected_by_reason`).
        public var rejectReason: RejectReason {
            switch self {
            case .queueFull: .queueFull
            case .predictedLate: .predictedLate
            }
        }

        static func format(_ ms: Double) -> String { ms < 10 ? String((ms * 100).rounded() / 100) : String(Int64(ms.rounded())) }
    }

    /// Admission of a query of `priority` with SLO `sloMs` at a queue that holds `queued` queries,
    /// `ahead` of which (plus those running) would run before it, on `servers` servers each taking
    /// `serviceMs` per query. The bound on the queue's length applies in every mode; the predicted
    /// wait is `ahead × serviceMs / servers` (the queue ahead times the predicted service time).
    public func admit(priority: QueryPriority, sloMs: Double, queued: Int, ahead: Int, servers: Int = 1, serviceMs: Double) -> Admission {
        if maxQueueLength > 0, queued >= maxQueueLength { return .shed(.queueFull(queued: queued, limit: maxQueueLength)) }
        guard admission != .always, sloMs > 0 else { return .admit(priority) }
        let waitMs = Double(ahead) * serviceMs / Double(max(1, servers))
        guard waitMs > sloMs else { return .admit(priority) }
        switch admission {
        case .always: return .admit(priority)
        case .shedIfLate: return .shed(.predictedLate(waitMs: waitMs, sloMs: sloMs))
        case .demote: return .admit(.low)
        }
    }
}
