import Foundation

/// A self-signed certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1) and its key, made with
/// the `openssl` command in a temporary folder, for TLS tests. `remove()` deletes both.
public struct SelfSignedCertificate: Sendable {
    /// The folder holding `cert.pem` and `key.pem`.
    public let directory: String
    /// The certificate (PEM); being self-signed, it is also the trust root clients need.
    public var certificate: String { directory + "/cert.pem" }
    /// The private key (PEM, unencrypted).
    public var key: String { directory + "/key.pem" }

    /// Whether the `openssl` command runs here (tests skip, saying why, when it does not).
    public static let opensslAvailable: Bool = (try? run(["version"])) == 0

    /// Makes the certificate (RSA 2048, valid one day).
    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let status = try Self.run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                                   "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"])
        guard status == 0 else { throw CertificateUnavailable(description: "openssl req exited with status \(status)") }
    }

    /// Deletes the certificate and key.
    public func remove() { try? FileManager.default.removeItem(atPath: directory) }

    static func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Why a test certificate could not be made.
public struct CertificateUnavailable: Error, CustomStringConvertible {
    public var description: String
}
