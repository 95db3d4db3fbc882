import Foundation
import InfaasWorker
import Testing

struct ModelRepositoryTests {
    func temporary() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-repo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path + "/repo/v", withIntermediateDirectories: true)
        return path
    }

    @Test func aChangedModelReplacesTheCachedCopy() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let model = "\(root)/repo/v/model.onnx"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: model))
        try "name: v\ngraph_optimization: basic\ninput_size: 32\n".write(toFile: "\(root)/repo/v/variant.yaml", atomically: true, encoding: .utf8)
        let repository = ModelRepository(cacheDirectory: "\(root)/cache")
        let first = try repository.fetch(variant: "v", modelURL: "file://\(root)/repo/v/", graphOptimization: "")
        #expect(first.modelPath == "\(root)/cache/v/model.onnx")
        #expect(first.graphOptimization == .basic)
        #expect(first.inputHeight == 32 && first.inputWidth == 32)
        #expect(FileManager.default.contents(atPath: first.modelPath) == Data([1, 2, 3]))
        // The same variant name, rebuilt with other bytes (and size): the stale copy is replaced.
        try Data([9, 8, 7, 6]).write(to: URL(fileURLWithPath: model))
        let second = try repository.fetch(variant: "v", modelURL: "file://\(root)/repo/v", graphOptimization: "")
        #expect(FileManager.default.contents(atPath: second.modelPath) == Data([9, 8, 7, 6]))
    }

    @Test func aDirectoryWithoutAModelIsANamedError() throws {
        let root = try temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let repository = ModelRepository(cacheDirectory: "\(root)/cache")
        #expect {
            try repository.fetch(variant: "v", modelURL: "file://\(root)/repo/v/", graphOptimization: "")
        } throws: { error in
            "\(error)".contains("holds no .onnx files")
        }
        #expect {
            try repository.fetch(variant: "v", modelURL: "s3://bucket/v/", graphOptimization: "")
        } throws: { error in
            "\(error)".contains("no S3 access")
        }
    }
}
