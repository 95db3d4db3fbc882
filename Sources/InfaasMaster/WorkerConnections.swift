import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasRPC

/// One long-lived gRPC client per worker address, started on first use; each call carries the
/// cluster token the workers require.
actor WorkerConnections {
    typealias Client = Infaas_V1_Worker.Client<HTTP2ClientTransport.Posix>
    let security: ClientSecurity
    private var clients: [String: (client: GRPCClient<HTTP2ClientTransport.Posix>, task: Task<Void, Never>)] = [:]

    init(security: ClientSecurity) { self.security = security }

    func client(for address: String) throws -> Client {
        if let existing = clients[address] { return Client(wrapping: existing.client) }
        guard !address.isEmpty else { throw RPCError(code: .unavailable, message: "Destination address is empty: the worker has not reported yet") }
        let client = GRPCClient(transport: try RPCTransport.client(try HostPort(address), security: security), interceptors: security.interceptors)
        let task = Task { do { try await client.runConnections() } catch {} }
        clients[address] = (client, task)
        return Client(wrapping: client)
    }

    /// Closes the connection to a worker that left.
    func forget(address: String) {
        guard let entry = clients.removeValue(forKey: address) else { return }
        entry.client.beginGracefulShutdown()
    }

    func closeAll() {
        for (_, entry) in clients { entry.client.beginGracefulShutdown() }
        clients = [:]
    }
}
