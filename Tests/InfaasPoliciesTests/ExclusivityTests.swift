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
