public import InfaasCore

/// How a query ended, as results count it (`results.h5` `/queries/outcome`, `summary.json`
/// `outcomes`, `index.csv`, `infaas replay`). Served queries are `met` or `late`; the others
/// were never run.
public enum QueryOutcome: String, Hashable, Sendable, Codable, CaseIterable {
    /// Served within its SLO (or it had none).
    case met
    /// Served, after its SLO.
    case late
    /// Its deadline passed while it waited in a replica's queue: answered at once, never run.
    case expiredInQueue = "expired-in-queue"
    /// Refused by the replica's queue on arrival (``QueueDiscipline/ShedReason``).
    case shed
    /// Refused before any queue: no variant, worker or room could serve it.
    case rejected

    /// The code stored in `results.h5` `/queries/outcome`: 0 met, 1 late, 2 expired-in-queue,
    /// 3 shed, 4 rejected.
    public var code: Int8 {
        switch self {
        case .met: 0
        case .late: 1
        case .expiredInQueue: 2
        case .shed: 3
        case .rejected: 4
        }
    }

    /// The status text a query that expired in a queue is answered with (both faces).
    public static func expiredMessage(waited: SimDuration) -> String {
        "\(expiredPrefix) after \(Int64(waited.milliseconds.rounded())) ms"
    }

    /// How that status begins, so a face that relays it (the master) can recognise it.
    public static let expiredPrefix = "deadline exceeded in queue"
    /// How a shed status begins (``QueueDiscipline/ShedReason/message``).
    public static let shedPrefix = "shed:"

    /// The outcome a status message names, when it names one of the queue's (a live client
    /// classifies failed queries by it).
    public static func queueOutcome(ofMessage message: String) -> QueryOutcome? {
        if message.contains(expiredPrefix) { return .expiredInQueue }
        if message.contains(shedPrefix) { return .shed }
        return nil
    }
}

/// Counts of each ``QueryOutcome``.
public struct OutcomeCounts: Hashable, Sendable, Codable {
    public var met = 0
    public var late = 0
    public var expiredInQueue = 0
    public var shed = 0
    public var rejected = 0

    public init() {}

    /// Adds one query that ended as `outcome`.
    public mutating func record(_ outcome: QueryOutcome) { self[outcome] += 1 }

    /// The count of one outcome.
    public subscript(_ outcome: QueryOutcome) -> Int {
        get {
            switch outcome {
            case .met: met
            case .late: late
            case .expiredInQueue: expiredInQueue
            case .shed: shed
            case .rejected: rejected
            }
        }
        set {
            switch outcome {
            case .met: met = newValue
            case .late: late = newValue
            case .expiredInQueue: expiredInQueue = newValue
            case .shed: shed = newValue
            case .rejected: rejected = newValue
            }
        }
    }

    /// Every query counted.
    public var total: Int { met + late + expiredInQueue + shed + rejected }
}
