import Foundation
public import GRPCCore
public import InfaasRPC

/// `inference.GRPCInferenceService` (Open Inference Protocol v2 over gRPC, with Triton's
/// ModelConfig and ModelStatistics) on the master's gRPC server, beside `infaas.v1.Master` and
/// behind the same bearer token and TLS. Errors are gRPC statuses: NOT_FOUND for an unknown
/// model, INVALID_ARGUMENT for a bad tensor or parameter, UNAVAILABLE without workers.
public struct OpenInferenceGRPCService: Inference_GRPCInferenceService.SimpleServiceProtocol {
    let frontEnd: OpenInferenceFrontEnd

    public init(frontEnd: OpenInferenceFrontEnd) { self.frontEnd = frontEnd }

    public func serverLive(request: Inference_ServerLiveRequest, context: ServerContext) async throws -> Inference_ServerLiveResponse {
        var response = Inference_ServerLiveResponse()
        response.live = frontEnd.serverLive
        return response
    }

    public func serverReady(request: Inference_ServerReadyRequest, context: ServerContext) async throws -> Inference_ServerReadyResponse {
        var response = Inference_ServerReadyResponse()
        response.ready = frontEnd.serverReady
        return response
    }

    public func modelReady(request: Inference_ModelReadyRequest, context: ServerContext) async throws -> Inference_ModelReadyResponse {
        var response = Inference_ModelReadyResponse()
        response.ready = try frontEnd.modelReady(request.name, version: request.version)
        return response
    }

    public func serverMetadata(request: Inference_ServerMetadataRequest, context: ServerContext) async throws -> Inference_ServerMetadataResponse {
        var response = Inference_ServerMetadataResponse()
        response.name = OpenInference.serverName
        response.version = "1"
        response.extensions = OpenInference.extensions
        return response
    }

    public func modelMetadata(request: Inference_ModelMetadataRequest, context: ServerContext) async throws -> Inference_ModelMetadataResponse {
        let metadata = try frontEnd.modelMetadata(request.name, version: request.version)
        var response = Inference_ModelMetadataResponse()
        response.name = metadata.name
        response.versions = metadata.versions
        response.platform = metadata.platform
        response.inputs = metadata.inputs.map(Self.tensorMetadata)
        response.outputs = metadata.outputs.map(Self.tensorMetadata)
        return response
    }

    static func tensorMetadata(_ t: OpenInference.TensorMetadata) -> Inference_ModelMetadataResponse.TensorMetadata {
        var m = Inference_ModelMetadataResponse.TensorMetadata()
        m.name = t.name
        m.datatype = t.datatype
        m.shape = t.shape
        return m
    }

    public func modelInfer(request: Inference_ModelInferRequest, context: ServerContext) async throws -> Inference_ModelInferResponse {
        let answer = try await frontEnd.infer(try Self.request(request), context: context)
        var response = Inference_ModelInferResponse()
        response.modelName = answer.modelName
        response.modelVersion = answer.modelVersion
        response.id = answer.id
        response.parameters = answer.parameters.mapValues(Self.parameter)
        for output in answer.outputs {
            var tensor = Inference_ModelInferResponse.InferOutputTensor()
            tensor.name = output.name
            tensor.datatype = output.datatype
            tensor.shape = output.shape
            response.outputs.append(tensor)
            response.rawOutputContents.append(output.data)  // as Triton answers: raw, in output order
        }
        return response
    }

