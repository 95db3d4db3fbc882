import Testing
import InfaasCore
@testable import InfaasPolicies

@Suite("Baselines without the VM autoscaler use the hardware the cluster has")
struct BaselineHardwareTests {
    let variants = [
        variant("r50_inf", hardware: .inferentia, batch1: 8, maxBatch: 1),   // the cheapest per query
        variant("r50_gpu", hardware: .gpu, batch1: 5, maxBatch: 1),
        variant("r50_cpu", batch1: 60, cpus: 4),
    ]

    func choose(_ f: inout Fixture, preset: String) throws -> Int? {
        f.config = try StandardPolicySet.presetConfig(preset)
        let query = PolicyQuery(target: .architecture(f.catalogue.architectureID("resnet50")!), batch: 1, sloMs: 200)
        return try? f.selector.select(query, snapshot: f.snapshot, state: &f.state).get().variant
    }

    @Test func cheapestPicksAmongHostableClasses() throws {
        var cpuOnly = try Fixture(variants, cpu: 1)
        #expect(try choose(&cpuOnly, preset: "cheapest-meets-slo") == cpuOnly.id("r50_cpu"))
        var withGPU = try Fixture(variants, cpu: 1, gpu: 1)
        let picked = try choose(&withGPU, preset: "cheapest-meets-slo")
        #expect(picked != withGPU.id("r50_inf"))
        var withInferentia = try Fixture(variants, cpu: 1)
        withInferentia.add(.inferentia)
        #expect(try choose(&withInferentia, preset: "cheapest-meets-slo") == withInferentia.id("r50_inf"))
    }

    @Test func withTheVMAutoscalerAnyClassMayBeChosen() throws {
        // max-accuracy keeps the VM autoscaler: it may pick a class the cluster must first launch.
        var f = try Fixture([variant("a_inf", hardware: .inferentia, accuracy: 80, batch1: 8, maxBatch: 1),
                             variant("a_cpu", accuracy: 70, batch1: 60)], cpu: 1)
        let query = PolicyQuery(target: .architecture(f.catalogue.architectureID("resnet50")!), batch: 1, sloMs: 200)
        f.config = try StandardPolicySet.presetConfig("max-accuracy")
        #expect(try f.selector.select(query, snapshot: f.snapshot, state: &f.state).get().variant == f.id("a_inf"))
        f.config.vmAutoscaling = false
        #expect(try f.selector.select(query, snapshot: f.snapshot, state: &f.state).get().variant == f.id("a_cpu"))
    }
}
