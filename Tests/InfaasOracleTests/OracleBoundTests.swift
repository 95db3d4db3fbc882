import Testing
import InfaasCore
import InfaasPolicies
@testable import InfaasOracle

private func variant(_ name: String, hardware: HardwareClass = .cpu, accuracy: Double = 75, ms: Double, maxBatch: Int = 8, cpus: Int = 1) -> ModelVariant {
    let framework: Framework = hardware == .cpu ? .onnxruntimeCPU : (hardware == .gpu ? .tensorrt : .inferentia)
    return ModelVariant(name: name, architecture: "resnet50", useCase: UseCase(task: .classification, dataset: Dataset("imagenet"), inputDimension: 224),
                        framework: framework, hardware: hardware, maxBatch: maxBatch, accuracy: accuracy, loadLatencyMs: 100, memoryMB: 500,
                        cpus: hardware == .cpu ? cpus : nil,
                        latency: LatencyProfile(points: [LatencyPoint(batch: 1, p50Ms: ms)], model: LinearLatencyModel(slopeMs: 0, interceptMs: ms)),
                        kind: .measured, source: "test")
}

/// `count` queries of `query` spread over interval `t` of a 60 s demand.
private func record(_ demand: inout OracleDemand, _ query: PolicyQuery, count: Int, interval t: Int = 0) {
    for i in 0..<count {
        demand.record(query, nanoseconds: Int64(t) * 60_000_000_000 + Int64(i) * (59_000_000_000 / Int64(max(1, count))))
    }
}

private let hour = 60.0 / 3600

@Suite("The oracle bound: the cheapest plan per interval that meets every query's objectives (issue: results that stand)")
struct OracleBoundTests {
    let machines = MachineCatalogue()

    @Test func theBoundBuysTheFewestWorkersThatCarryTheWork() throws {
        let catalogue = try PolicyCatalogue([variant("cpu", ms: 50)])
        var demand = OracleDemand(intervalSeconds: 60)
        // 12,000 queries × 50 ms = 600 s of work: 10 one-vCPU replicas, two 8-vCPU workers.
        record(&demand, PolicyQuery(target: .architecture(0), sloMs: 100), count: 12_000)
        demand.record(PolicyQuery(target: .architecture(0), sloMs: 100), nanoseconds: 60_000_000_000)  // the interval ends at a full minute
        let bound = try OracleBound(catalogue: catalogue, machines: machines, maxWorkers: [.cpu: 10]).solve(demand)
        #expect(bound.intervals[0].workers[.cpu] == 2)
        #expect(bound.unmet == 0)
        #expect(abs(bound.intervals[0].costUSD - 2 * 0.384 * hour) < 1e-9)
        #expect(bound.nonOptimalIntervals == 0)
    }

    @Test func aCheaperAcceleratorWinsWhenItMeetsTheObjectives() throws {
        let catalogue = try PolicyCatalogue([variant("cpu", ms: 50), variant("inf", hardware: .inferentia, ms: 10, maxBatch: 1)])
        var demand = OracleDemand(intervalSeconds: 60)
        // 3,000 s of CPU work (7 CPU workers, $2.69/h) or 600 s on NeuronCores: 10 replicas on 3
        // Inferentia workers beside the one CPU worker every cluster keeps ($1.47/h).
        record(&demand, PolicyQuery(target: .architecture(0), sloMs: 100), count: 60_000)
        let bound = try OracleBound(catalogue: catalogue, machines: machines, maxWorkers: [.cpu: 10, .inferentia: 10]).solve(demand)
        #expect(bound.intervals[0].workers == [.cpu: 1, .inferentia: 3])
        // Without Inferentia in the cluster, CPUs carry it.
        let cpuOnly = try OracleBound(catalogue: catalogue, machines: machines, maxWorkers: [.cpu: 10]).solve(demand)
        #expect(cpuOnly.intervals[0].workers == [.cpu: 7])
        #expect(cpuOnly.costUSD > bound.costUSD)
    }

