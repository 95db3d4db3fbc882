import Foundation
import GRPCCore
import HTTPTypes
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import InfaasRPC
public import Logging
import NIOCore
import NIOSSL

/// The Open Inference Protocol v2 over HTTP/REST (KServe's and Triton's `/v2/...` routes) on
/// the master, with Triton's binary tensor extension (`Inference-Header-Content-Length`), its
/// model configuration and statistics extensions, the master's bearer token and TLS.
///
/// Routes: `GET /v2`, `/v2/health/live`, `/v2/health/ready`, `/v2/models/stats`,
/// `/v2/models/{m}[/versions/{v}]`, `.../ready`, `.../config`, `.../stats`, and
/// `POST .../infer`. `{m}` may contain one `/` (`task/dataset`). Every failure answers
/// `{"error": "..."}` with the status the error's kind calls for.
public struct OpenInferenceHTTPServer: Sendable {
    let frontEnd: OpenInferenceFrontEnd
    let host: String
    let port: Int
    let security: ServerSecurity
    let logger: Logger
    let onListening: @Sendable (Int) -> Void

    static let headerLength = HTTPField.Name("Inference-Header-Content-Length")!

    public init(frontEnd: OpenInferenceFrontEnd, host: String, port: Int, security: ServerSecurity, logger: Logger,
                onListening: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.frontEnd = frontEnd
        self.host = host
        self.port = port
        self.security = security
        self.logger = logger
        self.onListening = onListening
    }

    /// The Hummingbird application (a ServiceLifecycle service: run it in the master's group).
    public func application() throws -> some ApplicationProtocol {
        let router = Router()
        let handler = Handler(frontEnd: frontEnd, token: security.token)
        router.get("/v2") { request, _ in await handler.respond(request, method: .get) }
        router.get("/v2/**") { request, _ in await handler.respond(request, method: .get) }
        router.post("/v2/**") { request, _ in await handler.respond(request, method: .post) }
        let server: HTTPServerBuilder
        if let tls = security.tls {
            var configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.key, format: .pem)))
            configuration.minimumTLSVersion = .tlsv12
            server = try .tls(.http1(), tlsConfiguration: configuration)
        } else {
            server = .http1()
        }
        let onListening = self.onListening
        return Application(router: router, server: server,
                           configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "infaas-swift"),
                           onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
                           logger: logger)
    }
}

/// The routes' logic, over the shared front end.
struct Handler: Sendable {
    let frontEnd: OpenInferenceFrontEnd
    let token: ClusterToken?

    /// Largest request body (the JSON header and binary tensors together).
    static let maxBody = OpenInference.maxTensorBytes + (1 << 20)

    /// What a path under `/v2/models/` asks for.
    enum Action: Equatable { case metadata, ready, config, stats, infer }

    func respond(_ request: Request, method: HTTPRequest.Method) async -> Response {
        do throws(RESTError) {
            return try await route(request, method: method)
        } catch {
            return Self.json(.error(error.message), status: error.status)
        }
    }

