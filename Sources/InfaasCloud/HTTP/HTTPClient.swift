import CCurl
import Foundation

/// An HTTP request for ``HTTPClient``.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// Safe to send twice (GET, or a call with a client token). Only these are retried.
    public var idempotent: Bool

    public init(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [], idempotent: Bool? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.idempotent = idempotent ?? ["GET", "HEAD", "PUT", "DELETE"].contains(method.uppercased())
    }
}

/// An HTTP response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// Why a request failed after its retries.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var attempts: Int
    /// The last response, when the server answered.
    public var response: HTTPResponse?

    public var description: String { "\(message) (after \(attempts) attempt\(attempts == 1 ? "" : "s"))" }
}

/// When to retry: throttling and server errors (and connection failures) for idempotent
/// requests, with exponential back-off, full jitter and the server's `Retry-After`.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 4, baseDelay: Double = 0.2, maxDelay: Double = 5) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    static let retryableStatus: Set<Int> = [429, 500, 502, 503, 504]

    /// The wait before attempt `attempt + 1` (seconds): `Retry-After` if given (capped), else a
    /// uniformly random share of the exponential step.
    public func delay(afterAttempt attempt: Int, retryAfter: Double?, random: Double) -> Double {
        if let retryAfter { return min(maxDelay, max(0, retryAfter)) }
        return random * min(maxDelay, baseDelay * pow(2, Double(attempt - 1)))
    }
}

/// A thin libcurl client: one easy handle (so connections are reused), timeouts, retries.
public final class HTTPClient: @unchecked Sendable {
    private let handle: OpaquePointer?
    private let lock = NSLock()
    public let timeout: Double
    public let connectTimeout: Double
    public let retry: RetryPolicy
    /// Attempts made by the last `send` (for tests and logs).
    public private(set) var lastAttempts = 0

    public init(timeout: Double = 30, connectTimeout: Double = 5, retry: RetryPolicy = RetryPolicy()) {
        handle = infaas_curl_new()
        self.timeout = timeout
        self.connectTimeout = connectTimeout
        self.retry = retry
    }

    deinit { infaas_curl_free(handle) }

    /// Sends a request (blocking), retrying per the policy.
    public func send(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        lock.lock()
        defer { lock.unlock() }
        var attempt = 0
        while true {
            attempt += 1
            lastAttempts = attempt
            let outcome = perform(request)
            let canRetry = request.idempotent && attempt < retry.maxAttempts
            switch outcome {
            case .success(let response):
                guard RetryPolicy.retryableStatus.contains(response.status) else { return response }
                guard canRetry else {
                    throw HTTPError(message: "\(request.method) \(request.url) answered HTTP \(response.status)", attempts: attempt, response: response)
                }
                let after = response.headers["retry-after"].flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
                Thread.sleep(forTimeInterval: retry.delay(afterAttempt: attempt, retryAfter: after, random: Double.random(in: 0...1)))
            case .failure(let message):
                guard canRetry else {
                    throw HTTPError(message: "\(request.method) \(request.url) failed: \(message)", attempts: attempt, response: nil)
                }
                Thread.sleep(forTimeInterval: retry.delay(afterAttempt: attempt, retryAfter: nil, random: Double.random(in: 0...1)))
            }
        }
    }

    enum Outcome { case success(HTTPResponse), failure(String) }

    private func perform(_ request: HTTPRequest) -> Outcome {
        guard let handle else { return .failure("libcurl could not be initialised") }
        let lines = request.headers.map { "\($0.name): \($0.value)" }
        var cStrings = lines.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var status = 0
        var body: UnsafeMutablePointer<UInt8>? = nil, head: UnsafeMutablePointer<UInt8>? = nil
        var bodyLength = 0, headLength = 0
        var error = [CChar](repeating: 0, count: 512)
        let code: Int32 = cStrings.withUnsafeMutableBufferPointer { headers in
            headers.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(1, headers.count)) { list in
                request.body.withUnsafeBufferPointer { payload in
                    infaas_curl_perform(handle, request.method, request.url, list, Int32(lines.count), payload.baseAddress, payload.count,
                                        Int(timeout * 1000), Int(connectTimeout * 1000), &status, &body, &bodyLength, &head, &headLength, &error)
                }
            }
        }
        defer { infaas_curl_release(body); infaas_curl_release(head) }
        guard code == 0 else { return .failure(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
        let bytes = body.map { Array(UnsafeBufferPointer(start: $0, count: bodyLength)) } ?? []
        let headerText = head.map { String(decoding: UnsafeBufferPointer(start: $0, count: headLength), as: UTF8.self) } ?? ""
        var headers: [String: String] = [:]
        for line in headerText.split(whereSeparator: \.isNewline) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return .success(HTTPResponse(status: status, headers: headers, body: bytes))
    }
}
