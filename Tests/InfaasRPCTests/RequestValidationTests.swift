import Foundation
import GRPCCore
import Testing
import InfaasCore
@testable import InfaasRPC

@Suite("Request validation at the RPC entry")
struct RequestValidationTests {
    static func query(slo: Double = 100, accuracy: Double = 0, topK: UInt32 = 0) -> Infaas_V1_OnlineQueryRequest {
        var request = Infaas_V1_OnlineQueryRequest()
        var useCase = Infaas_V1_UseCase()
        useCase.task = "classification"
        useCase.dataset = "imagenet"
        request.useCase = useCase
        request.sloMs = slo
        request.minAccuracy = accuracy
        request.topK = topK
        request.input.tensor = Infaas_V1_Tensor(shape: [1, 4], values: [1, 2, 3, 4])
        return request
    }

    static func invalid(_ request: Infaas_V1_OnlineQueryRequest) -> RPCError? {
        #expect(throws: RPCError.self) { try RequestLimits.check(request) }
    }

    @Test func aUseCaseQueryWithAnSLOOf1e308IsInvalidArgumentNamingTheValueAndBound() {
        let error = Self.invalid(Self.query(slo: 1e308))
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("slo_ms") == true && error?.message.contains("1e+308") == true && error?.message.contains("10000000") == true,
                "\(String(describing: error))")
        for slo in [-1.0, .infinity, .nan] { #expect(Self.invalid(Self.query(slo: slo))?.code == .invalidArgument) }
        #expect(throws: Never.self) { try RequestLimits.check(Self.query(slo: 1e7)) }
    }

    @Test func accuracyAndTopKAreBounded() {
        #expect(Self.invalid(Self.query(accuracy: 101))?.message.contains("min_accuracy") == true)
        #expect(Self.invalid(Self.query(accuracy: .nan))?.code == .invalidArgument)
        let topK = Self.invalid(Self.query(topK: UInt32.max))
        #expect(topK?.message.contains("top_k 4294967295") == true && topK?.message.contains("1000") == true)
        #expect(throws: Never.self) { try RequestLimits.check(Self.query(topK: 1000)) }
    }

    @Test func namesAndInputsAreBounded() {
        var request = Self.query()
        request.variant = "../../etc"
        #expect(Self.invalid(request)?.message.contains("variant") == true)
        request.architecture = String(repeating: "a", count: 1000)
        #expect(Self.invalid(request)?.code == .invalidArgument)
        request = Self.query()
        request.input.tensor = Infaas_V1_Tensor(shape: [1, Int(Int32.max), Int(Int32.max), 4], values: [])
        #expect(Self.invalid(request)?.message.contains("more elements") == true)
        request.input.tensor = Infaas_V1_Tensor(shape: [-1, 4], values: [])
        #expect(Self.invalid(request)?.message.contains("batch -1") == true)
        var images = Infaas_V1_Images()
        images.data = [Data([1, 2, 3])]
        images.height = 1 << 20
        images.width = 1 << 20
        request.input.images = images
        #expect(Self.invalid(request)?.message.contains("image size") == true)
    }

    @Test func topKKeepsAtMostTheRowsColumnsWhateverKIsAsked() {
        let top = Infaas_V1_TopK(row: 1, of: [0, 0, 0, 3, 1, 2], columns: 3, k: Int(UInt32.max))
        #expect(top.index == [0, 2, 1])
        #expect(top.score == [3, 2, 1])
    }

    @Test func everyClientAndServerHasTheStatedMessageLimit() {
        #expect(RPCTransport.maxMessageBytes == 64 * 1024 * 1024)
        let config = RPCTransport.clientServiceConfig.methodConfig.first
        #expect(config?.maxRequestMessageBytes == RPCTransport.maxMessageBytes)
        #expect(config?.maxResponseMessageBytes == RPCTransport.maxMessageBytes)
    }
}