    @Test func aGPUWorkerIsOneServerForAllItsReplicas() throws {
        let catalogue = try PolicyCatalogue([variant("a", hardware: .gpu, ms: 5, maxBatch: 1), variant("b", hardware: .gpu, accuracy: 80, ms: 5, maxBatch: 1)])
        var demand = OracleDemand(intervalSeconds: 60)
        // 12,000 × 5 ms on "a" and on "b" (which alone meets 78 %): 120 s of GPU work → 2 GPU workers.
        record(&demand, PolicyQuery(target: .architecture(0), sloMs: 20, minAccuracy: 70), count: 12_000)
        record(&demand, PolicyQuery(target: .architecture(0), sloMs: 20, minAccuracy: 78), count: 12_000)
        demand.record(PolicyQuery(target: .architecture(0), sloMs: 20, minAccuracy: 70), nanoseconds: 60_000_000_000)
        let bound = try OracleBound(catalogue: catalogue, machines: machines, maxWorkers: [.cpu: 1, .gpu: 8]).solve(demand)
        #expect(bound.intervals[0].workers[.gpu] == 2)
        #expect(bound.unmet == 0)
    }

    @Test func queriesNoVariantCanMeetAreTheBoundsViolations() throws {
        let catalogue = try PolicyCatalogue([variant("cpu", accuracy: 75, ms: 50)])
        var demand = OracleDemand(intervalSeconds: 60)
        record(&demand, PolicyQuery(target: .architecture(0), sloMs: 10), count: 30)        // too fast for any variant
        record(&demand, PolicyQuery(target: .architecture(0), minAccuracy: 90), count: 20)  // too accurate
        record(&demand, PolicyQuery(target: .architecture(0), sloMs: 100), count: 50)       // fine
        demand.recordUnknown(nanoseconds: 1)
        let bound = try OracleBound(catalogue: catalogue, machines: machines, maxWorkers: [.cpu: 4]).solve(demand)
        #expect(bound.queries == 101)
        #expect(abs(bound.unmet - 51) < 1e-6)
        #expect(abs(bound.violationPercent - 51 * 100 / 101) < 1e-6)
        #expect(bound.intervals[0].workers == [.cpu: 1])
    }

    @Test func theClusterLimitCapsTheBoundAndTheRestAreViolations() throws {
        let catalogue = try PolicyCatalogue([variant("cpu", ms: 50)])
        var demand = OracleDemand(intervalSeconds: 60)
        record(&demand, PolicyQuery(target: .architecture(0), sloMs: 100), count: 24_000)
        demand.record(PolicyQuery(target: .architecture(0), sloMs: 100), nanoseconds: 60_000_000_000)
        // One 8-vCPU worker: 8 replicas × 60 s = 480 s of work = 9,600 queries of the 24,000 in [0, 60).
        let bound = try OracleBound(catalogue: catalogue, machines: machines, maxWorkers: [.cpu: 1]).solve(demand)
        #expect(abs(bound.intervals[0].unmet - 14_400) < 1e-6)
        #expect(bound.intervals[0].workers == [.cpu: 1])
    }

    @Test func aNamedVariantIsTheOnlyOneItsQueriesMayUse() throws {
        let catalogue = try PolicyCatalogue([variant("slow", ms: 50), variant("fast", hardware: .inferentia, ms: 10, maxBatch: 1)])
        var demand = OracleDemand(intervalSeconds: 60)
        record(&demand, PolicyQuery(target: .variant(catalogue.variantID("slow")!), sloMs: 100), count: 60_000)
        let bound = try OracleBound(catalogue: catalogue, machines: machines, maxWorkers: [.cpu: 10, .inferentia: 10]).solve(demand)
        #expect(bound.intervals[0].workers[.inferentia] == 0)
        #expect(bound.intervals[0].workers[.cpu] == 7)
    }

