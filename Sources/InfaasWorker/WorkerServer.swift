import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasRPC
import InfaasPolicies
import InfaasCore
public import Logging
public import ServiceLifecycle

/// Runs a worker: its gRPC service, its monitors and autoscaler, and its reports to the master,
/// until a graceful shutdown (SIGTERM/SIGINT through swift-service-lifecycle).
public struct WorkerServer: Service {
    public let daemon: WorkerDaemon
    public let bindHost: String
    public let port: Int
    let logger: Logger
    /// Called with `host:port` once the service listens.
    let onListening: @Sendable (String) -> Void

    public init(daemon: WorkerDaemon, bindHost: String = "127.0.0.1", port: Int, logger: Logger,
                onListening: @escaping @Sendable (String) -> Void = { _ in }) {
        self.daemon = daemon
        self.bindHost = bindHost
        self.port = port
        self.logger = logger
        self.onListening = onListening
    }


    public func run() async throws {
        let server = GRPCServer(
            transport: RPCTransport.server(host: bindHost, port: port, tls: daemon.options.tls),
            services: [WorkerService(daemon: daemon)],
            interceptors: ServerSecurity(token: daemon.options.token).interceptors)
        let options = daemon.options
        let toMaster = ClientSecurity(token: options.token, trustRoots: options.masterTrustRoots)
        // Reconnect attempts at most 2 s apart: a restarted master sees its workers again within
        // seconds however long it was down (it waits for them before launching new ones).
        let master = try GRPCClient(transport: RPCTransport.client(try HostPort(options.masterAddress), security: toMaster, maxReconnectWait: .seconds(2)),
                                    interceptors: toMaster.interceptors)
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await server.serve() }
                group.addTask { try await master.runConnections() }
                guard let port = try await server.listeningAddress?.ipv4?.port else {
                    throw WorkerError(.internalError, "the worker's gRPC server did not start listening")
                }
                let address = "\(options.advertisedHost):\(port)"
                await daemon.setAddress(address)
                logger.info("worker \(options.name) (\(options.hardware.rawValue), \(options.cores) cores) listening on \(address)\(options.tls == nil ? "" : " (TLS)"), reporting to \(options.masterAddress)")
                onListening(address)
                group.addTask {
                    let stopped = await Self.loops(daemon: daemon, master: Infaas_V1_Master.Client(wrapping: master), logger: logger)
                    if stopped {  // the master retired this worker: drain and exit, as on SIGTERM
                        server.beginGracefulShutdown()
                        master.beginGracefulShutdown()
                    }
                }
            }
        } onGracefulShutdown: {
            logger.info("worker shutting down: draining queries")
            server.beginGracefulShutdown()
            master.beginGracefulShutdown()
        }
        await daemon.unloadAll()
    }

    /// The periodic work: reports, QPS monitor (1 s), resource monitor (2.5 s), arbiter (1 s).
    /// Returns true when the master answered a report with `stop` (it retired this worker).
    static func loops(daemon: WorkerDaemon, master: Infaas_V1_Master.Client<HTTP2ClientTransport.Posix>, logger: Logger) async -> Bool {
        let options = daemon.options
        let tickMs = 50.0
        var nextReport = 0.0
        var schedule = await daemon.schedule
        var lastMonitor = ContinuousClock.now
        var lastFailureLog: ContinuousClock.Instant? = nil
        let start = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let elapsed = (ContinuousClock.now - start).milliseconds
            // The loop's schedule says which of its worker-side jobs are due (the simulator
            // reads the same schedule in virtual time).
            for kind in schedule.due(at: SimTime(elapsed: ContinuousClock.now - start), among: [.monitor, .resource, .arbiter]) {
                switch kind {
                case .monitor:
                    let now = ContinuousClock.now
                    await daemon.monitorTick(intervalSeconds: (now - lastMonitor).milliseconds / 1000)
                    lastMonitor = now
                case .resource: await daemon.resourceTick()
                case .arbiter: await daemon.arbiterTick()
                case .vm: break
                }
            }
            if elapsed >= nextReport {
                nextReport = elapsed + options.reportIntervalMs
                let report = await daemon.report()
                do {
                    let reply = try await master.reportWorker(report, options: CallOptions.defaults.with(timeoutMs: 2000))
                    if reply.catalogueVersion != report.catalogueVersion, !reply.variants.isEmpty {
                        await daemon.adoptCatalogue(reply.variants, version: reply.catalogueVersion)
                    }
                    if reply.stop {
                        logger.info("the master at \(options.masterAddress) retired this worker; shutting down")
                        return true
                    }
                    if !reply.known { logger.info("registered with the master at \(options.masterAddress)") }
                    lastFailureLog = nil
                } catch let error as RPCError where error.code == .permissionDenied {
                    if lastFailureLog.map({ ContinuousClock.now - $0 > .seconds(10) }) ?? true {
                        logger.error("the master at \(options.masterAddress) refuses this worker's reports: \(error.message)")
                        lastFailureLog = ContinuousClock.now
                    }
                } catch {
                    if lastFailureLog.map({ ContinuousClock.now - $0 > .seconds(10) }) ?? true {
                        logger.warning("cannot report to the master at \(options.masterAddress): \(error) (retrying)")
                        lastFailureLog = ContinuousClock.now
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(tickMs))
        }
        return false
    }
}
