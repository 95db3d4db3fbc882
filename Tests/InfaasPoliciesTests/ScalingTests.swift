import Testing
import InfaasCore
@testable import InfaasPolicies

@Suite("Monitor and overload guards (reference §3.7, §4.1)")
struct MonitorTests {
    /// A CPU variant with `inf` = 100 ms at batch 1, two replicas: queue limit = 0.8 · 2 · 1000/100 = 16.
    func group(outstanding: Int, latency: Double = 100, replicas: Int = 2) throws -> (Monitor, ReplicaGroup) {
        let f = try Fixture([variant("v", batch1: 100)])
        var g = ReplicaGroup(variant: 0, worker: 0)
        g.replicas = replicas
        g.outstanding = outstanding
        g.averageLatencyMs = latency
        return (Monitor(catalogue: f.catalogue, config: f.config), g)
    }

    @Test func blacklistsWhenOutstandingExceedsTheQueueLimit() throws {
        let (monitor, g) = try group(outstanding: 17)
        let completed = GroupCounters(requests: 5, batchSum: 5, completed: 5, latencySumMs: 500)
        #expect(monitor.update(g, counters: completed, intervalSeconds: 1).blacklisted)
        let (_, calm) = try group(outstanding: 16)
        #expect(!monitor.update(calm, counters: completed, intervalSeconds: 1).blacklisted)
    }

    @Test func blacklistsOnHighLatencyAndHighQPS() throws {
        let (monitor, g) = try group(outstanding: 0)
        // lat_h = 2.5 → 250 ms; qps_h = 0.5 · 1000/100 = 5 per replica.
        let slowBusy = GroupCounters(requests: 12, batchSum: 12, completed: 12, latencySumMs: 12 * 260)
        #expect(monitor.update(g, counters: slowBusy, intervalSeconds: 1).blacklisted)
        let slowIdle = GroupCounters(requests: 8, batchSum: 8, completed: 8, latencySumMs: 8 * 260)  // 4 q/s per replica
        #expect(!monitor.update(g, counters: slowIdle, intervalSeconds: 1).blacklisted)
    }

    @Test func clearsOnlyWhenQueueAndLatencyAreLow() throws {
        var (monitor, g) = try group(outstanding: 2)
        g.blacklisted = true
        // unset_h = 1.5 → 150 ms.
        let fast = GroupCounters(requests: 2, batchSum: 2, completed: 2, latencySumMs: 2 * 120)
        #expect(!monitor.update(g, counters: fast, intervalSeconds: 1).blacklisted)
        let slow = GroupCounters(requests: 2, batchSum: 2, completed: 2, latencySumMs: 2 * 160)
        #expect(monitor.update(g, counters: slow, intervalSeconds: 1).blacklisted)
    }

    @Test func singleReplicaCPUUsesTheLooserThresholds() throws {
        // One replica: queue_h = 1.1 → limit 11 (two replicas at 0.8 would give 8 per replica).
        let (monitor, g) = try group(outstanding: 11, replicas: 1)
        #expect(!monitor.update(g, counters: GroupCounters(), intervalSeconds: 1).blacklisted)
        let (_, over) = try group(outstanding: 12, replicas: 1)
        #expect(monitor.update(over, counters: GroupCounters(), intervalSeconds: 1).blacklisted)
    }

    @Test func averageBatchIsATrueCeiling() throws {
        let (monitor, g) = try group(outstanding: 0)
        // 5 inputs in 2 requests: ceil(2.5) = 3 (the original's integer division gave 2).
        #expect(monitor.update(g, counters: GroupCounters(requests: 2, batchSum: 5, completed: 0), intervalSeconds: 1).averageBatch == 3)
    }

