import Foundation
import Testing
import InfaasCore
import InfaasRegistry

func variant(_ name: String, architecture: String = "resnet50", dataset: String = "imagenet", accuracy: Double? = 76.1,
             batch1: Double = 10, slope: Double = 2, maxBatch: Int = 8) -> ModelVariant {
    ModelVariant(
        name: name, architecture: architecture,
        useCase: UseCase(task: .classification, dataset: Dataset(dataset), inputDimension: 224),
        framework: .onnxruntimeCPU, hardware: .cpu, maxBatch: maxBatch, accuracy: accuracy, loadLatencyMs: 100,
        memoryMB: nil, latency: LatencyProfile(points: [LatencyPoint(batch: 1, p50Ms: batch1)],
                                               model: LinearLatencyModel(slopeMs: slope, interceptMs: batch1 - slope)),
        kind: .measured, source: "test")
}

let here = ModelLocation.file(path: "/models")

@Suite("Model registry")
struct ModelRegistryTests {
    @Test func registersAndDiscoversVariantsFastestFirst() throws {
        let registry = try ModelRegistry()
        try registry.register(variant("resnet50_slow", batch1: 200), at: here)
        try registry.register(variant("resnet50_fast", batch1: 5), at: here)
        try registry.register(variant("vgg16_cpu", architecture: "vgg16"), at: .s3(bucket: "models", prefix: "vgg16_cpu/"))
        #expect(try registry.architectures(task: .classification, dataset: Dataset("imagenet")) == ["resnet50", "vgg16"])
        #expect(try registry.variants(ofArchitecture: "resnet50").map(\.variant.name) == ["resnet50_fast", "resnet50_slow"])
        let vgg = try registry.variant(named: "vgg16_cpu")
        #expect(vgg.location == .s3(bucket: "models", prefix: "vgg16_cpu/"))
        #expect(vgg.variant == variant("vgg16_cpu", architecture: "vgg16"))
    }

    @Test func registeringAnotherVariantUnderATakenNameIsAnError() throws {
        let registry = try ModelRegistry()
        try registry.register(variant("resnet50_a"), at: here)
        let error = #expect(throws: RegistryError.self) { try registry.register(variant("resnet50_a", batch1: 20), at: here) }
        #expect(error?.code == .alreadyExists)
        #expect(error?.description.contains("Model already exists") == true)
        #expect(error?.description.contains("resnet50_a") == true)
        let moved = #expect(throws: RegistryError.self) { try registry.register(variant("resnet50_a"), at: .file(path: "/elsewhere")) }
        #expect(moved?.code == .alreadyExists)
    }

    @Test func aRetriedIdenticalRegistrationSucceedsAndChangesNothing() throws {
        let registry = try ModelRegistry()
        try registry.register(variant("resnet50_a"), at: here)
        try registry.register(variant("resnet50_a"), at: here)  // the client never heard the first succeed
        #expect(try registry.allVariants().map(\.variant.name) == ["resnet50_a"])
    }

    @Test func namesThatWouldEscapeAFolderAreRefusedAtRegistration() throws {
        let registry = try ModelRegistry()
        for bad in ["../../some/dir", "a/b", ".hidden", "", String(repeating: "x", count: 200), "nul\u{0}byte"] {
            let error = #expect(throws: RegistryError.self) { try registry.register(variant(bad), at: here) }
            #expect(error?.code == .invalidVariant, "\(bad)")
        }
        let architecture = #expect(throws: RegistryError.self) { try registry.register(variant("ok", architecture: "../x"), at: here) }
        #expect(architecture?.description.contains("architecture") == true)
        #expect(try registry.allVariants().isEmpty)
    }

    @Test func unregisterRemovesTheVariantAndWhatOnlyItNeeded() throws {
        let registry = try ModelRegistry()
        try registry.register(variant("resnet50_a"), at: here)
        try registry.register(variant("resnet50_b"), at: here)
        try registry.register(variant("vgg16_a", architecture: "vgg16"), at: here)
        #expect(try registry.unregister(variant: "vgg16_a").variant.architecture == "vgg16")
        #expect(try registry.architectures(task: .classification, dataset: Dataset("imagenet")) == ["resnet50"])
        try registry.unregister(variant: "resnet50_a")
        #expect(try registry.allVariants().map(\.variant.name) == ["resnet50_b"])
        let unknown = #expect(throws: RegistryError.self) { try registry.unregister(variant: "resnet50_a") }
        #expect(unknown?.code == .unknownVariant)
        // The name is free again.
        try registry.register(variant("vgg16_a", architecture: "vgg16", batch1: 3), at: here)
    }

