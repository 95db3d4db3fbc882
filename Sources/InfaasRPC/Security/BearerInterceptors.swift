public import GRPCCore

/// Rejects every call whose `authorization` metadata is not `Bearer <token>` with
/// `unauthenticated` and a message saying where the token comes from (never the token).
public struct BearerTokenServerInterceptor: ServerInterceptor {
    /// What an unauthenticated caller is told.
    public static let rejection = "unauthenticated: missing or wrong bearer token; give the cluster's token"
        + " (`infaas up` stores it in <home>/cluster/token; pass --token-file PATH or set INFAAS_TOKEN)"

    let token: ClusterToken

    public init(token: ClusterToken) { self.token = token }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>,
        context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        // Every value is compared (no early exit), so a caller learns nothing from timing.
        var accepted = false
        for value in request.metadata[stringValues: "authorization"] where token.matches(header: value) { accepted = true }
        guard accepted else { return StreamingServerResponse(error: RPCError(code: .unauthenticated, message: Self.rejection)) }
        return try await next(request, context)
    }
}

/// Adds `authorization: Bearer <token>` to every call.
public struct BearerTokenClientInterceptor: ClientInterceptor {
    let token: ClusterToken

    public init(token: ClusterToken) { self.token = token }

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>,
        context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        var request = request
        request.metadata.replaceOrAddString(token.headerValue, forKey: "authorization")
        return try await next(request, context)
    }
}
