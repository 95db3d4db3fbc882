public import Foundation

/// One page of a ListObjectsV2 answer.
public struct S3ListPage: Sendable {
    /// The page's objects, in key order.
    public var objects: [ObjectInfo]
    /// The token for the next page; nil on the last one.
    public var nextContinuationToken: String?
}

/// An S3 client (REST, Signature V4, path-style `{endpoint}/{bucket}/{key}` addressing, which
/// works with AWS and with emulators such as moto). Calls block.
public final class S3Client: ObjectStore {
    /// Where requests go (no trailing `/`).
    public let endpoint: String
    /// The region requests are signed for (and buckets created in).
    public let region: String
    /// Where the keys requests are signed with come from (never printed).
    let credentialSource: CredentialSource
    /// The keys requests are signed with now.
    public var credentials: AWSCredentials { credentialSource.current }
    let http: HTTPClient
    let signer: SigV4Signer

    /// `endpoint` e.g. `https://s3.us-west-2.amazonaws.com` or an emulator's `http://127.0.0.1:5055`.
    public convenience init(endpoint: String, region: String, credentials: AWSCredentials, http: HTTPClient = HTTPClient()) {
        self.init(endpoint: endpoint, region: region, credentialSource: CredentialSource(fixed: credentials), http: http)
    }

    /// A client whose keys come from `credentialSource` (renewed when temporary).
    public init(endpoint: String, region: String, credentialSource: CredentialSource, http: HTTPClient = HTTPClient()) {
        var endpoint = endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        self.region = region
        self.credentialSource = credentialSource
        self.http = http
        signer = SigV4Signer(region: region, service: "s3")
    }

    /// A client for resolved AWS settings (the endpoint override, else S3's regional endpoint).
    /// Transfers are whole objects in memory; the default allows 15 minutes per request.
    public convenience init(configuration: AWSConfiguration, http: HTTPClient = HTTPClient(timeout: 900)) {
        self.init(endpoint: configuration.endpoint(for: "s3"), region: configuration.region, credentialSource: CredentialSource(configuration), http: http)
    }

    // MARK: Operations

    /// Creates a bucket (with a location constraint outside us-east-1, as S3 requires).
    public func createBucket(_ bucket: String) throws(ObjectStoreError) {
        let body = region == "us-east-1" ? [] : Array("""
            <CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>\(region)</LocationConstraint></CreateBucketConfiguration>
            """.utf8)
        // An explicit content type: libcurl's default for a body (a form) would have servers parse it as one.
        _ = try send("PUT", bucket: bucket, key: nil, headers: [("Content-Type", "application/xml")], body: body, context: "create bucket \(bucket)")
    }

    /// One ListObjectsV2 page of at most `maxKeys` keys (S3 caps pages at 1,000).
    public func listObjectsPage(bucket: String, prefix: String, maxKeys: Int? = nil, continuationToken: String? = nil) throws(ObjectStoreError) -> S3ListPage {
        var query: [(name: String, value: String)] = [("list-type", "2")]
        if !prefix.isEmpty { query.append(("prefix", prefix)) }
        if let maxKeys { query.append(("max-keys", String(maxKeys))) }
        if let continuationToken { query.append(("continuation-token", continuationToken)) }
        let response = try send("GET", bucket: bucket, key: nil, query: query, context: "list s3://\(bucket)/\(prefix)")
        guard let xml = XMLTree.parse(response.text) else {
            throw ObjectStoreError(.other, "listing s3://\(bucket)/\(prefix) answered something that is not XML: \(response.text.prefix(120))",
                                   hint: "check --endpoint-url points at S3")
        }
        let objects = xml.children("Contents").map { entry in
            ObjectInfo(key: entry.string("Key") ?? "", size: Int64(entry.string("Size") ?? "") ?? -1, etag: Self.unquote(entry.string("ETag") ?? ""))
        }
        let truncated = xml.string("IsTruncated") == "true"
        let token = truncated ? xml.string("NextContinuationToken") : nil
        if truncated, token == nil {
            throw ObjectStoreError(.other, "listing s3://\(bucket)/\(prefix) is truncated but has no continuation token",
                                   hint: "the endpoint does not speak ListObjectsV2 fully; check --endpoint-url")
        }
        return S3ListPage(objects: objects, nextContinuationToken: token)
    }

    /// Every object under `prefix`, following continuation tokens across pages of `maxKeys`.
    public func listObjects(bucket: String, prefix: String, maxKeys: Int?) throws(ObjectStoreError) -> [ObjectInfo] {
        var all: [ObjectInfo] = []
        var token: String? = nil
        repeat {
            let page = try listObjectsPage(bucket: bucket, prefix: prefix, maxKeys: maxKeys, continuationToken: token)
            all += page.objects
            token = page.nextContinuationToken
        } while token != nil
        return all
    }

    /// Every object under `prefix`, in S3's pages of (at most) 1,000.
    public func listObjects(bucket: String, prefix: String) throws(ObjectStoreError) -> [ObjectInfo] {
        try listObjects(bucket: bucket, prefix: prefix, maxKeys: nil)
    }

    /// An object's bytes (GetObject).
    public func getObject(bucket: String, key: String) throws(ObjectStoreError) -> Data {
        Data(try send("GET", bucket: bucket, key: key, context: "get s3://\(bucket)/\(key)").body)
    }

    /// Stores bytes under a key (PutObject, one request).
    public func putObject(bucket: String, key: String, body: Data) throws(ObjectStoreError) {
        _ = try send("PUT", bucket: bucket, key: key, headers: [("Content-Type", "application/octet-stream")], body: Array(body),
                     context: "put s3://\(bucket)/\(key)")
    }

