import Testing
import InfaasCore
@testable import InfaasPolicies

@Suite("Variant selection (reference §3.3, §3.4)")
struct SelectionTests {
    let variants = [
        variant("r50_gpu", hardware: .gpu, batch1: 5, maxBatch: 1),
        variant("r50_cpu4", batch1: 60, cpus: 4),
        variant("r50_cpu1", batch1: 150),
    ]

    @Test func looseSLOFastPathConsidersOnlyVariantsAtOrAbove100ms() throws {
        var f = try Fixture(variants, cpu: 1, gpu: 1)
        f.run("r50_gpu", on: 1)
        f.run("r50_cpu1", on: 0)
        // L = 300 > 100: the fast path looks at batch-1 latencies in [100, 300] only — the CPU variant.
        #expect(f.architecture("resnet50", slo: 300) == VariantChoice(variant: f.id("r50_cpu1"), running: true, requestVMScale: false))
        // L = 80: the floor is 0 and the fastest running variant within 80 ms is the GPU one.
        #expect(f.architecture("resnet50", slo: 80) == VariantChoice(variant: f.id("r50_gpu"), running: true, requestVMScale: false))
    }

    @Test func runningVariantWithLeastSlackWinsTheGeneralPath() throws {
        var f = try Fixture(variants, cpu: 1, gpu: 1)
        f.run("r50_gpu", on: 1)
        f.run("r50_cpu4", on: 0)
        // L = 90: fast path [0, 90] → r50_gpu (running, not blacklisted) returns first.
        #expect(f.architecture("resnet50", slo: 90)?.variant == f.id("r50_gpu"))
        // Blacklist the GPU group: the fast path hands back the accelerator variant, not running.
        f.snapshot.groups[f.snapshot.group(variant: f.id("r50_gpu"), worker: 1)!].blacklisted = true
        let choice = f.architecture("resnet50", slo: 90)
        #expect(choice?.variant == f.id("r50_gpu") && choice?.running == false)
        #expect(choice?.requestVMScale == true)  // default mode 6 triggers vmscale
    }

    @Test func coldChoiceForATightSLOIsTheSmallestFittingBatch() throws {
        let f0 = [variant("gpu_b8", hardware: .gpu, batch1: 4, slope: 1, maxBatch: 8),
                  variant("gpu_b1", hardware: .gpu, batch1: 6, maxBatch: 1)]
        var f = try Fixture(f0, cpu: 1, gpu: 1)
        // Nothing runs; L = 20: gpu_b8 is judged at batch 8 (4 + 7·1 = 11 ms) and still fits; the
        // smallest max batch that fits is gpu_b1.
        #expect(f.architecture("resnet50", slo: 20) == VariantChoice(variant: f.id("gpu_b1"), running: false, requestVMScale: false))
    }

    @Test func aUseCaseSearchWithAnSLOOf1e308PicksAVariantInsteadOfTrapping() throws {
        // The search budget once converted fraction·L/lookup-time (infinite here) to Int and trapped.
        var f = try Fixture(variants, cpu: 1, gpu: 1)
        for slo in [1e308, Double.greatestFiniteMagnitude, .infinity] {
            #expect((try? f.useCase(accuracy: 0, slo: slo).get()) != nil, "\(slo)")
        }
    }

    @Test func noVariantMeetingTheSLOIsRejected() throws {
        var f = try Fixture(variants)
        #expect(f.architecture("resnet50", slo: 2) == nil)
        #expect(f.selector.architectureSearch(0, sloMs: 2, batch: 1, snapshot: f.snapshot, state: &f.state) == .failure(.noVariantMeetsObjectives))
    }

