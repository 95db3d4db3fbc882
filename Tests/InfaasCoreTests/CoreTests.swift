import Testing
import InfaasCore

func makeVariant(_ name: String, architecture: String = "resnet50", task: InferenceTask = .classification,
                 accuracy: Double?, slope: Double, intercept: Double = 0, maxBatch: Int = 8,
                 batch1: Double? = nil) -> ModelVariant {
    ModelVariant(
        name: name, architecture: architecture,
        useCase: UseCase(task: task, dataset: Dataset("imagenet"), inputDimension: 224),
        framework: .onnxruntimeCPU, hardware: .cpu, maxBatch: maxBatch, accuracy: accuracy, loadLatencyMs: nil,
        memoryMB: nil,
        latency: LatencyProfile(points: batch1.map { [LatencyPoint(batch: 1, p50Ms: $0)] } ?? [],
                                model: LinearLatencyModel(slopeMs: slope, interceptMs: intercept)),
        kind: .measured, source: "test")
}

@Suite("Hardware class")
struct HardwareClassTests {
    @Test(arguments: [
        (Framework.tensorrt, 8, HardwareClass.gpu),
        (.tensorflowCPU, 128, .cpu),
        (.pytorch, 128, .cpu),
        (.inferentia, 1, .inferentia),
        (.tensorflowGPU, 64, .gpu),
        // Reference §8 item 7: GNMT-GPU has max batch 64 and the original master called it CPU.
        (.gnmtGPU, 64, .gpu),
        (.gnmtCPU, 128, .cpu),
        // A CPU runtime with a small max batch is still CPU (the batch rule would say GPU).
        (.onnxruntimeCPU, 1, .cpu),
        (.onnxruntimeCUDA, 128, .gpu),
    ])
    func frameworkDecides(framework: Framework, maxBatch: Int, expected: HardwareClass) {
        #expect(HardwareClass.decide(framework: framework, maxBatch: maxBatch) == expected)
    }

    @Test func unknownFrameworksFallBackToTheOriginalMastersBatchRule() {
        #expect(HardwareClass.decide(framework: Framework("mxnet"), maxBatch: 63) == .gpu)
        #expect(HardwareClass.decide(framework: Framework("mxnet"), maxBatch: 64) == .cpu)
        #expect(HardwareClass.decide(framework: Framework("mxnet"), maxBatch: 1, declared: .cpu) == .cpu)
    }

    @Test func descriptionsMapToClasses() {
        #expect(HardwareClass.fromDescription("NVIDIA Tesla A100") == .gpu)
        #expect(HardwareClass.fromDescription("AMD EPYC, 2 vCPU dev VM") == .cpu)
        #expect(HardwareClass.fromDescription("AWS c7g.2xlarge (Graviton3, 8 vCPU)") == .cpu)
        #expect(HardwareClass.fromDescription("inf1.2xlarge") == .inferentia)
        #expect(HardwareClass(name: "inf") == .inferentia && HardwareClass(name: "tpu") == nil)
    }
}

@Suite("Queries and objectives")
struct QueryTests {
    @Test func useCaseIsTheOriginalsGrandparentName() {
        #expect(UseCase(task: InferenceTask("Classification"), dataset: Dataset("ImageNet"), inputDimension: 224).name
                == "classification-imagenet-224")
    }

    @Test func theThreeQueryFormsNeedTheirObjectives() throws {
        _ = try QuerySpec(target: .variant("resnet50_cpu"), objectives: Objectives())
        _ = try QuerySpec(target: .architecture("resnet50"), objectives: Objectives(latencySLOMs: 300))
        let useCase = UseCase(task: .classification, dataset: Dataset("imagenet"), inputDimension: 224)
        _ = try QuerySpec(target: .useCase(useCase), objectives: Objectives(latencySLOMs: 300, minAccuracy: 70))
        #expect(throws: ValidationError.self) { try QuerySpec(target: .architecture("resnet50"), objectives: Objectives()) }
        #expect(throws: ValidationError.self) { try QuerySpec(target: .useCase(useCase), objectives: Objectives(latencySLOMs: 300)) }
    }

    @Test(arguments: [
        Objectives(latencySLOMs: 300, batch: 0),
        Objectives(latencySLOMs: -1),
        Objectives(latencySLOMs: .infinity),
        Objectives(latencySLOMs: 300, minAccuracy: 101),
    ])
    func badObjectivesAreRejected(objectives: Objectives) {
        #expect(throws: ValidationError.self) { try QuerySpec(target: .architecture("resnet50"), objectives: objectives) }
    }

    @Test func timeIsIntegerNanoseconds() {
        #expect(SimTime.milliseconds(1.5).nanoseconds == 1_500_000)
        #expect((SimTime.seconds(2) + .milliseconds(250)).seconds == 2.25)
        #expect(SimTime.seconds(3) - SimTime.seconds(1) == .seconds(2))
    }
}

