public import Foundation
public import GRPCCore
import InfaasRPC
import Synchronization

/// The Open Inference Protocol v2 (KServe "predict v2", Triton's) served by the master,
/// independent of the wire: the gRPC service and the REST server both turn their requests into
/// these values and call one ``OpenInferenceFrontEnd``.
///
/// Model-less: a v2 `model_name` may be a variant, an architecture (the original's parent
/// model) or `task/dataset`; request parameters `slo_ms` and `min_accuracy` carry the
/// objectives (`priority`, `high` or `low`, and `deadline_ms` the replica queue's class and
/// deadline), the batch is the input's first dimension, and the response's parameters name the
/// variant, worker and reason INFaaS chose. Errors are `RPCError`s whose code the REST server
/// maps to an HTTP status.
public enum OpenInference {
    /// A request or response parameter (`InferParameter`).
    public enum Parameter: Sendable, Equatable {
        case bool(Bool)
        case int64(Int64)
        case uint64(UInt64)
        case double(Double)
        case string(String)

        /// The value as a number, if it is one (a numeric string counts: REST clients send them).
        var number: Double? {
            switch self {
            case .bool: nil
            case .int64(let v): Double(v)
            case .uint64(let v): Double(v)
            case .double(let v): v
            case .string(let s): Double(s.trimmingCharacters(in: .whitespaces))
            }
        }
    }

    /// One input tensor: its declared datatype and shape, and its elements as they came.
    public struct Input: Sendable {
        public enum Data: Sendable {
            /// Little-endian bytes (`raw_input_contents`, or the REST binary extension).
            case raw(Foundation.Data)
            /// FP32 elements (typed `contents.fp32_contents`, JSON `data`).
            case floats([Float])
            /// Elements of another type, counted (the datatype check rejects them).
            case other(count: Int)
            /// No contents at all.
            case missing
        }

        public var name: String
        public var datatype: String
        public var shape: [Int64]
        public var data: Data

        public init(name: String, datatype: String, shape: [Int64], data: Data) {
            self.name = name
            self.datatype = datatype
            self.shape = shape
            self.data = data
        }
    }

    public struct Request: Sendable {
        public var modelName: String
        public var modelVersion: String
        public var id: String
        public var parameters: [String: Parameter]
        public var inputs: [Input]
        /// Outputs asked for by name (empty: all of them).
        public var outputs: [String]

        public init(modelName: String, modelVersion: String = "", id: String = "", parameters: [String: Parameter] = [:],
                    inputs: [Input], outputs: [String] = []) {
            self.modelName = modelName
            self.modelVersion = modelVersion
            self.id = id
            self.parameters = parameters
            self.inputs = inputs
            self.outputs = outputs
        }
    }

    /// An FP32 output: its shape and little-endian bytes.
    public struct Output: Sendable {
        public var name: String
        public var shape: [Int64]
        public var data: Foundation.Data
        public var datatype: String { "FP32" }

        /// The elements as floats.
        public var floats: [Float] {
            var values = [Float](repeating: 0, count: data.count / 4)
            _ = values.withUnsafeMutableBytes { data.copyBytes(to: $0) }
            return values
        }
    }

    public struct Response: Sendable {
        public var modelName: String
        public var modelVersion: String
        public var id: String
        public var parameters: [String: Parameter]
        public var outputs: [Output]
    }

    public struct TensorMetadata: Sendable, Equatable {
        public var name: String
        public var datatype: String
        public var shape: [Int64]
    }

    /// A model as v2 metadata and Triton's model config describe it.
    public struct ModelMetadata: Sendable {
        public var name: String
        /// For a variant `["1"]`; for an architecture or task/dataset, its variants (fastest first).
        public var versions: [String]
        public var platform: String
        public var inputs: [TensorMetadata]
        public var outputs: [TensorMetadata]
        public var maxBatch: Int
        /// variant, architecture or task/dataset.
        public var kind: String
        /// Whether the shapes were read from the variants' `variant.yaml` (else placeholders).
        public var shapesKnown: Bool
    }

    /// The server name ServerMetadata reports.
    public static let serverName = "infaas-swift"
    /// The protocol extensions served (Triton's names).
    public static let extensions = ["model_configuration", "statistics", "binary_tensor_data", "infaas_modelless"]
    /// The one input datatype the served models take.
    public static let inputDatatype = "FP32"
    /// Largest tensor payload accepted (bytes), as the native API's message limit.
    public static let maxTensorBytes = RPCTransport.maxMessageBytes
}

