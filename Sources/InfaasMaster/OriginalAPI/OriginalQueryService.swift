import Foundation
public import GRPCCore
import InfaasCore
public import InfaasRPC

/// The original INFaaS public query API (`infaaspublic.infaasqueryfe.Query`, reference §1.4
/// and §3.2) on the master's gRPC port, so clients generated from the original `queryfe.proto`
/// work unchanged. As in the original, outcomes travel in the reply's `RequestReply` (gRPC
/// status OK): SUCCESS, or UNAVAILABLE / INVALID with a message; only a missing bearer token
/// (the master's, not the original's) is a gRPC error.
public struct OriginalQueryService: Infaaspublic_Infaasqueryfe_Query.SimpleServiceProtocol {
    let master: Master
    let native: MasterService
    let tensors = VariantTensorCache()

    public init(master: Master) {
        self.master = master
        native = MasterService(master: master)
    }

    static func reply(_ status: Infaaspublic_RequestReplyEnum, _ message: String) -> Infaaspublic_RequestReply {
        var reply = Infaaspublic_RequestReply()
        reply.status = status
        reply.msg = message
        return reply
    }

    /// The original's status for a master error: a worker's failure ("Query failed: ...") is
    /// INVALID; a model that is not registered or cannot be served now is UNAVAILABLE.
    static func reply(for error: RPCError) -> Infaaspublic_RequestReply {
        if error.message.hasPrefix("Query failed") { return reply(.invalid, error.message) }
        switch error.code {
        case .notFound, .failedPrecondition, .unavailable, .resourceExhausted: return reply(.unavailable, error.message)
        default: return reply(.invalid, error.message)
        }
    }

    // MARK: QueryOnline

    public func queryOnline(request: Infaaspublic_Infaasqueryfe_QueryOnlineRequest, context: ServerContext) async throws -> Infaaspublic_Infaasqueryfe_QueryOnlineResponse {
        var response = Infaaspublic_Infaasqueryfe_QueryOnlineResponse()
        do throws(RPCError) {
            let (target, model) = try resolve(request)
            var query = Infaas_V1_OnlineQueryRequest()
            query.target = target
            query.sloMs = Double(request.slo.latencyInUsec) / 1000
            query.minAccuracy = Double(request.slo.minAccuracy)
            query.input.tensor = try tensor(request.rawInput, model: model)
            query.includeOutputs = true
            query.submitter = request.submitter
            let answer = try await native.serveOnline(query, context: context)
            response.rawOutput = try Self.split(answer.outputs.first, batch: request.rawInput.count)
            response.status = Self.reply(.success, "Successfully executed query")
        } catch {
            response.status = Self.reply(for: error)
        }
        return response
    }

    /// Precedence as the original: variant > parent > grandparent (`<task>-<dataset>-<dim>`).
    func resolve(_ request: Infaaspublic_Infaasqueryfe_QueryOnlineRequest) throws(RPCError) -> (Infaas_V1_OnlineQueryRequest.OneOf_Target, Master.NamedModel?) {
        if !request.modelVariant.isEmpty {
            guard let model = master.namedModel(request.modelVariant), model.kind == .variant else {
                throw RPCError(code: .notFound, message: "Model has not been registered: unknown variant \"\(request.modelVariant)\"")
            }
            return (model.target, model)
        }
        if !request.parentModel.isEmpty {
            guard let model = master.namedModel(request.parentModel), model.kind == .architecture else {
                throw RPCError(code: .notFound, message: "Parent model has not been registered: unknown architecture \"\(request.parentModel)\"")
            }
            return (model.target, model)
        }
        let grandparent = request.grandparentModel
        // task and dataset may contain '-': match against the registered use-cases.
        let prefix = grandparent.split(separator: "-").dropLast().joined(separator: "-")
        for name in master.modelNames() where name.contains("/") && name.replacingOccurrences(of: "/", with: "-") == prefix {
            if let model = master.namedModel(name) { return (model.target, model) }
        }
        throw RPCError(code: .notFound, message: "Grandparent model has not been registered: \"\(grandparent)\" (write it <task>-<dataset>-<inputdim>, e.g. classification-imagenet-224)")
    }