@Suite("Variant catalogue")
struct VariantCatalogueTests {
    let catalogue: VariantCatalogue = try! VariantCatalogue([
        makeVariant("a", accuracy: 70, slope: 10, maxBatch: 8, batch1: 12),
        makeVariant("b", accuracy: 76, slope: 2, maxBatch: 32, batch1: 3),
        makeVariant("c", accuracy: 80, slope: 50, maxBatch: 1),
        makeVariant("d", architecture: "vgg16", accuracy: nil, slope: 1),
        makeVariant("e", architecture: "gnmt", task: .translation, accuracy: 24, slope: 5),
    ])

    @Test func searchFiltersAccuracyLatencyAndBatch() {
        #expect(catalogue.variants(task: .classification, minAccuracy: 0, maxLatencyMs: 1000, batch: 1).map(\.name) == ["a", "b", "c"])
        #expect(catalogue.variants(task: .classification, minAccuracy: 75, maxLatencyMs: 1000, batch: 1).map(\.name) == ["b", "c"])
        #expect(catalogue.variants(task: .classification, minAccuracy: 0, maxLatencyMs: 20, batch: 1).map(\.name) == ["a", "b"])
        #expect(catalogue.variants(task: .classification, minAccuracy: 0, maxLatencyMs: 1000, batch: 16).map(\.name) == ["b"])
        #expect(catalogue.variants(task: .translation, minAccuracy: 20, maxLatencyMs: 10, batch: 1).map(\.name) == ["e"])
        #expect(catalogue.variants(task: InferenceTask("detection"), minAccuracy: 0, maxLatencyMs: 1e9, batch: 1).isEmpty)
    }

    @Test func architectureVariantsAreFastestFirst() {
        // Batch-1 latency: b measured 3, a measured 12, c predicted 50.
        #expect(catalogue.variants(ofArchitecture: "resnet50").map(\.name) == ["b", "a", "c"])
        #expect(catalogue.architectures(task: .classification, dataset: Dataset("imagenet")) == ["resnet50", "vgg16"])
        #expect(catalogue.variant(named: "d")?.architecture == "vgg16")
    }

    @Test func duplicateNamesAreRejected() {
        #expect(throws: ValidationError.self) {
            try VariantCatalogue([makeVariant("a", accuracy: 1, slope: 1), makeVariant("a", accuracy: 2, slope: 1)])
        }
    }

    @Test func nameSuggestionsFindCloseNames() {
        #expect(NameSuggestion.closest(to: "resnet5", among: ["resnet50", "vgg16", "resnet101"]).first == "resnet50")
        #expect(NameSuggestion.closest(to: "xyz", among: ["resnet50", "vgg16"]).isEmpty)
        #expect(NameSuggestion.hint(for: "q", known: []).contains("none are registered"))
    }
}

/// ``MachineModel``'s arithmetic: quantile draws, hops by payload, the contention curve.
@Suite struct MachineModelTests {
    let model = MachineModel(machine: "test", cores: 2,
                             hops: [.init(payloadBytes: 1000, costMs: .init(levels: [0, 0.5, 1], valuesMs: [1, 2, 4])),
                                    .init(payloadBytes: 3000, costMs: .init(levels: [0, 0.5, 1], valuesMs: [3, 4, 6]))],
                             contention: [.init(threads: 1, replicas: 2, slowdown: 1.1), .init(threads: 1, replicas: 3, slowdown: 1.6),
                                          .init(threads: 2, replicas: 2, slowdown: 1.9)])

