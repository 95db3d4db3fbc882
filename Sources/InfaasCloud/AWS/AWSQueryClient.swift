public import Foundation
import Synchronization

/// An error an AWS API answered (or the transport's, when none answered). Never carries secrets.
public struct AWSError: Error, Sendable, CustomStringConvertible {
    /// AWS's error code (`AuthFailure`, `SignatureDoesNotMatch`, …) or `Transport`.
    public var code: String
    public var message: String
    public var status: Int

    public init(code: String, message: String, status: Int) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { "\(code) (HTTP \(status)): \(message)" }
}

/// Calls AWS Query APIs (EC2, IAM: `POST /` with `Action=…&Version=…`), signed with Signature V4.
public final class AWSQueryClient: Sendable {
    public let endpoint: String
    public let region: String
    let credentialSource: CredentialSource
    /// The keys calls are signed with now (never printed).
    public var credentials: AWSCredentials { credentialSource.current }
    let http: HTTPClient

    /// `endpoint` e.g. `https://ec2.us-west-2.amazonaws.com` or an emulator's `http://127.0.0.1:5055`.
    public convenience init(endpoint: String, region: String, credentials: AWSCredentials, http: HTTPClient = HTTPClient()) {
        self.init(endpoint: endpoint, region: region, credentialSource: CredentialSource(fixed: credentials), http: http)
    }

    /// A client whose keys come from `credentialSource` (renewed when temporary).
    public init(endpoint: String, region: String, credentialSource: CredentialSource, http: HTTPClient = HTTPClient()) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.region = region
        self.credentialSource = credentialSource
        self.http = http
    }

    /// Form-encodes parameters as AWS Query APIs expect (RFC 3986).
    public static func formBody(_ parameters: [(String, String)]) -> String {
        parameters.map { "\(SigV4Signer.encode($0.0))=\(SigV4Signer.encode($0.1))" }.joined(separator: "&")
    }

    /// One call; returns the XML answer. `idempotent` allows retries (reads, or writes with a client token).
    public func call(service: String, action: String, version: String, parameters: [(String, String)] = [], idempotent: Bool,
                     date: Date = Date()) throws(AWSError) -> String {
        guard let components = URLComponents(string: endpoint), let host = components.host else {
            throw AWSError(code: "InvalidEndpoint", message: "\(endpoint) is not a URL", status: 0)
        }
        AWSCallCounter.current?.count(action)
        let hostHeader = components.port.map { "\(host):\($0)" } ?? host
        let body = Array(Self.formBody([("Action", action), ("Version", version)] + parameters).utf8)
        let contentType = "application/x-www-form-urlencoded; charset=utf-8"
        let signable = SignableRequest(method: "POST", path: "/", headers: [("Host", hostHeader), ("Content-Type", contentType)], body: body)
        let signed = SigV4Signer(region: region, service: service).sign(signable, credentials: credentials, date: date)
        let request = HTTPRequest(method: "POST", url: endpoint + "/", headers: [("Content-Type", contentType)] + signed, body: body,
                                  idempotent: idempotent)
        let response: HTTPResponse
        do {
            response = try http.send(request)
        } catch {
            if let answered = error.response { throw Self.error(from: answered) }
            throw AWSError(code: "Transport", message: error.description, status: 0)
        }
        guard (200..<300).contains(response.status) else { throw Self.error(from: response) }
        return response.text
    }

    static func error(from response: HTTPResponse) -> AWSError {
        let text = response.text
        return AWSError(code: element("Code", in: text) ?? "HTTP\(response.status)", message: element("Message", in: text) ?? String(text.prefix(200)),
                        status: response.status)
    }

    /// The text of the first element called `name` anywhere in an XML answer.
    public static func element(_ name: String, in xml: String) -> String? {
        XMLTree.parse(xml).flatMap { $0.name == name ? $0 : $0.descendants(name).first }?.text
    }
}

/// Counts the AWS calls made inside one operation (a launch, a retirement), even while other
/// operations run concurrently: bind one with `AWSCallCounter.$current.withValue(counter) { … }`.
public final class AWSCallCounter: Sendable {
    @TaskLocal public static var current: AWSCallCounter?
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    func count(_ action: String) { counts.withLock { $0[action, default: 0] += 1 } }

    /// Calls so far, by action.
    public var byAction: [String: Int] { counts.withLock { $0 } }

    /// `DescribeInstances=2 RunInstances=1 (3 in all)`.
    public var summary: String {
        let counts = byAction
        return counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            + " (\(counts.values.reduce(0, +)) in all)"
    }
}
