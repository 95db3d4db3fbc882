import Foundation
import InfaasCloud
import InfaasRegistry
import InfaasTestSupport
import Testing

/// A live cluster whose models and offline data live in an S3 emulator: registration copies the
/// model into the model bucket (reference §2.4), the worker downloads it from there, and an
/// offline job goes bucket to bucket.
extension LiveProcesses {
    @Suite(.serialized, .enabled(if: onnxRuntimeAvailable, "needs ONNX Runtime (pip install onnxruntime, or INFAAS_ORT_LIB)"))
    struct LiveS3Tests {
        @Test func registerServeAndOfflineThroughBuckets() throws {
            guard let moto = try MotoServer.startIfInstalled() else { return }
            defer { moto.stop() }
            // Keys through the environment (as a user would export them); region and endpoint as master
            // flags, which the master hands to the workers it starts.
            let environment = ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "", "AWS_ENDPOINT_URL": "",
                               "AWS_PROFILE": "", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"]
            let s3 = S3Client(endpoint: moto.endpoint, region: "us-west-2", credentials: AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "test-secret"),
                              http: HTTPClient(timeout: 10, connectTimeout: 2, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05)))
            for bucket in ["user-uploads", "infaas-models", "data"] { try s3.createBucket(bucket) }

            var cluster = LiveCluster()
            let cli = cluster.cli
            try cluster.profileTiny(name: "tiny_s3")
            try s3.upload(directory: cli.path("repo/tiny_s3"), to: ObjectLocation(bucket: "user-uploads", prefix: "models/tiny_s3/"))
            try FileManager.default.removeItem(atPath: cli.path("repo/tiny_s3"))  // no file:// copy anywhere
            let cache = cli.path("worker-cache")
            try cluster.up(["--master-arg=--model-bucket=s3://infaas-models/registered", "--master-arg=--region=us-west-2",
                            "--master-arg=--endpoint-url=\(moto.endpoint)", "--master-arg=--worker-arg=--model-cache=\(cache)"],
                           environment: environment)
            defer { cluster.down() }

            // A prefix with nothing under it is refused, and nothing is registered.
            let missing = try cli.run(["register", cli.path("configs/tiny_s3.config"), "s3://user-uploads/models/nothing/"], environment: environment)
            #expect(missing.status != 0)
            #expect(missing.err.contains("holds no objects"), "\(missing.err)")
            let noBucket = try cli.run(["register", cli.path("configs/tiny_s3.config"), "s3://no-such-bucket/x/"], environment: environment)
            #expect(noBucket.status != 0 && noBucket.err.contains("NoSuchBucket"), "\(noBucket.err)")

            let registered = try cli.run(["register", cli.path("configs/tiny_s3.config"), "s3://user-uploads/models/tiny_s3/"], environment: environment)
            try #require(registered.status == 0, "\(registered.out) \(registered.err)")
            // Copied into the model bucket and registered there.
            let copied = try s3.listObjects(bucket: "infaas-models", prefix: "registered/tiny_s3/")
            #expect(copied.map(\.key).contains("registered/tiny_s3/model.onnx"), "\(copied.map(\.key))")
            let registry = try ModelRegistry(path: cli.path("state/cluster/registry.sqlite"))
            #expect(try registry.variant(named: "tiny_s3").location == .s3(bucket: "infaas-models", prefix: "registered/tiny_s3/"))
            // The user's upload goes away: the worker can only have it from the model bucket.
            for object in try s3.listObjects(bucket: "user-uploads", prefix: "") { try s3.deleteObject(bucket: "user-uploads", key: object.key) }

            let query = try cli.run(["query", "online", "-i", try cluster.tensorFile(), "--raw-shape", "3,8,8", "-m", "tiny_s3", "--json"], environment: environment)
            #expect(query.status == 0, "\(query.err)")
            let fixture = FileManager.default.contents(atPath: "\(LiveCluster.fixtures)/tiny_cnn.onnx")
            #expect(FileManager.default.contents(atPath: "\(cache)/tiny_s3/model.onnx") == fixture)
            let stamp = (try? String(contentsOfFile: "\(cache)/tiny_s3/.infaas-source", encoding: .utf8)) ?? ""
            let etag = try #require(copied.first { $0.key.hasSuffix("/model.onnx") }?.etag)
            #expect(stamp.contains("model.onnx \(fixture?.count ?? -1) \(etag)"), "the cache's stamp is the bucket listing's: \(stamp)")

            // Offline, bucket to bucket.
            try s3.putObject(bucket: "data", key: "in/a.png", body: try Data(contentsOf: URL(fileURLWithPath: "\(LiveCluster.fixtures)/rgb.png")))
            try s3.putObject(bucket: "data", key: "in/b.png", body: try Data(contentsOf: URL(fileURLWithPath: "\(LiveCluster.fixtures)/flat.png")))
            let offline = try cli.run(["query", "offline", "s3://data/in/", "s3://data/out/", "tiny_s3", "--variant", "-d", "8"], environment: environment)
            try #require(offline.status == 0, "\(offline.out) \(offline.err)")
            var keys: [String] = []
            for _ in 0..<600 {
                keys = try s3.listObjects(bucket: "data", prefix: "out/").map(\.key)
                if keys.contains(where: { $0.hasPrefix("out/_SUCCESS-") }) { break }
                Thread.sleep(forTimeInterval: 0.1)
            }
            #expect(keys.contains("out/a.png.out") && keys.contains("out/b.png.out"), "\(keys)")
            let marker = try #require(keys.first { $0.hasPrefix("out/_SUCCESS-") })
            #expect(String(decoding: try s3.getObject(bucket: "data", key: marker), as: UTF8.self).contains("2 outputs, 0 failed"))
            #expect(try s3.getObject(bucket: "data", key: "out/a.png.out").count == 16)
        }
    }
}
