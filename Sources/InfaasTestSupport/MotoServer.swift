import Foundation

/// Why the AWS emulator could not be started.
public struct MotoUnavailable: Error, CustomStringConvertible {
    public var description: String
}

/// An AWS emulator (`moto_server`, PyPI `moto[server]`) on 127.0.0.1 and a free port, for tests
/// of the EC2 and S3 code. Each instance is its own emulator with empty state; `stop()` (or
/// deinit) ends it. Its output goes to a log file, never a pipe nobody drains.
public final class MotoServer: @unchecked Sendable {
    public let port: Int
    public let logPath: String
    private let process: Process

    /// `http://127.0.0.1:PORT`.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Whether `moto_server` is on PATH (tests skip, saying why, when it is not).
    public static var isInstalled: Bool { executable != nil }

    static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/moto_server" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts an emulator and waits (at most `timeout` s) until it accepts connections.
    /// `initialNoAuthActionCount`: with a value, moto checks signatures after that many calls.
    public init(initialNoAuthActionCount: Int? = nil, timeout: Double = 30) throws {
        guard let executable = Self.executable else {
            throw MotoUnavailable(description: "moto_server is not installed (scripts/setup installs it: pip install 'moto[server]')")
        }
        port = try Self.freePort()
        logPath = NSTemporaryDirectory() + "moto-\(port)-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw MotoUnavailable(description: "cannot write \(logPath)") }
        defer { try? log.close() }
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-H", "127.0.0.1", "-p", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["INITIAL_NO_AUTH_ACTION_COUNT"] = initialNoAuthActionCount.map(String.init)
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        // A bare TCP connect: an HTTP probe would use up one of the unauthenticated calls.
        while !Self.accepts(port: port) {
            guard process.isRunning, Date() < deadline else {
                stop()
                let tail = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").suffix(400)
                throw MotoUnavailable(description: "moto_server did not start on port \(port) within \(Int(timeout)) s: \(tail)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    deinit { stop() }

    /// Stops the emulator (idempotent).
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Whether the emulator process is still running.
    public var isRunning: Bool { process.isRunning }

    /// A port nothing listens on now (the kernel's pick).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MotoUnavailable(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw MotoUnavailable(description: "cannot bind a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
