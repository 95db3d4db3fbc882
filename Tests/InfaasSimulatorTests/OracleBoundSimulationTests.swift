import Testing
import InfaasCore
import InfaasPolicies
import InfaasSimulator

@Suite("The oracle bound beside a run (issue: results that stand)")
struct OracleBoundSimulationTests {
    @Test func everyPolicyIsMeasuredAgainstTheSameBoundOfItsTrace() throws {
        var summaries: [ExperimentSummary] = []
        for policy in ["infaas", "static-peak", "round-robin-dynamic"] {
            var spec = try quickstart(policy: policy, duration: 600)
            spec.oracle = true
            summaries.append(ExperimentSummary(try ExperimentRunner(spec: spec).run()))
        }
        let bound = try #require(summaries[0].oracle)
        #expect(bound.costUSD > 0)
        #expect(bound.nonOptimalIntervals == 0)
        #expect(bound.intervalS == 60)
        for s in summaries {
            let o = try #require(s.oracle, "\(s.policy)")
            // The bound depends on the trace and cluster limits only, never on the policy.
            #expect(o.costUSD == bound.costUSD && o.sloViolationPercent == bound.sloViolationPercent, "\(s.policy)")
            #expect(abs((o.costRatio ?? 0) - s.totalCostUSD / o.costUSD) < 1e-3, "\(s.policy)")
            #expect(abs(o.violationGapPoints - (s.sloViolationPercent - o.sloViolationPercent)) < 1e-3, "\(s.policy)")
        }
        // The summary table names the bound and the gap.
        #expect(summaries[0].table().contains("oracle bound (60 s intervals)"))
    }

    @Test func aLongerIntervalNeverMakesTheBoundCheaperThanItsPeakNeeds() throws {
        // Longer intervals average bursts away, so they may cost less; both stay finite and
        // serve every query this cluster can (the quickstart's limits leave none unserved).
        var short = try quickstart(duration: 600), long = try quickstart(duration: 600)
        short.oracle = true
        long.oracle = true
        long.oracleIntervalSeconds = 600
        let runner = ExperimentRunner(spec: short)
        let catalogue = try runner.loadCatalogue()
        let apps = try runner.applications(in: catalogue)
        let a = try runner.oracleBound(catalogue: catalogue, applications: apps)
        let b = try ExperimentRunner(spec: long).oracleBound(catalogue: catalogue, applications: apps)
        #expect(a.intervals.count == 10 && b.intervals.count == 1)
        #expect(a.queries == b.queries && a.queries > 0)
        #expect(a.unmet == 0 && b.unmet == 0)
        #expect(b.costUSD <= a.costUSD + 1e-9)
    }

    @Test func withoutTheKeyThereIsNoBoundAndTheSummaryIsUnchanged() throws {
        var spec = try quickstart(duration: 300)
        spec.oracle = false
        let summary = ExperimentSummary(try ExperimentRunner(spec: spec).run())
        #expect(summary.oracle == nil)
        #expect(try !summary.json().contains("oracle"))
    }

    @Test func theKeysParseAndABadIntervalIsAClearError() throws {
        var spec = try quickstart(duration: 300)
        try spec.apply([ExperimentOverride(key: "oracle", value: "false", location: "--set oracle=false"),
                        ExperimentOverride(key: "oracle_interval_s", value: "30", location: "--set oracle_interval_s=30")])
        #expect(spec.oracle == false && spec.oracleIntervalSeconds == 30)
        #expect(throws: ExperimentError.self) {
            try spec.apply([ExperimentOverride(key: "oracle_interval_s", value: "0", location: "--set oracle_interval_s=0")])
        }
    }
}
