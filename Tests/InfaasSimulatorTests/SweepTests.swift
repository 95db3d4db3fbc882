import Foundation
import Testing
import InfaasCore
import InfaasSimulator

/// An experiment with two applications and the given `sweep:` section (from line 13).
func sweepExperiment(_ sweep: String) -> String {
    writeFile("s.yaml", """
        name: s
        seed: 5
        profiles: \(catalogueCSV)
        workers: {cpu: 1}
        max_workers: {cpu: 2}
        applications:
          - name: a
            target: resnet50
            arrivals: {process: poisson, rate: 5, rate_scale: 2}
          - name: b
            target: classification/imagenet
            arrivals: {process: poisson, rate: 5}
        \(sweep)
        """)
}

@Suite("Sweeps: grid, overrides, shards, index")
struct SweepTests {
    @Test func gridIsTheCartesianProductFirstKeySlowestThenSeeds() throws {
        let spec = try ExperimentSpec.load(path: sweepExperiment("""
            sweep:
              policy: [infaas, static]
              policy_config.backoff_iterations: [5, 15, 30]
            """))
        let plan = SweepPlan(spec: spec, seeds: 2)
        #expect(plan.keys == ["policy", "policy_config.backoff_iterations"])
        #expect(plan.seeds == [5, 6])
        #expect(plan.points.count == 12)
        #expect(plan.points.map(\.index) == Array(0..<12))
        #expect(plan.points[0].id == "p000-policy=infaas-backoff_iterations=5-seed=5")
        #expect(plan.points[1].id == "p001-policy=infaas-backoff_iterations=5-seed=6")
        #expect(plan.points[2].id == "p002-policy=infaas-backoff_iterations=15-seed=5")
        #expect(plan.points[11].id == "p011-policy=static-backoff_iterations=30-seed=6")
        #expect(plan.points[9].setArguments == ["--set", "policy=static", "--set", "policy_config.backoff_iterations=15"])
        #expect(Set(plan.points.map(\.id)).count == 12)
        // The same file gives the same ids; a seed base moves only the seeds.
        #expect(SweepPlan(spec: spec, seeds: 2).points == plan.points)
        #expect(SweepPlan(spec: spec, seeds: 1, seedBase: 100).points.map(\.seed) == Array(repeating: 100, count: 6))
    }

    @Test func idsAreSanitised() throws {
        let spec = try ExperimentSpec.load(path: sweepExperiment("""
            sweep:
              applications.a.slo_ms: [12.5]
            """))
        #expect(SweepPlan(spec: spec, seeds: 1).points.map(\.id) == ["p000-applications.a.slo_ms=12.5-seed=5"])
        let spaced = try ExperimentSpec.load(path: sweepExperiment("sweep:\n  policy: [\"static\"]\n  duration_s: [\"1e1\"]"))
        #expect(SweepPlan(spec: spec, seeds: 1).points[0].id.allSatisfy { $0.isLetter || $0.isNumber || "._=+-".contains($0) })
        #expect(SweepPlan(spec: spaced, seeds: 1).points[0].id == "p000-policy=static-duration_s=1e1-seed=5")
    }

    @Test func noSweepSectionIsOnePointPerSeed() throws {
        let spec = try ExperimentSpec.load(path: sweepExperiment(""))
        #expect(spec.sweep.isEmpty)
        #expect(SweepPlan(spec: spec, seeds: 3).points.map(\.id) == ["p000-seed=5", "p001-seed=6", "p002-seed=7"])
    }