    /// The wire request as the front end's: `raw_input_contents` (one per input, in order)
    /// replaces typed contents, as the specification says.
    static func request(_ r: Inference_ModelInferRequest) throws(RPCError) -> OpenInference.Request {
        guard r.rawInputContents.isEmpty || r.rawInputContents.count == r.inputs.count else {
            throw RPCError(code: .invalidArgument, message: "the request has \(r.rawInputContents.count) raw_input_contents for \(r.inputs.count) inputs (give one per input, or none)")
        }
        var inputs: [OpenInference.Input] = []
        for (i, tensor) in r.inputs.enumerated() {
            let data: OpenInference.Input.Data
            if !r.rawInputContents.isEmpty {
                data = .raw(r.rawInputContents[i])
            } else if tensor.hasContents {
                let c = tensor.contents
                if !c.fp32Contents.isEmpty {
                    data = .floats(c.fp32Contents)
                } else {
                    let count = c.boolContents.count + c.intContents.count + c.int64Contents.count + c.uintContents.count
                        + c.uint64Contents.count + c.fp64Contents.count + c.bytesContents.count
                    data = count > 0 ? .other(count: count) : .floats([])
                }
            } else {
                data = .missing
            }
            inputs.append(OpenInference.Input(name: tensor.name, datatype: tensor.datatype, shape: tensor.shape, data: data))
        }
        return OpenInference.Request(modelName: r.modelName, modelVersion: r.modelVersion, id: r.id,
                                     parameters: r.parameters.compactMapValues(Self.parameter), inputs: inputs, outputs: r.outputs.map(\.name))
    }

    static func parameter(_ p: Inference_InferParameter) -> OpenInference.Parameter? {
        switch p.parameterChoice {
        case .boolParam(let v): .bool(v)
        case .int64Param(let v): .int64(v)
        case .uint64Param(let v): .uint64(v)
        case .doubleParam(let v): .double(v)
        case .stringParam(let v): .string(v)
        case nil: nil
        }
    }

    static func parameter(_ p: OpenInference.Parameter) -> Inference_InferParameter {
        var wire = Inference_InferParameter()
        switch p {
        case .bool(let v): wire.boolParam = v
        case .int64(let v): wire.int64Param = v
        case .uint64(let v): wire.uint64Param = v
        case .double(let v): wire.doubleParam = v
        case .string(let v): wire.stringParam = v
        }
        return wire
    }

    // MARK: Triton's extensions

    public func modelConfig(request: Inference_ModelConfigRequest, context: ServerContext) async throws -> Inference_ModelConfigResponse {
        let metadata = try frontEnd.modelMetadata(request.name, version: request.version)
        var config = Inference_ModelConfig()
        config.name = metadata.name
        config.platform = metadata.platform
        config.backend = metadata.platform == "onnxruntime_onnx" ? "onnxruntime" : metadata.platform
        config.maxBatchSize = Int32(clamping: metadata.maxBatch)
        // With max_batch_size > 0 Triton's dims leave out the batch dimension.
        config.input = metadata.inputs.map { t in
            var i = Inference_ModelInput()
            i.name = t.name
            i.dataType = .typeFp32
            i.dims = Array(t.shape.dropFirst())
            return i
        }
        config.output = metadata.outputs.map { t in
            var o = Inference_ModelOutput()
            o.name = t.name
            o.dataType = .typeFp32
            o.dims = Array(t.shape.dropFirst())
            return o
        }
        var kind = Inference_ModelParameter()
        kind.stringValue = metadata.kind
        config.parameters["infaas_kind"] = kind
        if metadata.kind != "variant" {
            var variants = Inference_ModelParameter()
            variants.stringValue = metadata.versions.joined(separator: ",")
            config.parameters["infaas_variants"] = variants
        }
        var response = Inference_ModelConfigResponse()
        response.config = config
        return response
    }

    public func modelStatistics(request: Inference_ModelStatisticsRequest, context: ServerContext) async throws -> Inference_ModelStatisticsResponse {
        var response = Inference_ModelStatisticsResponse()
        for (name, c) in try frontEnd.statistics(for: request.name, version: request.version) {
            func duration(_ count: UInt64, _ ns: UInt64) -> Inference_StatisticDuration {
                var d = Inference_StatisticDuration()
                d.count = count
                d.ns = ns
                return d
            }
            var stats = Inference_ModelStatistics()
            stats.name = name
            stats.version = "1"
            stats.lastInference = c.lastInferenceMs
            stats.inferenceCount = c.inferenceCount
            stats.executionCount = c.executionCount
            stats.inferenceStats.success = duration(c.successCount, c.successNs)
            stats.inferenceStats.fail = duration(c.failCount, c.failNs)
            stats.inferenceStats.computeInfer = duration(c.executionCount, c.computeInferNs)
            response.modelStats.append(stats)
        }
        return response
    }
}