    func route(_ request: Request, method: HTTPRequest.Method) async throws(RESTError) -> Response {
        if let token {
            let given = request.headers[values: .authorization]
            guard given.contains(where: { token.matches(header: $0) }) else {
                throw RESTError(.unauthorized, BearerTokenServerInterceptor.rejection)
            }
        }
        let path = request.uri.path.removingPercentEncoding ?? request.uri.path
        var parts = path.split(separator: "/").map(String.init)
        guard parts.first == "v2" else { throw RESTError(.notFound, "no such route: \(path)") }
        parts.removeFirst()
        switch (method, parts) {
        case (.get, []):
            return Self.json(.object(["name": .string(OpenInference.serverName), "version": .string("1"),
                                      "extensions": .array(OpenInference.extensions.map { .string($0) })]))
        case (.get, ["health", "live"]):
            return Self.json(.object(["live": .bool(frontEnd.serverLive)]))
        case (.get, ["health", "ready"]):
            let ready = frontEnd.serverReady
            // The specification: 200 is true, a 4xx status is false.
            return Self.json(.object(["ready": .bool(ready)]), status: ready ? .ok : .badRequest)
        case (.get, ["models", "stats"]):
            return try Self.json(statistics(name: "", version: ""))
        default:
            break
        }
        guard parts.first == "models", parts.count >= 2 else { throw RESTError(.notFound, "no such route: \(method) \(path)") }
        parts.removeFirst()
        var action = Action.metadata
        if let last = parts.last, parts.count >= 2 {
            switch last {
            case "ready": action = .ready
            case "config": action = .config
            case "stats": action = .stats
            case "infer": action = .infer
            default: break
            }
            if action != .metadata { parts.removeLast() }
        }
        var version = ""
        if parts.count >= 3, parts[parts.count - 2] == "versions" {
            version = parts.removeLast()
            parts.removeLast()
        }
        let model = parts.joined(separator: "/")
        guard (method == .post) == (action == .infer) else {
            throw RESTError(.methodNotAllowed, action == .infer ? "POST \(path) to infer" : "use GET for \(path)")
        }
        switch action {
        case .metadata:
            let m = try mapped { () throws(RPCError) in try frontEnd.modelMetadata(model, version: version) }
            func tensors(_ list: [OpenInference.TensorMetadata]) -> JSONValue {
                .array(list.map { .object(["name": .string($0.name), "datatype": .string($0.datatype), "shape": .array($0.shape.map { .int($0) })]) })
            }
            return Self.json(.object(["name": .string(m.name), "versions": .array(m.versions.map { .string($0) }), "platform": .string(m.platform),
                                      "inputs": tensors(m.inputs), "outputs": tensors(m.outputs)]))
        case .ready:
            let ready = try mapped { () throws(RPCError) in try frontEnd.modelReady(model, version: version) }
            return Self.json(.object(["name": .string(model), "ready": .bool(ready)]), status: ready ? .ok : .badRequest)
        case .config:
            let m = try mapped { () throws(RPCError) in try frontEnd.modelMetadata(model, version: version) }
            func tensors(_ list: [OpenInference.TensorMetadata]) -> JSONValue {
                .array(list.map { .object(["name": .string($0.name), "data_type": .string("TYPE_FP32"), "dims": .array($0.shape.dropFirst().map { .int($0) })]) })
            }
            var parameters: [String: JSONValue] = ["infaas_kind": .object(["string_value": .string(m.kind)])]
            if m.kind != "variant" { parameters["infaas_variants"] = .object(["string_value": .string(m.versions.joined(separator: ","))]) }
            return Self.json(.object(["name": .string(m.name), "platform": .string(m.platform),
                                      "backend": .string(m.platform == "onnxruntime_onnx" ? "onnxruntime" : m.platform),
                                      "max_batch_size": .int(Int64(m.maxBatch)), "input": tensors(m.inputs), "output": tensors(m.outputs),
                                      "parameters": .object(parameters)]))
        case .stats:
            return try Self.json(statistics(name: model, version: version))
        case .infer:
            return try await infer(request, model: model, version: version)
        }
    }

    func statistics(name: String, version: String) throws(RESTError) -> JSONValue {
        let all = try mapped { () throws(RPCError) in try frontEnd.statistics(for: name, version: version) }
        func duration(_ count: UInt64, _ ns: UInt64) -> JSONValue { .object(["count": .int(Int64(count)), "ns": .int(Int64(ns))]) }
        return .object(["model_stats": .array(all.map { name, c in
            .object(["name": .string(name), "version": .string("1"), "last_inference": .int(Int64(c.lastInferenceMs)),
                     "inference_count": .int(Int64(c.inferenceCount)), "execution_count": .int(Int64(c.executionCount)),
                     "inference_stats": .object(["success": duration(c.successCount, c.successNs), "fail": duration(c.failCount, c.failNs),
                                                 "compute_infer": duration(c.executionCount, c.computeInferNs)])])
        })])
    }