    @Test func workerGuardBlacklistsAfter200QueriesInOneSecond() throws {
        var f = try Fixture([variant("v", batch1: 10)], cpu: 2)
        f.run("v", on: 0)
        f.run("v", on: 1)
        let choice = VariantChoice(variant: 0, running: true, requestVMScale: false)
        var blacklisted: [Int] = []
        for i in 0..<400 {
            let now = SimTime.milliseconds(Double(i) * 2)  // 500 q/s over 0.8 s
            if case .route(let d) = f.workers.route(choice, snapshot: f.snapshot, now: now, state: &f.state), let w = d.blacklistWorker {
                blacklisted.append(w)
            }
        }
        #expect(!blacklisted.isEmpty)
        // With a single worker the guard never blacklists.
        var g = try Fixture([variant("v", batch1: 10)], cpu: 1)
        g.run("v", on: 0)
        for i in 0..<400 {
            if case .route(let d) = g.workers.route(choice, snapshot: g.snapshot, now: .milliseconds(Double(i)), state: &g.state) {
                #expect(d.blacklistWorker == nil)
            }
        }
    }

    @Test func slowTrafficNeverTripsTheGuard() throws {
        var f = try Fixture([variant("v", batch1: 10)], cpu: 2)
        f.run("v", on: 0)
        f.run("v", on: 1)
        let choice = VariantChoice(variant: 0, running: true, requestVMScale: false)
        for i in 0..<1000 {  // 100 q/s
            if case .route(let d) = f.workers.route(choice, snapshot: f.snapshot, now: .milliseconds(Double(i) * 10), state: &f.state) {
                #expect(d.blacklistWorker == nil)
            }
        }
    }
}

@Suite("Autoscalers (reference §4.2, §4.3)")
struct AutoscalerTests {
    func vm(_ f: Fixture, limits: ClusterLimits) -> WorkerAutoscaler { WorkerAutoscaler(config: f.config, limits: limits) }

