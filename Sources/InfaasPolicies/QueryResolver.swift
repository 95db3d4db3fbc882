public import InfaasCore

/// Why a query as written cannot be asked: it names nothing registered, or its objectives do
/// not fit what it names. The message keeps the reference's words where it had them.
public struct QueryError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The variant, architecture or task/dataset is not in the catalogue.
        case unknownTarget
        /// The objectives are missing or out of range for the target.
        case invalidObjectives
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension PolicyCatalogue {
    /// Resolves a target as a query names it: a variant name, an architecture name, or
    /// `task/dataset` (e.g. `classification/imagenet`).
    public func resolve(_ text: String) -> PolicyTarget? {
        if let v = variantID(text) { return .variant(v) }
        if let a = architectureID(text) { return .architecture(a) }
        let parts = text.split(separator: "/")
        if parts.count == 2, let u = useCaseID(task: InferenceTask(String(parts[0])), dataset: Dataset(String(parts[1]))) {
            return .useCase(u)
        }
        return nil
    }

    /// The one validation of a query, for every entry point (the experiment runner, the live
    /// master, the CLI, `infaas replay`): the target must be registered (an unknown name gets
    /// the nearest known ones) and the objectives must fit it as the reference requires — a
    /// variant alone, an architecture with a latency SLO, a task and dataset with an accuracy
    /// floor and a latency SLO (``QuerySpec``).
    public func query(_ target: QueryTarget, objectives: Objectives, application: Int = 0) throws(QueryError) -> PolicyQuery {
        do { _ = try QuerySpec(target: target, objectives: objectives) } catch {
            throw QueryError(.invalidObjectives, "\(error.field) \(error.value): \(error.reason)")
        }
        let resolved: PolicyTarget
        switch target {
        case .variant(let name):
            guard let v = variantID(name) else {
                throw QueryError(.unknownTarget, "Model has not been registered: unknown variant \"\(name)\"" + Self.hint(name, variants.map(\.name)))
            }
            resolved = .variant(v)
        case .architecture(let name):
            guard let a = architectureID(name) else {
                throw QueryError(.unknownTarget, "Parent model has not been registered: unknown architecture \"\(name)\"" + Self.hint(name, architectureNames))
            }
            resolved = .architecture(a)
        case .useCase(let useCase):
            guard let u = useCaseID(task: useCase.task, dataset: useCase.dataset) else {
                let known = useCases.map { "\($0.task)/\($0.dataset)" }
                throw QueryError(.unknownTarget, "Grandparent model has not been registered: no variant for task \"\(useCase.task)\" on dataset \"\(useCase.dataset)\""
                                 + Self.hint("\(useCase.task)/\(useCase.dataset)", known))
            }
            resolved = .useCase(u)
        }
        return PolicyQuery(target: resolved, batch: objectives.batch, sloMs: objectives.latencySLOMs ?? 0,
                           minAccuracy: objectives.minAccuracy ?? 0, application: application)
    }

    /// A target as written (`resnet50`, `classification/imagenet`, a variant) as a ``QueryTarget``:
    /// what the catalogue knows it as, else an architecture name (so the error says what was meant).
    public func queryTarget(_ text: String) -> QueryTarget {
        switch resolve(text) {
        case .variant: return .variant(text)
        case .useCase(let u): return .useCase(useCases[u])
        case .architecture, nil:
            let parts = text.split(separator: "/")
            if parts.count == 2 { return .useCase(UseCase(task: InferenceTask(String(parts[0])), dataset: Dataset(String(parts[1])), inputDimension: 0)) }
            return .architecture(text)
        }
    }

    static func hint(_ name: String, _ known: [String]) -> String {
        let hint = NameSuggestion.hint(for: name, known: known)
        return hint.isEmpty ? "" : " (\(hint))"
    }
}

extension PolicyQuery {
    /// The query one arrival of an application makes — the one mapping of arrivals to queries,
    /// used by the simulator and by `infaas replay`: the application's target and objectives,
    /// with what the trace row carries instead (a target and its batch; an SLO; an accuracy
    /// floor). `nil` when the row names a target the catalogue does not have.
    public static func arrival(of application: PolicyQuery, target text: String?, batch: Int, sloMs: Double?, minAccuracy: Double?,
                               resolve: (String) -> PolicyTarget?) -> PolicyQuery? {
        var query = application
        if let text {
            guard let target = resolve(text) else { return nil }
            query.target = target
            query.batch = batch
        }
        if let sloMs { query.sloMs = sloMs }
        if let minAccuracy { query.minAccuracy = minAccuracy }
        return query
    }
}