    // MARK: Inference

    func infer(_ request: Request, model: String, version: String) async throws(RESTError) -> Response {
        var body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBody)
        } catch {
            throw RESTError(.contentTooLarge, "the request body is larger than \(Self.maxBody) bytes")
        }
        let total = body.readableBytes
        var headerLength = total
        if let text = request.headers[Self.headerLengthName] {
            guard let n = Int(text), n >= 0, n <= total else {
                throw RESTError(.badRequest, "Inference-Header-Content-Length \(text) is not a length within the \(total)-byte body")
            }
            headerLength = n
        }
        let headerBytes = body.readBytes(length: headerLength) ?? []
        let json: JSONValue
        do {
            json = try JSONDecoder().decode(JSONValue.self, from: Data(headerBytes))
        } catch {
            throw RESTError(.badRequest, "the request's JSON could not be parsed: \(error)")
        }
        guard json.object != nil else { throw RESTError(.badRequest, "the request's JSON is not an object") }
        let parsed = try Self.parse(json, model: model, version: version, binary: &body)
        let answer = try await mappedAsync { () async throws(RPCError) in
            try await frontEnd.infer(parsed.request, context: Master.localContext(method: "ModelInfer", peer: "http"))
        }
        return Self.encode(answer, binary: parsed.binaryOutputs, binaryByDefault: parsed.binaryByDefault)
    }

    static let headerLengthName = OpenInferenceHTTPServer.headerLength

    struct Parsed {
        var request: OpenInference.Request
        /// Outputs named with `binary_data`: true (or false) in their parameters.
        var binaryOutputs: [String: Bool]
        /// The request's `binary_data_output` parameter.
        var binaryByDefault: Bool
    }

    /// The JSON request (and its binary tensors, read from `binary` in input order) as the front end's.
    static func parse(_ json: JSONValue, model: String, version: String, binary: inout ByteBuffer) throws(RESTError) -> Parsed {
        var parameters: [String: OpenInference.Parameter] = [:]
        for (key, value) in json["parameters"]?.object ?? [:] {
            if let p = parameter(value) { parameters[key] = p }
        }
        var inputs: [OpenInference.Input] = []
        for (i, item) in (json["inputs"]?.array ?? []).enumerated() {
            guard let name = item["name"]?.string else { throw RESTError(.badRequest, "input \(i) has no name") }
            guard let datatype = item["datatype"]?.string else { throw RESTError(.badRequest, "input \"\(name)\" has no datatype") }
            guard let shapeItems = item["shape"]?.array else { throw RESTError(.badRequest, "input \"\(name)\" has no shape") }
            var shape: [Int64] = []
            for d in shapeItems {
                guard let n = d.int else { throw RESTError(.badRequest, "input \"\(name)\" has shape element \(d), not an integer") }
                shape.append(n)
            }
            let data: OpenInference.Input.Data
            if let size = item["parameters"]?["binary_data_size"] {
                guard let n = size.int, n >= 0, Int(n) <= binary.readableBytes else {
                    throw RESTError(.badRequest, "input \"\(name)\" has binary_data_size \(size), but \(binary.readableBytes) bytes of binary data are left")
                }
                data = .raw(Data(binary.readBytes(length: Int(n)) ?? []))
            } else if let values = item["data"] {
                let leaves = values.flattened()
                if datatype == OpenInference.inputDatatype {
                    var floats: [Float] = []
                    floats.reserveCapacity(leaves.count)
                    for (k, leaf) in leaves.enumerated() {
                        switch leaf {
                        case .int(let v): floats.append(Float(v))
                        case .double(let v): floats.append(Float(v))
                        default: throw RESTError(.badRequest, "input \"\(name)\" is FP32 but its data element \(k) is \(leaf), not a number")
                        }
                    }
                    data = .floats(floats)
                } else {
                    data = .other(count: leaves.count)
                }
            } else {
                data = .missing
            }
            inputs.append(OpenInference.Input(name: name, datatype: datatype, shape: shape, data: data))
        }
        var outputs: [String] = []
        var binaryOutputs: [String: Bool] = [:]
        for (i, item) in (json["outputs"]?.array ?? []).enumerated() {
            guard let name = item["name"]?.string else { throw RESTError(.badRequest, "output \(i) has no name") }
            outputs.append(name)
            if case .bool(let b)? = item["parameters"]?["binary_data"] { binaryOutputs[name] = b }
        }
        var binaryByDefault = false
        if case .bool(let b)? = parameters["binary_data_output"] { binaryByDefault = b }
        let request = OpenInference.Request(modelName: model, modelVersion: version, id: json["id"]?.string ?? "",
                                            parameters: parameters, inputs: inputs, outputs: outputs)
        return Parsed(request: request, binaryOutputs: binaryOutputs, binaryByDefault: binaryByDefault)
    }

    static func parameter(_ value: JSONValue) -> OpenInference.Parameter? {
        switch value {
        case .bool(let v): .bool(v)
        case .int(let v): .int64(v)
        case .double(let v): .double(v)
        case .string(let v): .string(v)
        default: nil
        }
    }

    static func json(_ p: OpenInference.Parameter) -> JSONValue {
        switch p {
        case .bool(let v): .bool(v)
        case .int64(let v): .int(v)
        case .uint64(let v): .int(Int64(clamping: v))
        case .double(let v): .double(v)
        case .string(let v): .string(v)
        }
    }

    /// The response: JSON `data`, or binary after the JSON header for outputs asked so.
    static func encode(_ answer: OpenInference.Response, binary: [String: Bool], binaryByDefault: Bool) -> Response {
        var blobs: [Data] = []
        let outputs: [JSONValue] = answer.outputs.map { out in
            var o: [String: JSONValue] = ["name": .string(out.name), "datatype": .string(out.datatype), "shape": .array(out.shape.map { .int($0) })]
            if binary[out.name] ?? binaryByDefault {
                o["parameters"] = .object(["binary_data_size": .int(Int64(out.data.count))])
                blobs.append(out.data)
            } else {
                o["data"] = .array(out.floats.map { .double(Double($0)) })
            }
            return .object(o)
        }
        var top: [String: JSONValue] = ["model_name": .string(answer.modelName), "model_version": .string(answer.modelVersion),
                                        "outputs": .array(outputs), "parameters": .object(answer.parameters.mapValues(json))]
        if !answer.id.isEmpty { top["id"] = .string(answer.id) }
        let header = JSONValue.object(top).encoded()
        guard !blobs.isEmpty else { return json(header) }
        var buffer = ByteBuffer()
        buffer.writeBytes(header)
        for blob in blobs { buffer.writeBytes(blob) }
        var headers = HTTPFields()
        headers[.contentType] = "application/octet-stream"
        headers[headerLengthName] = String(header.count)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        json(value.encoded(), status: status)
    }

    static func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Errors

    func mapped<T>(_ body: () throws(RPCError) -> T) throws(RESTError) -> T {
        do { return try body() } catch { throw RESTError(error) }
    }

    func mappedAsync<T>(_ body: () async throws(RPCError) -> T) async throws(RESTError) -> T {
        do { return try await body() } catch { throw RESTError(error) }
    }
}

/// A REST failure: its status and message.
struct RESTError: Error {
    var status: HTTPResponse.Status
    var message: String

    init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// The HTTP status for a gRPC status code (as the gRPC–HTTP mapping KServe and Triton use).
    init(_ error: RPCError) {
        message = error.message
        status = switch error.code {
        case .invalidArgument, .failedPrecondition, .outOfRange: .badRequest
        case .notFound: .notFound
        case .alreadyExists: .conflict
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .resourceExhausted: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        case .unimplemented: .notImplemented
        default: .internalServerError
        }
    }
}
