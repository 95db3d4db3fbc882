import Foundation
import Testing

/// No scheduler array index leaks in from the machine running the tests.
let noScheduler = ["SLURM_ARRAY_TASK_ID": "", "JOB_COMPLETION_INDEX": "", "AWS_BATCH_JOB_ARRAY_INDEX": "", "INFAAS_SHARD_COUNT": ""]

extension CLI {
    /// A two-second experiment sweeping two policies.
    func tinySweepExperiment() throws -> String {
        let path = self.path("tiny.yaml")
        try """
            name: tiny
            seed: 1
            duration_s: 2
            profiles: \(CLI.root.appendingPathComponent("profiles/catalogue.csv").path)
            workers: {cpu: 1}
            max_workers: {cpu: 2}
            applications:
              - name: a
                target: classification/imagenet
                min_accuracy: 70
                slo_ms: 300
                arrivals: {process: poisson, rate: 20}
            sweep:
              policy: [infaas, static]
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func indexRows(_ out: String) throws -> [String] {
        try String(contentsOfFile: out + "/index.csv", encoding: .utf8).split(separator: "\n").map(String.init)
    }
}

@Suite("infaas sweep")
struct SweepCLITests {
    @Test func runsEveryPointThenResumesSkippingFinishedAndRedoingPartial() throws {
        let cli = CLI()
        let experiment = try cli.tinySweepExperiment()
        let out = cli.path("out")
        let first = try cli.run(["sweep", experiment, "--seeds", "2", "--jobs", "2", "--out", out], environment: noScheduler)
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out.contains("ran 4 points (0 failed), skipped 0"))
        #expect(first.out.contains("points/min"))
        let ids = ["p000-policy=infaas-seed=1", "p001-policy=infaas-seed=2", "p002-policy=static-seed=1", "p003-policy=static-seed=2"]
        for id in ids {
            for file in ["results.h5", "summary.json", "point.json"] {
                #expect(FileManager.default.fileExists(atPath: "\(out)/\(id)/\(file)"), "\(id)/\(file)")
            }
        }
        let rows = try cli.indexRows(out)
        #expect(rows.count == 5)
        #expect(rows[0] == "id,policy,seed,queries,served,slo_violation_pct,throughput_qps,p50_ms,p99_ms,total_cost_usd,mean_accuracy,"
            + "outcome_met,outcome_late,outcome_expired_in_queue,outcome_shed,outcome_rejected,cold_starts,cold_start_wait_ms_mean,"
            + "oracle_cost_usd,oracle_slo_violation_pct,cost_over_oracle,violation_points_over_oracle,"
            + "a.queries,a.slo_violation_pct,a.mean_latency_ms,a.mean_accuracy")
        #expect(rows[1].hasPrefix("p000-policy=infaas-seed=1,infaas,1,"))
        #expect(rows[4].hasPrefix("p003-policy=static-seed=2,static,2,"))
        let summary = try String(contentsOfFile: "\(out)/\(ids[3])/summary.json", encoding: .utf8)
        #expect(summary.contains("\"policy\" : \"static\"") && summary.contains("\"seed\" : 2"))

        // An interrupted point: its folder is gone and a half-written .partial is left.
        try FileManager.default.removeItem(atPath: "\(out)/\(ids[1])")
        try FileManager.default.createDirectory(atPath: "\(out)/\(ids[1]).partial", withIntermediateDirectories: true)
        let dry = try cli.run(["sweep", experiment, "--seeds", "2", "--out", out, "--dry-run"], environment: noScheduler)
        #expect(dry.status == 0)
        #expect(dry.out.contains("pending  \(ids[1])"))
        #expect(dry.out.contains("done     \(ids[0])"))
        let again = try cli.run(["sweep", experiment, "--seeds", "2", "--out", out], environment: noScheduler)
        #expect(again.status == 0, "\(again.err)")
        #expect(again.out.contains("ran 1 points (0 failed), skipped 3 already done"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/\(ids[1])/summary.json"))
        #expect(!FileManager.default.fileExists(atPath: "\(out)/\(ids[1]).partial"))
        #expect(try cli.indexRows(out).count == 5)
    }

    @Test func shardsFromSchedulerVariablesCombineIntoOneIndex() throws {
        let cli = CLI()
        let experiment = try cli.tinySweepExperiment()
        let out = cli.path("out")
        var environment = noScheduler
        environment["SLURM_ARRAY_TASK_ID"] = "0"
        environment["SLURM_ARRAY_TASK_COUNT"] = "2"
        let slurm = try cli.run(["sweep", experiment, "--seeds", "2", "--out", out], environment: environment)
        #expect(slurm.status == 0, "\(slurm.err)")
        #expect(slurm.err.contains("shard 0/2"))
        #expect(try cli.indexRows(out).count == 3)  // points 0 and 2
        var kubernetes = noScheduler
        kubernetes["JOB_COMPLETION_INDEX"] = "1"
        let k8s = try cli.run(["sweep", experiment, "--seeds", "2", "--out", out, "--shard-count", "2"], environment: kubernetes)
        #expect(k8s.status == 0, "\(k8s.err)")
        #expect(k8s.out.contains("ran 2 points"))
        let index = try cli.run(["sweep", experiment, "--seeds", "2", "--out", out, "--index-only"], environment: noScheduler)
        #expect(index.status == 0)
        #expect(try cli.indexRows(out).count == 5)
    }

    @Test func failedPointIsReportedAndTheSweepExitsNonZeroAfterTheOthers() throws {
        let cli = CLI()
        let path = cli.path("infeasible.yaml")
        try """
            name: infeasible
            duration_s: 2
            profiles: \(CLI.root.appendingPathComponent("profiles/catalogue.csv").path)
            workers: {cpu: 1}
            max_workers: {cpu: 1}
            applications:
              - target: classification/imagenet
                min_accuracy: 60
                slo_ms: 300
                arrivals: {process: poisson, rate: 10}
            sweep:
              min_accuracy: [60, 99]
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let out = cli.path("out")
        let result = try cli.run(["sweep", path, "--seeds", "1", "--out", out], environment: noScheduler)
        #expect(result.status != 0)
        #expect(result.err.contains("FAILED p001-min_accuracy=99-seed=1"))
        #expect(result.err.contains("no variant meets"))
        #expect(FileManager.default.fileExists(atPath: "\(out)/p000-min_accuracy=60-seed=1/summary.json"))
        #expect(try cli.indexRows(out).count == 2)
    }

