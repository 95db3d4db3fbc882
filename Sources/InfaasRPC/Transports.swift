public import GRPCCore
public import GRPCNIOTransportHTTP2

/// The HTTP/2 transports every daemon and client uses, configured in one place: an explicit
/// message size limit on every server and client (a batch of raw tensors fits; a 100 MB request
/// is refused before it is buffered), 1 MiB frames so a tensor travels in few frames, and an
/// 8 MiB flow-control window on servers too.
///
/// The window: grpc-swift's servers default to HTTP/2's 64 KiB (its clients to 8 MiB), so a
/// request above 64 KiB (ppocr_cls at batch 1 is 110 KiB) cannot be sent in one go: its sender
/// waits for the server's WINDOW_UPDATE, on the client → master hop and again on master → worker.
public enum RPCTransport {
    /// Largest message either side accepts, request or response: 64 MiB (a batch of 64
    /// float32 224×224×3 tensors is 38.5 MB). README "Limits and security".
    public static let maxMessageBytes = 64 * 1024 * 1024
    static let frameBytes = 1 << 20
    /// The HTTP/2 flow-control window servers grant (grpc-swift's client default).
    static let windowBytes = 8 << 20

    /// The limits every client applies to every method (requests it sends, responses it takes).
    public static var clientServiceConfig: ServiceConfig {
        ServiceConfig(methodConfig: [MethodConfig(names: [MethodConfig.Name(service: "")],
                                                  maxRequestMessageBytes: maxMessageBytes, maxResponseMessageBytes: maxMessageBytes)])
    }

    /// A server transport on `host:port` (port 0 = any free port): TLS with `tls`'s certificate
    /// files, plaintext without.
    public static func server(host: String, port: Int, tls: ServerSecurity.TLSFiles? = nil) -> HTTP2ServerTransport.Posix {
        let security: HTTP2ServerTransport.Posix.TransportSecurity = tls.map {
            .tls(certificateChain: [.file(path: $0.certificate, format: .pem)], privateKey: .file(path: $0.key, format: .pem))
        } ?? .plaintext
        return .http2NIOPosix(address: .ipv4(host: host, port: port), transportSecurity: security, config: .defaults {
            $0.rpc.maxRequestPayloadSize = maxMessageBytes
            $0.http2.maxFrameSize = frameBytes
            $0.http2.targetWindowSize = windowBytes
        })
    }

    /// A client transport to `address`: TLS trusting the PEM certificates in `trustRoots` (the
    /// server's certificate or the CA that signed it), plaintext without.
    /// `maxReconnectWait`: the longest wait between connection attempts (gRPC's default backs
    /// off to 2 minutes; a worker caps it so it re-joins a restarted master within seconds).
    public static func client(_ address: HostPort, trustRoots: String? = nil, maxReconnectWait: Duration? = nil) throws -> HTTP2ClientTransport.Posix {
        let security: HTTP2ClientTransport.Posix.TransportSecurity = trustRoots.map { path in
            .tls { $0.trustRoots = .certificates([.file(path: path, format: .pem)]) }
        } ?? .plaintext
        return try .http2NIOPosix(target: address.target, transportSecurity: security, config: .defaults {
            $0.http2.maxFrameSize = frameBytes
            if let maxReconnectWait { $0.backoff.max = maxReconnectWait }
        }, serviceConfig: clientServiceConfig)
    }

    /// A client transport to `address` with `security`'s TLS settings.
    public static func client(_ address: HostPort, security: ClientSecurity, maxReconnectWait: Duration? = nil) throws -> HTTP2ClientTransport.Posix {
        try client(address, trustRoots: security.trustRoots, maxReconnectWait: maxReconnectWait)
    }
}

/// How a server authenticates its callers: a bearer token and, optionally, TLS.
public struct ServerSecurity: Sendable {
    /// PEM files for a TLS server: its certificate (chain) and private key.
    public struct TLSFiles: Sendable, Hashable {
        public var certificate: String
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// The token every call must carry; nil = open (tests, hand-run daemons on loopback).
    public var token: ClusterToken?
    public var tls: TLSFiles?

    public init(token: ClusterToken? = nil, tls: TLSFiles? = nil) {
        self.token = token
        self.tls = tls
    }

    /// No token, no TLS.
    public static let open = ServerSecurity()

    /// The interceptors that enforce the token.
    public var interceptors: [any ServerInterceptor] { token.map { [BearerTokenServerInterceptor(token: $0)] } ?? [] }
}

/// How a client presents itself: the bearer token it sends and, for TLS, the roots it trusts.
public struct ClientSecurity: Sendable {
    public var token: ClusterToken?
    /// A PEM file of trusted certificates; nil = plaintext.
    public var trustRoots: String?

    public init(token: ClusterToken? = nil, trustRoots: String? = nil) {
        self.token = token
        self.trustRoots = trustRoots
    }

    /// No token, plaintext.
    public static let open = ClientSecurity()

    /// The interceptors that add the token.
    public var interceptors: [any ClientInterceptor] { token.map { [BearerTokenClientInterceptor(token: $0)] } ?? [] }
}
