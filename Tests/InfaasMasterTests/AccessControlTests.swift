import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasPolicies
import InfaasRegistry
import InfaasRPC
import InfaasTestSupport
import Logging
import Testing
@testable import InfaasMaster

/// A master on a free loopback port with `security`, for the length of `body`.
func withServingMaster<R: Sendable>(_ security: ServerSecurity, _ body: @Sendable @escaping (HostPort) async throws -> R) async throws -> R {
    let logger = Logger(label: "infaas.master.tests", factory: { _ in SwiftLogNoOpLogHandler() })
    let master = try Master(
        options: Master.Options(limits: ClusterLimits(initial: [.cpu: 0], maximum: [.cpu: 1]), advertisedAddress: "127.0.0.1:0"),
        registry: try ModelRegistry(), provider: nil, logger: logger)
    let (ports, listening) = AsyncStream<Int>.makeStream()
    let server = MasterServer(master: master, port: 0, security: security, logger: logger) { listening.yield($0) }
    return try await withThrowingTaskGroup(of: R?.self) { group in
        group.addTask { try await server.run(); return nil }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let result = try await body(HostPort(host: "127.0.0.1", port: port))
        group.cancelAll()
        return result
    }
}

/// Calls the master's `ClusterStatus` with `security`; the RPC error if it fails.
func statusCall(_ address: HostPort, _ security: ClientSecurity) async throws -> RPCError? {
    do {
        _ = try await withGRPCClient(transport: RPCTransport.client(address, security: security), interceptors: security.interceptors) { grpc in
            try await Infaas_V1_Master.Client(wrapping: grpc).clusterStatus(Infaas_V1_ClusterStatusRequest(), options: .defaults.with(timeoutMs: 10_000))
        }
        return nil
    } catch let error as RPCError {
        return error
    }
}

@Suite struct AccessControlTests {
    let token = ClusterToken.generate()

    @Test func masterWithATokenRejectsCallsWithoutItOrWithAnotherAndAcceptsIt() async throws {
        let token = self.token
        try await withServingMaster(ServerSecurity(token: token)) { address in
            let missing = try #require(try await statusCall(address, .open))
            #expect(missing.code == .unauthenticated)
            #expect(missing.message.contains("missing or wrong bearer token"))
            #expect(missing.message.contains("<home>/cluster/token") && missing.message.contains("INFAAS_TOKEN"))
            let wrong = try #require(try await statusCall(address, ClientSecurity(token: ClusterToken.generate())))
            #expect(wrong.code == .unauthenticated)
            #expect(!wrong.message.contains(token.secret))
            let truncated = try #require(try await statusCall(address, ClientSecurity(token: ClusterToken(String(token.secret.dropLast())))))
            #expect(truncated.code == .unauthenticated)
            #expect(try await statusCall(address, ClientSecurity(token: token)) == nil)
        }
    }

    @Test func masterWithoutATokenStaysOpen() async throws {
        try await withServingMaster(.open) { address in
            let error = try await statusCall(address, .open)
            #expect(error == nil)
        }
    }

    @Test(.enabled(if: SelfSignedCertificate.opensslAvailable, "needs the openssl command"))
    func tlsRoundTripAndAPlaintextClientFailsCleanly() async throws {
        let certificate = try SelfSignedCertificate()
        defer { certificate.remove() }
        let token = self.token
        let security = ServerSecurity(token: token, tls: .init(certificate: certificate.certificate, key: certificate.key))
        try await withServingMaster(security) { address in
            // Trusting the self-signed certificate: the call goes through, token and all.
            #expect(try await statusCall(address, ClientSecurity(token: token, trustRoots: certificate.certificate)) == nil)
            // TLS without the token is still unauthenticated.
            #expect(try await statusCall(address, ClientSecurity(trustRoots: certificate.certificate))?.code == .unauthenticated)
            // A plaintext client gets an RPC error (not a hang, not a crash).
            let plaintext = try await statusCall(address, ClientSecurity(token: token))
            #expect(plaintext != nil && plaintext?.code != .unauthenticated)
        }
    }

    @Test func tokenNeverPrints() {
        #expect("\(token)" == "<redacted>")
        #expect(String(reflecting: token) == "ClusterToken(<redacted>)")
        #expect(token.secret.count == 64 && token.secret.allSatisfy(\.isHexDigit))
        #expect(ClusterToken.generate() != token)
    }

    @Test func tokenFileIsOwnerOnly() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-token-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644]))
        try token.write(path: path)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        #expect(try ClusterToken.read(path: path) == token)
    }
}