    @Test func theDemandCountsEachIntervalAndClass() {
        var demand = OracleDemand(intervalSeconds: 10)
        let a = PolicyQuery(target: .architecture(0), sloMs: 100), b = PolicyQuery(target: .architecture(0), sloMs: 200, application: 1)
        demand.record(a, nanoseconds: 1_000_000_000)
        demand.record(b, nanoseconds: 25_000_000_000)
        demand.record(a, nanoseconds: 25_500_000_000)
        demand.recordUnknown(nanoseconds: 5_000_000_000)
        #expect(demand.classes == [a, b])
        #expect(demand.counts == [[1, 0], [0, 0], [1, 1]])
        #expect(demand.unknown == [1, 0, 0])
        #expect(demand.queries == 4)
        #expect(demand.lastArrivalSeconds == 25.5)
    }

    /// Random catalogues and demands: the bound never costs more than a plan any hand-tuner could
    /// write down (each class on its cheapest qualifying variant, capacity rounded up per
    /// class), and more queries never make it cheaper.
    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func theBoundIsNoDearerThanAGreedyPlanAndGrowsWithDemand(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        func uniform(_ r: ClosedRange<Double>) -> Double { r.lowerBound + Double(rng.next() % 1_000_000) / 1_000_000 * (r.upperBound - r.lowerBound) }
        var variants: [ModelVariant] = []
        for i in 0..<6 {
            let h: HardwareClass = [.cpu, .cpu, .gpu, .inferentia][Int(rng.next() % 4)]
            variants.append(variant("v\(i)", hardware: h, accuracy: uniform(60...80), ms: uniform(2...120), maxBatch: h == .cpu ? 8 : 1, cpus: 1 + Int(rng.next() % 4)))
        }
        let catalogue = try PolicyCatalogue(variants)
        let limits: [HardwareClass: Int] = [.cpu: 50, .gpu: 50, .inferentia: 50]
        let oracle = OracleBound(catalogue: catalogue, machines: machines, maxWorkers: limits)
        var demand = OracleDemand(intervalSeconds: 60), doubled = OracleDemand(intervalSeconds: 60)
        var queries: [(PolicyQuery, Int)] = []
        for app in 0..<3 {
            let q = PolicyQuery(target: .architecture(0), sloMs: uniform(20...200), minAccuracy: uniform(55...75), application: app)
            let n = 100 + Int(rng.next() % 5_000)
            queries.append((q, n))
            record(&demand, q, count: n)
            record(&doubled, q, count: 2 * n)
        }
        let bound = try oracle.solve(demand), more = try oracle.solve(doubled)
        #expect(more.costUSD >= bound.costUSD - 1e-9)
        #expect(more.unmet >= bound.unmet - 1e-6)

        // The greedy plan, for the classes some variant can serve.
        let W = demand.lastArrivalSeconds
        var replicasRoom: [HardwareClass: Double] = [:], gpuWork = 0.0, gpuMemory = 0.0, servable = 0
        for (q, n) in queries {
            let options = (0..<catalogue.count).filter { oracle.qualifies($0, for: q) }
            guard let v = options.min(by: { catalogue.costPerQueryUSD($0, batch: 1, machines: machines) < catalogue.costPerQueryUSD($1, batch: 1, machines: machines) })
            else { continue }
            servable += n
            let work = Double(n) * catalogue.model[v].predictMs(batch: 1) / 1000
            switch catalogue.hardware[v] {
            case .gpu: gpuWork += work; gpuMemory += catalogue.memoryMB[v]
            case .cpu: replicasRoom[.cpu, default: 0] += (work / W).rounded(.up) * Double(catalogue.cpus[v])
            case .inferentia: replicasRoom[.inferentia, default: 0] += (work / W).rounded(.up) * Double(catalogue.neuronCores[v])
            }
        }
        let cpu = max(1, (replicasRoom[.cpu, default: 0] / 8).rounded(.up))
        let inf = (replicasRoom[.inferentia, default: 0] / 4).rounded(.up)
        let gpu = max((gpuWork / W).rounded(.up), (gpuMemory / 16_384).rounded(.up))
        let greedy = (cpu * 0.384 + gpu * 3.06 + inf * 0.362) * W / 3600
        #expect(abs(bound.unmet - Double(demand.queries - servable)) < 1e-6)
        #expect(bound.costUSD <= greedy + 1e-9)
    }
}
