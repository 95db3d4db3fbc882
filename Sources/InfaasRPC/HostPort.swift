public import GRPCNIOTransportHTTP2
public import GRPCCore
import Foundation

/// A `host:port` address as the CLI and daemons take it.
public struct HostPort: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (or `:port` / `port` for 127.0.0.1).
    public init(_ text: String) throws(WireError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
        let hostPart = parts.count == 2 ? String(parts[0]) : (parts.count == 1 ? "" : "")
        let portPart = parts.count == 2 ? String(parts[1]) : (parts.count == 1 ? String(parts[0]) : "")
        guard parts.count <= 2, let port = Int(portPart), (1...65535).contains(port) else {
            throw WireError("\"\(text)\" is not a host:port address", hint: "write it as 127.0.0.1:50052")
        }
        host = hostPart.isEmpty ? "127.0.0.1" : hostPart
        self.port = port
    }

    public var description: String { "\(host):\(port)" }

    /// The gRPC client target.
    public var target: any ResolvableTarget {
        if host.split(separator: ".").count == 4, host.split(separator: ".").allSatisfy({ UInt8($0) != nil }) {
            return .ipv4(address: host, port: port)
        }
        return .dns(host: host, port: port)
    }
}

extension CallOptions {
    /// These options with a deadline.
    public func with(timeoutMs: Double) -> CallOptions {
        var options = self
        options.timeout = .milliseconds(Int64(timeoutMs))
        return options
    }
}
