import Foundation
import InfaasCloud
import InfaasRPC
import InfaasTestSupport
import Testing
@testable import InfaasWorker

func s3Client(_ moto: MotoServer) -> S3Client {
    S3Client(endpoint: moto.endpoint, region: "us-west-2", credentials: AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "test-secret"),
             http: HTTPClient(timeout: 10, connectTimeout: 2, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05)))
}

@Suite("s3:// models and offline data on a worker")
struct S3RepositoryTests {
    @Test func anS3VariantIsDownloadedCachedAndRefreshed() throws {
        guard let moto = try MotoServer.startIfInstalled() else { return }
        defer { moto.stop() }
        let s3 = s3Client(moto)
        try s3.createBucket("models")
        try s3.putObject(bucket: "models", key: "zoo/v/model.onnx", body: Data([1, 2, 3]))
        try s3.putObject(bucket: "models", key: "zoo/v/variant.yaml", body: Data("name: v\ninput_size: 16\n".utf8))
        try s3.putObject(bucket: "models", key: "zoo/v/extra/notes.txt", body: Data("n".utf8))
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-s3repo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let repository = ModelRepository(cacheDirectory: "\(root)/cache", objectStore: s3)
        let first = try repository.fetch(variant: "v", modelURL: "s3://models/zoo/v/", graphOptimization: "")
        #expect(first.modelPath == "\(root)/cache/v/model.onnx")
        #expect(first.inputHeight == 16)
        #expect(FileManager.default.contents(atPath: first.modelPath) == Data([1, 2, 3]))
        #expect(FileManager.default.contents(atPath: "\(root)/cache/v/extra/notes.txt") == Data("n".utf8))
        // Unchanged: the cached copy is kept (a local marker survives).
        try Data().write(to: URL(fileURLWithPath: "\(root)/cache/v/kept"))
        _ = try repository.fetch(variant: "v", modelURL: "s3://models/zoo/v", graphOptimization: "")
        #expect(FileManager.default.fileExists(atPath: "\(root)/cache/v/kept"))
        // Replaced in the bucket: downloaded again.
        try s3.putObject(bucket: "models", key: "zoo/v/model.onnx", body: Data([9, 8, 7, 6]))
        let second = try repository.fetch(variant: "v", modelURL: "s3://models/zoo/v/", graphOptimization: "")
        #expect(FileManager.default.contents(atPath: second.modelPath) == Data([9, 8, 7, 6]))
        #expect(!FileManager.default.fileExists(atPath: "\(root)/cache/v/kept"))

        // A missing prefix or bucket, and a worker without AWS settings: clear errors.
        #expect { try repository.fetch(variant: "w", modelURL: "s3://models/zoo/w/", graphOptimization: "") } throws: { error in
            (error as? WorkerError)?.code == .notFound && "\(error)".contains("s3://models/zoo/w/ holds no objects")
        }
        #expect { try repository.fetch(variant: "w", modelURL: "s3://no-bucket/w/", graphOptimization: "") } throws: { error in
            (error as? WorkerError)?.code == .notFound && "\(error)".contains("NoSuchBucket")
        }
        #expect { try ModelRepository(cacheDirectory: "\(root)/c2").fetch(variant: "v", modelURL: "s3://models/zoo/v/", graphOptimization: "") } throws: { error in
            (error as? WorkerError)?.code == .failedPrecondition && "\(error)".contains("no S3 access") && "\(error)".contains("AWS_ACCESS_KEY_ID")
        }
    }

    @Test(.enabled(if: ORT.available, "needs ONNX Runtime"))
    func offlineJobReadsAndWritesBuckets() async throws {
        guard let moto = try MotoServer.startIfInstalled() else { return }
        defer { moto.stop() }
        let s3 = s3Client(moto)
        try s3.createBucket("data")
        try s3.createBucket("models")
        try s3.putObject(bucket: "models", key: "tiny/model.onnx", body: try Data(contentsOf: Fixtures.url("tiny_cnn.onnx")))
        try s3.putObject(bucket: "data", key: "in/a.png", body: try Data(contentsOf: Fixtures.url("rgb.png")))
        try s3.putObject(bucket: "data", key: "in/b.png", body: try Data(contentsOf: Fixtures.url("flat.png")))
        try s3.putObject(bucket: "data", key: "in/nested/skipped.png", body: Data([0]))  // not directly under the prefix
        let box = try Sandbox(objectStore: s3)
        var request = Infaas_V1_WorkerOfflineRequest()
        request.variant = box.spec("tiny_s3", url: "s3://models/tiny/")
        request.inputURL = "s3://data/in/"
        request.outputURL = "s3://data/out"
        request.inputHeight = 8
        request.inputWidth = 8
        request.jobID = "job-s3"
        #expect(try await box.daemon.submitOffline(request) == 2)
        // Bounded wait for the marker (uploaded last), then the outputs are all there.
        var keys: [String] = []
        for _ in 0..<400 {
            keys = try s3.listObjects(bucket: "data", prefix: "out/").map(\.key)
            if keys.contains("out/_SUCCESS-job-s3.txt") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(keys.sorted() == ["out/_SUCCESS-job-s3.txt", "out/a.png.out", "out/b.png.out"])
        #expect(try s3.getObject(bucket: "data", key: "out/a.png.out").count == 16)
        #expect(String(decoding: try s3.getObject(bucket: "data", key: "out/_SUCCESS-job-s3.txt"), as: UTF8.self).contains("2 outputs, 0 failed"))

        // An empty input prefix is refused up front.
        request.inputURL = "s3://data/empty/"
        let empty = await workerError { () async throws(WorkerError) in try await box.daemon.submitOffline(request) }
        #expect(empty?.code == .notFound && empty?.description.contains("holds no files") == true)
    }
}
