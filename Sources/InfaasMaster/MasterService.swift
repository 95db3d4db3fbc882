import Foundation
public import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasCloud
import InfaasCore
import InfaasPolicies
import InfaasProfiles
public import InfaasRPC
import InfaasRegistry
import Metrics
import InfaasTelemetry

/// The master's public gRPC service (reference §1.4 `Query` + `ModelReg`) and the workers'
/// report call. Routing decisions come from ``ClusterController`` (the shared policies).
public struct MasterService: Infaas_V1_Master.SimpleServiceProtocol {
    let master: Master
    let queriesOK = Counter(label: "infaas_master_queries_total", dimensions: [("result", "ok")])
    let queriesFailed = Counter(label: "infaas_master_queries_total", dimensions: [("result", "error")])
    let violations = Counter(label: "infaas_master_slo_violations_total")
    let latency = Timer(label: "infaas_master_query_seconds")
    let decision = Timer(label: "infaas_master_decision_seconds")

    public init(master: Master) { self.master = master }

    // MARK: Queries

    public func queryOnline(request: Infaas_V1_OnlineQueryRequest, context: ServerContext) async throws -> Infaas_V1_OnlineQueryResponse {
        let arrived = ContinuousClock.now
        do {
            var response = try await serve(request, arrived: arrived)
            queriesOK.increment()
            let elapsed = ContinuousClock.now - arrived
            response.masterMs = elapsed.milliseconds
            latency.recordNanoseconds(elapsed.totalNanoseconds)
            if request.sloMs > 0, elapsed.milliseconds > request.sloMs { violations.increment() }
            Counter(label: "infaas_master_variant_queries_total", dimensions: [("variant", response.variant)]).increment()
            master.counters.withLock { $0.queries += 1; if request.sloMs > 0, elapsed.milliseconds > request.sloMs { $0.violations += 1 } }
            return response
        } catch {
            queriesFailed.increment()
            if let outcome = (error as? RPCError).flatMap({ QueryOutcome.queueOutcome(ofMessage: $0.message) }) {
                // Answered by a worker's queue: expired there, or shed on arrival.
                Counter(label: "infaas_master_queue_outcomes_total", dimensions: [("outcome", outcome.rawValue)]).increment()
            }
            master.counters.withLock { $0.queries += 1; $0.failed += 1; if request.sloMs > 0 { $0.violations += 1 } }
            throw error
        }
    }

