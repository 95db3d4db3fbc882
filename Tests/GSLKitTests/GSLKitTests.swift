import Testing
import GSLKit

@Suite("GSLKit")
struct GSLKitTests {
    @Test func sameSeedGivesTheSameSequence() {
        let a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7), c = RandomGenerator(seed: 8)
        let first = (0..<5).map { _ in a.uniform() }
        #expect(first == (0..<5).map { _ in b.uniform() })
        #expect(first != (0..<5).map { _ in c.uniform() })
        a.reseed(7)
        #expect(first == (0..<5).map { _ in a.uniform() })
    }

    /// Values computed once with GSL 2.7.1's MT19937 and pinned: a change of generator,
    /// seeding or distribution algorithm breaks simulator determinism and must show here.
    /// (The first raw draw, 1608637542, is also what C++'s `std::mt19937(42)` gives.)
    @Test func drawsMatchPinnedValues() {
        let rng = RandomGenerator(seed: 42)
        #expect(rng.next() == 1608637542)
        #expect(rng.exponential(mean: 2.0) == 3.184601041967433)
        #expect(rng.logNormal(mu: 0.0, sigma: 0.5) == 1.4342847696134793)
        #expect(rng.gamma(shape: 2.0, scale: 3.0) == 9.320222979793096)
        #expect(rng.poisson(mean: 10.0) == 5)
        #expect(rng.uniformInt(below: 100) == 86)
    }

    @Test func distributionMeansAreRight() {
        let rng = RandomGenerator(seed: 1)
        let n = 200_000
        let exp = (0..<n).reduce(0.0) { s, _ in s + rng.exponential(mean: 3.0) } / Double(n)
        let gamma = (0..<n).reduce(0.0) { s, _ in s + rng.gamma(shape: 2.0, scale: 1.5) } / Double(n)
        let poisson = Double((0..<n).reduce(0) { s, _ in s + rng.poisson(mean: 4.0) }) / Double(n)
        #expect(abs(exp - 3.0) < 0.05)
        #expect(abs(gamma - 3.0) < 0.05)
        #expect(abs(poisson - 4.0) < 0.05)
    }

    @Test func leastSquaresRecoversAnExactLine() throws {
        let fit = try LinearFit.ordinaryLeastSquares(x: [1, 4, 8], y: [3.5, 8, 14])
        #expect(abs(fit.slope - 1.5) < 1e-12)
        #expect(abs(fit.intercept - 2.0) < 1e-12)
        #expect(fit.sumOfSquares < 1e-20)
    }

    @Test func leastSquaresMatchesTheClosedForm() throws {
        let x: [Double] = [1, 4, 8], y: [Double] = [3.686, 7.5, 12.3]
        let fit = try LinearFit.ordinaryLeastSquares(x: x, y: y)
        let mx = x.reduce(0, +) / 3, my = y.reduce(0, +) / 3
        let sxy = zip(x, y).reduce(0.0) { $0 + ($1.0 - mx) * ($1.1 - my) }
        let sxx = x.reduce(0.0) { $0 + ($1 - mx) * ($1 - mx) }
        #expect(abs(fit.slope - sxy / sxx) < 1e-12)
        #expect(abs(fit.intercept - (my - sxy / sxx * mx)) < 1e-12)
    }

    @Test func leastSquaresRejectsDegenerateInput() {
        #expect(throws: GSLError.self) { try LinearFit.ordinaryLeastSquares(x: [1], y: [2]) }
        #expect(throws: GSLError.self) { try LinearFit.ordinaryLeastSquares(x: [2, 2], y: [1, 3]) }
        #expect(throws: GSLError.self) { try LinearFit.ordinaryLeastSquares(x: [1, 2], y: [1]) }
    }

    @Test func quantilesInterpolateLinearly() {
        let sorted: [Double] = [1, 2, 3, 4, 5]
        #expect(Quantiles.ofSorted(sorted, 0.5) == 3)
        #expect(Quantiles.ofSorted(sorted, 0.25) == 2)
        #expect(Quantiles.ofSorted(sorted, 0.9) == 4.6)
        #expect(Quantiles.of([5, 1, 4, 2, 3], 1.0) == 5)
        #expect(Quantiles.ofSorted([], 0.5) == nil)
        #expect(Quantiles.mean([1, 2, 3, 4]) == 2.5)
    }
}