    @Test func overridesChangeTheExperiment() throws {
        var spec = try ExperimentSpec.load(path: sweepExperiment(""))
        let set = { (text: String) throws in try ExperimentOverride(flag: text) }
        try spec.apply([set("policy=static"), set("policy_config.utilization_threshold=60"), set("policy_config.scale_in_iterations=3"),
                        set("rate_scale=3"), set("max_workers.gpu=2"), set("workers.gpu=1"), set("slo_ms=250"),
                        set("applications.b.min_accuracy=77.5"), set("duration_s=12"), set("seed=9")])
        #expect(spec.policy == "static")
        #expect(spec.policyConfig.utilizationThreshold == 60)
        #expect(spec.policyConfig.scaleInIterations == 3)
        #expect(spec.applications.map(\.rateScale) == [6, 3])  // a multiplier on each application's own
        #expect(spec.initialWorkers[.gpu] == 1 && spec.maxWorkers[.gpu] == 2)
        #expect(spec.applications.map(\.sloMs) == [250, 250])
        #expect(spec.applications.map(\.minAccuracy) == [0, 77.5])
        #expect(spec.durationSeconds == 12 && spec.options.durationSeconds == 12)
        #expect(spec.seed == 9 && spec.options.seed == 9)
    }

    @Test(arguments: [
        ("polcy: [static]", "unknown sweep key \"polcy\"", 14),
        ("policy: [statik]", "unknown policy \"statik\"", 14),
        ("policy_config.backoff_iterations: [5, lots]", "policy_config.backoff_iterations must be an integer", 14),
        ("policy_config.backof_iterations: [5]", "unknown policy_config key \"backof_iterations\"", 14),
        ("workers.tpu: [1]", "unknown hardware class \"tpu\"", 14),
        ("applications.zz.slo_ms: [10]", "no application named \"zz\"", 14),
        ("min_accuracy: [50, 101]", "min_accuracy must be a percentage", 14),
        ("seed: [1, 2]", "seed is not swept", 14),
        ("rate_scale: 2", "sweep.rate_scale must be a non-empty list", 14),
    ])
    func badSweepKeysAndValuesNameTheLineAndKey(sweep: String, message: String, line: Int) {
        let path = sweepExperiment("sweep:\n  \(sweep)")
        let error = #expect(throws: ExperimentError.self) { try ExperimentSpec.load(path: path) }
        #expect(error?.message.contains(message) == true, "\(error?.description ?? "")")
        #expect(error?.location == "\(path):\(line)")
    }

    @Test func badSetFlagsNameTheFlag() throws {
        var spec = try ExperimentSpec.load(path: sweepExperiment(""))
        let missing = #expect(throws: ExperimentError.self) { try ExperimentOverride(flag: "policy") }
        #expect(missing?.location == "--set policy")
        let bad = #expect(throws: ExperimentError.self) { try spec.apply([ExperimentOverride(flag: "workers.cpu=many")]) }
        #expect(bad?.location == "--set workers.cpu=many")
        #expect(bad?.message.contains("workers.cpu must be an integer") == true)
        let limits = #expect(throws: ExperimentError.self) { try spec.apply([ExperimentOverride(flag: "workers.cpu=5")]) }
        #expect(limits?.location == "--set workers.cpu=5")
    }

    @Test(arguments: [1, 2, 3, 7, 40])
    func shardsPartitionThePoints(count: Int) throws {
        let spec = try ExperimentSpec.load(path: sweepExperiment("sweep:\n  policy: [infaas, static, max-accuracy]\n  rate_scale: [1, 2]"))
        let points = SweepPlan(spec: spec, seeds: 3).points
        var seen: [Int] = []
        for i in 0..<count {
            let shard = try SweepShard.parse("\(i)/\(count)")
            seen += points.filter(shard.contains).map(\.index)
        }
        #expect(seen.sorted() == points.map(\.index))  // union is everything, and nothing twice
    }

