import InfaasCore
import InfaasPolicies
import InfaasSimulator
import InfaasTraces

/// A variant with a fixed latency model `slope·b + intercept`.
func variant(_ name: String, architecture: String = "net", hardware: HardwareClass = .cpu, accuracy: Double = 75,
             slope: Double = 0, intercept: Double = 10, p99Ratio: Double? = nil, maxBatch: Int = 8, loadMs: Double = 0.001,
             cpus: Int = 1, memoryMB: Double = 1000) -> ModelVariant {
    let framework: Framework = hardware == .cpu ? .onnxruntimeCPU : (hardware == .gpu ? .tensorrt : .inferentia)
    let p50 = slope + intercept
    return ModelVariant(
        name: name, architecture: architecture, useCase: UseCase(task: .classification, dataset: Dataset("imagenet"), inputDimension: 224),
        framework: framework, hardware: hardware, maxBatch: maxBatch, accuracy: accuracy, loadLatencyMs: loadMs, memoryMB: memoryMB,
        cpus: hardware == .cpu ? cpus : nil,
        latency: LatencyProfile(points: [LatencyPoint(batch: 1, p50Ms: p50, p99Ms: p99Ratio.map { p50 * $0 })],
                                model: LinearLatencyModel(slopeMs: slope, interceptMs: intercept)),
        kind: .measured, source: "test")
}

/// A ready-to-run simulation.
func simulation(_ variants: [ModelVariant], policy: String = "infaas", configure: (inout PolicyConfig) -> Void = { _ in },
                applications: [(target: String, slo: Double, accuracy: Double)], initial: [HardwareClass: Int] = [.cpu: 1],
                maximum: [HardwareClass: Int]? = nil, options: SimulationOptions = SimulationOptions()) throws -> Simulation {
    let catalogue = try PolicyCatalogue(variants)
    let limits = ClusterLimits(initial: initial, maximum: maximum ?? initial)
    var base = PolicyConfig()
    configure(&base)
    let policy = try PolicyRegistry.make(policy, PolicyContext(catalogue: catalogue, limits: limits, config: base))
    let apps = applications.enumerated().map { i, a in
        Application(name: "app\(i)", targetText: a.target, target: Application.resolve(a.target, in: catalogue)!, batch: 1,
                    sloMs: a.slo, minAccuracy: a.accuracy)
    }
    return try Simulation(policy: policy, applications: apps, limits: limits, options: options)
}