    @Test func scalesInOnlyAfter15LowChecks() throws {
        var f = try Fixture([variant("v", batch1: 10)], cpu: 2)
        let limits = ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 4])
        var state = WorkerAutoscalerState(config: f.config)
        f.snapshot.refreshUtilizationOrder()
        for check in 1...14 {
            #expect(vm(f, limits: limits).decide(snapshot: f.snapshot, state: &state).retire == nil, "retired at check \(check)")
        }
        let decision = vm(f, limits: limits).decide(snapshot: f.snapshot, state: &state)
        #expect(decision.retire != nil)
        // Back-off: 15 iterations counting the one that acted; the 15th clears the scale requests.
        for _ in 1...13 { #expect(vm(f, limits: limits).decide(snapshot: f.snapshot, state: &state) == WorkerScalingDecision()) }
        #expect(vm(f, limits: limits).decide(snapshot: f.snapshot, state: &state).clearScaleRequests)
    }

    @Test func neverScalesBelowTheInitialWorkers() throws {
        var f = try Fixture([variant("v", batch1: 10)], cpu: 1)
        let limits = ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 4])
        var state = WorkerAutoscalerState(config: f.config)
        f.snapshot.refreshUtilizationOrder()
        for _ in 0..<40 { #expect(vm(f, limits: limits).decide(snapshot: f.snapshot, state: &state).retire == nil) }
    }

    @Test func originalModeKeepsCPUWorkers() throws {
        var f = try Fixture([variant("v", batch1: 10)], cpu: 2)
        f.config.scaleInCPUWorkers = false
        let limits = ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 4])
        var state = WorkerAutoscalerState(config: f.config)
        for _ in 0..<40 { #expect(vm(f, limits: limits).decide(snapshot: f.snapshot, state: &state).retire == nil) }
    }

    @Test func scalesOutWhenTheCoolestWorkerIsHotAndThereIsRoom() throws {
        var f = try Fixture([variant("v", batch1: 10)], cpu: 2)
        for w in 0..<2 { f.snapshot.workers[w].cpuUtilization = 85 }
        f.snapshot.refreshUtilizationOrder()
        var state = WorkerAutoscalerState(config: f.config)
        let decision = vm(f, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 4])).decide(snapshot: f.snapshot, state: &state)
        #expect(decision.launch?.hardware == .cpu)
        #expect(decision.blacklist == [0, 1])  // above 80 % they are also blacklisted for 2 s
        var atMax = WorkerAutoscalerState(config: f.config)
        #expect(vm(f, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 2])).decide(snapshot: f.snapshot, state: &atMax).launch == nil)
        f.snapshot.workers[1].cpuUtilization = 79
        f.snapshot.refreshUtilizationOrder()
        var cool = WorkerAutoscalerState(config: f.config)
        #expect(vm(f, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 4])).decide(snapshot: f.snapshot, state: &cool).launch == nil)
    }

    @Test func vmScaleRequestLaunchesAGPUWorker() throws {
        var f = try Fixture([variant("v", hardware: .gpu, batch1: 5, maxBatch: 1)], cpu: 1, gpu: 1)
        f.snapshot.workers[0].cpuUtilization = 50
        f.snapshot.workers[1].cpuUtilization = 50
        f.snapshot.vmScaleRequested = true
        var state = WorkerAutoscalerState(config: f.config)
        let limits = ClusterLimits(initial: [.cpu: 1, .gpu: 1], maximum: [.cpu: 1, .gpu: 2])
        #expect(vm(f, limits: limits).decide(snapshot: f.snapshot, state: &state).launch?.hardware == .gpu)
    }

    @Test func cpuReplicationFollowsDemandAndScaleDownWaitsForTheDelay() throws {
        var f = try Fixture([variant("v", batch1: 100)], cpu: 1)
        let g = f.run("v", on: 0, replicas: 1, qps: 25)
        f.snapshot.groups[g].averageBatch = 1
        let scaler = ModelAutoscaler(catalogue: f.catalogue, config: f.config)
        // One replica carries 10 q/s; 25 q/s needs ceil((25 − 9.5)/10) = 2 more (cap 2 per worker → 1 fits).
        #expect(scaler.check(group: g, snapshot: f.snapshot).count == 2)
        let plan = scaler.plan(worker: 0, snapshot: f.snapshot)
        #expect(plan.actions == [.addReplicas(group: g, count: 1)])
        // Idle with 2 replicas: −1 each tick, executed only once the pending count exceeds 10.
        f.snapshot.groups[g].replicas = 2
        f.snapshot.groups[g].qps = 0
        for tick in 1...10 {
            let idle = scaler.plan(worker: 0, snapshot: f.snapshot)
            #expect(idle.actions.isEmpty, "removed at tick \(tick)")
            f.snapshot.groups[g].pendingScaleDown = idle.pending(g) ?? 0
        }
        #expect(scaler.plan(worker: 0, snapshot: f.snapshot).actions == [.removeReplica(group: g)])
    }

    @Test func noneAndStaticAutoscalers() throws {
        var f = try Fixture([variant("v", batch1: 100)], cpu: 1)
        let g = f.run("v", on: 0, replicas: 1, qps: 100)
        f.config.modelAutoscaler = .none
        #expect(ModelAutoscaler(catalogue: f.catalogue, config: f.config).plan(worker: 0, snapshot: f.snapshot).actions.isEmpty)
        f.config.modelAutoscaler = .static
        #expect(ModelAutoscaler(catalogue: f.catalogue, config: f.config).plan(worker: 0, snapshot: f.snapshot).actions == [.addReplicas(group: g, count: 1)])
    }

    @Test func gpuVariantAtItsReplicaCapIsUpgradedToALargerBatch() throws {
        var f = try Fixture([variant("b1", hardware: .gpu, batch1: 4, slope: 1, maxBatch: 1),
                             variant("b8", hardware: .gpu, batch1: 4, slope: 1, maxBatch: 8)], cpu: 0, gpu: 1)
        let g = f.run("b1", on: 0, replicas: 1, qps: 600)  // one replica carries 250 q/s
        f.snapshot.groups[g].averageBatch = 1
        let plan = ModelAutoscaler(catalogue: f.catalogue, config: f.config).plan(worker: 0, snapshot: f.snapshot)
        #expect(plan.actions == [.load(variant: f.id("b8"), worker: 0)])
    }
}
