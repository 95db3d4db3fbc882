import Foundation
import InfaasCloud
import InfaasTestSupport
import Testing

/// A client for a fresh emulator (moto accepts any key unless asked to check).
func s3Client(_ moto: MotoServer, region: String = "us-west-2") -> S3Client {
    S3Client(endpoint: moto.endpoint, region: region, credentials: AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "test-secret"),
             http: HTTPClient(timeout: 10, connectTimeout: 2, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05)))
}

@Suite("S3 client against an emulator")
struct S3ClientTests {
    @Test func putGetCopyAndPagedListing() throws {
        guard let moto = try MotoServer.startIfInstalled() else { return }
        defer { moto.stop() }
        let s3 = s3Client(moto)
        try s3.createBucket("infaas-src")
        try s3.createBucket("infaas-dst")
        // Keys that need encoding (space, +, unicode, nested folders) round-trip.
        let keys = (0..<7).map { i in i == 3 ? "models/v 1/sub dir/w+\(i) é.bin" : "models/v 1/file-\(i).bin" }
        for (i, key) in keys.enumerated() { try s3.putObject(bucket: "infaas-src", key: key, body: Data(repeating: UInt8(i), count: i + 1)) }
        try s3.putObject(bucket: "infaas-src", key: "models/v 10/other.bin", body: Data([1]))
        #expect(try s3.getObject(bucket: "infaas-src", key: keys[3]) == Data(repeating: 3, count: 4))

        // 7 objects, 3 per page: 3 pages, every key once.
        let first = try s3.listObjectsPage(bucket: "infaas-src", prefix: "models/v 1/", maxKeys: 3)
        #expect(first.objects.count == 3 && first.nextContinuationToken != nil)
        let all = try s3.listObjects(bucket: "infaas-src", prefix: "models/v 1/", maxKeys: 3)
        #expect(all.map(\.key).sorted() == keys.sorted())
        #expect(all.allSatisfy { !$0.etag.isEmpty && !$0.etag.contains("\"") })
        #expect(all.first { $0.key == keys[6] }?.size == 7)
        var pages = 0
        var token: String? = nil
        repeat {
            let page = try s3.listObjectsPage(bucket: "infaas-src", prefix: "models/v 1/", maxKeys: 3, continuationToken: token)
            pages += 1
            token = page.nextContinuationToken
        } while token != nil
        #expect(pages == 3)
        // A folder does not take in its longer-named sibling (`v 1/` vs `v 10/`).
        #expect(try s3.listFolder(ObjectLocation(bucket: "infaas-src", prefix: "models/v 1")).count == 7)

        try s3.copyObject(fromBucket: "infaas-src", fromKey: keys[3], toBucket: "infaas-dst", toKey: "copied/\(keys[3])")
        #expect(try s3.getObject(bucket: "infaas-dst", key: "copied/\(keys[3])") == Data(repeating: 3, count: 4))
        #expect(try s3.headObject(bucket: "infaas-dst", key: "copied/\(keys[3])").size == 4)
        let copied = try s3.copyFolder(ObjectLocation(bucket: "infaas-src", prefix: "models/v 1/"), to: ObjectLocation(bucket: "infaas-dst", prefix: "v1"))
        #expect(copied.count == 7)
        #expect(try s3.listObjects(bucket: "infaas-dst", prefix: "v1/").map(\.key).sorted() == keys.map { "v1/" + $0.dropFirst("models/v 1/".count) }.sorted())
        try s3.deleteObject(bucket: "infaas-dst", key: "v1/file-0.bin")
        #expect(try s3.listObjects(bucket: "infaas-dst", prefix: "v1/").count == 6)
    }

