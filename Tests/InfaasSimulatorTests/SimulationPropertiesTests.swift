import Foundation
import Testing
import InfaasCore
import InfaasPolicies
import InfaasSimulator
import InfaasTraces

/// The package root, for the bundled experiment, traces and catalogue.
let root: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

func quickstart(policy: String = "infaas", seed: UInt64 = 1, duration: Double = 900) throws -> ExperimentSpec {
    var spec = try ExperimentSpec.load(path: root.appendingPathComponent("experiments/quickstart.yaml").path)
    spec.policy = policy
    spec.seed = seed
    spec.options.seed = seed
    spec.durationSeconds = duration
    spec.options.durationSeconds = duration
    return spec
}

@Suite("Simulation properties")
struct SimulationPropertiesTests {
    @Test func sameSeedGivesByteIdenticalSummaryAndAnotherSeedDiffers() throws {
        let a = try ExperimentSummary(ExperimentRunner(spec: quickstart(seed: 7)).run()).json()
        let b = try ExperimentSummary(ExperimentRunner(spec: quickstart(seed: 7)).run()).json()
        let c = try ExperimentSummary(ExperimentRunner(spec: quickstart(seed: 8)).run()).json()
        #expect(a == b)
        #expect(a != c)
    }

    @Test(arguments: StandardPolicySet.presetNames)
    func everyArrivalEndsExactlyOnce(policy: String) throws {
        var spec = try quickstart(policy: policy, duration: 600)
        spec.options.recordQueries = true
        let result = try ExperimentRunner(spec: spec).run()
        let m = result.metrics
        #expect(m.arrivals > 0)
        #expect(m.served + m.rejected == m.arrivals)
        #expect(m.rejectedByReason.values.reduce(0, +) == m.rejected)
        #expect(m.queries.count == m.arrivals)
        #expect(m.servedByVariant.reduce(0, +) == m.served)
        for (counts, app) in zip(m.applications, result.applications) {
            #expect(counts.served + counts.rejected == counts.arrivals, "\(app.name)")
            #expect(counts.metSLO <= counts.served)
        }
        #expect(m.timeseries.reduce(0) { $0 + $1.arrivals } == m.arrivals)
        #expect(m.timeseries.reduce(0) { $0 + $1.completions } == m.served)
        // Misses are binned by arrival: a row never shows more violations than it had arrivals.
        #expect(m.timeseries.reduce(0) { $0 + $1.violations } == m.arrivals - m.metSLO)
        #expect(m.timeseries.reduce(0) { $0 + $1.rejected } == m.rejected)
        #expect(m.timeseries.reduce(0) { $0 + $1.expiredInQueue } == m.outcomes.expiredInQueue)
        #expect(m.timeseries.reduce(0) { $0 + $1.shed } == m.outcomes.shed)
        for row in m.timeseries {
            #expect(row.rejected <= row.violations && row.violations <= row.arrivals, "row at \(row.time) s: \(row)")
            #expect(row.expiredInQueue + row.shed <= row.rejected, "row at \(row.time) s: \(row)")
        }
    }

    /// A load that steps up to 600 q/s and back down: the VM autoscaler retires the GPU workers it
    /// added, and the time series' replica count falls with them (it once kept counting the
    /// replicas of retired workers, so replicas looked as if they never scaled in).
    @Test func replicasOnRetiredWorkersLeaveTheTimeSeries() throws {
        let yaml = """
        name: step-in-out
        seed: 1
        duration_s: 600
        profiles: profiles/catalogue.csv
        policy: infaas
        workers: {cpu: 1, gpu: 1, inf: 0}
        max_workers: {cpu: 8, gpu: 4, inf: 4}
        timeseries_interval_s: 10
        applications:
          - name: stepped
            target: classification/imagenet
            min_accuracy: 75
            slo_ms: 100
            arrivals:
              process: steps
              steps: [[0, 20], [30, 600], [300, 20]]
        """
        let spec = try ExperimentSpec.parse(yaml: yaml, path: root.appendingPathComponent("step-in-out.yaml").path)
        let m = try ExperimentRunner(spec: spec).run().metrics
        let retired = m.workersRetired[.gpu] ?? 0
        #expect(retired > 0, "the scenario must retire GPU workers to test this")
        let peak = m.timeseries.map(\.replicas).max() ?? 0
        let tail = m.timeseries.suffix(6).map(\.replicas).max() ?? 0
        #expect(tail < peak, "replicas at the end (\(tail)) should fall below the peak (\(peak)) after \(retired) GPU workers retired")
        #expect(m.timeseries.last?.workers[.gpu] == 1)
    }