    /// Copies an object server-side (CopyObject with `x-amz-copy-source`; objects up to 5 GB).
    public func copyObject(fromBucket: String, fromKey: String, toBucket: String, toKey: String) throws(ObjectStoreError) {
        let source = "/\(fromBucket)/\(SigV4Signer.encode(fromKey, keepSlash: true))"
        let context = "copy s3://\(fromBucket)/\(fromKey) to s3://\(toBucket)/\(toKey)"
        let response = try send("PUT", bucket: toBucket, key: toKey, headers: [("x-amz-copy-source", source)], context: context)
        // CopyObject can answer 200 and report the failure in the body.
        if response.text.contains("<Error>") { throw Self.error(status: 200, xml: response.text, context: context) }
    }

    /// An object's size and ETag; throws `.noSuchKey` when it does not exist.
    public func headObject(bucket: String, key: String) throws(ObjectStoreError) -> ObjectInfo {
        let response = try send("HEAD", bucket: bucket, key: key, context: "head s3://\(bucket)/\(key)")
        return ObjectInfo(key: key, size: Int64(response.headers["content-length"] ?? "") ?? -1, etag: Self.unquote(response.headers["etag"] ?? ""))
    }

    /// Deletes an object (S3 answers success for a missing key too).
    public func deleteObject(bucket: String, key: String) throws(ObjectStoreError) {
        _ = try send("DELETE", bucket: bucket, key: key, context: "delete s3://\(bucket)/\(key)")
    }

    // MARK: Requests

    /// `/{bucket}` or `/{bucket}/{key}`, the key percent-encoded with `/` kept: the path both
    /// sent and signed.
    static func path(bucket: String, key: String?) -> String {
        guard let key else { return "/\(SigV4Signer.encode(bucket))" }
        return "/\(SigV4Signer.encode(bucket))/\(SigV4Signer.encode(key, keepSlash: true))"
    }

    func send(_ method: String, bucket: String, key: String?, query: [(name: String, value: String)] = [],
              headers extra: [(name: String, value: String)] = [], body: [UInt8] = [], context: String) throws(ObjectStoreError) -> HTTPResponse {
        guard !bucket.isEmpty, !bucket.contains("/") else {
            throw ObjectStoreError(.invalidArgument, "cannot \(context): \"\(bucket)\" is not a bucket name", hint: "write locations as s3://bucket/prefix/")
        }
        guard let components = URLComponents(string: endpoint), let host = components.host else {
            throw ObjectStoreError(.invalidArgument, "S3 endpoint \(endpoint) is not a URL", hint: "write it as https://host or http://127.0.0.1:PORT")
        }
        let hostHeader = components.port.map { "\(host):\($0)" } ?? host
        let path = Self.path(bucket: bucket, key: key)
        let queryText = query.map { "\(SigV4Signer.encode($0.name))=\(SigV4Signer.encode($0.value))" }.joined(separator: "&")
        let signable = SignableRequest(method: method, path: path, query: query, headers: [("Host", hostHeader)] + extra, body: body)
        let signed = signer.sign(signable, credentials: credentials, date: Date())
        let request = HTTPRequest(method: method, url: endpoint + path + (queryText.isEmpty ? "" : "?" + queryText), headers: extra + signed,
                                  body: body, idempotent: true)
        let response: HTTPResponse
        AWSCallCounter.current?.count("S3 " + (query.isEmpty ? method : "\(method) (list)"))
        do {
            response = try http.send(request)
        } catch {
            if let answered = error.response { throw Self.error(status: answered.status, xml: answered.text, context: context) }
            throw ObjectStoreError(.unavailable, "cannot \(context): \(error.description)",
                                   hint: "check the endpoint (\(endpoint)) is reachable; --endpoint-url / AWS_ENDPOINT_URL pick another")
        }
        guard (200..<300).contains(response.status) else { throw Self.error(status: response.status, xml: response.text, context: context) }
        return response
    }

    /// S3's error (`<Error><Code>…</Code><Message>…</Message>`), said plainly with a fix.
    static func error(status: Int, xml: String, context: String) -> ObjectStoreError {
        let tree = XMLTree.parse(xml)
        let code = tree?.string("Code") ?? (status == 404 ? "NotFound" : status == 403 ? "AccessDenied" : "HTTP\(status)")
        let message = tree?.string("Message")
        let detail = message.map { "\(code): \($0)" } ?? code
        let subject = "cannot \(context): \(detail) (HTTP \(status))"
        switch code {
        case "NoSuchBucket":
            return ObjectStoreError(.noSuchBucket, subject, hint: "check the bucket name and region, or create it (aws s3 mb s3://BUCKET)", code: code)
        case "NoSuchKey", "NotFound":
            return ObjectStoreError(.noSuchKey, subject, hint: "check the key; `aws s3 ls` lists what is there", code: code)
        case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
            return ObjectStoreError(.accessDenied, subject,
                                    hint: "check the AWS credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or --aws-profile) and that they may use this bucket",
                                    code: code)
        case "InvalidBucketName", "KeyTooLongError", "InvalidArgument", "InvalidRequest":
            return ObjectStoreError(.invalidArgument, subject, hint: "check the bucket and key names", code: code)
        default:
            return ObjectStoreError(.other, subject, code: code)
        }
    }

    static func unquote(_ etag: String) -> String {
        etag.count >= 2 && etag.hasPrefix("\"") && etag.hasSuffix("\"") ? String(etag.dropFirst().dropLast()) : etag
    }
}
