import InfaasCore
import Foundation

extension PolicyCatalogue {
    /// Why `v` serves query `q`, in words, as the master answers it: the prediction at the
    /// query's batch compared with its SLO, the accuracy against its floor, and the batch against
    /// the variant's maximum. Every comparison is made here, on the catalogue's numbers, so the
    /// text never states one that does not hold: a baseline with a fixed variant that misses the
    /// SLO says "> SLO" and that the policy's rule chose it.
    public func reason(for q: PolicyQuery, variant v: Int) -> String {
        var parts: [String] = []
        switch q.target {
        case .variant:
            parts.append("named by the query")
        case .architecture, .useCase:
            let predicted = model[v].predictMs(batch: q.batch)
            var latency = String(format: "predicted %.2f ms at batch %d", predicted, q.batch)
            if q.sloMs > 0 {
                latency += predicted <= q.sloMs ? String(format: " ≤ SLO %.0f ms", q.sloMs)
                                                : String(format: " > SLO %.0f ms (the policy's rule chose it anyway)", q.sloMs)
            }
            parts.append(latency)
            if q.minAccuracy > 0, let a = accuracy[v] {
                parts.append(String(format: "accuracy %.2f%% %@ %.2f%%", a, a >= q.minAccuracy ? "≥" : "<", q.minAccuracy))
            }
            parts.append("max batch \(maxBatch[v]) \(maxBatch[v] >= q.batch ? "≥" : "<") \(q.batch)")
        }
        return "\(variants[v].name): " + parts.joined(separator: ", ")
    }
}
