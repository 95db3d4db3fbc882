import Testing
@testable import GLPKKit

@Suite("GLPK linear and mixed-integer programs")
struct LinearProgramTests {
    @Test func aLinearProgramFindsTheVertexOptimum() throws {
        // min -x - y  s.t. x + 2y ≤ 4, 3x + y ≤ 6  →  x = 1.6, y = 1.2, objective -2.8
        var lp = LinearProgram()
        let x = lp.addVariable(cost: -1), y = lp.addVariable(cost: -1)
        lp.addConstraint([.init(x, 1), .init(y, 2)], upper: 4)
        lp.addConstraint([.init(x, 3), .init(y, 1)], upper: 6)
        let s = try lp.solve()
        #expect(s.status == .optimal)
        #expect(abs(s.values[x] - 1.6) < 1e-9 && abs(s.values[y] - 1.2) < 1e-9)
        #expect(abs((s.objective ?? 0) + 2.8) < 1e-9)
        #expect(s.relaxationObjective == s.objective)
    }

    @Test func integralityRaisesTheOptimumAboveTheRelaxation() throws {
        // Serve 10 units of work with machines of capacity 4 at cost 1 each: the relaxation
        // needs 2.5 machines, the integer problem 3.
        var lp = LinearProgram()
        let machines = lp.addVariable(cost: 1, integer: true)
        let work = lp.addVariable(lower: 10, upper: 10)
        lp.addConstraint([.init(work, 1), .init(machines, -4)], upper: 0)
        let s = try lp.solve()
        #expect(s.status == .optimal)
        #expect(s.values[machines] == 3)
        #expect(abs((s.relaxationObjective ?? 0) - 2.5) < 1e-9)
        #expect((s.relaxationObjective ?? .infinity) <= (s.objective ?? 0))
    }

    @Test func aKnapsackPicksTheBestSubset() throws {
        // max 10a + 13b + 7c with weights 5, 6, 4 and capacity 10 → a + c (17) loses to b + c (20).
        var lp = LinearProgram()
        let items = [(10.0, 5.0), (13.0, 6.0), (7.0, 4.0)].map { lp.addVariable(upper: 1, cost: -$0.0, integer: true) }
        lp.addConstraint(zip(items, [5.0, 6.0, 4.0]).map { LinearProgram.Term($0, $1) }, upper: 10)
        let s = try lp.solve()
        #expect(s.status == .optimal)
        #expect(items.map { s.values[$0] } == [0, 1, 1])
        #expect(s.objective == -20)
    }

    @Test func termsNamingOneVariableTwiceAddUp() throws {
        var lp = LinearProgram()
        let x = lp.addVariable(cost: 1)
        lp.addConstraint([.init(x, 1), .init(x, 1)], lower: 6)
        #expect(try lp.solve().values[x] == 3)
    }

    @Test func contradictoryConstraintsAreInfeasible() throws {
        var lp = LinearProgram()
        let x = lp.addVariable(cost: 1, integer: true)
        lp.addConstraint([.init(x, 1)], lower: 5)
        lp.addConstraint([.init(x, 1)], upper: 3)
        let s = try lp.solve()
        #expect(s.status == .infeasible)
        #expect(s.values.isEmpty && s.objective == nil)
    }

    @Test func anObjectiveWithoutFloorIsUnbounded() throws {
        var lp = LinearProgram()
        _ = lp.addVariable(cost: -1)
        #expect(try lp.solve().status == .unbounded)
    }

    @Test func aMalformedProblemIsRefusedBeforeGLPKSeesIt() {
        var lp = LinearProgram()
        let x = lp.addVariable(lower: 2, upper: 1)
        #expect(throws: GLPKError(.invalidProblem, "variable 0 has upper bound 1.0 below its lower bound 2.0")) { try lp.solve() }
        var other = LinearProgram()
        other.addConstraint([.init(x + 3, 1)], upper: 1)
        #expect { try other.solve() } throws: { ($0 as? GLPKError)?.kind == .invalidProblem }
        var nan = LinearProgram()
        _ = nan.addVariable(cost: .nan)
        #expect { try nan.solve() } throws: { ($0 as? GLPKError)?.kind == .invalidProblem }
    }

    @Test func theConstantCostShiftsTheObjective() throws {
        var lp = LinearProgram()
        let x = lp.addVariable(lower: 1, cost: 2)
        lp.constantCost = 5
        let s = try lp.solve()
        #expect(s.objective == 7)
        #expect(lp.cost(at: s.values) == 7)
        _ = x
    }

    @Test func theSameProblemGivesTheSameAnswer() throws {
        // A problem with many equal-cost optima: the answer must not depend on the run.
        var lp = LinearProgram()
        let xs = (0..<12).map { _ in lp.addVariable(upper: 3, cost: 1, integer: true) }
        lp.addConstraint(xs.map { .init($0, 1) }, lower: 17)
        let first = try lp.solve()
        for _ in 0..<5 { #expect(try lp.solve() == first) }
        #expect(first.objective == 17)
    }
}
