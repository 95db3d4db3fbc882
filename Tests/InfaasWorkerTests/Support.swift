import Foundation
import InfaasCloud
import Logging
import InfaasRPC
import InfaasRuntime
@testable import InfaasWorker

/// The runtime tests' committed fixtures (tiny_cnn.onnx: input `[N,3,8,8]`, outputs `logits`
/// and `features`, both `[N,4]`; see InfaasRuntimeTests/Fixtures/make_fixtures.py).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("InfaasRuntimeTests/Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// The fixed input and numpy's outputs for tiny_cnn.onnx.
    struct Expected: Decodable {
        var input_shape: [Int]
        var input: [Float]
        var logits: [Float]
        var features: [Float]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: url("tiny_cnn.expected.json")))
    }
}

/// ONNX Runtime is a run-time dependency (pip's onnxruntime wheel or INFAAS_ORT_LIB), not a
/// build-time one: where its library cannot be located the daemon tests are skipped, not failed.
enum ORT {
    static let available: Bool = (try? ONNXRuntimeBackend.locateLibrary()) != nil
    static let backend: ONNXRuntimeBackend? = try? ONNXRuntimeBackend()

    static func shared() throws -> ONNXRuntimeBackend {
        guard let backend else { return try ONNXRuntimeBackend() }
        return backend
    }
}

/// A temporary model repository (`repo/<variant>/model.onnx`), a model cache and a daemon.
final class Sandbox: Sendable {
    let root: URL
    let daemon: WorkerDaemon

    /// `offlineRoots`: the folders file:// offline jobs may use (nil: the sandbox's root).
    init(token: ClusterToken? = nil, objectStore: (any ObjectStore)? = nil, offlineRoots: [String]? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-worker-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let logger = Logger(label: "infaas.worker.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        var options = WorkerOptions(name: "w-test", cores: 4, masterAddress: "127.0.0.1:1",
                                    modelCache: root.appendingPathComponent("cache").path, instanceID: "pid-test", token: token, objectStore: objectStore)
        options.offlineRoots = offlineRoots ?? [root.path]
        daemon = try WorkerDaemon(options: options, backend: ORT.shared(), logger: logger)
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// Puts tiny_cnn.onnx in the repository as `name` and returns its spec.
    func variant(_ name: String = "tiny_cnn_cpu", maxBatch: UInt32 = 4) throws -> Infaas_V1_VariantSpec {
        let directory = root.appendingPathComponent("repo/\(name)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("tiny_cnn.onnx"), to: directory.appendingPathComponent("model.onnx"))
        return spec(name, url: "file://\(directory.path)/", maxBatch: maxBatch)
    }

    /// A spec pointing at a directory that does not exist.
    func missingVariant(_ name: String = "missing_cpu") -> Infaas_V1_VariantSpec {
        spec(name, url: "file://\(root.path)/repo/\(name)/")
    }

    func spec(_ name: String, url: String, maxBatch: UInt32 = 4) -> Infaas_V1_VariantSpec {
        var spec = Infaas_V1_VariantSpec()
        spec.name = name
        spec.architecture = "tiny_cnn"
        spec.task = "classification"
        spec.dataset = "imagenet"
        spec.framework = "onnxruntime-cpu"
        spec.hardware = "cpu"
        spec.maxBatch = maxBatch
        spec.cpus = 1
        spec.slopeMs = 0.1
        spec.interceptMs = 0.5
        spec.inputHeight = 8
        spec.inputWidth = 8
        spec.modelURL = url
        return spec
    }
}

/// A query with a raw tensor.
func tensorQuery(_ spec: Infaas_V1_VariantSpec, shape: [Int], values: [Float], topK: UInt32 = 0,
                 includeOutputs: Bool = false) -> Infaas_V1_WorkerQueryRequest {
    var request = Infaas_V1_WorkerQueryRequest()
    request.variant = spec
    request.input.tensor = Infaas_V1_Tensor(shape: shape, values: values)
    request.topK = topK
    request.includeOutputs = includeOutputs
    request.sloMs = 100
    return request
}

/// A batch-1 query with the first item of the expected input.
func firstItemQuery(_ spec: Infaas_V1_VariantSpec, includeOutputs: Bool = false) throws -> Infaas_V1_WorkerQueryRequest {
    tensorQuery(spec, shape: [1, 3, 8, 8], values: Array(try Fixtures.expected().input.prefix(3 * 8 * 8)), includeOutputs: includeOutputs)
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    a.count == b.count ? zip(a, b).map { abs($0 - $1) }.max() ?? 0 : .infinity
}
