import Testing
import InfaasCore
@testable import InfaasPolicies

@Suite("static-peak: a static deployment provisioned for the peak (issue: results that stand)")
struct PeakProvisioningTests {
    @Test func unitsCarryThePeakAtTheTargetUtilisationAndWorkersHoldThem() throws {
        // cpu2: 50 ms per query on 2 vCPUs, the cheapest that meets a 100 ms SLO.
        let f = try Fixture([variant("cpu2", batch1: 50, cpus: 2), variant("gpu", hardware: .gpu, batch1: 5, maxBatch: 1)])
        var config = PolicyConfig()
        config.staticPeakUtilization = 0.7
        let query = PolicyQuery(target: .architecture(0), sloMs: 100)
        let plan = try PeakProvisioning.plan(queries: [query], peakRates: [100], catalogue: f.catalogue, config: config,
                                             machines: MachineCatalogue(), hardware: [.cpu, .gpu])
        let cheapest = try #require(f.selector.bestByRule(PolicyQuery(target: .architecture(0), sloMs: 100), hardware: [.cpu, .gpu]))
        #expect(plan.variants == [cheapest])
        if cheapest == f.id("cpu2") {
            // 100 q/s × 0.05 s / 0.7 = 7.1 → 8 replicas; an 8-vCPU worker holds 4 of 2 vCPUs → 2 workers.
            #expect(plan.replicas == [8])
            #expect(plan.workers[.cpu] == 2)
        } else {
            // 100 × 0.005 / 0.7 = 0.71 → 1 unit: one GPU worker, plus the CPU worker every cluster has.
            #expect(plan.replicas == [1])
            #expect(plan.workers[.gpu] == 1 && plan.workers[.cpu] == 1)
        }
    }

    @Test func aGPUApplicationGetsOneGPUWorkerPerServingUnit() throws {
        let f = try Fixture([variant("gpu", hardware: .gpu, batch1: 10, maxBatch: 1)])
        let plan = try PeakProvisioning.plan(queries: [PolicyQuery(target: .architecture(0), sloMs: 50)], peakRates: [300], catalogue: f.catalogue,
                                             config: PolicyConfig(), machines: MachineCatalogue(), hardware: [.cpu, .gpu])
        // 300 q/s × 0.01 s / 0.7 = 4.3 → 5 units, one GPU worker each.
        #expect(plan.replicas == [5] && plan.workers[.gpu] == 5 && plan.workers[.cpu] == 1)
    }

    @Test func noVariantOnTheAllowedHardwareIsAClearError() throws {
        let f = try Fixture([variant("gpu", hardware: .gpu, batch1: 10, maxBatch: 1)])
        #expect(throws: ValidationError.self) {
            try PeakProvisioning.plan(queries: [PolicyQuery(target: .architecture(0), sloMs: 50)], peakRates: [1], catalogue: f.catalogue,
                                      config: PolicyConfig(), machines: MachineCatalogue(), hardware: [.cpu])
        }
    }

    @Test func thePeakIsTheBusiestWindow() {
        var meter = PeakProvisioning.PeakMeter(applications: 2, windowSeconds: 10)
        for t in 0..<5 { meter.record(application: 0, nanoseconds: Int64(t) * 1_000_000_000) }      // 5 in [0, 10)
        for t in 0..<30 { meter.record(application: 0, nanoseconds: 10_000_000_000 + Int64(t) * 100_000_000) }  // 30 in [10, 20)
        meter.record(application: 1, nanoseconds: 25_000_000_000)
        #expect(meter.rates == [3, 0.1])
    }
}
