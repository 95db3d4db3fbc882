import Foundation
import InfaasRuntime

/// The committed fixtures beside this file (see Fixtures/make_fixtures.py).
enum Fixtures {
    static let directory: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// The fixed input and numpy's outputs for tiny_cnn.onnx.
    struct Expected: Decodable {
        var input_shape: [Int]
        var input: [Float]
        var logits: [Float]
        var features: [Float]
    }

    static func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: directory.appendingPathComponent("tiny_cnn.expected.json")))
    }
}

/// Whether ONNX Runtime's library can be found on this host (INFAAS_ORT_LIB or `pip install
/// onnxruntime`); the ORT tests skip without it, since the library is a run-time dependency.
enum ORT {
    static let available: Bool = (try? ONNXRuntimeBackend.locateLibrary()) != nil
    static let backend: ONNXRuntimeBackend? = try? ONNXRuntimeBackend()

    static func shared() throws -> ONNXRuntimeBackend {
        guard let backend else { return try ONNXRuntimeBackend() }
        return backend
    }
}

/// A fresh temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-runtime-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
}
