public import GRPCNIOTransportHTTP2

/// The HTTP/2 transports every daemon and client uses, configured in one place: large messages
/// (a batch of raw tensors), and 1 MiB frames so a tensor travels in few frames.
public enum RPCTransport {
    /// Largest message either side accepts.
    public static let maxMessageBytes = 256 * 1024 * 1024
    static let frameBytes = 1 << 20

    /// A plaintext server transport on `host:port` (port 0 = any free port).
    public static func server(host: String, port: Int) -> HTTP2ServerTransport.Posix {
        .http2NIOPosix(address: .ipv4(host: host, port: port), transportSecurity: .plaintext, config: .defaults {
            $0.rpc.maxRequestPayloadSize = maxMessageBytes
            $0.http2.maxFrameSize = frameBytes
        })
    }

    /// A plaintext client transport to `address`.
    public static func client(_ address: HostPort) throws -> HTTP2ClientTransport.Posix {
        try .http2NIOPosix(target: address.target, transportSecurity: .plaintext, config: .defaults {
            $0.http2.maxFrameSize = frameBytes
        })
    }
}
