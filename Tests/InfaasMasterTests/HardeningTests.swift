import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasRPC
import Testing
@testable import InfaasMaster

/// End to end over gRPC: requests that once escaped a folder or killed the master.
@Suite struct HardeningTests {
    static func config(_ name: String, framework: String = "onnxruntime-cpu") -> String {
        """
        parname tinynet
        varname \(name)
        filename model.onnx
        dataset imagenet
        task classification
        framework \(framework)
        inputdim 8
        maxbatch 4
        loadlat 100
        inflatb1 10
        inflatb4 20
        inflatb8 0
        inflatb16 0
        inflatb32 0
        inflatb64 0
        accuracy 70
        compsize 1000
        peakmemory 1000
        """
    }

    static func register(_ address: HostPort, config: String, url: String) async throws -> RPCError? {
        var request = Infaas_V1_RegisterModelRequest()
        request.configName = "x.config"
        request.configText = config
        request.modelURL = url
        do {
            _ = try await withGRPCClient(transport: RPCTransport.client(address), interceptors: []) { grpc in
                try await Infaas_V1_Master.Client(wrapping: grpc).registerModel(request, options: .defaults.with(timeoutMs: 10_000))
            }
            return nil
        } catch let error as RPCError {
            return error
        }
    }

    static func query(_ address: HostPort, _ request: Infaas_V1_OnlineQueryRequest) async throws -> RPCError? {
        do {
            _ = try await withGRPCClient(transport: RPCTransport.client(address), interceptors: []) { grpc in
                try await Infaas_V1_Master.Client(wrapping: grpc).queryOnline(request, options: .defaults.with(timeoutMs: 10_000))
            }
            return nil
        } catch let error as RPCError {
            return error
        }
    }

    static func modelFolder(_ files: [String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-reg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for file in files { try Data("x".utf8).write(to: dir.appendingPathComponent(file)) }
        return dir.path
    }

    @Test func aRegistrationNamedDotDotIsRefusedAndChangesNothing() async throws {
        let folder = try Self.modelFolder(["model.onnx"])
        try await withServingMaster(.open) { address in
            // The reproducer: varname ../../some/dir, accepted before and then replaced a folder
            // outside the worker's cache on the first query.
            let error = try #require(try await Self.register(address, config: Self.config("../../some/dir"), url: "file://\(folder)/"))
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("varname") && error.message.contains("A–Z a–z 0–9 . _ -"), "\(error.message)")
            var request = Infaas_V1_RegisterModelRequest()
            request.configName = "../../etc/passwd"
            request.modelURL = "file://\(folder)/"
            let named = try await withGRPCClient(transport: RPCTransport.client(address), interceptors: []) { grpc in
                try? await Infaas_V1_Master.Client(wrapping: grpc).registerModel(request)
            }
            #expect(named == nil)
            #expect(try await statusCall(address, .open) == nil, "the master still answers")
        }
    }

    @Test func registrationChecksTheModelLocationAndARetrySucceeds() async throws {
        let empty = try Self.modelFolder([])
        let good = try Self.modelFolder(["model.onnx", "variant.yaml"])
        try await withServingMaster(.open) { address in
            let missing = try #require(try await Self.register(address, config: Self.config("tiny_a"), url: "file:///nonexistent/"))
            #expect(missing.code == .notFound && missing.message.contains("does not exist"), "\(missing.message)")
            let hollow = try #require(try await Self.register(address, config: Self.config("tiny_a"), url: "file://\(empty)/"))
            #expect(hollow.code == .failedPrecondition && hollow.message.contains("no .onnx model"), "\(hollow.message)")
            let etc = try #require(try await Self.register(address, config: Self.config("tiny_a"), url: "file:///etc/"))
            #expect(etc.code == .failedPrecondition)
            #expect(try await Self.register(address, config: Self.config("tiny_a"), url: "file://\(good)/") == nil)
            // The client never heard it succeed and tries again: the same config succeeds.
            #expect(try await Self.register(address, config: Self.config("tiny_a"), url: "file://\(good)/") == nil)
            let other = try #require(try await Self.register(address, config: Self.config("tiny_a"), url: "file://\(empty)/"))
            #expect(other.code == .failedPrecondition || other.code == .alreadyExists)
        }
    }

    @Test func aUseCaseQueryWithAnSLOOf1e308OrATopKOf2To32IsInvalidArgumentAndTheMasterLives() async throws {
        let good = try Self.modelFolder(["model.onnx"])
        try await withServingMaster(.open) { address in
            #expect(try await Self.register(address, config: Self.config("tiny_a"), url: "file://\(good)/") == nil)
            var request = Infaas_V1_OnlineQueryRequest()
            var useCase = Infaas_V1_UseCase()
            useCase.task = "classification"
            useCase.dataset = "imagenet"
            request.useCase = useCase
            request.sloMs = 1e308
            request.input.tensor = Infaas_V1_Tensor(shape: [1, 3, 8, 8], values: [Float](repeating: 0, count: 192))
            let slo = try #require(try await Self.query(address, request))
            #expect(slo.code == .invalidArgument && slo.message.contains("slo_ms") && slo.message.contains("10000000"), "\(slo.message)")
            request.sloMs = 100
            request.topK = UInt32.max
            let topK = try #require(try await Self.query(address, request))
            #expect(topK.code == .invalidArgument && topK.message.contains("top_k"), "\(topK.message)")
            #expect(try await statusCall(address, .open) == nil, "the master still answers")
        }
    }
}
