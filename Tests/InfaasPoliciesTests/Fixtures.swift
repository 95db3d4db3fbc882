import InfaasCore
@testable import InfaasPolicies

func variant(_ name: String, architecture: String = "resnet50", hardware: HardwareClass = .cpu, accuracy: Double = 75,
             batch1: Double, slope: Double = 0, maxBatch: Int = 8, loadMs: Double = 100, cpus: Int = 1) -> ModelVariant {
    let framework: Framework = hardware == .cpu ? .onnxruntimeCPU : (hardware == .gpu ? .tensorrt : .inferentia)
    return ModelVariant(
        name: name, architecture: architecture, useCase: UseCase(task: .classification, dataset: Dataset("imagenet"), inputDimension: 224),
        framework: framework, hardware: hardware, maxBatch: maxBatch, accuracy: accuracy, loadLatencyMs: loadMs, memoryMB: 500,
        cpus: hardware == .cpu ? cpus : nil,
        latency: LatencyProfile(points: [LatencyPoint(batch: 1, p50Ms: batch1)],
                                model: LinearLatencyModel(slopeMs: slope, interceptMs: batch1 - slope)),
        kind: .measured, source: "test")
}

/// A catalogue, a cluster with `cpu` CPU and `gpu` GPU workers, and helpers to put replicas on them.
struct Fixture {
    var catalogue: PolicyCatalogue
    var snapshot: ClusterSnapshot
    var config = PolicyConfig()
    var state: MasterState

    init(_ variants: [ModelVariant], cpu: Int = 1, gpu: Int = 0) throws {
        catalogue = try PolicyCatalogue(variants)
        snapshot = ClusterSnapshot(variantCount: variants.count)
        state = MasterState(variantCount: variants.count, useCaseCount: catalogue.useCases.count, seed: 1)
        for _ in 0..<cpu { add(.cpu) }
        for _ in 0..<gpu { add(.gpu) }
    }

    @discardableResult
    mutating func add(_ hardware: HardwareClass) -> Int {
        let machine = MachineType.standard(hardware)
        return snapshot.addWorker(WorkerState(id: 0, name: "w", hardware: hardware, status: .ready, startedAt: .zero, cores: machine.vcpus,
                                              acceleratorMemoryMB: machine.acceleratorMemoryMB, neuronCores: machine.neuronCores))
    }

    /// Puts `replicas` serving replicas of the named variant on worker `w`; returns the group.
    @discardableResult
    mutating func run(_ name: String, on w: Int, replicas: Int = 1, qps: Double = 0, blacklisted: Bool = false) -> Int {
        let v = catalogue.variantID(name)!
        let g = snapshot.ensureGroup(variant: v, worker: w)
        snapshot.groups[g].replicas = replicas
        snapshot.groups[g].qps = qps
        snapshot.groups[g].blacklisted = blacklisted
        if catalogue.hardware[v] == .cpu { snapshot.workers[w].usedCores += replicas * catalogue.cpus[v] }
        return g
    }

    var selector: VariantSelector { VariantSelector(catalogue: catalogue, config: config) }
    var workers: WorkerSelector { WorkerSelector(catalogue: catalogue, config: config) }

    func id(_ name: String) -> Int { catalogue.variantID(name)! }

    mutating func architecture(_ a: String, slo: Double, batch: Int = 1) -> VariantChoice? {
        try? selector.architectureSearch(catalogue.architectureID(a)!, sloMs: slo, batch: batch, snapshot: snapshot, state: &state).get()
    }

    mutating func useCase(accuracy: Double, slo: Double, batch: Int = 1) -> Result<VariantChoice, RejectReason> {
        selector.useCaseSearch(0, minAccuracy: accuracy, sloMs: slo, batch: batch, snapshot: snapshot, state: &state)
    }
}
