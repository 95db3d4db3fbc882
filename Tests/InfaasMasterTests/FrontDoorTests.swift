import Foundation
import GRPCCore
import InfaasCore
import InfaasPolicies
import InfaasRPC
import Hummingbird
import Logging
import NIOCore
import Testing
@testable import InfaasMaster
@testable import InfaasRegistry

/// The Open Inference v2 and original-API front doors, in process (no workers: what they decide
/// before a query is forwarded). The real clients run in scripts/test_protocols.py.
@Suite("Front doors: Open Inference v2 and the original INFaaS API")
struct FrontDoorTests {
    func master(_ variants: [RegisteredVariant] = [fast, slow]) throws -> Master {
        let registry = try ModelRegistry(path: NSTemporaryDirectory() + "frontdoor-\(UUID().uuidString).sqlite")
        for r in variants { try registry.register(r.variant, at: r.location, submitter: r.submitter) }
        return try Master(options: Master.Options(limits: ClusterLimits(initial: [:], maximum: [.cpu: 1]), advertisedAddress: "127.0.0.1:1"),
                          registry: registry, provider: nil, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test func modelNamesResolveAsVariantArchitectureOrTaskDataset() throws {
        let m = try master()
        #expect(m.namedModel("tinynet_fast")?.kind == .variant)
        let arch = try #require(m.namedModel("tinynet"))
        #expect(arch.kind == .architecture)
        #expect(arch.variants.map(\.name) == ["tinynet_fast", "tinynet_slow"])  // fastest at batch 1 first
        #expect(arch.maxBatch == 8)
        #expect(m.namedModel("classification/imagenet")?.kind == .useCase)
        #expect(m.namedModel("classification/nowhere") == nil)
        let unknown = m.unknownModel("tinynet_fats")
        #expect(unknown.code == .notFound && unknown.message.contains("\"tinynet_fats\"") && unknown.message.contains("tinynet_fast"))
    }

    @Test func metadataListsAnArchitecturesVariantsAsVersions() throws {
        let front = OpenInferenceFrontEnd(master: try master())
        let arch = try front.modelMetadata("tinynet")
        #expect(arch.versions == ["tinynet_fast", "tinynet_slow"])
        #expect(arch.kind == "architecture" && arch.maxBatch == 8 && arch.platform == "onnxruntime_onnx")
        // No variant.yaml at /models/...: the fallback names, the registry's 224×224, not "known".
        #expect(arch.inputs == [OpenInference.TensorMetadata(name: "input", datatype: "FP32", shape: [-1, 3, 224, 224])])
        #expect(!arch.shapesKnown)
        #expect(try front.modelMetadata("tinynet_fast").versions == ["1"])
        // A version of an architecture is one of its variants.
        #expect(try front.modelMetadata("tinynet", version: "tinynet_slow").maxBatch == 4)
        #expect(throws: RPCError.self) { try front.modelMetadata("tinynet", version: "nope") }
        #expect(throws: RPCError.self) { try front.modelMetadata("") }
        #expect(!(try front.modelReady("tinynet_fast")))  // registered, but no worker is ready
        #expect(!front.serverReady && front.serverLive)
    }

    @Test func variantYAMLGivesTensorNamesAndShapes() {
        let yaml = """
            # comment
            name: ppocr_cls_onnxruntime-cpu_t1_b8
            input_name: x
            input_shape: [-1, 3, 48, 192]
            output_name: "save_infer_model/scale_0.tmp_1"
            output_shape: [-1, 2]
            """
        let t = VariantTensors.parse(yaml: yaml)
        #expect(t == VariantTensors(input: .init(name: "x", shape: [-1, 3, 48, 192]),
                                    outputs: [.init(name: "save_infer_model/scale_0.tmp_1", shape: [-1, 2])], fromFile: true))
        #expect(VariantTensors.parse(yaml: "input_name: x\n") == nil)
        #expect(t?.outputName(0, of: 1) == "save_infer_model/scale_0.tmp_1")
        #expect(t?.outputName(1, of: 2) == "output_1")
    }