    @Test func simulateRunsTheFirstPointAndTakesSetOverrides() throws {
        let cli = CLI()
        let experiment = try cli.tinySweepExperiment()
        let first = try cli.run(["simulate", "--experiment", experiment, "-o", cli.path("a"), "--json"])
        #expect(first.status == 0, "\(first.err)")
        #expect(first.err.contains("note:") && first.err.contains("running the first (policy=infaas)"))
        #expect(first.out.contains("\"policy\" : \"infaas\""))
        let set = try cli.run(["simulate", "--experiment", experiment, "--set", "policy=static", "--set", "rate_scale=2", "-o", cli.path("b"), "--json"])
        #expect(set.status == 0, "\(set.err)")
        #expect(!set.err.contains("note:"))
        #expect(set.out.contains("\"policy\" : \"static\""))
        let bad = try cli.run(["simulate", "--experiment", experiment, "--set", "policy_config.utilisation_threshold=50"])
        #expect(bad.status != 0)
        #expect(bad.err.contains("--set policy_config.utilisation_threshold=50"))
        #expect(bad.err.contains("unknown policy_config key \"utilisation_threshold\""))
    }
}

/// The example policy of docs/adding-a-policy.md is reachable from every entry point by name.
@Suite("slo-autoscaler by name")
struct SLOAutoscalerCLITests {
    /// Ten minutes of a load that steps from 5 to 80 queries/s and back on one CPU worker: the
    /// autoscaler must add replicas for the step (its decisions differ from the reference's).
    func experiment(_ cli: CLI, sweep: Bool) throws -> String {
        let path = cli.path(sweep ? "slo-sweep.yaml" : "slo.yaml")
        try """
            name: slo\(sweep ? "-sweep" : "")
            seed: 1
            duration_s: 600
            profiles: \(CLI.root.appendingPathComponent("profiles/catalogue.csv").path)
            policy: slo-autoscaler
            policy_config: {slo_downscale_periods: 5}
            workers: {cpu: 1}
            max_workers: {cpu: 2}
            applications:
              - name: a
                target: resnet50
                slo_ms: 400
                arrivals: {process: steps, steps: [[0, 5], [120, 80], [360, 5]]}
            \(sweep ? "sweep:\n  policy: [infaas, slo-autoscaler]" : "")
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func simulateRunsItAndItScalesReplicas() throws {
        let cli = CLI()
        let result = try cli.run(["simulate", "--experiment", try experiment(cli, sweep: false), "--json", "--quiet", "-o", cli.path("out")])
        #expect(result.status == 0, "\(result.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        #expect(json["policy"] as? String == "slo-autoscaler")
        #expect((json["replicas_added"] as? Int ?? 0) > 0, "\(result.out.prefix(3000))")
    }

    @Test func sweepRunsItBesideTheReference() throws {
        let cli = CLI()
        let out = cli.path("out")
        let result = try cli.run(["sweep", try experiment(cli, sweep: true), "--seeds", "1", "--jobs", "1", "--out", out], environment: noScheduler)
        #expect(result.status == 0, "\(result.err)")
        let rows = try cli.indexRows(out)
        #expect(rows.count == 3)
        #expect(rows.contains { $0.contains(",slo-autoscaler,1,") }, "\(rows)")
    }

    @Test func anUnknownPolicyListsTheRegisteredOnes() throws {
        let cli = CLI()
        let result = try cli.run(["simulate", "--experiment", try experiment(cli, sweep: false), "--policy", "slo-autoscalr"])
        #expect(result.status != 0)
        #expect(result.err.contains("slo-autoscaler") && result.err.contains("round-robin-dynamic"), "\(result.err)")
    }
}
