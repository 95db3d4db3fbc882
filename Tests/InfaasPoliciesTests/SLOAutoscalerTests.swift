import InfaasCore
@testable import InfaasPolicies
import Testing

/// The worked example of docs/adding-a-policy.md: a pure decision function, hysteresis outside it.
@Suite struct SLOAutoscalerTests {
    let config = PolicyConfig()

    @Test func wantsReplicasForTheQueriesInTheSystem() {
        // 40 q/s at 100 ms: 4 queries in the system, 1 per replica by default.
        #expect(SLOAttainmentAutoscaler.desiredReplicas(current: 1, qps: 40, latencyMs: 100, attainment: 1, sloMs: 150, config: config) == 4)
    }

    @Test func addsAReplicaWhileTooFewQueriesMeetTheirSLO() {
        // Little's law asks for 1, but only 80 % met their SLO (target 95 %).
        #expect(SLOAttainmentAutoscaler.desiredReplicas(current: 2, qps: 5, latencyMs: 100, attainment: 0.8, sloMs: 150, config: config) == 3)
    }

    @Test func keepsItsReplicasUnlessLatencyIsWellInsideTheSLO() {
        // Demand fits one replica, but latency 100 ms is above half the 150 ms SLO: keep 3.
        #expect(SLOAttainmentAutoscaler.desiredReplicas(current: 3, qps: 5, latencyMs: 100, attainment: 1, sloMs: 150, config: config) == 3)
        // At 40 ms (≤ 75 ms) it may shrink to what Little's law asks for.
        #expect(SLOAttainmentAutoscaler.desiredReplicas(current: 3, qps: 5, latencyMs: 40, attainment: 1, sloMs: 150, config: config) == 1)
    }

    @Test func anIdleGroupWantsNone() {
        #expect(SLOAttainmentAutoscaler.desiredReplicas(current: 2, qps: 0, latencyMs: 0, attainment: 1, sloMs: 150, config: config) == 0)
    }

    func fixture(qps: Double, latencyMs: Double, attainment: Double, replicas: Int = 1) throws -> (Fixture, Int) {
        var f = try Fixture([variant("cpu_a", batch1: 50)], cpu: 1)
        let g = f.run("cpu_a", on: 0, replicas: replicas, qps: qps)
        f.snapshot.groups[g].averageLatencyMs = latencyMs
        f.snapshot.groups[g].averageSLOMs = 150
        f.snapshot.groups[g].sloAttainment = attainment
        return (f, g)
    }

    @Test func scaleUpWaitsForItsPeriods() throws {
        var c = config
        c.sloUpscalePeriods = 2
        var (f, g) = try fixture(qps: 40, latencyMs: 100, attainment: 0.5)
        let rule = SLOAttainmentAutoscaler(catalogue: f.catalogue, config: c)
        let first = rule.plan(worker: 0, snapshot: f.snapshot)
        #expect(first.actions.isEmpty)
        #expect(first.pendingScaleUp.first { $0.group == g }?.count == 1)
        f.snapshot.groups[g].pendingScaleUp = 1
        let second = rule.plan(worker: 0, snapshot: f.snapshot)
        // The worker has 8 cores: it wants 4 and room allows it (cap max_replicas_cpu = 2).
        #expect(second.actions == [.addReplicas(group: g, count: c.maxReplicasCPU - 1)])
    }

    @Test func scaleDownWaitsForItsPeriods() throws {
        var (f, g) = try fixture(qps: 2, latencyMs: 30, attainment: 1, replicas: 2)
        let rule = SLOAttainmentAutoscaler(catalogue: f.catalogue, config: config)
        f.snapshot.groups[g].pendingScaleDown = config.sloDownscalePeriods - 2
        #expect(rule.plan(worker: 0, snapshot: f.snapshot).actions.isEmpty)
        f.snapshot.groups[g].pendingScaleDown = config.sloDownscalePeriods - 1
        #expect(rule.plan(worker: 0, snapshot: f.snapshot).actions == [.removeReplica(group: g)])
    }

    @Test func neverAddsPastTheWorkersRoom() throws {
        var c = config
        c.maxReplicasCPU = 100
        var (f, g) = try fixture(qps: 400, latencyMs: 100, attainment: 0.5)
        f.snapshot.workers[0].usedCores = f.snapshot.workers[0].cores - 2
        let plan = SLOAttainmentAutoscaler(catalogue: f.catalogue, config: c).plan(worker: 0, snapshot: f.snapshot)
        #expect(plan.actions == [.addReplicas(group: g, count: 2)])
    }
}

