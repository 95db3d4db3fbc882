import Testing
import InfaasCore
@testable import InfaasPolicies

@Suite("Slack GPUs and parent scale-down (reference §3.6, §4.1)")
struct ExclusivityTests {
    func cluster() throws -> Fixture {
        var f = try Fixture([variant("g", hardware: .gpu, batch1: 5, maxBatch: 1)], cpu: 0, gpu: 2)
        f.snapshot.workers[1].isSlack = true
        f.run("g", on: 0)
        f.snapshot.refreshUtilizationOrder()
        return f
    }

    @Test func hundredQueriesUnderASecondApartEarnASlackGPU() throws {
        var f = try cluster()
        let choice = VariantChoice(variant: 0, running: true, requestVMScale: false)
        var assigned: RouteDecision? = nil
        for i in 0..<100 {
            guard case .route(let d) = f.workers.route(choice, snapshot: f.snapshot, now: .milliseconds(Double(i) * 500), state: &f.state) else { continue }
            if d.assignExclusive { assigned = d; break }
            #expect(d.worker == 0)  // slack workers are skipped for normal placement
        }
        #expect(assigned?.worker == 1)
        #expect(assigned?.requestSlackScale == true)
        #expect(f.state.exclusiveWorker[0] == 1)
    }

    @Test func aGapOfASecondResetsTheCount() throws {
        var f = try cluster()
        let choice = VariantChoice(variant: 0, running: true, requestVMScale: false)
        for i in 0..<300 {
            // Every 50th query comes after a 1.5 s pause: the count never reaches 100.
            let now = SimTime.milliseconds(Double(i) * 100 + Double(i / 50) * 1500)
            if case .route(let d) = f.workers.route(choice, snapshot: f.snapshot, now: now, state: &f.state) {
                #expect(!d.assignExclusive)
            }
        }
        #expect(f.state.exclusiveWorker[0] == -1)
    }

    @Test func idleAcceleratorVariantWithLooseSLOFlagsItsParentForScaleDown() throws {
        var f = try Fixture([variant("g", hardware: .gpu, batch1: 5, maxBatch: 1), variant("c", batch1: 100)], cpu: 0, gpu: 1)
        let g = f.run("g", on: 0, qps: 1)
        f.snapshot.groups[g].averageSLOMs = 300  // > 10 · inf (5 ms); qps 1 < 0.03 · 1000/5 = 6
        let monitor = Monitor(catalogue: f.catalogue, config: f.config)
        #expect(monitor.parentScaleDown(worker: 0, snapshot: f.snapshot) == [0])
        // Busy: no flag.
        f.snapshot.groups[g].qps = 10
        #expect(monitor.parentScaleDown(worker: 0, snapshot: f.snapshot).isEmpty)
        // A CPU variant of the same architecture on the worker: no flag either.
        f.snapshot.groups[g].qps = 1
        f.run("c", on: 0)
        #expect(monitor.parentScaleDown(worker: 0, snapshot: f.snapshot).isEmpty)
    }
}

@Suite("Downgrade and round-robin modes (reference §3.2, §4.2)")
struct ModeTests {
    @Test func idleLargeBatchGPUVariantIsDowngradedToTheNextSmallerOne() throws {
        var f = try Fixture([variant("b1", hardware: .gpu, batch1: 4, slope: 1, maxBatch: 1),
                             variant("b8", hardware: .gpu, batch1: 4, slope: 1, maxBatch: 8)], cpu: 0, gpu: 1)
        let g = f.run("b8", on: 0, replicas: 1, qps: 10)  // b1 alone carries 250 q/s
        f.snapshot.groups[g].averageBatch = 1
        let plan = ModelAutoscaler(catalogue: f.catalogue, config: f.config).plan(worker: 0, snapshot: f.snapshot)
        #expect(plan.actions == [.load(variant: f.id("b1"), worker: 0)])
        #expect(plan.pending(g) == 1)  // the large variant starts counting towards its unload
        // Busy enough that b1 could not carry it: no downgrade.
        f.snapshot.groups[g].qps = 400
        let busy = ModelAutoscaler(catalogue: f.catalogue, config: f.config).plan(worker: 0, snapshot: f.snapshot)
        #expect(!busy.actions.contains(.load(variant: f.id("b1"), worker: 0)))
    }

    @Test func roundRobinCyclesOverWorkersThatCanHostTheVariant() throws {
        var f = try Fixture([variant("c", batch1: 10)], cpu: 3)
        f.config.decisionMode = .roundRobin
        let choice = VariantChoice(variant: 0, running: false, requestVMScale: false)
        var picked: [Int] = []
        for i in 0..<6 {
            if case .route(let d) = f.workers.route(choice, snapshot: f.snapshot, now: .milliseconds(Double(i) * 100), state: &f.state) { picked.append(d.worker) }
        }
        #expect(picked == [0, 1, 2, 0, 1, 2])
    }

    @Test func staticRoundRobinSticksAndDynamicRepicksWhenBlacklisted() throws {
        var f = try Fixture([variant("c", batch1: 10)], cpu: 2)
        f.config.decisionMode = .roundRobinStatic
        let choice = VariantChoice(variant: 0, running: false, requestVMScale: false)
        func pick(_ f: inout Fixture) -> Int? {
            if case .route(let d) = f.workers.route(choice, snapshot: f.snapshot, now: .zero, state: &f.state) { return d.worker }
            return nil
        }
        let first = pick(&f)
        #expect(pick(&f) == first && pick(&f) == first)
        let g = f.run("c", on: first!, blacklisted: true)
        #expect(pick(&f) == first)  // static: still sticky
        f.config.decisionMode = .roundRobinDynamic
        #expect(pick(&f) != first)  // dynamic: re-picks away from the blacklisted group
        _ = g
    }
}
