public import InfaasCore
internal import GSLKit

/// Fits `lat(b) = slope·b + intercept` to a variant's points exactly as the reference's
/// registrar does (`compute_linreg`, §2.3), with a stated fallback when the reference's
/// points were not all measured.
public enum LatencyFitter {
    /// The batch sizes the reference fits over for a given max batch.
    public static func referenceBatches(maxBatch: Int) -> [Int] {
        if maxBatch >= 8 { return [1, 4, 8] }
        if maxBatch > 1 { return [1, 4] }
        return [1]
    }

    /// Fits the model.
    ///
    /// * `maxBatch == 1`: `slope = lat(1)`, `intercept = 0` (reference).
    /// * `maxBatch >= 8` with points at 1, 4 and 8, or `1 < maxBatch < 8` with points at 1 and 4:
    ///   ordinary least squares over exactly those points (reference; other batch sizes are
    ///   kept as measured points but do not enter the fit, as in the original).
    /// * Otherwise (ours: the reference's points are not all there, as for a published table
    ///   with one batch size): least squares over every point with `batch <= maxBatch`; with a
    ///   single point `(b, l)`, the line through the origin, `slope = l/b`.
    public static func fit(points: [LatencyPoint], maxBatch: Int) throws(ProfileError) -> LinearLatencyModel {
        let usable = points.filter { $0.batch >= 1 && $0.batch <= max(maxBatch, 1) && $0.centralMs != nil }
        let central = Dictionary(usable.map { ($0.batch, $0.centralMs!) }, uniquingKeysWith: { first, _ in first })
        if maxBatch <= 1 {
            if let l1 = central[1] { return LinearLatencyModel(slopeMs: l1, interceptMs: 0) }
        }
        let wanted = referenceBatches(maxBatch: maxBatch)
        if maxBatch > 1, wanted.allSatisfy({ central[$0] != nil }) {
            return try ols(wanted.map { (Double($0), central[$0]!) })
        }
        let all = central.keys.sorted().map { (Double($0), central[$0]!) }
        switch all.count {
        case 0:
            throw ProfileError(.fit, "no latency measured at any batch size up to the max batch \(maxBatch)", at: "")
        case 1:
            return LinearLatencyModel(slopeMs: all[0].1 / all[0].0, interceptMs: 0)
        default:
            return try ols(all)
        }
    }

    private static func ols(_ points: [(Double, Double)]) throws(ProfileError) -> LinearLatencyModel {
        do {
            let fit = try LinearFit.ordinaryLeastSquares(x: points.map(\.0), y: points.map(\.1))
            return LinearLatencyModel(slopeMs: fit.slope, interceptMs: fit.intercept)
        } catch {
            throw ProfileError(.fit, error.description, at: "")
        }
    }
}
