import InfaasCore
import InfaasPolicies
import InfaasRPC
@testable import InfaasMaster
@testable import InfaasRegistry

/// A registered CPU variant of the `tinynet` architecture (classification on imagenet).
func registered(_ name: String, architecture: String = "tinynet", accuracy: Double, slopeMs: Double, interceptMs: Double,
                maxBatch: Int, cpus: Int = 1) -> RegisteredVariant {
    let model = LinearLatencyModel(slopeMs: slopeMs, interceptMs: interceptMs)
    let variant = ModelVariant(
        name: name, architecture: architecture,
        useCase: UseCase(task: .classification, dataset: Dataset("imagenet"), inputDimension: 224),
        framework: .onnxruntimeCPU, hardware: .cpu, maxBatch: maxBatch, accuracy: accuracy, loadLatencyMs: 200, memoryMB: 100,
        cpus: cpus, latency: LatencyProfile(points: [LatencyPoint(batch: 1, p50Ms: model.predictMs(batch: 1))], model: model),
        kind: .measured, source: "test")
    return RegisteredVariant(variant: variant, location: .file(path: "/models/\(name)/"), submitter: "tests")
}

/// `fast`: 20 ms at batch 1, max batch 8, 70 %. `slow`: 150 ms at batch 1, max batch 4, 76 %.
let fast = registered("tinynet_fast", accuracy: 70, slopeMs: 2, interceptMs: 18, maxBatch: 8)
let slow = registered("tinynet_slow", accuracy: 76, slopeMs: 10, interceptMs: 140, maxBatch: 4)

/// A worker's report as the daemon sends it.
func report(_ name: String, sequence: UInt64 = 1, cores: UInt32 = 8, cpuUtilization: Double = 0,
            variants: [(name: String, replicas: UInt32, loading: UInt32)] = []) -> Infaas_V1_WorkerReport {
    var r = Infaas_V1_WorkerReport()
    r.name = name
    r.address = "127.0.0.1:\(6000 + (Int(name.dropFirst()) ?? 0))"
    r.hardware = "cpu"
    r.cores = cores
    r.cpuUtilization = cpuUtilization
    r.sequence = sequence
    r.instanceID = "pid-\(name)"
    r.variants = variants.map { v in
        var vr = Infaas_V1_VariantReport()
        vr.variant = v.name
        vr.replicas = v.replicas
        vr.loading = v.loading
        return vr
    }
    return r
}

/// A controller with the `infaas` preset over `variants` and `workers` ready workers (`w0`, `w1`, …)
/// that reported at time zero.
func makeController(_ variants: [RegisteredVariant] = [fast, slow], workers: Int = 1,
                    limits: ClusterLimits = ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 4])) throws -> ClusterController {
    var c = try ClusterController(policyName: "infaas", limits: limits, staleAfter: .seconds(1), bootTimeout: .seconds(60))
    try c.setVariants(variants)
    for i in 0..<workers { c.ingest(report("w\(i)"), now: .zero) }
    return c
}

extension ClusterController {
    func id(_ r: RegisteredVariant) -> Int { catalogue.variantID(r.variant.name)! }

    mutating func route(variant r: RegisteredVariant, batch: Int = 1, now: SimTime = .zero) -> Result<Ticket, RejectReason> {
        route(PolicyQuery(target: .variant(id(r)), batch: batch), now: now)
    }

    mutating func route(architecture: String, sloMs: Double, batch: Int = 1, now: SimTime = .zero) -> Result<Ticket, RejectReason> {
        route(PolicyQuery(target: .architecture(catalogue.architectureID(architecture)!), batch: batch, sloMs: sloMs), now: now)
    }

    /// The group of `r` on worker `w`, if any.
    func group(_ r: RegisteredVariant, on w: Int) -> ReplicaGroup? {
        snapshot.group(variant: id(r), worker: w).map { snapshot.groups[$0] }
    }
}

extension Result {
    /// The failure, if any (for `#expect(result.failure == .x)`).
    var failure: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}
