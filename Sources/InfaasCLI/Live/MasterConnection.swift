import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasRPC
import InfaasMaster

/// `--master HOST:PORT`: which live master a command talks to. Without it: `$INFAAS_MASTER`,
/// else the local cluster `infaas up` started (recorded in `<home>/cluster/cluster.json`).
/// The bearer token comes from `--token-file`, else `$INFAAS_TOKEN`, else `<home>/cluster/token`
/// when it exists; `--tls-ca` turns TLS on.
struct MasterOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The live master (default: $INFAAS_MASTER, else the local cluster `infaas up` started).", valueName: "HOST:PORT"))
    var master: String?

    @OptionGroup var auth: ClientAuthOptions

    @OptionGroup var home: HomeOptions

    /// The master (address and credentials), if one is named or a local cluster is recorded.
    func address() throws -> MasterEndpoint? {
        let state = ClusterState.read(home: home.directory)
        let address: HostPort
        if let master, !master.isEmpty { address = try HostPort(master) }
        else if let env = ProcessInfo.processInfo.environment["INFAAS_MASTER"], !env.isEmpty { address = try HostPort(env) }
        else if let state { address = try HostPort(state.master) }
        else if let stale = ClusterState.recorded(home: home.directory) {
            // Not silently the local registry: the user believes a cluster is up.
            throw CommandFailure("\(ClusterState.path(home: home.directory)) records a cluster whose master (pid \(stale.pid), \(stale.master)) is not running: `infaas down` stops what is left of it and clears the record; or name a master with --master HOST:PORT")
        }
        else { return nil }
        var security = try auth.security(home: home.directory)
        // The local cluster's master serves TLS with the certificate `infaas up` recorded.
        if let state, state.master == address.description { security.trustRoots = security.trustRoots ?? state.tlsCA }
        return MasterEndpoint(address: address, security: security)
    }

    /// The master, or an error saying how to get one.
    func requireAddress() throws -> MasterEndpoint {
        guard let address = try address() else {
            throw ValidationError("no live master: start one with `infaas up --local`, or pass --master HOST:PORT")
        }
        return address
    }
}

/// Runs `body` with a client of the master at `endpoint` (sending its token, over TLS if configured).
func withMasterClient<R: Sendable>(_ endpoint: MasterEndpoint, _ body: @Sendable (Infaas_V1_Master.Client<HTTP2ClientTransport.Posix>) async throws -> R) async throws -> R {
    try await withGRPCClient(transport: RPCTransport.client(endpoint.address, security: endpoint.security), interceptors: endpoint.security.interceptors) { client in
        try await body(Infaas_V1_Master.Client(wrapping: client))
    }
}

/// Parses a tensor shape written `3,224,224` (positive dimensions), naming the flag when it is not.
func parseDimensions(_ text: String, flag: String) throws -> [Int] {
    let parts = text.split(separator: ",")
    let dims = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !dims.isEmpty, dims.count == parts.count, dims.allSatisfy({ $0 > 0 }) else {
        throw ValidationError("\(flag) \(text): give positive dimensions like 3,224,224")
    }
    return dims
}

/// A readable line for an RPC failure (no Swift type names).
func describe(_ error: any Error, master: MasterEndpoint) -> String {
    if let rpc = error as? RPCError {
        if rpc.code == .unavailable && rpc.message.contains("connection preface") {
            return "cannot reach the master at \(master): \(rpc.message) "
                + (master.security.trustRoots == nil ? "(does it serve TLS? pass --tls-ca PATH)"
                   : "(TLS failed: does it serve TLS, with a certificate that --tls-ca trusts?)")
        }
        if rpc.code == .unavailable && (rpc.message.contains("connect") || rpc.message.contains("Connection")) {
            return "cannot reach the master at \(master): \(rpc.message) (is it up? `infaas up --local`)"
        }
        return rpc.message
    }
    return "\(error)"
}

/// What `infaas up` records so later commands find the cluster.
struct ClusterState: Codable {
    var master: String
    var pid: Int32
    var metricsPort: Int?
    var log: String
    var startedAt: Double
    /// `local` or `ec2` (absent in files older than the EC2 provider: local).
    var provider: String? = nil
    /// The EC2 cluster config the cluster was started with.
    var config: String? = nil
    /// The PEM file clients trust when the master serves TLS (nil: plaintext).
    var tlsCA: String? = nil
    /// The master's Open Inference v2 REST port (nil: none).
    var httpPort: Int? = nil

    static func path(home: String) -> String { "\(home)/cluster/cluster.json" }

    static func read(home: String) -> ClusterState? {
        guard let state = recorded(home: home) else { return nil }
        return isRunning(state.pid) ? state : nil
    }

    /// The recorded cluster, whether or not its master still runs.
    static func recorded(home: String) -> ClusterState? {
        guard let data = FileManager.default.contents(atPath: path(home: home)) else { return nil }
        return try? JSONDecoder().decode(ClusterState.self, from: data)
    }

    /// Whether `pid` is a live process (a zombie, dead but not yet reaped, is not).
    static func isRunning(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return !stat[close...].hasPrefix(") Z")
    }

    func write(home: String) throws {
        try FileManager.default.createDirectory(atPath: "\(home)/cluster", withIntermediateDirectories: true)
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: Self.path(home: home)), options: .atomic)
    }

    /// Called by a master once it listens on `port`: when the home records a cluster on that
    /// port whose master is gone (a master restarted by hand), the record takes this master's
    /// pid, so `status`, `modinfo` and `down` find the master that is running. Returns whether
    /// it changed the record.
    @discardableResult
    static func refresh(home: String, port: Int, pid: Int32) -> Bool {
        guard var state = recorded(home: home), state.pid != pid, !isRunning(state.pid),
              let address = try? HostPort(state.master), address.port == port else { return false }
        state.pid = pid
        return (try? state.write(home: home)) != nil
    }
}

/// `infaas` processes found through /proc (a master or workers `down` must stop although the
/// record no longer names them).
enum InfaasProcesses {
    /// Processes running `infaas ROLE …`, with their arguments.
    static func list(role: String) -> [(pid: Int32, arguments: [String])] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> (Int32, [String])? in
            guard let pid = Int32(entry), pid != getpid(),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
            let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.count > 1, arguments[0].hasSuffix("infaas"), arguments[1] == role, ClusterState.isRunning(pid) else { return nil }
            return (pid, arguments)
        }
    }

    /// Whether `pid`'s environment holds `INFAAS_TOKEN=token`: the cluster's own workers get
    /// the token from their master, so a process of another cluster (one that reuses a port)
    /// never matches.
    static func carries(token: String, pid: Int32) -> Bool {
        guard !token.isEmpty, let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
        return data.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == "INFAAS_TOKEN=\(token)" }
    }

    /// The value after `flag` in `arguments` (`--flag VALUE` or `--flag=VALUE`).
    static func value(of flag: String, in arguments: [String]) -> String? {
        for (i, argument) in arguments.enumerated() {
            if argument == flag, i + 1 < arguments.count { return arguments[i + 1] }
            if argument.hasPrefix(flag + "=") { return String(argument.dropFirst(flag.count + 1)) }
        }
        return nil
    }

    /// Sends SIGTERM, waits up to `seconds`, then SIGKILL; returns the pids still alive.
    static func stop(_ pids: [Int32], seconds: Double) async -> [Int32] {
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(seconds)
        while pids.contains(where: ClusterState.isRunning), Date() < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        for pid in pids where ClusterState.isRunning(pid) { kill(pid, SIGKILL) }
        try? await Task.sleep(for: .milliseconds(200))
        return pids.filter(ClusterState.isRunning)
    }
}