    @Test func cpuVariantsAreSkippedForSLOsOf50msOrLess() throws {
        var f = try Fixture([variant("cpu_fast", batch1: 20), variant("gpu", hardware: .gpu, batch1: 30, maxBatch: 1)], cpu: 1, gpu: 1)
        f.run("cpu_fast", on: 0)
        // L = 50: the fast path returns the running CPU variant (it is within [0, 50])...
        #expect(f.architecture("resnet50", slo: 50)?.variant == f.id("cpu_fast"))
        // ...but if it is blacklisted, the general path excludes CPU variants at L ≤ 50.
        f.snapshot.groups[0].blacklisted = true
        #expect(f.architecture("resnet50", slo: 50)?.variant == f.id("gpu"))
    }

    @Test func useCaseSearchStartsAtTheAccuracyBinAndPrefersTheLowestColdScore() throws {
        let vs = [variant("acc71_slow", architecture: "a", accuracy: 71, batch1: 40, loadMs: 2000),
                  variant("acc72_fast", architecture: "b", accuracy: 72, batch1: 30, loadMs: 100),
                  variant("acc76", architecture: "c", accuracy: 76, batch1: 10, loadMs: 100),
                  variant("acc60", architecture: "d", accuracy: 60, batch1: 5, loadMs: 10)]
        var f = try Fixture(vs)
        // A = 70 → bin [70, 75] holds 71 and 72 (70.0 itself would sit in [50, 70]); 76 is in a higher bin.
        // Cold scores: 1000 + 2000 + 40 vs 1000 + 100 + 30 → acc72_fast. SLO 80 ≤ 100, so no CPU preference.
        #expect(try f.useCase(accuracy: 70, slo: 80).get() == VariantChoice(variant: f.id("acc72_fast"), running: false, requestVMScale: false))
        // A = 73: only the higher bin qualifies.
        #expect(try f.useCase(accuracy: 73, slo: 80).get().variant == f.id("acc76"))
        // A = 90: nothing.
        #expect(f.useCase(accuracy: 90, slo: 80) == .failure(.noVariantMeetsObjectives))
        // The chosen variant is cached for its use-case.
        #expect(f.state.useCaseCache[0].first == f.id("acc76"))
    }

    @Test func runningVariantBeatsColdOnesInTheUseCaseSearch() throws {
        let vs = [variant("acc71", architecture: "a", accuracy: 71, batch1: 40), variant("acc72", architecture: "b", accuracy: 72, batch1: 30)]
        var f = try Fixture(vs)
        f.run("acc71", on: 0)
        #expect(try f.useCase(accuracy: 70, slo: 80).get() == VariantChoice(variant: f.id("acc71"), running: true, requestVMScale: false))
    }

    @Test func preferCheapestPicksTheLowestDollarCostColdVariant() throws {
        let vs = [variant("gpu", hardware: .gpu, batch1: 5, maxBatch: 1), variant("cpu", batch1: 40)]
        var f = try Fixture(vs, cpu: 1, gpu: 1)
        // Default INFaaS (L = 60): smallest max batch, first fitting → gpu (fast path is fastest-first).
        #expect(f.architecture("resnet50", slo: 60)?.variant == f.id("gpu"))
        f.config.preferCheapest = true
        // p3.2xlarge: $3.06/h × 5 ms; m5.2xlarge: $0.384/h × 40 ms × 1/8 vCPU → the CPU variant is cheaper.
        #expect(f.architecture("resnet50", slo: 60)?.variant == f.id("cpu"))
    }

    @Test func baselinesPickByAccuracyOrCost() throws {
        let vs = [variant("accurate", architecture: "a", accuracy: 80, batch1: 50), variant("cheap", architecture: "b", accuracy: 72, batch1: 10)]
        var f = try Fixture(vs)
        let query = PolicyQuery(target: .useCase(0), batch: 1, sloMs: 100, minAccuracy: 70)
        f.config.variantSelection = .maxAccuracy
        #expect(f.selector.bestByRule(query) == f.id("accurate"))
        f.config.variantSelection = .cheapest
        #expect(f.selector.bestByRule(query) == f.id("cheap"))
    }
}