    @Test func inputTensorsAreCheckedAndNamedInErrors() throws {
        func tensor(_ datatype: String = "FP32", _ shape: [Int64], _ data: OpenInference.Input.Data, expected: [[Int64]] = [[-1, 3, 2, 2]]) throws(RPCError) -> Infaas_V1_Tensor {
            try OpenInferenceFrontEnd.tensor(OpenInference.Input(name: "x", datatype: datatype, shape: shape, data: data), model: "m", expected: expected)
        }
        let ok = try tensor("FP32", [2, 3, 2, 2], .floats(Array(repeating: 1, count: 24)))
        #expect(ok.shape == [2, 3, 2, 2] && ok.data.count == 96)
        #expect(try tensor("FP32", [1, 3, 2, 2], .raw(Data(count: 48))).data.count == 48)
        func message(_ body: () throws(RPCError) -> Infaas_V1_Tensor) -> String {
            do { _ = try body(); return "" } catch { return error.code == .invalidArgument ? error.message : "code \(error.code)" }
        }
        #expect(message { () throws(RPCError) in try tensor("INT64", [1, 3, 2, 2], .other(count: 12)) }.contains("datatype INT64; model m takes FP32"))
        #expect(message { () throws(RPCError) in try tensor("FP32", [1, 3, 4, 4], .floats(Array(repeating: 0, count: 48))) }.contains("shape [1, 3, 4, 4]; model m expects [-1, 3, 2, 2]"))
        #expect(message { () throws(RPCError) in try tensor("FP32", [1, 3, 2, 2], .raw(Data(count: 50))) }.contains("50 bytes of raw contents; shape [1, 3, 2, 2] of FP32 needs 48"))
        #expect(message { () throws(RPCError) in try tensor("FP32", [1, 3, 2, 2], .floats([1])) }.contains("1 elements; shape [1, 3, 2, 2] needs 12"))
        #expect(message { () throws(RPCError) in try tensor("FP32", [0, 3, 2, 2], .floats([])) }.contains("batch first"))
        #expect(message { () throws(RPCError) in try tensor("FP32", [1 << 40, 1 << 40], .missing, expected: []) }.contains("too large"))
        #expect(message { () throws(RPCError) in try tensor("FP32", [1, 3, 2, 2], .missing) }.contains("no contents"))
        // Unknown expected shapes (a variant without variant.yaml): only the element count is checked.
        #expect(try tensor("FP32", [1, 5], .floats([1, 2, 3, 4, 5]), expected: []).shape == [1, 5])
    }

    @Test func objectivesComeFromRequestParameters() throws {
        #expect(try OpenInferenceFrontEnd.objectives(["slo_ms": .int64(50), "min_accuracy": .string("70.5")]) == (50, 70.5))
        #expect(try OpenInferenceFrontEnd.objectives([:]) == (0, 0))
        #expect(throws: RPCError.self) { try OpenInferenceFrontEnd.objectives(["slo_ms": .bool(true)]) }
        #expect(throws: RPCError.self) { try OpenInferenceFrontEnd.objectives(["min_accuracy": .double(101)]) }
    }

    @Test func queueClassAndDeadlineComeFromRequestParameters() throws {
        let low = try OpenInferenceFrontEnd.queueing(["priority": .string("low"), "deadline_ms": .string("250")])
        #expect(low.0 == .low && low.1 == 250)
        let plain = try OpenInferenceFrontEnd.queueing([:])
        #expect(plain.0 == .high && plain.1 == 0)
        #expect(throws: RPCError.self) { try OpenInferenceFrontEnd.queueing(["priority": .string("urgent")]) }
        #expect(throws: RPCError.self) { try OpenInferenceFrontEnd.queueing(["deadline_ms": .double(-1)]) }
        // A shed query travels as RESOURCE_EXHAUSTED: HTTP 429 with its status text.
        let shed = RESTError(RPCError(code: .resourceExhausted, message: "Query failed: shed: the replica's queue is full (4 queued, max_queue_length 4)"))
        #expect(shed.status == .tooManyRequests)
        #expect(shed.message.contains("shed: the replica's queue is full"))
    }

