public import GRPCCore
public import InfaasRPC
import InfaasCore
import Metrics

/// The worker's internal gRPC service (reference §1.4 internal `Query`), called by the master.
public struct WorkerService: Infaas_V1_Worker.SimpleServiceProtocol {
    let daemon: WorkerDaemon
    let started = ContinuousClock.now
    let served = Counter(label: "infaas_worker_queries_total", dimensions: [("result", "ok")])
    let failed = Counter(label: "infaas_worker_queries_total", dimensions: [("result", "error")])
    let inference = Timer(label: "infaas_worker_inference_seconds")
    let queueing = Timer(label: "infaas_worker_queue_seconds")

    public init(daemon: WorkerDaemon) { self.daemon = daemon }

    public func query(request: Infaas_V1_WorkerQueryRequest, context: ServerContext) async throws -> Infaas_V1_WorkerQueryResponse {
        let arrived = ContinuousClock.now
        do {
            try RequestLimits.check(request)
            var response = try await daemon.query(request)
            response.totalMs = (ContinuousClock.now - arrived).milliseconds
            served.increment()
            inference.recordNanoseconds(Int64(response.inferenceMs * 1e6))
            queueing.recordNanoseconds(Int64(response.queueMs * 1e6))
            return response
        } catch let error as RPCError {
            failed.increment()
            throw error
        } catch let error as WorkerError {
            failed.increment()
            throw error.rpcError
        }
    }

    public func queryOffline(request: Infaas_V1_WorkerOfflineRequest, context: ServerContext) async throws -> Infaas_V1_WorkerOfflineResponse {
        do {
            var response = Infaas_V1_WorkerOfflineResponse()
            response.queuedFiles = UInt32(try await daemon.submitOffline(request))
            return response
        } catch {
            throw error.rpcError
        }
    }

    public func load(request: Infaas_V1_LoadRequest, context: ServerContext) async throws -> Infaas_V1_LoadResponse {
        let start = ContinuousClock.now
        do {
            var response = Infaas_V1_LoadResponse()
            response.replicas = UInt32(try await daemon.load(request.variant, replicas: Int(max(1, request.replicas))))
            response.loadMs = (ContinuousClock.now - start).milliseconds
            return response
        } catch {
            throw error.rpcError
        }
    }

    public func unload(request: Infaas_V1_UnloadRequest, context: ServerContext) async throws -> Infaas_V1_UnloadResponse {
        do {
            try await daemon.unload(variant: request.variant)
            return Infaas_V1_UnloadResponse()
        } catch {
            throw error.rpcError
        }
    }

    public func stats(request: Infaas_V1_StatsRequest, context: ServerContext) async throws -> Infaas_V1_WorkerReport {
        await daemon.report()
    }

    public func heartbeat(request: Infaas_V1_HeartbeatRequest, context: ServerContext) async throws -> Infaas_V1_HeartbeatResponse {
        var response = Infaas_V1_HeartbeatResponse()
        response.version = infaasVersion
        response.uptimeS = (ContinuousClock.now - started).milliseconds / 1000
        return response
    }
}

/// The version daemons report in heartbeats.
public let infaasVersion = "0.5.0"

extension WorkerError {
    /// The gRPC status this error travels as.
    public var rpcError: RPCError {
        let code: RPCError.Code = switch self.code {
        case .invalidArgument: .invalidArgument
        case .notFound: .notFound
        case .failedPrecondition: .failedPrecondition
        case .unavailable: .unavailable
        case .resourceExhausted: .resourceExhausted
        case .internalError: .internalError
        case .deadlineExceeded: .deadlineExceeded
        }
        return RPCError(code: code, message: description)
    }
}
