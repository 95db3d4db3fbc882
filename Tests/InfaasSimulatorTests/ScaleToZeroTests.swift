import InfaasCore
import InfaasPolicies
import InfaasSimulator
import InfaasTraces
import Testing

/// Scale to zero in the simulator (issue 16 item 4): replica and worker floors, the distinct
/// idle delays of the last replica and the last worker, and the bounded buffer that holds
/// queries while a worker boots or a model loads. One CPU worker class, exact service times;
/// every time below is simulated (a CPU worker boots in 60 s).
@Suite struct ScaleToZeroTests {
    /// Runs `arrivals` (ms) of one application on variant `v` (10 ms service, `loadMs` load).
    func run(arrivals: [Double], loadMs: Double = 1, deadlineMs: Double = 0, configure: (inout PolicyConfig) -> Void) throws -> SimulationMetrics {
        let catalogue = try PolicyCatalogue([variant("v", loadMs: loadMs)])
        let limits = ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 1])
        var config = PolicyConfig()
        config.modelAutoscaler = .individual
        config.ignoreBlacklists = true
        config.workerGuardEnabled = false
        configure(&config)
        try config.validate()
        let policy = try PolicyRegistry.make("infaas", PolicyContext(catalogue: catalogue, limits: limits, config: config))
        let app = Application(name: "app", targetText: "v", target: .variant(0), batch: 1, sloMs: 0, minAccuracy: 0, priority: .high,
                              deadlineMs: deadlineMs)
        var options = SimulationOptions()
        options.latencyNoise = false
        options.recordQueries = true
        var sim = try Simulation(policy: policy, applications: [app], limits: limits, options: options)
        var stream = ListedArrivals(arrivals.map { ($0, 0) })
        return try sim.run(&stream)
    }

    /// Lets the only CPU worker go after 3 idle VM iterations (6 s), with room for `buffer` held queries.
    func zeroWorkers(buffer: Int = 10) -> (inout PolicyConfig) -> Void {
        { config in
            config.minWorkersCPU = 0
            config.lastWorkerIdleIterations = 3
            config.coldStartBuffer = buffer
            config.backoffIterations = 1
        }
    }

    @Test func anIdleVariantUnloadsItsLastReplicaByDefaultAndTheNextQueryIsAColdStart() throws {
        let m = try run(arrivals: [0, 40_000]) { _ in }
        #expect(m.replicasRemoved == 1)
        #expect(m.coldStarts.loads == 2)
        #expect(m.coldStarts.queries == 2)
        #expect(m.served == 2)
    }

    @Test(arguments: ["class", "variant"])
    func aVariantAtItsMinReplicasKeepsItsLastReplica(_ scope: String) throws {
        let m = try run(arrivals: [0, 40_000]) { config in
            if scope == "class" { config.minReplicasCPU = 1 } else { config.minReplicasByVariant = ["v": 1] }
        }
        #expect(m.replicasRemoved == 0)
        #expect(m.coldStarts.loads == 1, "only the first query waits for a load")
        #expect(m.served == 2)
    }

    @Test func theLastReplicaWaitsTheScaleToZeroDelayNotTheClassDelay() throws {
        // CPU's delay is 10 arbiter periods (≈ 11 s); 30 for the last replica keeps it at 20 s…
        let kept = try run(arrivals: [0, 20_000]) { $0.scaleToZeroDelay = 30 }
        #expect(kept.replicasRemoved == 0)
        #expect(kept.coldStarts.loads == 1)
        // …and 2 unloads it before 5 s, where the class's delay would still have kept it.
        let dropped = try run(arrivals: [0, 5_000]) { $0.scaleToZeroDelay = 2 }
        #expect(dropped.replicasRemoved == 1)
        #expect(dropped.coldStarts.loads == 2)
        let byDefault = try run(arrivals: [0, 5_000]) { _ in }
        #expect(byDefault.replicasRemoved == 0)
    }

    @Test func theLastWorkerGoesWhenIdleAndAQueryForItWakesOneAndIsServed() throws {
        // A 2 min deadline: the default 10 s would expire the query during the 60 s boot.
        let m = try run(arrivals: [0, 60_000], deadlineMs: 120_000, configure: zeroWorkers())
        #expect(m.workersRetired[.cpu] == 1, "the idle worker went")
        #expect(m.coldStarts.workersWoken == 1)
        #expect(m.workersLaunched[.cpu] == 1)
        #expect(m.coldStarts.held == 1)
        #expect(m.served == 2, "the query that found no worker was held, not failed")
        #expect(m.outcomes.rejected == 0)
        // It waited for the boot (60 s) and the load.
        #expect(m.coldStarts.waitMaxMs >= 60_000)
        let second = try #require(m.queries.first { $0.arrival > 59 })
        #expect(second.finish - second.arrival >= 60)
    }

    @Test func theLastWorkerStaysWithTheReferenceFloor() throws {
        let m = try run(arrivals: [0, 60_000]) { $0.coldStartBuffer = 10 }
        #expect(m.workersRetired[.cpu, default: 0] == 0)
        #expect(m.coldStarts.workersWoken == 0)
        #expect(m.coldStarts.held == 0)
    }

    @Test func heldQueriesBeyondTheBufferAreShed() throws {
        let m = try run(arrivals: [0, 60_000, 60_001, 60_002, 60_003, 60_004], deadlineMs: 120_000, configure: zeroWorkers(buffer: 2))
        #expect(m.coldStarts.held == 2)
        #expect(m.served == 3)
        #expect(m.outcomes.shed == 3)
        #expect(m.rejectedByReason[.queueFull] == 3)
        #expect(m.coldStarts.workersWoken == 1, "one worker is woken for all of them")
    }

    @Test func aHeldQueryPastItsDeadlineExpiresInsteadOfBeingRouted() throws {
        // A 5 s deadline and a 60 s boot: the held query is answered expired-in-queue, never run.
        let m = try run(arrivals: [0, 60_000], deadlineMs: 5_000, configure: zeroWorkers())
        #expect(m.served == 1)
        #expect(m.outcomes.expiredInQueue == 1)
        let second = try #require(m.queries.first { $0.arrival > 59 })
        #expect(second.outcome == .expiredInQueue)
        #expect(second.finish - second.arrival >= 5)
    }

    @Test func aColdLoadHoldsAtMostTheBufferAndShedsTheRest() throws {
        let m = try run(arrivals: [0, 1, 2, 3, 4], loadMs: 1_000) { $0.coldStartBuffer = 2 }
        #expect(m.served == 2)
        #expect(m.outcomes.shed == 3)
        #expect(m.coldStarts.queries == 2)
        #expect(m.coldStarts.waitMaxMs >= 999)
    }

    @Test func aColdLoadWithoutABufferHoldsEveryQueryAsTheReference() throws {
        let m = try run(arrivals: [0, 1, 2, 3, 4], loadMs: 1_000) { _ in }
        #expect(m.served == 5)
        #expect(m.outcomes.shed == 0)
    }

    @Test func minWorkersZeroWithoutAColdStartBufferIsRefusedWithTheFix() throws {
        var config = PolicyConfig()
        config.minWorkersGPU = 0
        #expect {
            try config.validate()
        } throws: { error in
            let e = error as? ValidationError
            return e?.field == "min_workers_gpu" && e?.reason.contains("cold_start_buffer") == true
        }
    }

    @Test func minReplicasByVariantNamesAreCheckedAndTheErrorSaysHow() throws {
        var config = PolicyConfig()
        #expect(throws: ValidationError.self) { try config.set("min_replicas_by_variant", to: "resnet50=x") }
        #expect(throws: ValidationError.self) { try config.set("min_replicas_by_variant", to: "a=1,a=2") }
        try config.set("min_replicas_by_variant", to: " b=2, a=1 ")
        #expect(config.minReplicasByVariant == ["a": 1, "b": 2])
        #expect(PolicyConfig.key(named: "min_replicas_by_variant")?.value(in: config) == "a=1,b=2")
    }
}
