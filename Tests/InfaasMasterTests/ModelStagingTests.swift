import Foundation
import GRPCCore
import InfaasCloud
import InfaasCore
import InfaasPolicies
import InfaasTestSupport
import Logging
import Testing
@testable import InfaasMaster
@testable import InfaasRegistry

@Suite("Registration from s3:// (reference §2.4 step 3)")
struct ModelStagingTests {
    func master(modelBucket: ObjectLocation?, store: (any ObjectStore)?) throws -> Master {
        let registry = try ModelRegistry(path: NSTemporaryDirectory() + "staging-\(UUID().uuidString).sqlite")
        return try Master(options: Master.Options(limits: ClusterLimits(initial: [:], maximum: [.cpu: 1]), advertisedAddress: "127.0.0.1:1",
                                                  modelBucket: modelBucket),
                          registry: registry, provider: nil, objectStore: store, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    @Test func copiedIntoTheModelBucketOrCheckedWhereItIs() async throws {
        guard MotoServer.isInstalled else { print("skipping: moto_server is not installed"); return }
        let moto = try MotoServer()
        defer { moto.stop() }
        let s3 = S3Client(endpoint: moto.endpoint, region: "us-east-1", credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "s"),
                          http: HTTPClient(timeout: 10, connectTimeout: 2, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05)))
        try s3.createBucket("uploads")
        try s3.createBucket("models")
        try s3.putObject(bucket: "uploads", key: "me/v1/model.onnx", body: Data([1, 2]))
        try s3.putObject(bucket: "uploads", key: "me/v1/sub/labels.txt", body: Data([3]))
        let source = ObjectLocation(bucket: "uploads", prefix: "me/v1")

        let copying = try master(modelBucket: ObjectLocation(url: "s3://models/zoo"), store: s3)
        let staged = try await copying.stageModel("v1", from: source)
        #expect(staged == ObjectLocation(bucket: "models", prefix: "zoo/v1/"))
        #expect(try s3.listObjects(bucket: "models", prefix: "").map(\.key).sorted() == ["zoo/v1/model.onnx", "zoo/v1/sub/labels.txt"])

        // Registered from the model bucket's own folder for it: kept, not copied onto itself.
        #expect(try await copying.stageModel("v1", from: staged) == staged)

        let inPlace = try master(modelBucket: nil, store: s3)
        #expect(try await inPlace.stageModel("v1", from: source) == ObjectLocation(bucket: "uploads", prefix: "me/v1/"))

        // Nothing there, or no bucket: refused with what to do, and nothing copied.
        await #expect { try await copying.stageModel("v2", from: ObjectLocation(bucket: "uploads", prefix: "me/v2/")) } throws: { error in
            guard let error = error as? RPCError else { return false }
            return error.code == .notFound && error.message.contains("s3://uploads/me/v2/ holds no objects")
        }
        await #expect { try await inPlace.stageModel("v2", from: ObjectLocation(bucket: "nope", prefix: "x/")) } throws: { error in
            guard let error = error as? RPCError else { return false }
            return error.code == .notFound && error.message.contains("NoSuchBucket")
        }
        #expect(try s3.listObjects(bucket: "models", prefix: "zoo/v2/").isEmpty)
    }

    @Test func aModelBucketNeedsAWSSettings() throws {
        #expect(throws: MasterConfigurationError.self) { try master(modelBucket: ObjectLocation(url: "s3://models"), store: nil) }
    }
}
