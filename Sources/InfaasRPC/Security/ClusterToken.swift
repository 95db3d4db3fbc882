import Foundation

/// A cluster's shared secret: the bearer token the master's and the workers' APIs require.
///
/// It never prints: `description` is redacted, so a token interpolated into a log line, an
/// error or a status table shows `<redacted>`; only `headerValue` carries the secret.
public struct ClusterToken: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The token itself: for an `authorization` header or a child process's environment only.
    public let secret: String

    /// A token from text (surrounding whitespace and newlines dropped); nil when empty.
    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        secret = trimmed
    }

    /// 32 bytes from the system's secure random source, written as 64 hex digits.
    public static func generate() -> ClusterToken {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
        return ClusterToken(hex)!
    }

    /// Reads a token file (as `infaas up` writes it).
    public static func read(path: String) throws(WireError) -> ClusterToken {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WireError("cannot read the token file \(path)", hint: "`infaas up` writes <home>/cluster/token; or pass --token-file PATH")
        }
        guard let token = ClusterToken(String(decoding: data, as: UTF8.self)) else {
            throw WireError("the token file \(path) is empty")
        }
        return token
    }

    /// Writes the token to `path` readable by its owner only (mode 0600), replacing any file there.
    public func write(path: String) throws(WireError) {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WireError("cannot create the token file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array((secret + "\n").utf8)
        let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fchmod(fd, 0o600) == 0 else {
            throw WireError("cannot write the token file \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// The `authorization` metadata value: `Bearer <token>`.
    public var headerValue: String { "Bearer \(secret)" }

    /// Whether `header` is this token's `authorization` value, compared in constant time
    /// (the time taken does not depend on where a wrong value first differs).
    public func matches(header: String) -> Bool {
        let expected = Array(headerValue.utf8), given = Array(header.utf8)
        var difference = UInt8(expected.count == given.count ? 0 : 1)
        for i in 0..<expected.count {
            difference |= expected[i] ^ (i < given.count ? given[i] : 0)
        }
        return difference == 0
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "ClusterToken(<redacted>)" }

    public static func == (a: ClusterToken, b: ClusterToken) -> Bool { a.matches(header: b.headerValue) }
}