/// Per-model counters for ModelStatistics (Triton's `InferStatistics`), by the name asked.
struct OpenInferenceStatistics: Sendable {
    struct Counts: Sendable {
        var successCount: UInt64 = 0
        var successNs: UInt64 = 0
        var failCount: UInt64 = 0
        var failNs: UInt64 = 0
        var inferenceCount: UInt64 = 0
        var executionCount: UInt64 = 0
        var computeInferNs: UInt64 = 0
        var lastInferenceMs: UInt64 = 0
    }
    var byModel: [String: Counts] = [:]
}

/// The protocol-independent v2 server. One per master; shared by the gRPC and REST front doors.
public final class OpenInferenceFrontEnd: Sendable {
    public let master: Master
    /// The native service whose query path v2 queries take.
    let native: MasterService
    let tensors = VariantTensorCache()
    let statistics = Mutex(OpenInferenceStatistics())

    public init(master: Master) {
        self.master = master
        native = MasterService(master: master)
    }

    // MARK: Health and metadata

    /// The master process answers.
    public var serverLive: Bool { true }

    /// Some worker is ready to serve (a variant loads on first use, so that is what is needed).
    public var serverReady: Bool { master.hasReadyWorker }

    /// The model is registered and a worker is ready to serve it.
    public func modelReady(_ name: String, version: String = "") throws(RPCError) -> Bool {
        let model = try resolve(name, version: version)
        return !model.variants.isEmpty && master.hasReadyWorker
    }

    /// Metadata of a variant, an architecture or a task/dataset.
    public func modelMetadata(_ name: String, version: String = "") throws(RPCError) -> OpenInference.ModelMetadata {
        let model = try resolve(name, version: version)
        let described = model.variants.map { tensors.tensors($0) }
        let first = described.first ?? VariantTensors.fallback(Infaas_V1_VariantSpec())
        // An architecture's variants normally agree; where they differ a dimension is variable.
        func merged(_ shapes: [[Int64]]) -> [Int64] {
            guard let head = shapes.first else { return [] }
            guard shapes.allSatisfy({ $0.count == head.count }) else { return head.map { _ in -1 } }
            return head.indices.map { i in shapes.allSatisfy { $0[i] == head[i] } ? head[i] : -1 }
        }
        var input = first.input
        input.shape = merged(described.map(\.input.shape))
        let outputs = first.outputs.enumerated().map { i, o in
            OpenInference.TensorMetadata(name: o.name, datatype: "FP32",
                                         shape: merged(described.compactMap { i < $0.outputs.count ? $0.outputs[i].shape : nil }))
        }
        let frameworks = Set(model.variants.map(\.framework))
        let platform = frameworks.count == 1 ? Self.platform(frameworks.first!) : "infaas_modelless"
        return OpenInference.ModelMetadata(
            name: name, versions: model.kind == .variant ? ["1"] : model.variants.map(\.name), platform: platform,
            inputs: [OpenInference.TensorMetadata(name: input.name, datatype: OpenInference.inputDatatype, shape: input.shape)],
            outputs: outputs, maxBatch: model.maxBatch, kind: model.kind.rawValue, shapesKnown: described.allSatisfy(\.fromFile))
    }

    /// Triton's platform name for a framework.
    static func platform(_ framework: String) -> String {
        framework.hasPrefix("onnxruntime") ? "onnxruntime_onnx" : framework
    }

    /// The name resolved; `version` may name one variant of an architecture or task/dataset.
    func resolve(_ name: String, version: String) throws(RPCError) -> Master.NamedModel {
        guard !name.isEmpty else { throw RPCError(code: .invalidArgument, message: "the request names no model (model_name is empty)") }
        guard var model = master.namedModel(name) else { throw master.unknownModel(name) }
        if !version.isEmpty, version != "1", model.kind != .variant {
            guard let chosen = model.variants.first(where: { $0.name == version }) else {
                throw RPCError(code: .notFound, message: "model \(name) has no version \"\(version)\": its versions are its variants (\(model.variants.map(\.name).joined(separator: ", ")))")
            }
            model = Master.NamedModel(kind: .variant, name: chosen.name, variants: [chosen], target: .variant(chosen.name))
        } else if !version.isEmpty, version != "1" {
            throw RPCError(code: .notFound, message: "variant \(name) has one version, \"1\" (asked for \"\(version)\")")
        }
        return model
    }

    // MARK: Inference

    /// Serves one v2 inference request through the master's native query path.
    public func infer(_ request: OpenInference.Request, context: ServerContext) async throws(RPCError) -> OpenInference.Response {
        let started = ContinuousClock.now
        do {
            let response = try await serve(request, context: context)
            record(request.modelName, started: started, batch: Int(request.inputs.first?.shape.first ?? 0), response: response)
            return response
        } catch {
            record(request.modelName, started: started, batch: 0, response: nil)
            throw error
        }
    }