    @Test func memoryFollowsQueriesInFlightNotTraceLength() throws {
        // Without --record-queries nothing per query is kept: a run 10× as long keeps the same
        // per-query state (the slab of in-flight queries is reused).
        var short = try quickstart(duration: 300)
        short.options.recordQueries = false
        let result = try ExperimentRunner(spec: short).run()
        #expect(result.metrics.queries.isEmpty)
    }

    @Test func infaasBeatsStaticOnABurstyTraceInViolationsOrCost() throws {
        let infaas = ExperimentSummary(try ExperimentRunner(spec: quickstart(policy: "infaas", duration: 1800)).run())
        var staticSpec = try quickstart(policy: "static", duration: 1800)
        staticSpec.policyConfig.staticReplicas = 2
        let fixed = ExperimentSummary(try ExperimentRunner(spec: staticSpec).run())
        print("bursty quickstart 30 min: infaas \(infaas.sloViolationPercent) % violations, $\(infaas.totalCostUSD); static \(fixed.sloViolationPercent) % violations, $\(fixed.totalCostUSD)")
        #expect(infaas.sloViolationPercent < fixed.sloViolationPercent || infaas.totalCostUSD < fixed.totalCostUSD)
    }

    @Test func resultsFileHasTheDesignLayout() throws {
        var spec = try quickstart(duration: 120)
        spec.options.recordQueries = true
        let result = try ExperimentRunner(spec: spec).run()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString)").path
        let files = try ResultWriter.write(result, summary: ExperimentSummary(result), to: directory)
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/h5dump") else {
            print("skipped the h5dump check: h5dump not installed (scripts/setup installs hdf5-tools)")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/h5dump")
        process.arguments = ["-H", files.h5]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for needle in ["GROUP \"meta\"", "GROUP \"summary\"", "GROUP \"timeseries\"", "DATASET \"time_s\"", "DATASET \"workers_gpu\"",
                       "DATASET \"cost_usd\"", "GROUP \"queries\"", "DATASET \"arrival_s\"", "DATASET \"met\"", "GROUP \"variants\""] {
            #expect(out.contains(needle), "h5dump -H lacks \(needle)")
        }
        let json = try String(contentsOfFile: files.json, encoding: .utf8)
        #expect(json.contains("\"slo_violation_percent\""))
    }
}

@Suite("static-peak in the simulator")
struct StaticPeakSimulationTests {
    /// Sized for the trace's peak, the static deployment keeps the SLOs the small hand-sized one
    /// misses, and starts the workers it sized (billed for the whole run).
    @Test func aDeploymentSizedForThePeakMissesFewerSLOsThanTheHandSizedOne() throws {
        let small = ExperimentSummary(try ExperimentRunner(spec: quickstart(policy: "static", duration: 600)).run())
        let peak = try ExperimentRunner(spec: quickstart(policy: "static-peak", duration: 600)).run()
        let summary = ExperimentSummary(peak)
        #expect(summary.sloViolationPercent < small.sloViolationPercent, "static-peak \(summary.sloViolationPercent) % vs static \(small.sloViolationPercent) %")
        #expect(peak.metrics.workersLaunched.isEmpty, "a static deployment starts everything up front")
        let started = peak.metrics.timeseries.first?.workers.values.reduce(0, +) ?? 0
        #expect(started > 2, "the quickstart's peak needs more than the hand-sized deployment's 2 workers (started \(started))")
    }
}