    /// One tensor from the per-input float32 buffers: `[batch, C, H, W]` with C·H·W from the
    /// model's input shape, else a square 3-channel image (the original's `3·d·d` floats).
    func tensor(_ inputs: [Data], model: Master.NamedModel?) throws(RPCError) -> Infaas_V1_Tensor {
        guard let first = inputs.first else { throw RPCError(code: .invalidArgument, message: "the query has no raw_input (one float32 CHW buffer per batch item)") }
        guard inputs.allSatisfy({ $0.count == first.count }) else {
            throw RPCError(code: .invalidArgument, message: "raw_input buffers differ in size (\(Set(inputs.map(\.count)).sorted().map(String.init).joined(separator: ", ")) bytes): every batch item must be the same shape")
        }
        guard first.count % 4 == 0, first.count > 0 else {
            throw RPCError(code: .invalidArgument, message: "raw_input of \(first.count) bytes is not float32 values")
        }
        let floats = Int64(first.count / 4)
        var item: [Int64]? = nil
        if let spec = model?.variants.first {
            let shape = tensors.tensors(spec).input.shape
            let rest = Array(shape.dropFirst())
            if tensors.tensors(spec).fromFile, rest.allSatisfy({ $0 > 0 }), rest.reduce(1, *) == floats { item = rest }
        }
        if item == nil, floats % 3 == 0 {
            let side = Int64(Double(floats / 3).squareRoot().rounded())
            if side * side * 3 == floats { item = [3, side, side] }
        }
        guard let item else {
            throw RPCError(code: .invalidArgument, message: "raw_input of \(first.count) bytes is not a 3·d·d float32 image nor the model's input")
        }
        var tensor = Infaas_V1_Tensor()
        tensor.shape = [Int64(inputs.count)] + item
        var data = Data(capacity: first.count * inputs.count)
        for input in inputs { data.append(input) }
        tensor.data = data
        return tensor
    }

    /// The first output split into one buffer per batch item (the original's raw_output).
    static func split(_ output: Infaas_V1_Tensor?, batch: Int) throws(RPCError) -> [Data] {
        guard let output, batch > 0, output.data.count % batch == 0 else {
            throw RPCError(code: .internalError, message: "Query failed: the worker's output does not split into \(batch) items")
        }
        let row = output.data.count / batch
        return (0..<batch).map { i in output.data.subdata(in: (output.data.startIndex + i * row)..<(output.data.startIndex + (i + 1) * row)) }
    }

    // MARK: QueryOffline

    public func queryOffline(request: Infaaspublic_Infaasqueryfe_QueryOfflineRequest, context: ServerContext) async throws -> Infaaspublic_Infaasqueryfe_QueryOfflineResponse {
        var response = Infaaspublic_Infaasqueryfe_QueryOfflineResponse()
        var offline = Infaas_V1_OfflineQueryRequest()
        // The original's URLs are bucket/prefix without a scheme.
        func url(_ text: String) -> String { text.contains("://") ? text : "s3://" + text }
        offline.inputURL = url(request.inputURL)
        offline.outputURL = url(request.outputURL)
        offline.architecture = request.model
        offline.submitter = request.submitter
        do {
            let job = try await native.queryOffline(request: offline, context: context)
            response.status = Self.reply(.success, "Offline job \(job.jobID) submitted: \(job.variant) on \(job.worker); monitor \(request.outputURL) for its progress")
        } catch let error as RPCError {
            response.status = Self.reply(for: error)
        } catch {
            response.status = Self.reply(.invalid, "\(error)")
        }
        return response
    }

    // MARK: Discovery

    public func allParentInfo(request: Infaaspublic_Infaasqueryfe_AllParRequest, context: ServerContext) async throws -> Infaaspublic_Infaasqueryfe_AllParResponse {
        var reply = Infaaspublic_AllParReply()
        do {
            reply.allModels = try master.registry.architectures(task: InferenceTask(request.task), dataset: Dataset(request.dataset))
            reply.status = Self.reply(.success, "Successfully retrieved parent models")
        } catch {
            reply.status = Self.reply(.invalid, "\(error)")
        }
        var response = Infaaspublic_Infaasqueryfe_AllParResponse()
        response.reply = reply
        return response
    }

    public func queryModelInfo(request: Infaaspublic_Infaasqueryfe_QueryModelInfoRequest, context: ServerContext) async throws -> Infaaspublic_Infaasqueryfe_QueryModelInfoResponse {
        var reply = Infaaspublic_QueryModelReply()
        do {
            let variants = try master.registry.variants(ofArchitecture: request.model)
            reply.allModels = variants.map(\.variant.name)
            if let fastest = variants.first {  // the original read the first without checking (reference bug 11)
                reply.imgDim = Int32(clamping: fastest.variant.useCase.inputDimension)
                reply.accuracy = Float(fastest.variant.accuracy ?? 0)
            }
            reply.status = Self.reply(.success, "Successfully retrieved model info")
        } catch {
            reply.status = Self.reply(.invalid, "\(error)")
        }
        var response = Infaaspublic_Infaasqueryfe_QueryModelInfoResponse()
        response.reply = reply
        return response
    }

    public func heartbeat(request: Infaaspublic_Infaasqueryfe_HeartbeatRequest, context: ServerContext) async throws -> Infaaspublic_Infaasqueryfe_HeartbeatResponse {
        var response = Infaaspublic_Infaasqueryfe_HeartbeatResponse()
        response.status = Self.reply(.success, "Query Frontend is up")
        return response
    }
}