    @Test func missingBucketAndKeyAreClearErrors() throws {
        guard let moto = try MotoServer.startIfInstalled() else { return }
        defer { moto.stop() }
        let s3 = s3Client(moto)
        #expect { try s3.listObjects(bucket: "no-such-bucket", prefix: "") } throws: { error in
            guard let error = error as? ObjectStoreError else { return false }
            return error.kind == .noSuchBucket && error.description.contains("no-such-bucket") && error.description.contains("NoSuchBucket")
                && error.hint != nil
        }
        try s3.createBucket("infaas-here")
        #expect { try s3.getObject(bucket: "infaas-here", key: "missing/model.onnx") } throws: { error in
            guard let error = error as? ObjectStoreError else { return false }
            return error.kind == .noSuchKey && error.description.contains("s3://infaas-here/missing/model.onnx")
        }
        #expect { try s3.headObject(bucket: "infaas-here", key: "missing") } throws: { ($0 as? ObjectStoreError)?.kind == .noSuchKey }
        #expect { try s3.copyObject(fromBucket: "infaas-here", fromKey: "nope", toBucket: "infaas-here", toKey: "x") } throws: {
            ($0 as? ObjectStoreError)?.kind == .noSuchKey
        }
        #expect { try s3.putObject(bucket: "no-such-bucket", key: "k", body: Data()) } throws: { ($0 as? ObjectStoreError)?.kind == .noSuchBucket }
        // Nothing listens: bounded, says which endpoint, never the secret.
        let port = try MotoServer.freePort()
        let down = S3Client(endpoint: "http://127.0.0.1:\(port)", region: "us-west-2",
                            credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "do-not-print"),
                            http: HTTPClient(timeout: 2, connectTimeout: 1, retry: RetryPolicy(maxAttempts: 1)))
        #expect { try down.getObject(bucket: "b", key: "k") } throws: { error in
            guard let error = error as? ObjectStoreError else { return false }
            return error.kind == .unavailable && error.description.contains("127.0.0.1:\(port)") && !error.description.contains("do-not-print")
        }
    }

    @Test func directoryRoundTripKeepsRelativePaths() throws {
        guard let moto = try MotoServer.startIfInstalled() else { return }
        defer { moto.stop() }
        let s3 = s3Client(moto, region: "us-east-1")
        try s3.createBucket("infaas-trip")
        let root = NSTemporaryDirectory() + "s3trip-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let files = ["model.onnx": Data([1, 2, 3]), "variant.yaml": Data("name: v\n".utf8), "extra/labels.txt": Data("a\nb\n".utf8)]
        for (name, data) in files {
            try FileManager.default.createDirectory(atPath: ("\(root)/up/\(name)" as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: "\(root)/up/\(name)"))
        }
        let location = try #require(ObjectLocation(url: "s3://infaas-trip/repo/v"))
        let keys = try s3.upload(directory: "\(root)/up", to: location)
        #expect(keys.sorted() == files.keys.map { "repo/v/\($0)" }.sorted())
        let downloaded = try s3.download(location, to: "\(root)/down")
        #expect(downloaded.count == 3)
        for (name, data) in files { #expect(FileManager.default.contents(atPath: "\(root)/down/\(name)") == data, "\(name)") }
        // An empty folder downloads nothing (callers decide whether that is an error).
        #expect(try s3.download(ObjectLocation(bucket: "infaas-trip", prefix: "nothing/"), to: "\(root)/none").isEmpty)
    }

    @Test func locationsAndXMLScanning() {
        let location = ObjectLocation(url: "s3://bucket/a/b")
        #expect(location == ObjectLocation(bucket: "bucket", prefix: "a/b"))
        #expect(location?.folderPrefix == "a/b/" && location?.appending("v").description == "s3://bucket/a/b/v")
        #expect(ObjectLocation(url: "s3://bucket")?.folderPrefix == "")
        #expect(ObjectLocation(url: "s3:///x") == nil && ObjectLocation(url: "file:///x") == nil)
    }
}

@Suite("S3 signatures against an emulator that checks them")
struct S3SignatureTests {
    @Test func encodedKeysPrefixesAndTokensAreSignedAsSent() throws {
        guard let moto = try MotoServer.startIfInstalled(initialNoAuthActionCount: 3) else { return }
        defer { moto.stop() }
        let http = HTTPClient(timeout: 10, connectTimeout: 2, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05))
        let (keyID, secret) = try issueKey(moto, user: "s3-ci", http: http)

        let s3 = S3Client(endpoint: moto.endpoint, region: "eu-west-1", credentials: AWSCredentials(accessKeyID: keyID, secretAccessKey: secret), http: http)
        try s3.createBucket("signed")
        // moto's checker itself rejects keys with `+`, `&`, `=` or non-ASCII (boto3's signatures too),
        // so those are covered by the unchecked test above; spaces and folders are checked here.
        let keys = (0..<5).map { "dir with space/file \($0).bin" }
        for key in keys { try s3.putObject(bucket: "signed", key: key, body: Data(key.utf8)) }
        // A prefix and continuation tokens travel in the signed query. (moto's checker rejects any
        // query holding `/`, boto3's too, so the prefix here has none.)
        #expect(try s3.listObjects(bucket: "signed", prefix: "dir with space", maxKeys: 2).map(\.key).sorted() == keys.sorted())
        #expect(try s3.getObject(bucket: "signed", key: keys[4]) == Data(keys[4].utf8))
        try s3.copyObject(fromBucket: "signed", fromKey: keys[0], toBucket: "signed", toKey: "copy/\(keys[0])")
        #expect(try s3.headObject(bucket: "signed", key: "copy/\(keys[0])").size == Int64(keys[0].utf8.count))

        let wrong = S3Client(endpoint: moto.endpoint, region: "eu-west-1", credentials: AWSCredentials(accessKeyID: keyID, secretAccessKey: secret + "x"), http: http)
        #expect { try wrong.getObject(bucket: "signed", key: keys[0]) } throws: { error in
            guard let error = error as? ObjectStoreError else { return false }
            return error.kind == .accessDenied && error.description.contains("SignatureDoesNotMatch") && !error.description.contains(secret)
        }
    }
}
