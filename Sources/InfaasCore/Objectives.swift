/// What a query asks for (reference §3.1): a latency SLO, a minimum accuracy, a batch.
public struct Objectives: Hashable, Sendable, Codable {
    /// Latency SLO in milliseconds; `nil` when the query names a variant and sets none.
    public var latencySLOMs: Double?
    /// Minimum accuracy in percent; `nil` for no floor.
    public var minAccuracy: Double?
    /// Number of inputs in the query (the reference's batch = number of `-i`).
    public var batch: Int

    public init(latencySLOMs: Double? = nil, minAccuracy: Double? = nil, batch: Int = 1) {
        self.latencySLOMs = latencySLOMs
        self.minAccuracy = minAccuracy
        self.batch = batch
    }
}

/// The three query forms of the reference (§3.1): a variant named; an architecture with a
/// latency SLO; a use-case (task + dataset + input dimension) with accuracy and latency.
public enum QueryTarget: Hashable, Sendable, Codable {
    case variant(String)
    case architecture(String)
    case useCase(UseCase)
}

/// A query: what it names and what it needs.
public struct QuerySpec: Hashable, Sendable, Codable {
    public var target: QueryTarget
    public var objectives: Objectives

    /// Builds a query, checking the combination the reference requires: a variant alone;
    /// an architecture with an SLO; a use-case with an accuracy floor and an SLO.
    public init(target: QueryTarget, objectives: Objectives) throws(ValidationError) {
        guard objectives.batch >= 1 else {
            throw ValidationError(field: "batch", value: String(objectives.batch), reason: "must be at least 1")
        }
        if let slo = objectives.latencySLOMs, !(slo > 0) || !slo.isFinite {
            throw ValidationError(field: "latency SLO", value: String(slo), reason: "must be a positive number of milliseconds")
        }
        if let accuracy = objectives.minAccuracy, !(0...100).contains(accuracy) {
            throw ValidationError(field: "minimum accuracy", value: String(accuracy), reason: "must be a percentage between 0 and 100")
        }
        switch target {
        case .variant: break
        case .architecture:
            guard objectives.latencySLOMs != nil else {
                throw ValidationError(field: "latency SLO", value: "none",
                                      reason: "an architecture query needs a latency SLO (-l MS)")
            }
        case .useCase:
            guard objectives.latencySLOMs != nil, objectives.minAccuracy != nil else {
                throw ValidationError(field: "objectives", value: "none",
                                      reason: "a task + dataset query needs both a minimum accuracy (-A) and a latency SLO (-l)")
            }
        }
        self.target = target
        self.objectives = objectives
    }
}
