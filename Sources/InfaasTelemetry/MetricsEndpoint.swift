public import Prometheus
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 server that answers `GET /metrics` with the Prometheus text format of a
/// registry (and 404 for anything else). Master and workers each run one beside their gRPC port.
public final class MetricsEndpoint: Sendable {
    private let channel: any Channel
    /// The port it listens on (useful when started on port 0).
    public let port: Int

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    /// Starts listening on `host:port` (port 0 picks a free one).
    public static func start(host: String = "127.0.0.1", port: Int, registry: PrometheusCollectorRegistry) async throws -> MetricsEndpoint {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(MetricsHandler(registry: registry))
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        return MetricsEndpoint(channel: channel, port: channel.localAddress?.port ?? port)
    }

    /// Stops listening.
    public func close() async {
        try? await channel.close()
    }
}

private final class MetricsHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let registry: PrometheusCollectorRegistry

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        var body: [UInt8] = []
        let status: HTTPResponseStatus
        if head.method == .GET, head.uri == "/metrics" || head.uri.hasPrefix("/metrics?") {
            registry.emit(into: &body)
            status = .ok
        } else {
            body = Array("not found: this endpoint serves GET /metrics\n".utf8)
            status = .notFound
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: status == .ok ? "text/plain; version=0.0.4" : "text/plain")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