    @Test func failedBatchRegistrationLeavesNothingBehind() throws {
        let registry = try ModelRegistry()
        try registry.register(variant("resnet50_a"), at: here)
        // resnet50_a again, with another profile: a clash (an identical one would be a retry).
        let batch = [variant("alexnet_a", architecture: "alexnet"), variant("resnet50_b"), variant("resnet50_a", batch1: 20)]
        #expect(throws: RegistryError.self) { _ = try registry.register(batch, location: { _ in here }, skipExisting: false) }
        #expect(try registry.allVariants().map(\.variant.name) == ["resnet50_a"])
        #expect(try registry.architectures(task: .classification, dataset: Dataset("imagenet")) == ["resnet50"])
        let summary = try registry.register(batch, location: { _ in here }, skipExisting: true)
        #expect(summary.registered == ["alexnet_a", "resnet50_b"])
        #expect(summary.skippedExisting == ["resnet50_a"])
    }

    @Test func unknownNamesGetSuggestions() throws {
        let registry = try ModelRegistry()
        try registry.register(variant("resnet50_a"), at: here)
        let arch = #expect(throws: RegistryError.self) { try registry.variants(ofArchitecture: "resnet5") }
        #expect(arch?.code == .unknownArchitecture)
        #expect(arch?.description.contains("\"resnet5\"") == true)
        #expect(arch?.description.contains("did you mean \"resnet50\"") == true)
        let task = #expect(throws: RegistryError.self) { try registry.architectures(task: InferenceTask("classificaton"), dataset: Dataset("imagenet")) }
        #expect(task?.code == .unknownTask)
        #expect(task?.description.contains("classification") == true)
        let dataset = #expect(throws: RegistryError.self) { try registry.architectures(task: .classification, dataset: Dataset("cifar10")) }
        #expect(dataset?.code == .unknownDataset)
        #expect(dataset?.description.contains("imagenet") == true)
        #expect(throws: RegistryError.self) { try registry.variant(named: "nope") }
    }

    @Test func anArchitectureBelongsToOneUseCase() throws {
        let registry = try ModelRegistry()
        try registry.register(variant("resnet50_a"), at: here)
        let error = #expect(throws: RegistryError.self) { try registry.register(variant("resnet50_b", dataset: "cifar10"), at: here) }
        #expect(error?.code == .conflictingUseCase)
    }

    @Test func sqlSearchMatchesTheInMemoryCatalogue() throws {
        let registry = try ModelRegistry()
        var all: [ModelVariant] = []
        for i in 0..<60 {
            let v = variant("v\(i)", architecture: "arch\(i % 7)", accuracy: i % 5 == 0 ? nil : Double(50 + i % 30),
                            batch1: Double(1 + i * 3 % 40), slope: Double(1 + i % 4), maxBatch: [1, 4, 8, 16][i % 4])
            all.append(v)
        }
        _ = try registry.register(all, location: { _ in here }, skipExisting: false)
        let catalogue = try VariantCatalogue(all)
        for (accuracy, latency, batch) in [(60.0, 30.0, 1), (70.0, 50.0, 4), (0.0, 1000.0, 8), (79.0, 5.0, 1)] {
            let sql = try registry.variantNames(task: .classification, minAccuracy: accuracy, maxLatencyMs: latency, batch: batch)
            let memory = catalogue.variants(task: .classification, minAccuracy: accuracy, maxLatencyMs: latency, batch: batch).map(\.name)
            #expect(sql == memory)
        }
    }

    @Test func fileRegistryUsesWALAndSurvivesReopening() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("reg-\(UUID().uuidString)/registry.sqlite").path
        do {
            let registry = try ModelRegistry(path: path)
            #expect(try registry.journalMode() == "wal")
            try registry.register(variant("resnet50_a"), at: here)
        }
        #expect(try ModelRegistry(path: path).allVariants().count == 1)
    }

    @Test(arguments: [
        ("file:///srv/models/resnet50/", ModelLocation.file(path: "/srv/models/resnet50/")),
        ("s3://infaas-models/resnet50_cpu/", ModelLocation.s3(bucket: "infaas-models", prefix: "resnet50_cpu/")),
        ("infaas-sample-public/resnet_v1_50_4/", ModelLocation.s3(bucket: "infaas-sample-public", prefix: "resnet_v1_50_4/")),
    ])
    func modelLocationsParse(text: String, expected: ModelLocation) throws {
        #expect(try ModelLocation(parsing: text) == expected)
    }

    @Test(arguments: ["", "http://x/y/", "file://relative/dir", "bucket-without-slash", "/abs/path/"])
    func badModelLocationsAreRejected(text: String) {
        let error = #expect(throws: RegistryError.self) { try ModelLocation(parsing: text) }
        #expect(error?.code == .invalidModelURL)
    }
}