@Suite struct PolicyRegistryTests {
    @Test func everyPresetAndTheExampleAreRegistered() {
        for name in StandardPolicySet.presetNames + ["slo-autoscaler"] { #expect(PolicyRegistry.names.contains(name)) }
    }

    @Test func anUnknownNameListsTheRegisteredOnes() {
        #expect(throws: ValidationError.self) { try PolicyRegistry.entry(named: "slo-autoscalr") }
        do { _ = try PolicyRegistry.entry(named: "slo-autoscalr") } catch {
            #expect(error.reason.contains("slo-autoscaler"))
            #expect(error.reason.contains("round-robin-dynamic"))
        }
    }

    @Test func theExampleRunsItsOwnModelAutoscaler() throws {
        let catalogue = try PolicyCatalogue([variant("cpu_a", batch1: 50)])
        let policy = try PolicyRegistry.make("slo-autoscaler", PolicyContext(catalogue: catalogue, limits: ClusterLimits()))
        var snapshot = ClusterSnapshot(variantCount: 1)
        snapshot.addWorker(WorkerState(id: 0, name: "w", hardware: .cpu, status: .ready, startedAt: .zero, cores: 8, acceleratorMemoryMB: 0, neuronCores: 0))
        let g = snapshot.ensureGroup(variant: 0, worker: 0)
        snapshot.groups[g].replicas = 1
        snapshot.groups[g].qps = 40
        snapshot.groups[g].averageLatencyMs = 100
        snapshot.groups[g].averageSLOMs = 150
        // Little's law wants 4 replicas (40 q/s × 100 ms); the CPU cap (max_replicas_cpu = 2) allows one more.
        #expect(policy.modelPlan(worker: 0, snapshot: snapshot).actions == [.addReplicas(group: g, count: 1)])
    }
}

@Suite struct PolicyConfigTableTests {
    @Test func everyFieldHasOneKey() {
        let fields = Mirror(reflecting: PolicyConfig()).children.count
        #expect(PolicyConfig.keys.count == fields)
        #expect(Set(PolicyConfig.keys.map(\.name)).count == PolicyConfig.keys.count)
    }

    @Test func everyKeyRoundTripsItsDefault() throws {
        for key in PolicyConfig.keys {
            var c = PolicyConfig()
            try key.set(key.value(in: PolicyConfig()), in: &c)
            #expect(c == PolicyConfig(), "\(key.name)")
        }
    }

    @Test func valuesOutsideTheBoundsNameTheKeyAndTheRange() {
        var c = PolicyConfig()
        do { try c.set("utilization_threshold", to: "0.8e3"); Issue.record("accepted 800 %") } catch {
            #expect(error.field == "utilization_threshold")
            #expect(error.reason.contains("0.001…100"))
        }
        #expect(throws: ValidationError.self) { try c.set("monitor_interval_ms", to: "1e300") }
        #expect(throws: ValidationError.self) { try c.set("decision_mode", to: "9") }
        #expect(throws: ValidationError.self) { try c.set("accuracy_bin_edges", to: "0,70,50") }
    }

    @Test func anUnknownKeyGetsTheNearestOne() {
        var c = PolicyConfig()
        do { try c.set("utilisation_threshold", to: "60"); Issue.record("accepted") } catch {
            #expect(error.reason.contains("utilization_threshold"))
        }
    }

    @Test func settingsShipOnlyWhatDiffers() throws {
        var c = PolicyConfig()
        try c.apply(settings: ["utilization_threshold=60", "slo_downscale_periods=5"])
        #expect(c.settings() == ["slo_downscale_periods=5", "utilization_threshold=60"] || Set(c.settings()) == ["slo_downscale_periods=5", "utilization_threshold=60"])
        var shipped = PolicyConfig()
        try shipped.apply(settings: c.settings())
        #expect(shipped == c)
    }
}

@Suite struct TickScheduleTests {
    @Test func jobsFallAtMultiplesOfTheirPeriods() {
        var s = TickSchedule(config: PolicyConfig())
        #expect(s.due(at: .milliseconds(999)).isEmpty)
        #expect(s.due(at: .milliseconds(1000)) == [.monitor, .arbiter])
        #expect(s.due(at: .milliseconds(2000)) == [.monitor, .arbiter, .vm])
        #expect(s.due(at: .milliseconds(2500)) == [.resource])
        #expect(s.nextTime(.resource) == .milliseconds(5000))
    }

    @Test func aLatePollRunsAJobOnce() {
        var s = TickSchedule(config: PolicyConfig())
        #expect(s.due(at: .seconds(10), among: [.monitor]) == [.monitor])
        #expect(s.nextTime(.monitor) == .seconds(11))
    }
}