    @Test func restRequestsWithBinaryTensorsAndErrorStatuses() throws {
        let json = try JSONDecoder().decode(JSONValue.self, from: Data("""
            {"id": "q1", "parameters": {"slo_ms": 40, "binary_data_output": true},
             "inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 2], "parameters": {"binary_data_size": 8}}],
             "outputs": [{"name": "y", "parameters": {"binary_data": false}}]}
            """.utf8))
        var body = ByteBuffer(bytes: [0, 0, 128, 63, 0, 0, 0, 64, 9])  // 1.0, 2.0 and a stray byte
        let parsed = try Handler.parse(json, model: "m", version: "", binary: &body)
        #expect(parsed.request.id == "q1" && parsed.request.parameters["slo_ms"] == .int64(40))
        guard case .raw(let bytes) = parsed.request.inputs[0].data else { Issue.record("not raw"); return }
        #expect(bytes.count == 8 && parsed.binaryOutputs == ["y": false] && parsed.binaryByDefault)

        let nested = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [2, 2], "data": [[1, 2.5], [3, 4]]}]}"#.utf8))
        var none = ByteBuffer()
        guard case .floats(let floats) = try Handler.parse(nested, model: "m", version: "", binary: &none).request.inputs[0].data else {
            Issue.record("not floats"); return
        }
        #expect(floats == [1, 2.5, 3, 4])

        let tooShort = try JSONDecoder().decode(JSONValue.self, from: Data(#"{"inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "parameters": {"binary_data_size": 64}}]}"#.utf8))
        #expect(throws: RESTError.self) { try Handler.parse(tooShort, model: "m", version: "", binary: &none) }

        #expect(RESTError(RPCError(code: .notFound, message: "")).status == .notFound)
        #expect(RESTError(RPCError(code: .invalidArgument, message: "")).status == .badRequest)
        #expect(RESTError(RPCError(code: .unavailable, message: "")).status == .serviceUnavailable)
        #expect(RESTError(RPCError(code: .unauthenticated, message: "")).status == .unauthorized)

        let response = Handler.encode(OpenInference.Response(modelName: "m", modelVersion: "1", id: "", parameters: ["variant": .string("v")],
                                                             outputs: [OpenInference.Output(name: "y", shape: [1, 1], data: Data([0, 0, 128, 63]))]),
                                      binary: [:], binaryByDefault: true)
        #expect(response.headers[Handler.headerLengthName] != nil)
    }

    @Test func originalAPIResolvesNamesAndShapesAsTheOriginal() throws {
        let service = OriginalQueryService(master: try master())
        var request = Infaaspublic_Infaasqueryfe_QueryOnlineRequest()
        request.grandparentModel = "classification-imagenet-224"
        #expect(try service.resolve(request).1?.kind == .useCase)
        request.parentModel = "tinynet"
        #expect(try service.resolve(request).1?.kind == .architecture)
        request.modelVariant = "tinynet_slow"
        #expect(try service.resolve(request).1?.name == "tinynet_slow")
        request.modelVariant = "resnet999"
        do { _ = try service.resolve(request); Issue.record("resolved an unknown variant") } catch {
            #expect(OriginalQueryService.reply(for: error).status == .unavailable)
            #expect(error.message.hasPrefix("Model has not been registered"))
        }
        // Two 3×4×4 float32 images: [2, 3, 4, 4].
        let image = Data(count: 3 * 4 * 4 * 4)
        #expect(try service.tensor([image, image], model: nil).shape == [2, 3, 4, 4])
        #expect(throws: RPCError.self) { try service.tensor([Data(count: 20)], model: nil) }
        #expect(throws: RPCError.self) { try service.tensor([image, Data(count: 4)], model: nil) }
        var out = Infaas_V1_Tensor()
        out.data = Data((0..<16).map(UInt8.init))
        #expect(try OriginalQueryService.split(out, batch: 2).map(\.count) == [8, 8])
        #expect(OriginalQueryService.reply(for: RPCError(code: .internalError, message: "Query failed: boom")).status == .invalid)
    }
}
