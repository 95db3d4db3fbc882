import Foundation
import GRPCCore
import InfaasCore
import InfaasPolicies
import InfaasRPC

/// The "what would work instead" part of the master's refusals: when no variant meets a query,
/// the nearest request that one would meet (the largest max batch, the fastest latency, the
/// best accuracy); when a use-case is unknown, the nearest registered task and dataset.
///
/// The thresholds are the policy's defaults (`PolicyConfig()`): a master started with other
/// thresholds (`--policy-set`) may accept a slightly different SLO than the one suggested.
enum RejectMessages {
    /// A number as a user types it: `100`, not `100.0`; `0.5` stays `0.5`.
    static func number(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e12 { return String(Int64(value)) }
        return String(format: "%g", value)
    }

    /// The variants a query may use, and how to name them in a message.
    static func scope(of target: PolicyTarget, catalogue: PolicyCatalogue) -> (variants: [Int], name: String) {
        switch target {
        case .variant(let v): ([v], catalogue.variants[v].name)
        case .architecture(let a): (catalogue.byBatch1[a], "\(catalogue.architectureNames[a])'s variants")
        case .useCase(let u): (catalogue.byUseCase[u], "the \(catalogue.useCases[u].task.rawValue)/\(catalogue.useCases[u].dataset.rawValue) variants")
        }
    }

    /// Why no variant meets `query`, and the nearest request one would meet; "" when every
    /// objective is met by some variant (the refusal then came from the policy's other rules).
    static func nearestFeasible(_ query: PolicyQuery, catalogue: PolicyCatalogue, config: PolicyConfig = PolicyConfig()) -> String {
        let (variants, name) = scope(of: query.target, catalogue: catalogue)
        guard !variants.isEmpty else { return "" }
        // 1. The batch: the largest max batch.
        let largest = variants.max { catalogue.maxBatch[$0] < catalogue.maxBatch[$1] }!  // ties: the fastest
        if catalogue.maxBatch[largest] < query.batch {
            return "the largest max batch among \(name) is \(catalogue.maxBatch[largest]) (\(catalogue.variants[largest].name)):"
                + " send at most \(catalogue.maxBatch[largest]) inputs per query"
        }
        let takesBatch = variants.filter { catalogue.maxBatch[$0] >= query.batch }
        // 2. The accuracy floor: the most accurate variant that takes the batch.
        let accurate = takesBatch.filter { query.minAccuracy <= 0 || (catalogue.accuracy[$0] ?? -1) >= query.minAccuracy }
        if accurate.isEmpty {
            let best = takesBatch.filter { catalogue.accuracy[$0] != nil }.max { catalogue.accuracy[$0]! < catalogue.accuracy[$1]! }
            guard let best else { return "no variant among \(name) that takes batch \(query.batch) has a known accuracy: drop -A" }
            return "the most accurate of \(name) taking batch \(query.batch) is \(catalogue.variants[best].name) at"
                + " \(number(catalogue.accuracy[best]!))%: use -A \(number(catalogue.accuracy[best]!.rounded(.down))) or less"
        }
        // 3. The latency: the fastest variant that meets batch and accuracy, at this batch. CPU
        // variants are not used for an SLO at or below `cpuExcludedAtOrBelowSLOMs`.
        func predicted(_ v: Int) -> Double { catalogue.predictedMs(v, queryBatch: query.batch, maxOnlineBatch: config.maxOnlineBatch) }
        func lowestSLO(_ v: Int) -> Double {
            let floor = catalogue.hardware[v] == .cpu ? config.cpuExcludedAtOrBelowSLOMs + 1 : 0
            return max(predicted(v), floor).rounded(.up)
        }
        let fastest = accurate.min { (lowestSLO($0), predicted($0), $0) < (lowestSLO($1), predicted($1), $1) }!
        guard query.sloMs < lowestSLO(fastest) else { return "" }
        var text = "the fastest of \(name)" + (query.batch > 1 ? " taking batch \(query.batch)" : "")
            + (query.minAccuracy > 0 ? " with accuracy ≥ \(number(query.minAccuracy))%" : "")
            + " is \(catalogue.variants[fastest].name), predicted at \(number((predicted(fastest) * 100).rounded() / 100)) ms"
        if catalogue.hardware[fastest] == .cpu, predicted(fastest) <= config.cpuExcludedAtOrBelowSLOMs {
            text += " (CPU variants serve only SLOs above \(number(config.cpuExcludedAtOrBelowSLOMs)) ms)"
        }
        return text + ": use -l \(number(lowestSLO(fastest))) or more"
    }

    /// For a variant that cannot take the batch: the architecture's variants that can.
    static func largerBatchVariants(than v: Int, batch: Int, catalogue: PolicyCatalogue) -> String {
        let a = catalogue.architecture[v]
        let larger = catalogue.byBatch1[a].filter { catalogue.maxBatch[$0] >= batch }
        guard let first = larger.first else {
            let largest = catalogue.byBatch1[a].map { catalogue.maxBatch[$0] }.max() ?? 1
            return "; no variant of \(catalogue.architectureNames[a]) takes more than \(largest)"
        }
        return "; \(catalogue.variants[first].name) takes \(catalogue.maxBatch[first])"
            + " (or ask for -a \(catalogue.architectureNames[a]) -l MS and INFaaS picks one)"
    }

    /// The nearest registered task and dataset, for a use-case the catalogue lacks.
    static func useCaseHint(task: String, dataset: String, catalogue: PolicyCatalogue) -> String {
        let tasks = Array(Set(catalogue.useCases.map(\.task.rawValue))).sorted()
        guard !tasks.isEmpty else { return " (no variant is registered yet: `infaas register`)" }
        var guesses: [String] = [], lists: [String] = []
        var knownTask = task
        if !tasks.contains(task) {
            if let t = NameSuggestion.closest(to: task, among: tasks, limit: 1).first { guesses.append("task \"\(t)\""); knownTask = t }
            else { lists.append("known tasks: \(tasks.joined(separator: ", "))") }
        }
        let datasets = Array(Set(catalogue.useCases.filter { $0.task.rawValue == knownTask }.map(\.dataset.rawValue))).sorted()
        if !datasets.isEmpty, !datasets.contains(dataset) {
            if let d = NameSuggestion.closest(to: dataset, among: datasets, limit: 1).first { guesses.append("dataset \"\(d)\"") }
            else { lists.append("datasets for \(knownTask): \(datasets.joined(separator: ", "))") }
        }
        let parts = (guesses.isEmpty ? [] : ["did you mean " + guesses.joined(separator: " and ") + "?"]) + lists
        return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
    }
}

extension Master {
    /// A routing error with the nearest registered use-case added when the query named an
    /// unknown task or dataset.
    func withUseCaseHint(_ error: RPCError, for request: Infaas_V1_OnlineQueryRequest) -> RPCError {
        guard error.code == .notFound, case .useCase(let useCase) = request.target else { return error }
        let catalogue = controller.withLock { $0.catalogue }
        let hint = RejectMessages.useCaseHint(task: useCase.task, dataset: useCase.dataset, catalogue: catalogue)
        return RPCError(code: error.code, message: error.message + hint)
    }
}