    @Test func quantilesInterpolateBetweenLevels() {
        let q = MachineModel.Quantiles(levels: [0, 0.5, 1], valuesMs: [1, 2, 4])
        #expect(q.value(at: 0) == 1)
        #expect(q.value(at: 0.25) == 1.5)
        #expect(q.value(at: 0.75) == 3)
        #expect(q.value(at: 2) == 4)
        let sampled = MachineModel.Quantiles(samples: [4, 1, 3, 2, 5])!
        #expect(sampled.medianMs == 3)
        #expect(sampled.value(at: 0) == 1 && sampled.value(at: 1) == 5)
        #expect(MachineModel.Quantiles(samples: []) == nil)
    }

    @Test func hopsInterpolateByPayload() {
        #expect(model.hopMs(payloadBytes: 1000, u: 0.5) == 2)
        #expect(model.hopMs(payloadBytes: 2000, u: 0.5) == 3)
        #expect(model.hopMs(payloadBytes: 5000, u: 0.5) == 6)  // along the last two
        #expect(model.hopMs(payloadBytes: 0, u: 0) == 1)  // never below the smallest measured
        #expect(MachineModel(machine: "none", cores: 2).hopMs(payloadBytes: 1000, u: 0.5) == 0)
    }

    @Test func contentionFollowsTheMeasuredCurve() {
        #expect(model.slowdown(threads: 1, demand: 1) == 1)  // alone
        #expect(model.slowdown(threads: 2, demand: 2) == 1)
        #expect(abs(model.slowdown(threads: 1, demand: 2) - 1.1) < 1e-12)
        #expect(abs(model.slowdown(threads: 1, demand: 3) - 1.6) < 1e-12)
        #expect(abs(model.slowdown(threads: 2, demand: 4) - 1.9) < 1e-12)
        #expect(abs(model.slowdown(threads: 2, demand: 3) - 1.45) < 1e-12)  // halfway between 1 and 1.9
        #expect(abs(model.slowdown(threads: 2, demand: 8) - 3.8) < 1e-12)  // beyond: in proportion
        #expect(abs(model.slowdown(threads: 4, demand: 4) - 1.9) < 1e-12)  // nearest measured thread count
        #expect(MachineModel(machine: "none", cores: 2).slowdown(threads: 2, demand: 6) == 1)
    }

    @Test func servingCPUInterpolatesByPayloadAndCountsAsFractionalDemand() {
        var m = model
        #expect(!m.hasServingCPU && m.servingCPUMs(payloadBytes: 2000) == 0)
        m.hops[0].servingCPUMs = 2
        m.hops[0].workerCPUMs = 1
        m.hops[1].servingCPUMs = 6
        m.hops[1].workerCPUMs = 2
        #expect(m.hasServingCPU)
        #expect(m.servingCPUMs(payloadBytes: 2000) == 4)
        #expect(m.workerCPUMs(payloadBytes: 2000) == 1.5)
        #expect(m.servingCPUMs(payloadBytes: 5000) == 10)  // along the last two
        #expect(m.servingCPUMs(payloadBytes: 0) == 0)  // never below 0
        // A serving path keeping 0.5 cores busy beside one 2-thread run: a quarter of the way
        // from 1 to the two-run slowdown.
        #expect(abs(model.slowdown(threads: 2, demand: 2.5) - 1.225) < 1e-12)
        #expect(abs(model.slowdown(threads: 1, demand: 1.5) - 1.05) < 1e-12)  // halfway to two 1-thread runs
    }

    @Test func cpuShareIsTheNearestLoneRuns() {
        let m = MachineModel(machine: "t", cores: 2, lone: [.init(threads: 1, medianMs: 40, cpuShare: 0.98), .init(threads: 2, medianMs: 25, cpuShare: 0.7)])
        #expect(m.cpuShare(threads: 1) == 0.98)
        #expect(m.cpuShare(threads: 2) == 0.7)
        #expect(m.cpuShare(threads: 4) == 0.7)
        #expect(MachineModel(machine: "none", cores: 2).cpuShare(threads: 2) == 1)
    }
}
