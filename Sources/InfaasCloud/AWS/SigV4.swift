public import Foundation

/// AWS credentials. The secret never appears in `description`, logs or errors.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret redacted\(sessionToken == nil ? "" : ", session token redacted"))" }
}

/// A request as Signature V4 sees it.
public struct SignableRequest: Sendable {
    public var method: String
    /// The path as it will be sent (already percent-encoded where the URL needs it), e.g. `/`.
    public var path: String
    /// Query parameters, decoded (`prefix=x/y`); the signer encodes them.
    public var query: [(name: String, value: String)]
    /// Headers to sign (at least `host`); names in any case.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String = "/", query: [(name: String, value: String)] = [], headers: [(name: String, value: String)],
                body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }
}

/// AWS Signature Version 4 (header form): canonical request, string to sign, signing key,
/// signature, and the headers that carry them.
public struct SigV4Signer: Sendable {
    public var region: String
    public var service: String
    /// S3 signs the path as sent; every other service encodes it once more.
    public var doubleEncodePath: Bool
    /// S3 wants `x-amz-content-sha256` among the signed headers.
    public var signContentHash: Bool

    public init(region: String, service: String) {
        self.region = region
        self.service = service
        doubleEncodePath = service != "s3"
        signContentHash = service == "s3"
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
    public static func timestamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// RFC 3986 percent-encoding of everything but unreserved characters (and `/` when asked).
    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(UnicodeScalar(byte)))
            case UInt8(ascii: "/") where keepSlash:
                out.append("/")
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// The headers to sign, with `x-amz-date`, the session token and (S3) the payload hash added.
    func headersToSign(_ request: SignableRequest, credentials: AWSCredentials, amzDate: String) -> [(String, String)] {
        var headers = request.headers.map { ($0.name.lowercased(), Self.normalise($0.value)) }
        headers.removeAll { $0.0 == "x-amz-date" || $0.0 == "authorization" }
        headers.append(("x-amz-date", amzDate))
        if let token = credentials.sessionToken, !headers.contains(where: { $0.0 == "x-amz-security-token" }) {
            headers.append(("x-amz-security-token", token))
        }
        if signContentHash, !headers.contains(where: { $0.0 == "x-amz-content-sha256" }) {
            headers.append(("x-amz-content-sha256", Digest.hex(Digest.sha256(request.body))))
        }
        return headers.sorted { $0.0 < $1.0 }
    }

    static func normalise(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// The canonical request (task 1 of the signing process).
    public func canonicalRequest(_ request: SignableRequest, credentials: AWSCredentials, amzDate: String) -> String {
        let headers = headersToSign(request, credentials: credentials, amzDate: amzDate)
        let path = request.path.isEmpty ? "/" : request.path
        let canonicalPath = doubleEncodePath ? Self.encode(path, keepSlash: true) : path
        let encoded: [(String, String)] = request.query.map { (Self.encode($0.name), Self.encode($0.value)) }
        let sortedPairs = encoded.sorted { (a: (String, String), b: (String, String)) -> Bool in a.0 != b.0 ? a.0 < b.0 : a.1 < b.1 }
        let query = sortedPairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let canonicalHeaders = headers.map { "\($0.0):\($0.1)\n" }.joined()
        let signed = headers.map(\.0).joined(separator: ";")
        return [request.method.uppercased(), canonicalPath, query, canonicalHeaders, signed,
                Digest.hex(Digest.sha256(request.body))].joined(separator: "\n")
    }

    /// The key for a day, region and service (task 3).
    public func signingKey(secret: String, day: String) -> [UInt8] {
        var key = Digest.hmacSHA256(key: Array("AWS4\(secret)".utf8), Array(day.utf8))
        for part in [region, service, "aws4_request"] { key = Digest.hmacSHA256(key: key, Array(part.utf8)) }
        return key
    }

    /// The headers to add to the request: `Authorization`, `X-Amz-Date`, and the session token
    /// and (S3) payload hash when they apply.
    public func sign(_ request: SignableRequest, credentials: AWSCredentials, date: Date) -> [(name: String, value: String)] {
        sign(request, credentials: credentials, amzDate: Self.timestamp(date))
    }

    public func sign(_ request: SignableRequest, credentials: AWSCredentials, amzDate: String) -> [(name: String, value: String)] {
        let day = String(amzDate.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let canonical = canonicalRequest(request, credentials: credentials, amzDate: amzDate)
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Digest.hex(Digest.sha256(Array(canonical.utf8)))].joined(separator: "\n")
        let signature = Digest.hex(Digest.hmacSHA256(key: signingKey(secret: credentials.secretAccessKey, day: day), Array(stringToSign.utf8)))
        let signed = headersToSign(request, credentials: credentials, amzDate: amzDate).map(\.0).joined(separator: ";")
        var added: [(name: String, value: String)] = [
            ("Authorization", "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signed), Signature=\(signature)"),
            ("X-Amz-Date", amzDate),
        ]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        if signContentHash { added.append(("X-Amz-Content-Sha256", Digest.hex(Digest.sha256(request.body)))) }
        return added
    }
}