    func serve(_ request: Infaas_V1_OnlineQueryRequest, arrived: ContinuousClock.Instant) async throws -> Infaas_V1_OnlineQueryResponse {
        // Every number and name is bounded before routing converts or allocates on it.
        try RequestLimits.check(request)
        let batch = request.input.batchSize
        let deadline = arrived + .milliseconds(Int64(master.deadlineMs))
        // The query's queue deadline (explicit, else the policy's rule: its SLO or the master's
        // fixed deadline), from its arrival here.
        let queueDeadlineMs = master.discipline.deadline(arrival: .zero, sloMs: request.sloMs, explicitMs: request.deadlineMs,
                                                         fixedMs: master.deadlineMs)?.milliseconds
        var lastError: RPCError? = nil
        for _ in 0..<2 {  // a worker that vanished mid-query gets one retry elsewhere
            let decisionStart = ContinuousClock.now
            let routed: ClusterController.Ticket
            let heldFor: Duration?
            do { (routed, heldFor) = try await master.route(request, batch: batch, queueDeadlineMs: queueDeadlineMs) } catch {
                throw master.withUseCaseHint(error, for: request)
            }
            let decisionTime = ContinuousClock.now - decisionStart
            decision.recordNanoseconds(decisionTime.totalNanoseconds)
            let ticket = routed
            var forward = Infaas_V1_WorkerQueryRequest()
            forward.variant = ticket.spec
            forward.input = request.input
            forward.sloMs = request.sloMs
            forward.topK = request.topK
            forward.includeOutputs = request.includeOutputs
            forward.priority = request.priority
            if let queueDeadlineMs {
                // What is left of it, so the worker's queue answers it at the same instant (at least 1 µs: already past, it expires there at once).
                forward.deadlineMs = max(0.001, queueDeadlineMs - (ContinuousClock.now - arrived).milliseconds)
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { master.finished(ticket); break }
            do {
                let client = try await master.connections.client(for: ticket.address)
                var options = CallOptions.defaults
                options.timeout = remaining
                options.maxResponseMessageBytes = RPCTransport.maxMessageBytes
                options.maxRequestMessageBytes = RPCTransport.maxMessageBytes
                let callStart = ContinuousClock.now
                let reply = try await client.query(forward, options: options)
                let callTime = ContinuousClock.now - callStart
                master.finished(ticket)
                var response = Infaas_V1_OnlineQueryResponse()
                response.variant = ticket.spec.name
                response.worker = ticket.workerName
                response.outputs = reply.outputs
                response.top = reply.top
                response.decisionUs = decisionTime.milliseconds * 1000
                response.workerMs = reply.queueMs + reply.inferenceMs + reply.loadMs
                response.inferenceMs = reply.inferenceMs
                response.workerCallMs = callTime.milliseconds
                response.workerWallMs = reply.totalMs
                response.coldStart = reply.coldStart || heldFor != nil
                if let heldFor {
                    ColdStartMetrics.record(.boot, wait: heldFor + .nanoseconds(Int64(reply.loadMs * 1e6)))
                } else if reply.coldStart {
                    ColdStartMetrics.record(.load, wait: .nanoseconds(Int64(reply.loadMs * 1e6)))
                }
                response.reason = ticket.reason + (reply.coldStart ? ", cold: the worker loaded it first" : ", already loaded on the worker")
                response.predictedMs = ticket.predictedMs
                return response
            } catch let error as RPCError {
                master.finished(ticket)
                if error.code == .unavailable, !error.message.hasPrefix("variant") {
                    master.workerUnreachable(ticket, error: error.message)
                    lastError = RPCError(code: .unavailable, message: "Query failed: worker \(ticket.workerName) is unreachable: \(error.message)")
                    continue
                }
                if QueryOutcome.queueOutcome(ofMessage: error.message) != nil {
                    // The worker's queue answered it (expired or shed): its status, as named.
                    throw RPCError(code: error.code, message: "Query failed: \(error.message)")
                }
                if error.code == .deadlineExceeded {
                    throw RPCError(code: .deadlineExceeded, message: "Query failed: no answer from worker \(ticket.workerName) within the \(Int(master.deadlineMs)) ms deadline"
                                   + (ticket.coldStart ? " (the variant was loading: a cold first query can take longer; retry)" : ""))
                }
                throw RPCError(code: error.code, message: "Query failed: \(error.message)")
            } catch {
                master.finished(ticket)
                throw RPCError(code: .internalError, message: "Query failed: \(error)")
            }
        }
        throw lastError ?? RPCError(code: .deadlineExceeded, message: "Query failed: the \(Int(master.deadlineMs)) ms deadline passed")
    }

    public func queryOffline(request: Infaas_V1_OfflineQueryRequest, context: ServerContext) async throws -> Infaas_V1_OfflineQueryResponse {
        try RequestLimits.check(request)
        let (spec, worker, address) = try master.routeOffline(request)
        var forward = Infaas_V1_WorkerOfflineRequest()
        forward.variant = spec
        forward.inputURL = request.inputURL
        forward.outputURL = request.outputURL
        forward.inputHeight = request.inputHeight
        forward.inputWidth = request.inputWidth
        forward.jobID = "job-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        do {
            let client = try await master.connections.client(for: address)
            _ = try await client.queryOffline(forward, options: CallOptions.defaults.with(timeoutMs: master.deadlineMs))
        } catch let error as RPCError {
            throw RPCError(code: error.code, message: "Failure to start Offline job: \(error.message)")
        }
        var response = Infaas_V1_OfflineQueryResponse()
        response.jobID = forward.jobID
        response.variant = spec.name
        response.worker = worker
        return response
    }

