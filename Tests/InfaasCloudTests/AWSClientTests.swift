import Foundation
import InfaasCloud
import Testing

@Suite("AWS calls when the endpoint is down")
struct AWSEndpointDownTests {
    @Test func anEmulatorThatIsDownIsABoundedClearError() throws {
        let http = HTTPClient(timeout: 1, connectTimeout: 0.2, retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05))
        let client = AWSQueryClient(endpoint: "http://127.0.0.1:9", region: "us-west-2",
                                    credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "never-printed"), http: http)
        #expect {
            try client.call(service: "ec2", action: "DescribeInstances", version: "2016-11-15", idempotent: true)
        } throws: { error in
            guard let error = error as? AWSError else { return false }
            return error.code == "Transport" && error.description.contains("after 3 attempts") && !error.description.contains("never-printed")
        }
        #expect(http.lastAttempts == 3)
        // A call that is not idempotent is tried once.
        #expect(throws: AWSError.self) {
            try client.call(service: "ec2", action: "RunInstances", version: "2016-11-15", idempotent: false)
        }
        #expect(http.lastAttempts == 1)
    }
}

@Suite("AWS calls when the endpoint is slow")
struct AWSEndpointSlowTests {
    /// A server that accepts connections (the kernel does, from the listen backlog) and never answers.
    @Test func anEndpointThatNeverAnswersTimesOutBoundedly() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 && listen(fd, 8) == 0 }
        }
        try #require(listening)
        let port = UInt16(bigEndian: address.sin_port)
        let http = HTTPClient(timeout: 0.5, connectTimeout: 0.5, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.01, maxDelay: 0.02))
        let client = AWSQueryClient(endpoint: "http://127.0.0.1:\(port)", region: "us-west-2",
                                    credentials: AWSCredentials(accessKeyID: "AK", secretAccessKey: "never-printed"), http: http)
        #expect {
            try client.call(service: "ec2", action: "DescribeInstances", version: "2016-11-15", idempotent: true)
        } throws: { error in
            guard let error = error as? AWSError else { return false }
            return error.code == "Transport" && error.description.lowercased().contains("timed out") && error.description.contains("after 2 attempts")
        }
        #expect(http.lastAttempts == 2)
    }
}

@Suite("Retry back-off")
struct RetryPolicyTests {
    @Test func backOffGrowsIsCappedAndHonoursRetryAfter() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.2, maxDelay: 1)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, random: 1) == 0.2)
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, random: 1) == 0.8)
        #expect(policy.delay(afterAttempt: 6, retryAfter: nil, random: 1) == 1)
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, random: 0.5) == 0.4)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 0.7, random: 0) == 0.7)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 30, random: 0) == 1)
    }
}
