import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import InfaasCloud
public import InfaasRPC
public import Logging
public import ServiceLifecycle

/// Runs the master: the public gRPC service, the loops (expiry, VM autoscaler), until a
/// graceful shutdown; then stops the workers its provider started.
public struct MasterServer: Service {
    public let master: Master
    public let bindHost: String
    public let port: Int
    let logger: Logger
    let stopWorkersOnExit: Bool
    let onListening: @Sendable (Int) -> Void
    /// The token callers must present and the TLS files (default: open, plaintext).
    let security: ServerSecurity
    /// Open Inference v2 (gRPC + REST) and the original INFaaS API.
    let frontDoors: FrontDoors

    public init(master: Master, bindHost: String = "127.0.0.1", port: Int, security: ServerSecurity = .open, logger: Logger,
                stopWorkersOnExit: Bool = true, frontDoors: FrontDoors = FrontDoors(), onListening: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.security = security
        self.frontDoors = frontDoors
        self.master = master
        self.bindHost = bindHost
        self.port = port
        self.logger = logger
        self.stopWorkersOnExit = stopWorkersOnExit
        self.onListening = onListening
    }

    public func run() async throws {
        let openInference = OpenInferenceFrontEnd(master: master)
        let http = try frontDoors.httpPort.map { port in
            try OpenInferenceHTTPServer(frontEnd: openInference, host: bindHost, port: port, security: security, logger: logger,
                                        onListening: frontDoors.onHTTPListening).application()
        }
        let server = GRPCServer(
            transport: RPCTransport.server(host: bindHost, port: port, tls: security.tls),
            services: [MasterService(master: master), OpenInferenceGRPCService(frontEnd: openInference),
                       OriginalQueryService(master: master), OriginalModelRegService(master: master, configDirectory: frontDoors.configDirectory)],
            interceptors: security.interceptors)
        let master = self.master
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                guard let port = try await server.listeningAddress?.ipv4?.port else {
                    throw RPCError(code: .internalError, message: "the master's gRPC server did not start listening")
                }
                logger.info("master listening on \(bindHost):\(port)\(security.tls == nil ? "" : " (TLS)")\(security.token == nil ? "" : ", bearer token required"), policy \(master.options.policy), \(master.catalogueCount) variants registered")
                onListening(port)
                if let http { group.addTask { try await http.run() } }
                group.addTask { await cancelWhenGracefulShutdown { await master.runLoops() } }
            }
        } onGracefulShutdown: {
            logger.info("master shutting down")
            server.beginGracefulShutdown()
        }
        await master.connections.closeAll()
        if stopWorkersOnExit, let provider = master.provider as? LocalProcessProvider {
            let adopted = master.liveWorkers()
            logger.info("stopping \(max(provider.running.count, adopted.count)) local worker(s)")
            for worker in adopted { try? await provider.retire(worker) }
            await provider.retireAll()
        }
    }
}

extension Master {
    /// Workers not yet gone, as the provider knows them.
    public func liveWorkers() -> [LaunchedWorker] {
        controller.withLock { c in
            c.snapshot.workers.indices.compactMap { w in
                c.snapshot.workers[w].status == .gone || c.handles[w].instanceID.isEmpty ? nil
                    : LaunchedWorker(name: c.handles[w].name, hardware: c.snapshot.workers[w].hardware, instanceID: c.handles[w].instanceID)
            }
        }
    }

    /// Variants in the catalogue.
    public var catalogueCount: Int { controller.withLock { $0.catalogue.count } }
}
