import ArgumentParser
import Foundation
import InfaasCloud
import InfaasCore
import InfaasPolicies
import InfaasRPC

/// `infaas up --local`: starts a master (which starts its workers) in the background.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a live cluster: a master in the background, which starts its workers.",
        discussion: reflow("""
            Examples:
              infaas up --local --workers cpu=1 --max-workers cpu=2
              infaas status
              infaas down

              infaas up --provider ec2 --config cluster.yaml   # see docs/aws.md
              infaas down --yes --action terminate

            Waits (at most --wait-s) until the master answers and the initial workers report, then
            records the cluster in <home>/cluster/cluster.json so other commands find it. A class
            that may be at zero (--policy-set min_workers_<class>=0) is not waited for: the VM
            autoscaler may let its idle workers go before they are seen ready, and the first query
            for it is held while a worker is woken (cold_start_buffer). Logs:
            <home>/cluster/master.log and <home>/cluster/logs/<worker>.log.

            Access control: a fresh bearer token is written to <home>/cluster/token (mode 0600);
            the master and its workers require it and the CLI commands send it. With --tls-cert
            and --tls-key the master and its workers serve TLS (--tls-ca: the CA that signed the
            certificate, default the certificate itself, right for a self-signed one).
            """)
    )

    @Flag(help: "Run everything on this machine (local worker processes); the same as --provider local.") var local = false
    @Option(help: ArgumentHelp("local (worker processes on this machine) or ec2 (worker instances, with --config).", valueName: "NAME")) var provider: String?
    @Option(help: ArgumentHelp("The EC2 cluster config: the keys of the original's start_infaas.sh (see experiments/cluster-ec2.yaml).", valueName: "FILE")) var config: String?
    @Option(name: .customLong("bind-host"), help: ArgumentHelp("Address the master listens on (default: 127.0.0.1 local, 0.0.0.0 on EC2).", valueName: "HOST")) var bindHost: String?
    @OptionGroup var aws: AWSOptions
    @Option(help: ArgumentHelp("Initial workers.", valueName: "cpu=N")) var workers = WorkerCounts([.cpu: 1])
    @Option(name: .customLong("max-workers"), help: ArgumentHelp("Most workers the VM autoscaler may run.", valueName: "cpu=N")) var maxWorkers = WorkerCounts([.cpu: 2])
    @Option(help: ArgumentHelp("Master port (0 = any free port).", valueName: "PORT")) var port: Int = 50052
    @Option(help: ArgumentHelp("Policy (registered: \(PolicyRegistry.names.joined(separator: ", "))).", valueName: "NAME")) var policy = "infaas"
    @Option(name: .customLong("policy-set"), help: ArgumentHelp("A policy setting, as in an experiment's policy_config (repeatable); the master ships it to its workers.", valueName: "KEY=VALUE")) var policySettings: [String] = []
    @Option(name: .customLong("worker-cores"), help: ArgumentHelp("Cores each local worker may reserve.", valueName: "N")) var workerCores: Int?
    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Master /metrics port.", valueName: "PORT")) var metricsPort: Int?
    @Option(name: .customLong("http-port"), help: ArgumentHelp("Master Open Inference v2 REST port (0 = any free port; omit for none).", valueName: "PORT")) var httpPort: Int?
    @Option(name: .customLong("config-dir"), help: ArgumentHelp("A folder of .config files for the original API's RegisterModel (without a config bucket).", valueName: "DIR")) var configDir: String?
    @Option(name: .customLong("wait-s"), help: ArgumentHelp("How long to wait for the cluster to be ready (default: 60 local; MAX_TRY × 5 + 60 on EC2).", valueName: "S")) var wait: Double?
    @Option(name: .customLong("master-arg"), help: ArgumentHelp("An extra argument for `infaas master` (repeatable).", valueName: "ARG")) var masterArgs: [String] = []
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("The master's TLS certificate (PEM); TLS is off without it.", valueName: "PATH")) var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("Its private key (PEM).", valueName: "PATH")) var tlsKey: String?
    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("The CA that signed --tls-cert (default: --tls-cert itself).", valueName: "PATH")) var tlsCA: String?
    @OptionGroup var home: HomeOptions

    var providerName: String { provider ?? (local ? "local" : "") }

    func validate() throws {
        guard PolicyRegistry.names.contains(policy) else { throw ValidationError("--policy \(policy): \(PolicyRegistry.unknownHint(policy))") }
        var policyConfig = PolicyConfig()
        do { try policyConfig.apply(settings: policySettings) } catch { throw ValidationError("--policy-set: \(error)") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("give --tls-cert and --tls-key together") }
        guard ["local", "ec2"].contains(providerName) else {
            throw ValidationError(provider == nil ? "give --local (workers as local processes) or --provider ec2 --config cluster.yaml"
                                                  : "--provider \(provider!): use local or ec2")
        }
        guard !(local && provider == "ec2") else { throw ValidationError("--local and --provider ec2 contradict each other; give one") }
        guard providerName != "ec2" || config != nil else { throw ValidationError("--provider ec2 needs --config cluster.yaml (start from experiments/cluster-ec2.yaml)") }
    }

    /// The master's arguments for an EC2 cluster, from the validated config.
    func ec2MasterArguments() throws -> (arguments: [String], waitSeconds: Double, initialWorkers: [HardwareClass: Int]) {
        let path = URL(fileURLWithPath: config!).standardizedFileURL.path
        let cluster: ClusterConfig
        do { cluster = try ClusterConfig.load(path: path) } catch { throw ValidationError("\(error)") }
        let settings = try aws.resolve(region: cluster.region, endpoint: cluster.endpointURL)  // fails early, clearly
        printError("EC2 cluster \(cluster.clusterName): \(settings)")
        func counts(_ c: [HardwareClass: Int]) -> String { WorkerCounts(c).text }
        var arguments = ["--provider", "ec2", "--ec2-config", path, "--workers", counts(cluster.initialWorkers),
                         "--max-workers", counts(cluster.maximumWorkers), "--slack-gpus", String(cluster.slackGPUs), "--region", settings.region,
                         // A launch may poll MAX_TRY times for `running` (2 s apart), then the original
                         // gave the worker MAX_TRY heartbeats 5 s apart to come up.
                         "--boot-timeout-s", String(cluster.maxTry * 7)]
        if let profile = aws.profile { arguments += ["--aws-profile", profile] }
        if let endpoint = settings.endpointOverride { arguments += ["--endpoint-url", endpoint] }
        return (arguments, Double(cluster.maxTry) * 5 + 60, cluster.initialWorkers)
    }

    /// The initial workers `up` waits for: every class's, except a class whose
    /// `min_workers_<class>` is 0 (it may legitimately be at zero: its idle workers can be
    /// retired before they are seen ready). The classes left out come back in `atZero`.
    static func awaitedWorkers(_ initial: [HardwareClass: Int], settings: [String]) -> (counts: [HardwareClass: Int], atZero: [HardwareClass]) {
        var config = PolicyConfig()
        try? config.apply(settings: settings)  // validate() has refused bad settings
        var counts: [HardwareClass: Int] = [:], atZero: [HardwareClass] = []
        for (hardware, n) in initial where n > 0 {
            if config.minWorkers(hardware) == 0 { atZero.append(hardware) } else { counts[hardware] = n }
        }
        return (counts, atZero.sorted { $0.rawValue < $1.rawValue })
    }

    func run() async throws {
        var providerArguments = ["--workers", workers.text, "--max-workers", maxWorkers.text]
        var waitSeconds = wait ?? 60
        var initial = workers.counts
        if providerName == "ec2" {
            let ec2 = try ec2MasterArguments()
            providerArguments = ec2.arguments
            waitSeconds = wait ?? ec2.waitSeconds
            initial = ec2.initialWorkers
        }
        let (awaited, atZero) = Self.awaitedWorkers(initial, settings: policySettings)
        let want = awaited.values.reduce(0, +)
        let bind = bindHost ?? (providerName == "ec2" ? "0.0.0.0" : "127.0.0.1")
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
        var arguments = ["master", "--home", home.directory, "--port", String(port), "--policy", policy, "--bind-host", bind] + providerArguments
            + policySettings.flatMap { ["--policy-set", $0] }
        if let workerCores { arguments += ["--worker-cores", String(workerCores)] }
        if let metricsPort { arguments += ["--metrics-port", String(metricsPort)] }
        if let httpPort { arguments += ["--http-port", String(httpPort)] }
        if let configDir { arguments += ["--config-dir", Self.absolute(configDir)] }
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
        let address = MasterEndpoint(address: HostPort(host: bind == "0.0.0.0" ? "127.0.0.1" : bind, port: boundPort),
                                     security: ClientSecurity(token: token, trustRoots: trustRoots))
        let logText = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let boundMetrics = logText.split(separator: "\n").first { $0.hasPrefix("master metrics on ") }.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } }
        var boundHTTP: Int? = nil
        while httpPort != nil, boundHTTP == nil, Date() < deadline, process.isRunning {  // the REST server binds just after gRPC
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            boundHTTP = text.split(separator: "\n").first { $0.hasPrefix("master v2 REST on ") }.flatMap { $0.split(separator: ":").last.flatMap { Int($0) } }
            if boundHTTP == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        var state = ClusterState(master: address.description, pid: pid, metricsPort: boundMetrics ?? metricsPort, log: logPath, startedAt: Date().timeIntervalSince1970,
                                 provider: providerName, config: config.map { URL(fileURLWithPath: $0).standardizedFileURL.path }, tlsCA: trustRoots)
        state.httpPort = boundHTTP
        try state.write(home: home.directory)
        var ready = 0
        var answered = false
        while Date() < deadline {
            let status = try? await withMasterClient(address) { try await $0.clusterStatus(Infaas_V1_ClusterStatusRequest()) }
            ready = status?.workers.filter { $0.status == "ready" && HardwareClass(name: $0.report.hardware).map { awaited[$0] != nil } ?? false }.count ?? 0
            answered = answered || status != nil
            if answered, ready >= want { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        guard ready >= want, answered else {
            if !answered { throw CommandFailure("the master did not answer within \(Int(waitSeconds)) s; see \(logPath) (`infaas down` stops it)") }
            throw CommandFailure("only \(ready) of \(want) workers reported within \(Int(waitSeconds)) s; see \(directory)/logs/ (the master keeps trying; `infaas down` stops it)")
        }
        print("INFaaS is all set up! master \(address), \(ready) worker\(ready == 1 ? "" : "s") ready")
        for hardware in atZero {
            print("\(hardware.rawValue): min_workers_\(hardware.rawValue)=0, not waited for (it may be at zero; the first query wakes a worker)")
        }
        if let boundHTTP {
            print("Open Inference v2: gRPC on \(address.address), REST on \(tlsCert == nil ? "http" : "https")://\(address.address.host):\(boundHTTP)")
        }
    }

    /// `path` made absolute against the current folder (the master may run elsewhere).
    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// `infaas down`: stops the cluster's master; local workers stop with it, EC2 worker instances
/// are terminated, stopped or left running as the user chooses (the original's
/// `shutdown_infaas.sh` questions).
struct DownCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stop the cluster `infaas up` started.",
        discussion: reflow("""
            Examples:
              infaas down
              infaas down --yes --action terminate   # EC2: terminate the workers
              infaas down --yes --action stop        # EC2: stop them (restartable)
              infaas down --yes --action forget      # EC2: leave them running

            On an EC2 cluster, without --yes, asks whether to terminate or stop the
            worker instances (tagged infaas:cluster=<CLUSTER_NAME>).
            """)
    )

    enum Action: String, ExpressibleByArgument, CaseIterable { case terminate, stop, forget }

    @Option(name: .customLong("wait-s"), help: ArgumentHelp("How long to wait for a graceful stop before killing.", valueName: "S")) var waitSeconds = 20.0
    @Flag(help: "Do not ask (EC2: needs --action).") var yes = false
    @Option(help: ArgumentHelp("EC2 worker instances: terminate, stop or forget (leave running).", valueName: "ACTION")) var action: Action?
    @OptionGroup var aws: AWSOptions
    @OptionGroup var home: HomeOptions

    func validate() throws {
        if yes, action == nil, let state = ClusterState.recorded(home: home.directory), state.provider == "ec2" {
            throw ValidationError("--yes on an EC2 cluster needs --action terminate, stop or forget")
        }
    }

    func run() async throws {
        guard let state = ClusterState.recorded(home: home.directory) else {
            print("no cluster is up (nothing recorded in \(ClusterState.path(home: home.directory)))")
            return
        }
        let instanceAction = state.provider == "ec2" ? try chooseAction() : nil
        let port = (try? HostPort(state.master))?.port
        // The recorded master, else a master of this home on the recorded port (restarted by
        // hand before masters refreshed the record).
        var masters = ClusterState.isRunning(state.pid) ? [state.pid] : []
        if masters.isEmpty {
            let home = ContainedPath.resolve(home.directory)
            masters = InfaasProcesses.list(role: "master").filter { process in
                InfaasProcesses.value(of: "--home", in: process.arguments).map(ContainedPath.resolve) == home
                    && InfaasProcesses.value(of: "--port", in: process.arguments).flatMap { Int($0) } == port
            }.map(\.pid)
            printError(masters.isEmpty ? "the master (pid \(state.pid)) was not running"
                                       : "the recorded master (pid \(state.pid)) is gone; stopping the master of this home on port \(port ?? 0) (pid \(masters.map(String.init).joined(separator: ", ")))")
        }
        var left: [String] = []
        if !masters.isEmpty {
            let alive = await InfaasProcesses.stop(masters, seconds: waitSeconds)
            left += alive.map { "master pid \($0)" }
        }
        // Local workers stop with their master; any still reporting to this cluster's address
        // (their master was killed) are stopped here — only those carrying this cluster's token.
        let token = (try? String(contentsOfFile: ClusterTokenSource.defaultPath(home: home.directory), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if state.provider ?? "local" == "local", let port, !token.isEmpty {
            let workers = InfaasProcesses.list(role: "worker").filter { process in
                InfaasProcesses.value(of: "--master", in: process.arguments).flatMap { try? HostPort($0) }?.port == port
                    && InfaasProcesses.carries(token: token, pid: process.pid)
            }.map(\.pid)
            if !workers.isEmpty {
                printError("stopping \(workers.count) worker\(workers.count == 1 ? "" : "s") of this cluster that outlived the master (pid \(workers.map(String.init).joined(separator: ", ")))")
                left += await InfaasProcesses.stop(workers, seconds: waitSeconds).map { "worker pid \($0)" }
            }
        }
        if let instanceAction, let config = state.config { try actOnInstances(instanceAction, config: config) }
        guard left.isEmpty else {
            // The token stays while anything of the cluster runs: its clients still need it.
            throw CommandFailure("could not stop \(left.joined(separator: ", ")); kept \(ClusterState.path(home: home.directory)) and the cluster token (stop them by hand, then run `infaas down` again)")
        }
        try? FileManager.default.removeItem(atPath: ClusterState.path(home: home.directory))
        try? FileManager.default.removeItem(atPath: ClusterTokenSource.defaultPath(home: home.directory))
        try? FileManager.default.removeItem(atPath: "\(home.directory)/cluster/workers.json")  // the workers' launch secrets
        print("INFaaS has successfully shut down!")
    }

    /// The user's choice for the EC2 worker instances: the flag, else two questions on a terminal.
    func chooseAction() throws -> Action {
        if let action { return action }
        guard isatty(STDIN_FILENO) == 1 else {
            throw ValidationError("this is an EC2 cluster and nobody is at a terminal to ask: pass --yes --action terminate|stop|forget")
        }
        func ask(_ question: String) -> Bool {
            FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
            return ["y", "yes"].contains(readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? "")
        }
        if ask("Do you want the worker instances to be deleted (terminated)?") { return .terminate }
        if ask("Do you want the worker instances to be stopped/paused?") { return .stop }
        return .forget
    }

    func actOnInstances(_ action: Action, config path: String) throws {
        let cluster: ClusterConfig
        do { cluster = try ClusterConfig.load(path: path) } catch { throw CommandFailure("\(error)") }
        let settings = try aws.resolve(region: cluster.region, endpoint: cluster.endpointURL)
        let provider = EC2Provider(settings: cluster.providerSettings(workerArguments: []), ec2: EC2Client(configuration: settings))
        let instances: [EC2Instance]
        do { instances = try provider.clusterInstances() } catch { throw CommandFailure("\(error)") }
        let ids = instances.map(\.id)
        guard !ids.isEmpty else {
            print("no worker instances of cluster \(cluster.clusterName) remain")
            return
        }
        do {
            switch action {
            case .terminate: try provider.ec2.terminateInstances(ids)
            case .stop:
                let running = instances.filter { $0.state != "stopped" }.map(\.id)
                if !running.isEmpty { try provider.ec2.stopInstances(running) }
            case .forget: break
            }
        } catch {
            throw CommandFailure("EC2 could not \(action.rawValue) \(ids.joined(separator: ", ")): \(error)")
        }
        let verb = ["terminate": "terminated", "stop": "stopped", "forget": "left running"][action.rawValue]!
        print("\(verb) \(ids.count) worker instance\(ids.count == 1 ? "" : "s") of cluster \(cluster.clusterName): \(ids.joined(separator: ", "))")
    }
}
