/// The master's front doors besides its native `infaas.v1.Master` API: the Open Inference
/// Protocol v2 (gRPC on the master's port, REST on `httpPort`) and the original INFaaS API
/// (`infaaspublic.infaasqueryfe.Query`, `infaaspublic.infaasmodelreg.ModelReg`, gRPC on the
/// master's port). All of them sit behind the master's bearer token and TLS.
public struct FrontDoors: Sendable {
    /// The v2 REST port (0 = any free port); nil = no REST server.
    public var httpPort: Int?
    /// A folder of `.config` files the original API's RegisterModel reads when the master has
    /// no config bucket (a local stand-in for CONFIGDB).
    public var configDirectory: String?
    /// Called with the REST port once it listens.
    public var onHTTPListening: @Sendable (Int) -> Void

    public init(httpPort: Int? = nil, configDirectory: String? = nil, onHTTPListening: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.httpPort = httpPort
        self.configDirectory = configDirectory
        self.onHTTPListening = onHTTPListening
    }
}