    @Test func shardComesFromTheFlagOrASchedulersArrayIndex() throws {
        func resolve(_ env: [String: String], flag: String? = nil, count: Int? = nil) throws -> SweepShard? {
            try SweepShard.resolve(flag: flag, shardCount: count, environment: env)
        }
        #expect(try resolve([:]) == nil)
        #expect(try resolve(["SLURM_ARRAY_TASK_ID": "3"], flag: "1/4") == SweepShard(index: 1, count: 4))
        #expect(try resolve(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "5"]) == SweepShard(index: 2, count: 5))
        #expect(try resolve(["SLURM_ARRAY_TASK_ID": "12", "SLURM_ARRAY_TASK_MIN": "10", "SLURM_ARRAY_TASK_MAX": "13"]) == SweepShard(index: 2, count: 4))
        #expect(try resolve(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "6", "SLURM_ARRAY_TASK_STEP": "2"])
                == SweepShard(index: 2, count: 4))
        #expect(try resolve(["JOB_COMPLETION_INDEX": "1"], count: 3) == SweepShard(index: 1, count: 3))
        #expect(try resolve(["JOB_COMPLETION_INDEX": "1", "INFAAS_SHARD_COUNT": "2"]) == SweepShard(index: 1, count: 2))
        #expect(try resolve(["AWS_BATCH_JOB_ARRAY_INDEX": "0", "INFAAS_SHARD_COUNT": "6"]) == SweepShard(index: 0, count: 6))
        #expect(throws: ExperimentError.self) { try resolve(["AWS_BATCH_JOB_ARRAY_INDEX": "0"]) }
        #expect(throws: ExperimentError.self) { try resolve(["JOB_COMPLETION_INDEX": "4"], count: 4) }
        #expect(throws: ExperimentError.self) { try resolve([:], flag: "2/2") }
        #expect(throws: ExperimentError.self) { try resolve([:], flag: "one/2") }
    }

    @Test func indexHasOneRowPerFinishedPointInPointOrder() throws {
        let spec = try ExperimentSpec.load(path: sweepExperiment("sweep:\n  policy: [infaas, static]"))
        let plan = SweepPlan(spec: spec, seeds: 2)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)").path
        let results = SweepResults(directory: directory)
        for point in plan.points.reversed() {
            let folder = point.index == 2 ? results.partialFolder(point) : results.folder(point)  // 2 is unfinished
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try SweepPointRecord(experiment: "s", experimentFile: spec.path, point: point, command: []).json()
                .write(toFile: folder + "/point.json", atomically: true, encoding: .utf8)
            let summary = """
                {"queries": \(100 + point.index), "served": 90, "slo_violation_percent": 1.5, "throughput_qps": 9.25,
                 "latency_ms": {"p50": 3, "p95": 4, "p99": 5.5, "mean": 3}, "total_cost_usd": 0.125, "mean_accuracy": null,
                 "outcomes": {"met": 80, "late": 10, "expired_in_queue": 4, "shed": 3, "rejected": 3},
                 "cold_starts": {"count": 2, "wait_ms_mean": 61000.5},
                 "oracle": {"cost_usd": 0.05, "slo_violation_percent": 0.5, "cost_ratio": 2.5, "violation_gap_points": 1}}
                """
            try summary.write(toFile: folder + "/summary.json", atomically: true, encoding: .utf8)
        }
        #expect(results.isFinished(plan.points[0]) && results.isFinished(plan.points[1]) && !results.isFinished(plan.points[2]))
        #expect(try results.writeIndex(keys: plan.keys, only: [plan.points[0].id]) == 1)  // another grid's points are left out
        #expect(try results.writeIndex(keys: plan.keys) == 3)
        let lines = try String(contentsOfFile: directory + "/index.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines == [
            "id,policy,seed,queries,served,slo_violation_pct,throughput_qps,p50_ms,p99_ms,total_cost_usd,mean_accuracy,"
            + "outcome_met,outcome_late,outcome_expired_in_queue,outcome_shed,outcome_rejected,cold_starts,cold_start_wait_ms_mean,"
            + "oracle_cost_usd,oracle_slo_violation_pct,cost_over_oracle,violation_points_over_oracle",
            "p000-policy=infaas-seed=5,infaas,5,100,90,1.5,9.25,3,5.5,0.125,,80,10,4,3,3,2,61000.5,0.05,0.5,2.5,1",
            "p001-policy=infaas-seed=6,infaas,6,101,90,1.5,9.25,3,5.5,0.125,,80,10,4,3,3,2,61000.5,0.05,0.5,2.5,1",
            "p003-policy=static-seed=6,static,6,103,90,1.5,9.25,3,5.5,0.125,,80,10,4,3,3,2,61000.5,0.05,0.5,2.5,1",
        ])
        // Seeds pooled per configuration: mean and 95 % half-width (t with 1 degree of freedom: 12.706 · s/√n).
        let pooled = try String(contentsOfFile: directory + "/configurations.csv", encoding: .utf8).split(separator: "\n")
        #expect(pooled.first?.hasPrefix("policy,seeds,queries_mean,queries_ci95,served_mean,served_ci95,") == true)
        #expect(pooled.dropFirst() == ["infaas,2,100.5,6.353,90,0,1.5,0,9.25,0,3,0,5.5,0,0.125,0,,,80,0,10,0,4,0,3,0,3,0,2,0,61000.5,0,0.05,0,0.5,0,2.5,0,1,0",
                                       "static,1,103,,90,,1.5,,9.25,,3,,5.5,,0.125,,,,80,,10,,4,,3,,3,,2,,61000.5,,0.05,,0.5,,2.5,,1,"])
    }

    @Test func indexAndConfigurationsSplitEveryMetricByApplication() throws {
        let spec = try ExperimentSpec.load(path: sweepExperiment("sweep:\n  policy: [infaas]"))
        let plan = SweepPlan(spec: spec, seeds: 2)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-\(UUID().uuidString)").path
        let results = SweepResults(directory: directory)
        for point in plan.points {
            let folder = results.folder(point)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try SweepPointRecord(experiment: "s", experimentFile: spec.path, point: point, command: []).json()
                .write(toFile: folder + "/point.json", atomically: true, encoding: .utf8)
            let v = 2.0 + Double(point.index) * 2  // web: 2 % then 4 %
            let summary = """
                {"queries": 30, "served": 30, "slo_violation_percent": 1, "throughput_qps": 1, "latency_ms": {"p50": 3, "p99": 5},
                 "total_cost_usd": 1, "mean_accuracy": 75,
                 "applications": [{"name": "web", "queries": 10, "slo_violation_percent": \(v), "mean_latency_ms": 7, "mean_accuracy": 76},
                                  {"name": "batch", "queries": 20, "slo_violation_percent": 0.5, "mean_latency_ms": 90, "mean_accuracy": null}]}
                """
            try summary.write(toFile: folder + "/summary.json", atomically: true, encoding: .utf8)
        }
        #expect(try results.writeIndex(keys: plan.keys) == 2)
        let lines = try String(contentsOfFile: directory + "/index.csv", encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.hasSuffix(",outcome_rejected,cold_starts,cold_start_wait_ms_mean,oracle_cost_usd,oracle_slo_violation_pct,cost_over_oracle,violation_points_over_oracle,"
                                       + "web.queries,web.slo_violation_pct,web.mean_latency_ms,web.mean_accuracy,"
                                       + "batch.queries,batch.slo_violation_pct,batch.mean_latency_ms,batch.mean_accuracy") == true)
        #expect(lines.dropFirst().first?.hasSuffix(",75,,,,,,,,,,,,10,2,7,76,20,0.5,90,") == true, "\(lines)")
        let pooled = try String(contentsOfFile: directory + "/configurations.csv", encoding: .utf8).split(separator: "\n")
        #expect(pooled.first?.contains("web.slo_violation_pct_mean,web.slo_violation_pct_ci95") == true)
        // web's violations over the two seeds: 2 and 4 → mean 3, half-width 12.706 · √2/√2 = 12.706.
        #expect(pooled.dropFirst().first?.contains(",10,0,3,12.706,7,0,76,0,20,0,0.5,0,90,0,,") == true, "\(pooled)")
    }
}
