internal import CGSL

/// A GSL call that rejected its input.
public struct GSLError: Error, CustomStringConvertible, Sendable, Equatable {
    public var function: String
    public var message: String
    public var description: String { "\(function): \(message)" }
}

/// `y = intercept + slope·x` as fitted by ordinary least squares.
public struct LinearFit: Sendable, Equatable {
    public var intercept: Double
    public var slope: Double
    /// Sum of squared residuals.
    public var sumOfSquares: Double

    /// Fits `y = intercept + slope·x` with `gsl_fit_linear`. Needs at least two points with
    /// two distinct x values.
    public static func ordinaryLeastSquares(x: [Double], y: [Double]) throws(GSLError) -> LinearFit {
        _ = gslErrorHandlerOff
        guard x.count == y.count else {
            throw GSLError(function: "gsl_fit_linear", message: "x has \(x.count) values but y has \(y.count)")
        }
        guard x.count >= 2, Set(x).count >= 2 else {
            throw GSLError(function: "gsl_fit_linear", message: "needs two or more distinct x values, got \(x)")
        }
        var c0 = 0.0, c1 = 0.0, cov00 = 0.0, cov01 = 0.0, cov11 = 0.0, sumsq = 0.0
        let status = x.withUnsafeBufferPointer { xs in
            y.withUnsafeBufferPointer { ys in
                gsl_fit_linear(xs.baseAddress, 1, ys.baseAddress, 1, x.count, &c0, &c1, &cov00, &cov01, &cov11, &sumsq)
            }
        }
        guard status == GSL_SUCCESS else {
            throw GSLError(function: "gsl_fit_linear", message: String(cString: gsl_strerror(status)))
        }
        return LinearFit(intercept: c0, slope: c1, sumOfSquares: sumsq)
    }
}

/// Order statistics over samples.
public enum Quantiles {
    /// The `p`-quantile (0…1) of an ascending sample, by GSL's linear interpolation
    /// (`gsl_stats_quantile_from_sorted_data`). `nil` for an empty sample.
    public static func ofSorted(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty, p >= 0, p <= 1 else { return nil }
        return sorted.withUnsafeBufferPointer { gsl_stats_quantile_from_sorted_data($0.baseAddress, 1, sorted.count, p) }
    }

    /// The `p`-quantile of an unsorted sample (sorts a copy).
    public static func of(_ sample: [Double], _ p: Double) -> Double? {
        ofSorted(sample.sorted(), p)
    }

    /// Arithmetic mean; `nil` for an empty sample.
    public static func mean(_ sample: [Double]) -> Double? {
        guard !sample.isEmpty else { return nil }
        return sample.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, sample.count) }
    }
}
