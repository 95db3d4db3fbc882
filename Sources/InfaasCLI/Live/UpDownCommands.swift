import ArgumentParser
import Foundation
import InfaasRPC

/// `infaas up --local`: starts a master (which starts its workers) in the background.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a live cluster: a master in the background, which starts its workers.",
        discussion: """
            Example:
              infaas up --local --workers cpu=1 --max-workers cpu=2
              infaas status
              infaas down

            Waits (at most --wait-s) until the master answers and the initial workers report, then
            records the cluster in <home>/cluster/cluster.json so other commands find it. Logs:
            <home>/cluster/master.log and <home>/cluster/logs/<worker>.log.

            Access control: a fresh bearer token is written to <home>/cluster/token (mode 0600);
            the master and its workers require it and the CLI commands send it. With --tls-cert
            and --tls-key the master and its workers serve TLS (--tls-ca: the CA that signed the
            certificate, default the certificate itself, right for a self-signed one).
            """
    )

    @Flag(help: "Run everything on this machine (local worker processes). The EC2 provider comes with the cloud issue.") var local = false
    @Option(help: ArgumentHelp("Initial workers.", valueName: "cpu=N")) var workers = WorkerCounts([.cpu: 1])
    @Option(name: .customLong("max-workers"), help: ArgumentHelp("Most workers the VM autoscaler may run.", valueName: "cpu=N")) var maxWorkers = WorkerCounts([.cpu: 2])
    @Option(help: ArgumentHelp("Master port (0 = any free port).", valueName: "PORT")) var port: Int = 50052
    @Option(help: ArgumentHelp("Policy preset.", valueName: "NAME")) var policy = "infaas"
    @Option(name: .customLong("worker-cores"), help: ArgumentHelp("Cores each local worker may reserve.", valueName: "N")) var workerCores: Int?
    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Master /metrics port.", valueName: "PORT")) var metricsPort: Int?
    @Option(name: .customLong("wait-s"), help: ArgumentHelp("How long to wait for the cluster to be ready.", valueName: "S")) var waitSeconds = 60.0
    @Option(name: .customLong("master-arg"), help: ArgumentHelp("An extra argument for `infaas master` (repeatable).", valueName: "ARG")) var masterArgs: [String] = []
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("The master's TLS certificate (PEM); TLS is off without it.", valueName: "PATH")) var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("Its private key (PEM).", valueName: "PATH")) var tlsKey: String?
    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("The CA that signed --tls-cert (default: --tls-cert itself).", valueName: "PATH")) var tlsCA: String?
    @OptionGroup var home: HomeOptions

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("give --tls-cert and --tls-key together") }
        guard local else { throw ValidationError("give --local (workers as local processes); EC2 clusters come with the cloud provider") }
    }

    func run() async throws {
        if let existing = ClusterState.read(home: home.directory) {
            throw CommandFailure("a cluster is already up (master \(existing.master), pid \(existing.pid)); `infaas down` first")
        }
        let directory = "\(home.directory)/cluster"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let logPath = "\(directory)/master.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw ValidationError("cannot write \(logPath)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
        var arguments = ["master", "--home", home.directory, "--port", String(port), "--policy", policy,
                         "--workers", workers.text, "--max-workers", maxWorkers.text]
        if let workerCores { arguments += ["--worker-cores", String(workerCores)] }
        if let metricsPort { arguments += ["--metrics-port", String(metricsPort)] }
        let (token, tokenPath) = try ClusterTokenSource.create(home: home.directory)
        arguments += ["--token-file", tokenPath]
        let trustRoots = tlsCert.map { tlsCA.map(Self.absolute) ?? Self.absolute($0) }
        if let tlsCert, let tlsKey, let trustRoots {
            arguments += ["--tls-cert", Self.absolute(tlsCert), "--tls-key", Self.absolute(tlsKey), "--tls-ca", trustRoots]
        }
        process.arguments = arguments + masterArgs
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let pid = process.processIdentifier
        printError("starting master (pid \(pid)); log \(logPath)")
        let deadline = Date().addingTimeInterval(waitSeconds)
        // The master prints its bound port on its first line.
        var boundPort: Int? = nil
        while boundPort == nil, Date() < deadline, process.isRunning {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("master listening on ") }),
               let p = line.split(separator: ":").last.flatMap({ Int($0) }) { boundPort = p }
            else { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard let boundPort, process.isRunning else {
            let tail = ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").suffix(5).joined(separator: "\n")
            if process.isRunning { process.terminate() }
            throw CommandFailure("the master did not start within \(Int(waitSeconds)) s. Last log lines:\n\(tail)")
        }
        let address = MasterEndpoint(address: HostPort(host: "127.0.0.1", port: boundPort), security: ClientSecurity(token: token, trustRoots: trustRoots))
        let logText = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let boundMetrics = logText.split(separator: "\n").first { $0.hasPrefix("master metrics on ") }.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } }
        try ClusterState(master: address.description, pid: pid, metricsPort: boundMetrics ?? metricsPort, log: logPath, startedAt: Date().timeIntervalSince1970,
                         tlsCA: trustRoots)
            .write(home: home.directory)
        let want = workers.counts.values.reduce(0, +)
        var ready = 0
        while Date() < deadline {
            let status = try? await withMasterClient(address) { try await $0.clusterStatus(Infaas_V1_ClusterStatusRequest()) }
            ready = status?.workers.filter { $0.status == "ready" }.count ?? 0
            if ready >= want { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        guard ready >= want else {
            throw CommandFailure("only \(ready) of \(want) workers reported within \(Int(waitSeconds)) s; see \(directory)/logs/ (the master keeps trying; `infaas down` stops it)")
        }
        print("INFaaS is all set up! master \(address), \(ready) worker\(ready == 1 ? "" : "s") ready")
    }

    /// `path` made absolute against the current folder (the master may run elsewhere).
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// `infaas down`: stops the local cluster (the master stops its workers).
struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the local cluster `infaas up` started.",
        discussion: "Example:\n  infaas down"
    )

    @Option(name: .customLong("wait-s"), help: ArgumentHelp("How long to wait for a graceful stop before killing.", valueName: "S")) var waitSeconds = 20.0
    @OptionGroup var home: HomeOptions

    func run() async throws {
        guard let state = ClusterState.read(home: home.directory) else {
            try? FileManager.default.removeItem(atPath: ClusterState.path(home: home.directory))
            print("no cluster is up (nothing recorded in \(ClusterState.path(home: home.directory)))")
            return
        }
        kill(state.pid, SIGTERM)
        let deadline = Date().addingTimeInterval(waitSeconds)
        while ClusterState.isRunning(state.pid), Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        if ClusterState.isRunning(state.pid) {
            kill(state.pid, SIGKILL)
            printError("the master did not stop within \(Int(waitSeconds)) s; killed it")
        }
        try? FileManager.default.removeItem(atPath: ClusterState.path(home: home.directory))
        try? FileManager.default.removeItem(atPath: ClusterTokenSource.defaultPath(home: home.directory))
        print("INFaaS has successfully shut down!")
    }
}