    // MARK: Registration and discovery

    public func registerModel(request: Infaas_V1_RegisterModelRequest, context: ServerContext) async throws -> Infaas_V1_RegisterModelResponse {
        try RegistrationChecks.checkConfigName(request.configName)
        let name = request.configName.isEmpty ? "config" : request.configName
        // Named but not sent: the original's flow, the config comes from the config bucket.
        let text = request.configText.isEmpty && !request.configName.isEmpty ? try await master.fetchConfig(named: request.configName) : request.configText
        let variant: ModelVariant
        do {
            variant = try ConfigFile.parse(text: text, path: name.hasSuffix(".config") ? name : name + ".config")
        } catch {
            throw RPCError(code: .invalidArgument, message: "\(error)")
        }
        do {
            var location = try ModelLocation(parsing: request.modelURL)
            switch location {
            case .s3(let bucket, let prefix):
                let staged = try await master.stageModel(variant.name, from: ObjectLocation(bucket: bucket, prefix: prefix), profile: variant)
                location = .s3(bucket: staged.bucket, prefix: staged.prefix)
            case .file(let path):
                try RegistrationChecks.checkFileLocation(path, variant: variant)
            }
            try master.registry.register(variant, at: location, submitter: request.submitter.isEmpty ? "tester" : request.submitter)
            try master.reloadCatalogue()
        } catch let error as RegistryError {
            throw RPCError(code: error.code == .alreadyExists ? .alreadyExists : .invalidArgument, message: "\(error)")
        }
        var response = Infaas_V1_RegisterModelResponse()
        response.registered = [variant.name]
        return response
    }

    public func unregisterModel(request: Infaas_V1_UnregisterModelRequest, context: ServerContext) async throws -> Infaas_V1_UnregisterModelResponse {
        try RequestLimits.check(request)
        let (removed, unloaded) = try await master.unregister(variant: request.variant)
        var response = Infaas_V1_UnregisterModelResponse()
        response.variant = removed.variant.name
        response.architecture = removed.variant.architecture
        response.modelURL = removed.location.description
        response.unloadedReplicas = UInt32(max(0, unloaded))
        return response
    }

    public func listArchitectures(request: Infaas_V1_ListArchitecturesRequest, context: ServerContext) async throws -> Infaas_V1_ListArchitecturesResponse {
        do {
            var response = Infaas_V1_ListArchitecturesResponse()
            response.architectures = try master.registry.architectures(task: InferenceTask(request.task), dataset: Dataset(request.dataset))
            return response
        } catch {
            throw RPCError(code: .notFound, message: "\(error)")
        }
    }

    public func describeArchitecture(request: Infaas_V1_DescribeArchitectureRequest, context: ServerContext) async throws -> Infaas_V1_DescribeArchitectureResponse {
        do {
            let variants = try master.registry.variants(ofArchitecture: request.architecture)
            var response = Infaas_V1_DescribeArchitectureResponse()
            response.variants = variants.map(\.variant.name)
            if let fastest = variants.first {
                response.inputDimension = UInt32(max(0, fastest.variant.useCase.inputDimension))
                response.accuracy = fastest.variant.accuracy ?? 0
            }
            return response
        } catch {
            throw RPCError(code: .notFound, message: "\(error)")
        }
    }

    public func heartbeat(request: Infaas_V1_HeartbeatRequest, context: ServerContext) async throws -> Infaas_V1_HeartbeatResponse {
        var response = Infaas_V1_HeartbeatResponse()
        response.version = "infaas-swift master"
        response.uptimeS = (ContinuousClock.now - master.started).milliseconds / 1000
        return response
    }

    public func clusterStatus(request: Infaas_V1_ClusterStatusRequest, context: ServerContext) async throws -> Infaas_V1_ClusterStatusResponse {
        master.status()
    }

    public func reportWorker(request: Infaas_V1_WorkerReport, context: ServerContext) async throws -> Infaas_V1_ReportWorkerResponse {
        try master.ingest(request)
    }
}