    func serve(_ request: OpenInference.Request, context: ServerContext) async throws(RPCError) -> OpenInference.Response {
        let model = try resolve(request.modelName, version: request.modelVersion)
        let described = model.variants.map { tensors.tensors($0) }
        let (sloMs, minAccuracy) = try Self.objectives(request.parameters)
        let (priority, deadlineMs) = try Self.queueing(request.parameters)
        guard request.inputs.count == 1, let input = request.inputs.first else {
            throw RPCError(code: .invalidArgument, message: "model \(request.modelName) takes exactly one input tensor; the request has \(request.inputs.count)"
                           + (request.inputs.isEmpty ? "" : " (\(request.inputs.map { "\"\($0.name)\"" }.joined(separator: ", ")))"))
        }
        let known = described.filter(\.fromFile)
        if let expected = known.first?.input, known.count == described.count {
            if !input.name.isEmpty, known.allSatisfy({ $0.input.name == expected.name }), input.name != expected.name {
                throw RPCError(code: .invalidArgument, message: "unexpected input \"\(input.name)\" for model \(request.modelName): its input is \"\(expected.name)\"")
            }
        }
        let tensor = try Self.tensor(input, model: request.modelName, expected: known.count == described.count ? known.map(\.input.shape) : [])
        let outputNames = Set(described.flatMap { $0.outputs.map(\.name) })
        for name in request.outputs where !outputNames.contains(name) {
            throw RPCError(code: .invalidArgument, message: "unknown output \"\(name)\" of model \(request.modelName) (its outputs: \(outputNames.sorted().joined(separator: ", ")))")
        }
        var query = Infaas_V1_OnlineQueryRequest()
        query.target = model.target
        query.sloMs = sloMs
        query.minAccuracy = minAccuracy
        query.priority = priority
        query.deadlineMs = deadlineMs
        query.input.tensor = tensor
        query.includeOutputs = true
        query.submitter = "open-inference-v2"
        let answer = try await native.serveOnline(query, context: context)
        guard let spec = model.variants.first(where: { $0.name == answer.variant }) ?? model.variants.first else {
            throw RPCError(code: .internalError, message: "the master chose \(answer.variant), which model \(request.modelName) does not list")
        }
        let names = tensors.tensors(spec)
        var outputs: [OpenInference.Output] = []
        for (i, out) in answer.outputs.enumerated() {
            let name = names.outputName(i, of: answer.outputs.count)
            if request.outputs.isEmpty || request.outputs.contains(name) {
                outputs.append(OpenInference.Output(name: name, shape: out.shape, data: out.data))
            }
        }
        var parameters: [String: OpenInference.Parameter] = [
            "variant": .string(answer.variant), "worker": .string(answer.worker), "reason": .string(answer.reason),
            "cold_start": .bool(answer.coldStart), "inference_ms": .double(answer.inferenceMs), "worker_ms": .double(answer.workerMs),
        ]
        if answer.predictedMs > 0 { parameters["predicted_ms"] = .double(answer.predictedMs) }
        return OpenInference.Response(modelName: request.modelName, modelVersion: model.kind == .variant ? "1" : answer.variant,
                                      id: request.id, parameters: parameters, outputs: outputs)
    }

    /// `priority` (`high`, the default, or `low`) and `deadline_ms` (0 when absent) from the
    /// request parameters: the query's class and deadline in the replica's queue.
    static func queueing(_ parameters: [String: OpenInference.Parameter]) throws(RPCError) -> (Infaas_V1_QueryPriority, Double) {
        var priority = Infaas_V1_QueryPriority.high
        if let parameter = parameters["priority"] {
            switch parameter {
            case .string("high"): priority = .high
            case .string("low"): priority = .low
            default: throw RPCError(code: .invalidArgument, message: "parameter priority must be \"high\" or \"low\", got \(parameter)")
            }
        }
        var deadlineMs = 0.0
        if let parameter = parameters["deadline_ms"] {
            guard let number = parameter.number, number.isFinite, number >= 0 else {
                throw RPCError(code: .invalidArgument, message: "parameter deadline_ms must be a number ≥ 0 (ms after arrival; 0 = the policy's), got \(parameter)")
            }
            deadlineMs = number
        }
        return (priority, deadlineMs)
    }

    /// `slo_ms` and `min_accuracy` from the request parameters (0 when absent).
    static func objectives(_ parameters: [String: OpenInference.Parameter]) throws(RPCError) -> (Double, Double) {
        func value(_ key: String) throws(RPCError) -> Double {
            guard let parameter = parameters[key] else { return 0 }
            guard let number = parameter.number, number.isFinite else {
                throw RPCError(code: .invalidArgument, message: "parameter \(key) must be a number, got \(parameter)")
            }
            return number
        }
        let slo = try value("slo_ms"), accuracy = try value("min_accuracy")
        guard slo >= 0 else { throw RPCError(code: .invalidArgument, message: "parameter slo_ms \(slo) is negative") }
        guard (0...100).contains(accuracy) else { throw RPCError(code: .invalidArgument, message: "parameter min_accuracy \(accuracy) is outside 0–100 (percent)") }
        return (slo, accuracy)
    }

    /// The native tensor for a v2 input: FP32 only; the element count must match the shape, and
    /// the shape the model's (`expected`: one per variant, `-1` = any; empty = unknown here).
    static func tensor(_ input: OpenInference.Input, model: String, expected: [[Int64]]) throws(RPCError) -> Infaas_V1_Tensor {
        let label = "input \"\(input.name)\""
        guard input.datatype == OpenInference.inputDatatype else {
            throw RPCError(code: .invalidArgument, message: "\(label) has datatype \(input.datatype.isEmpty ? "(none)" : input.datatype); model \(model) takes \(OpenInference.inputDatatype)")
        }
        guard !input.shape.isEmpty, input.shape.allSatisfy({ $0 >= 0 }), input.shape[0] >= 1 else {
            throw RPCError(code: .invalidArgument, message: "\(label) has shape \(input.shape): give the batch first and no negative dimension")
        }
        let (elements, overflow) = input.shape.reduce((Int64(1), false)) { acc, d in
            let (p, o) = acc.0.multipliedReportingOverflow(by: d)
            return (p, acc.1 || o)
        }
        guard !overflow, elements <= Int64(OpenInference.maxTensorBytes / 4) else {
            throw RPCError(code: .invalidArgument, message: "\(label) of shape \(input.shape) is too large: at most \(OpenInference.maxTensorBytes / 4) FP32 elements")
        }
        let fits = expected.contains { $0.count == input.shape.count && zip($0, input.shape).allSatisfy { e, g in e < 0 || e == g } }
        if !expected.isEmpty, !fits {
            let shapes = Set(expected.map { "\($0)" }).sorted().joined(separator: " or ")
            throw RPCError(code: .invalidArgument, message: "\(label) has shape \(input.shape); model \(model) expects \(shapes) (-1: any size, the first is the batch)")
        }
        var tensor = Infaas_V1_Tensor()
        tensor.shape = input.shape
        switch input.data {
        case .raw(let bytes):
            guard Int64(bytes.count) == elements * 4 else {
                throw RPCError(code: .invalidArgument, message: "\(label) has \(bytes.count) bytes of raw contents; shape \(input.shape) of FP32 needs \(elements * 4)")
            }
            tensor.data = bytes
        case .floats(let values):
            guard Int64(values.count) == elements else {
                throw RPCError(code: .invalidArgument, message: "\(label) has \(values.count) elements; shape \(input.shape) needs \(elements)")
            }
            tensor.data = values.withUnsafeBytes { Data($0) }
        case .other(let count):
            throw RPCError(code: .invalidArgument, message: "\(label) is declared FP32 but its \(count) contents are of another type (send fp32_contents or raw bytes)")
        case .missing:
            throw RPCError(code: .invalidArgument, message: "\(label) has no contents (send typed contents, raw_input_contents or binary data)")
        }
        return tensor
    }

    // MARK: Statistics

    func record(_ model: String, started: ContinuousClock.Instant, batch: Int, response: OpenInference.Response?) {
        let elapsed = ContinuousClock.now - started
        let ns = UInt64(max(0, elapsed.components.seconds)) * 1_000_000_000 + UInt64(max(0, elapsed.components.attoseconds / 1_000_000_000))
        let inferNs: UInt64 = {
            if case .double(let ms)? = response?.parameters["inference_ms"] { return UInt64(max(0, ms) * 1e6) }
            return 0
        }()
        let nowMs = UInt64(Date().timeIntervalSince1970 * 1000)
        statistics.withLock { s in
            var c = s.byModel[model, default: .init()]
            if response != nil {
                c.successCount += 1; c.successNs += ns
                c.inferenceCount += UInt64(max(0, batch)); c.executionCount += 1; c.computeInferNs += inferNs
                c.lastInferenceMs = nowMs
            } else {
                c.failCount += 1; c.failNs += ns
            }
            s.byModel[model] = c
        }
    }

    /// Counters by model name asked (`name` empty: every registered model and every name asked).
    func statistics(for name: String, version: String) throws(RPCError) -> [(String, OpenInferenceStatistics.Counts)] {
        let all = statistics.withLock { $0.byModel }
        if !name.isEmpty {
            _ = try resolve(name, version: version)
            return [(name, all[name] ?? .init())]
        }
        var names = master.modelNames()
        names += all.keys.filter { !names.contains($0) }.sorted()
        return names.map { ($0, all[$0] ?? .init()) }
    }
}
