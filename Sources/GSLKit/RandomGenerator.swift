internal import CGSL

/// Turns GSL's default error handler (which calls `abort()`) off, once per process, so a
/// bad argument returns a status instead of killing the program.
let gslErrorHandlerOff: Void = {
    gsl_set_error_handler_off()
}()

/// A seeded Mersenne-Twister (MT19937) generator with the distributions the simulator and
/// the trace generators draw from. Same seed ⇒ same sequence, on every machine.
///
/// Not thread-safe: one generator per simulation (or per stream), as GSL intends.
public final class RandomGenerator {
    private let rng: UnsafeMutablePointer<gsl_rng>
    /// The seed the generator was created (or last reseeded) with.
    public private(set) var seed: UInt64

    /// Creates a generator seeded with `seed`. GSL's MT19937 uses the low 32 bits on this
    /// platform's `unsigned long`; seed 0 is GSL's default seed (4357).
    public init(seed: UInt64) {
        _ = gslErrorHandlerOff
        guard let pointer = gsl_rng_alloc(infaas_gsl_mt19937()) else {
            fatalError("gsl_rng_alloc failed: out of memory")
        }
        rng = pointer
        self.seed = seed
        gsl_rng_set(rng, UInt(truncatingIfNeeded: seed))
    }

    deinit { gsl_rng_free(rng) }

    /// Restarts the sequence from `seed`.
    public func reseed(_ seed: UInt64) {
        self.seed = seed
        gsl_rng_set(rng, UInt(truncatingIfNeeded: seed))
    }

    /// A raw 32-bit draw.
    public func next() -> UInt32 { UInt32(truncatingIfNeeded: gsl_rng_get(rng)) }

    /// Uniform on [0, 1).
    public func uniform() -> Double { gsl_rng_uniform(rng) }

    /// Uniform on (0, 1): never exactly zero.
    public func uniformPositive() -> Double { gsl_rng_uniform_pos(rng) }

    /// Uniform integer in `0..<bound` (bound > 0).
    public func uniformInt(below bound: Int) -> Int {
        precondition(bound > 0, "uniformInt(below:) needs a positive bound, got \(bound)")
        return Int(gsl_rng_uniform_int(rng, UInt(bound)))
    }

    /// Exponential with the given mean (`1/rate`).
    public func exponential(mean: Double) -> Double { gsl_ran_exponential(rng, mean) }

    /// Log-normal: `exp(N(mu, sigma))`.
    public func logNormal(mu: Double, sigma: Double) -> Double { gsl_ran_lognormal(rng, mu, sigma) }

    /// Gamma with shape `k` and scale `theta` (mean `k·theta`).
    public func gamma(shape: Double, scale: Double) -> Double { gsl_ran_gamma(rng, shape, scale) }

    /// Poisson with mean `mean`.
    public func poisson(mean: Double) -> Int { Int(gsl_ran_poisson(rng, mean)) }

    /// Normal with mean `mu` and standard deviation `sigma`.
    public func normal(mu: Double, sigma: Double) -> Double { mu + gsl_ran_gaussian_ziggurat(rng, sigma) }
}
