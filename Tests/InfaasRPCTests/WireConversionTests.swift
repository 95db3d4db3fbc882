import Foundation
import Testing
import InfaasCore
import InfaasRPC

@Suite("Wire conversions")
struct WireConversionTests {
    @Test func tensorRoundTripsFloats() throws {
        let values: [Float] = [0, 1.5, -2.25, .greatestFiniteMagnitude, -0.0, 3e-8]
        let tensor = Infaas_V1_Tensor(shape: [2, 3], values: values)
        #expect(tensor.dimensions == [2, 3])
        #expect(tensor.elementCount == 6)
        #expect(tensor.data.count == 24)
        #expect(try tensor.floats() == values)
        // Through the protobuf encoding too.
        let decoded = try Infaas_V1_Tensor(serializedBytes: try tensor.serializedBytes() as [UInt8])
        #expect(try decoded.floats() == values)
    }

    @Test func tensorWhoseBytesDoNotMatchItsShapeIsAnError() throws {
        var tensor = Infaas_V1_Tensor(shape: [1, 3, 8, 8], values: [Float](repeating: 1, count: 3 * 8 * 8))
        tensor.data.removeLast(4)
        let error = #expect(throws: WireError.self) { try tensor.floats() }
        #expect(error?.message.contains("768 bytes") == true)
        #expect(error?.message.contains("got 764") == true)
        #expect(error?.hint != nil)
        // A negative dimension never matches.
        var negative = Infaas_V1_Tensor()
        negative.shape = [-1, 4]
        #expect(negative.elementCount == -1)
        #expect(throws: WireError.self) { try negative.floats() }
    }

    @Test func batchSizeComesFromImagesOrTheFirstDimension() {
        var input = Infaas_V1_QueryInput()
        #expect(input.batchSize == 0)
        input.tensor = Infaas_V1_Tensor(shape: [3, 4], values: [Float](repeating: 0, count: 12))
        #expect(input.batchSize == 3)
        var images = Infaas_V1_Images()
        images.data = [Data([1]), Data([2])]
        input.images = images
        #expect(input.batchSize == 2)
    }

    @Test func topKPicksTheBestClassesInOrder() {
        // Two rows of five classes.
        let values: [Float] = [0.1, 0.9, 0.3, 0.7, 0.5,
                               5, 4, 3, 2, 1]
        let first = Infaas_V1_TopK(row: 0, of: values, columns: 5, k: 3)
        #expect(first.index == [1, 3, 4])
        #expect(first.score == [0.9, 0.7, 0.5])
        let second = Infaas_V1_TopK(row: 1, of: values, columns: 5, k: 2)
        #expect(second.index == [0, 1])
        #expect(second.score == [5, 4])
        // k above the class count gives every class, best first.
        #expect(Infaas_V1_TopK(row: 0, of: values, columns: 5, k: 10).index == [1, 3, 4, 2, 0])
        // A row outside the values, or k = 0, gives nothing.
        #expect(Infaas_V1_TopK(row: 2, of: values, columns: 5, k: 1).index.isEmpty)
        #expect(Infaas_V1_TopK(row: 0, of: values, columns: 5, k: 0).index.isEmpty)
    }

    @Test func hostPortParsing() throws {
        let full = try HostPort("127.0.0.1:50052")
        #expect(full.host == "127.0.0.1" && full.port == 50052)
        #expect(full.description == "127.0.0.1:50052")
        #expect(try HostPort(":80") == HostPort(host: "127.0.0.1", port: 80))
        #expect(try HostPort("80") == HostPort(host: "127.0.0.1", port: 80))
        #expect(try HostPort(" master.local:9000 ") == HostPort(host: "master.local", port: 9000))
        for bad in ["", "host", "host:", "host:0", "host:65536", "host:-1", "a:b:1", "host:80x"] {
            #expect(throws: WireError.self, "\(bad)") { try HostPort(bad) }
        }
    }

    @Test func variantSpecRoundTripsTheFieldsTheWorkerNeeds() throws {
        let model = LinearLatencyModel(slopeMs: 1.5, interceptMs: 4)
        let variant = ModelVariant(
            name: "tinynet_onnxruntime-cpu_4", architecture: "tinynet",
            useCase: UseCase(task: .classification, dataset: Dataset("imagenet"), inputDimension: 8),
            framework: .onnxruntimeCPU, hardware: .cpu, maxBatch: 4, accuracy: 71.5, loadLatencyMs: 120, memoryMB: 30, cpus: 2,
            latency: LatencyProfile(points: [LatencyPoint(batch: 1, p50Ms: 5.5)], model: model), kind: .measured, source: "test")
        let spec = Infaas_V1_VariantSpec(variant, modelURL: "file:///models/tinynet/")
        #expect(spec.modelURL == "file:///models/tinynet/")
        #expect(spec.inputHeight == 8 && spec.inputWidth == 8)
        #expect(spec.framework == "onnxruntime-cpu" && spec.hardware == "cpu")
        // Through the protobuf encoding, as it travels to a worker.
        let wire = try Infaas_V1_VariantSpec(serializedBytes: try spec.serializedBytes() as [UInt8])
        let back = try wire.modelVariant()
        #expect(back.name == variant.name)
        #expect(back.architecture == variant.architecture)
        #expect(back.useCase == variant.useCase)
        #expect(back.framework == variant.framework)
        #expect(back.hardware == variant.hardware)
        #expect(back.maxBatch == 4)
        #expect(back.accuracy == 71.5)
        #expect(back.loadLatencyMs == 120)
        #expect(back.memoryMB == 30)
        #expect(back.cpus == 2)
        #expect(back.latency.model == model)
        #expect(back.predictedLatencyMs(batch: 4) == 10)
    }

    @Test func variantSpecWithoutOptionalNumbersMapsToNil() throws {
        var spec = Infaas_V1_VariantSpec()
        spec.name = "v"
        spec.hardware = "gpu"
        spec.maxBatch = 1
        let variant = try spec.modelVariant()
        #expect(variant.accuracy == nil && variant.loadLatencyMs == nil && variant.memoryMB == nil)
        #expect(variant.cpus == 1)
        #expect(variant.hardware == .gpu)
    }

    @Test func invalidVariantSpecsAreRejected() {
        var spec = Infaas_V1_VariantSpec()
        spec.hardware = "cpu"
        spec.maxBatch = 1
        #expect(throws: WireError.self) { try spec.modelVariant() }  // no name
        spec.name = "v"
        spec.hardware = "tpu"
        let hardware = #expect(throws: WireError.self) { try spec.modelVariant() }
        #expect(hardware?.message.contains("tpu") == true)
        spec.hardware = "cpu"
        spec.maxBatch = 0
        #expect(throws: WireError.self) { try spec.modelVariant() }
    }
}
