import ArgumentParser
import Foundation
import InfaasRPC

/// `--token-file` and `--tls-ca`: how a client authenticates to the cluster.
struct ClientAuthOptions: ParsableArguments {
    @Option(name: .customLong("token-file"), help: ArgumentHelp("The cluster's bearer token (default: $INFAAS_TOKEN, else <home>/cluster/token if present).", valueName: "PATH"))
    var tokenFile: String?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("Use TLS, trusting the PEM certificates in this file (the master's certificate or its CA).", valueName: "PATH"))
    var tlsCA: String?

    /// The token and trust roots, resolved against `home`.
    func security(home: String) throws -> ClientSecurity {
        ClientSecurity(token: try ClusterTokenSource.resolve(file: tokenFile, home: home), trustRoots: tlsCA)
    }
}

/// Where a command finds the cluster's token.
enum ClusterTokenSource {
    /// `<home>/cluster/token`, written by `infaas up`.
    static func defaultPath(home: String) -> String { "\(home)/cluster/token" }

    /// `file`, else `$INFAAS_TOKEN`, else the home's token file if there is one, else none.
    static func resolve(file: String?, home: String) throws -> ClusterToken? {
        if let file, !file.isEmpty { return try ClusterToken.read(path: file) }
        if let env = ProcessInfo.processInfo.environment["INFAAS_TOKEN"], let token = ClusterToken(env) { return token }
        let path = defaultPath(home: home)
        return FileManager.default.fileExists(atPath: path) ? try ClusterToken.read(path: path) : nil
    }

    /// A fresh token written to `<home>/cluster/token` (mode 0600), for a cluster about to start.
    static func create(home: String) throws -> (token: ClusterToken, path: String) {
        try FileManager.default.createDirectory(atPath: "\(home)/cluster", withIntermediateDirectories: true)
        let token = ClusterToken.generate()
        let path = defaultPath(home: home)
        try token.write(path: path)
        return (token, path)
    }
}

/// A live master: its address and how to authenticate to it. Prints as its address only.
struct MasterEndpoint: Sendable, CustomStringConvertible {
    var address: HostPort
    var security: ClientSecurity = .open

    var description: String { address.description }
}
