import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasRPC
import Logging
import Testing
@testable import InfaasWorker

@Suite(.enabled(if: ORT.available, "needs ONNX Runtime (pip install onnxruntime, or INFAAS_ORT_LIB)"))
struct WorkerAccessTests {
    /// A worker whose options carry the cluster token accepts only calls that carry it too.
    @Test func workerRequiresTheMastersToken() async throws {
        let token = ClusterToken.generate()
        let sandbox = try Sandbox(token: token)
        let logger = Logger(label: "infaas.worker.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let (addresses, listening) = AsyncStream<String>.makeStream()
        let server = WorkerServer(daemon: sandbox.daemon, port: 0, logger: logger) { listening.yield($0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            var iterator = addresses.makeAsyncIterator()
            let address = try HostPort(try #require(await iterator.next()))
            func heartbeat(_ security: ClientSecurity) async throws -> RPCError? {
                do {
                    _ = try await withGRPCClient(transport: RPCTransport.client(address), interceptors: security.interceptors) { grpc in
                        try await Infaas_V1_Worker.Client(wrapping: grpc).heartbeat(Infaas_V1_HeartbeatRequest(), options: .defaults.with(timeoutMs: 10_000))
                    }
                    return nil
                } catch let error as RPCError { return error }
            }
            let anonymous = try #require(try await heartbeat(.open))
            #expect(anonymous.code == .unauthenticated)
            #expect(anonymous.message.contains("missing or wrong bearer token"))
            #expect(try await heartbeat(ClientSecurity(token: .generate()))?.code == .unauthenticated)
            #expect(try await heartbeat(ClientSecurity(token: token)) == nil)
            group.cancelAll()
        }
    }
}
