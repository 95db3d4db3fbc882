import ArgumentParser
import Foundation
import InfaasCloud
import InfaasCore
import InfaasMaster
import InfaasPolicies
import InfaasRegistry
import InfaasRPC
import InfaasTelemetry
import Logging
import ServiceLifecycle

/// Worker counts per hardware class, written `cpu=2,gpu=1`.
struct WorkerCounts: ExpressibleByArgument, Sendable {
    var counts: [HardwareClass: Int]

    init?(argument: String) {
        var counts: [HardwareClass: Int] = [:]
        for part in argument.split(separator: ",") {
            let kv = part.split(separator: "=")
            guard kv.count == 2, let hardware = HardwareClass(name: String(kv[0])), let n = Int(kv[1]), n >= 0 else { return nil }
            counts[hardware] = n
        }
        self.counts = counts
    }

    init(_ counts: [HardwareClass: Int]) { self.counts = counts }

    var text: String { HardwareClass.allCases.compactMap { h in counts[h].map { "\(h.rawValue)=\($0)" } }.joined(separator: ",") }

    /// `--help` shows the default as a user writes it (`cpu=1`).
    var defaultValueDescription: String { text.isEmpty ? "none" : text }
}

/// `infaas master`: the master daemon (reference modelreg_server + queryfe_server + VM daemon).
struct MasterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master",
        abstract: "Run the master: registry, query routing with the INFaaS policies, and the VM autoscaler.",
        discussion: reflow("""
            Example (`infaas up --local` runs this for you):
              infaas master --port 50052 --workers cpu=1 --max-workers cpu=2

            Workers are started through --provider local (each an `infaas worker` process on a free
            loopback port); --provider none only accepts workers started by hand. The registry is
            <home>/cluster/registry.sqlite, separate from the simulator's catalogue registry.

            With --token-file (or $INFAAS_TOKEN) every call must carry that bearer token; local
            workers get it through their environment and require it too. --tls-cert/--tls-key
            serve TLS, and local workers serve TLS with the same files; --tls-ca is what the
            master and its workers trust (default: --tls-cert itself, right for a self-signed one).

            With --model-bucket s3://BUCKET/[prefix], a model registered from s3:// is copied to
            s3://BUCKET/[prefix/]<variant>/ and served from there (AWS settings: --region,
            --endpoint-url, --aws-profile, or AWS_* variables; local workers get the same settings).
            """)
    )

    @Option(help: ArgumentHelp("Port for the master's gRPC service (0 = any free port).", valueName: "PORT")) var port: Int = 50052
    @Option(name: .customLong("bind-host"), help: ArgumentHelp("Address to listen on.", valueName: "HOST")) var bindHost = "127.0.0.1"
    @Option(help: ArgumentHelp("Policy (registered: \(PolicyRegistry.names.joined(separator: ", "))).", valueName: "NAME")) var policy = "infaas"
    @Option(help: ArgumentHelp("Initial workers (kept up: lost ones are replaced).", valueName: "cpu=N,gpu=N")) var workers = WorkerCounts([.cpu: 1])
    @Option(name: .customLong("max-workers"), help: ArgumentHelp("Most workers the VM autoscaler may run.", valueName: "cpu=N,gpu=N")) var maxWorkers = WorkerCounts([.cpu: 2])
    @Option(help: ArgumentHelp("local (worker processes), ec2 (instances, with --ec2-config) or none.", valueName: "NAME")) var provider = "local"
    @Option(name: .customLong("ec2-config"), help: ArgumentHelp("The EC2 cluster config (see experiments/cluster-ec2.yaml).", valueName: "FILE")) var ec2Config: String?
    @Option(name: .customLong("slack-gpus"), help: ArgumentHelp("Initial GPU workers started as slack GPUs (SLACK_GPU).", valueName: "N")) var slackGPUs = 0
    @Option(name: .customLong("policy-set"), help: ArgumentHelp("Override a policy setting, as in an experiment's policy_config (repeatable).", valueName: "KEY=VALUE")) var policySettings: [String] = []
    @OptionGroup var aws: AWSOptions
    @Option(name: .customLong("worker-cores"), help: ArgumentHelp("Cores each local worker may reserve.", valueName: "N")) var workerCores: Int?
    @Option(name: .customLong("deadline-ms"), help: ArgumentHelp("Deadline for forwarding a query to a worker (reference: 10 s).", valueName: "MS")) var deadlineMs = 10_000.0
    @Option(name: .customLong("report-interval-ms"), help: ArgumentHelp("Workers' report period (a worker silent for two is dropped).", valueName: "MS")) var reportIntervalMs = 500.0
    @Option(name: .customLong("boot-timeout-s"), help: ArgumentHelp("A launched worker that has not reported by then is stopped.", valueName: "S")) var bootTimeout = 60.0
    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Serve Prometheus /metrics on this port (omit for none).", valueName: "PORT")) var metricsPort: Int?
    @Option(name: .customLong("http-port"), help: ArgumentHelp("Serve the Open Inference Protocol v2 over REST on this port (0 = any free port; omit for none). v2 gRPC is always on --port.", valueName: "PORT")) var httpPort: Int?
    @Option(name: .customLong("config-dir"), help: ArgumentHelp("A folder of .config files the original API's RegisterModel reads when there is no --config-bucket.", valueName: "DIR")) var configDir: String?
    @Option(name: .customLong("infaas-binary"), help: ArgumentHelp("The infaas binary local workers run (default: this one).", valueName: "PATH")) var binary: String?
    @Option(name: .customLong("worker-arg"), help: ArgumentHelp("An extra argument for every local worker (repeatable).", valueName: "ARG")) var workerArgs: [String] = []
    @Option(name: .customLong("offline-root"), help: ArgumentHelp("A folder the workers' file:// offline jobs may use (repeatable; passed to every worker; none: file:// offline jobs are refused).", valueName: "DIR"))
    var offlineRoots: [String] = []
    @Option(name: .customLong("token-file"), help: ArgumentHelp("Require this bearer token on every call (default: $INFAAS_TOKEN; none = open).", valueName: "PATH")) var tokenFile: String?
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serve TLS with this certificate (PEM).", valueName: "PATH")) var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("Its private key (PEM).", valueName: "PATH")) var tlsKey: String?
    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("What the master and its local workers trust (default: --tls-cert).", valueName: "PATH")) var tlsCA: String?
    @Option(name: .customLong("model-bucket"), help: ArgumentHelp("Copy models registered from s3:// into this bucket (and prefix).", valueName: "s3://BUCKET/[PREFIX]"))
    var modelBucket: String?
    @Option(name: .customLong("config-bucket"), help: ArgumentHelp("Where registrations that name a .config without sending it find it (CONFIGDB).", valueName: "s3://BUCKET/[PREFIX]"))
    var configBucket: String?
    @OptionGroup var home: HomeOptions

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("give --tls-cert and --tls-key together") }
        guard ["local", "ec2", "none"].contains(provider) else { throw ValidationError("--provider \(provider): use local, ec2 or none") }
        guard provider != "ec2" || ec2Config != nil else { throw ValidationError("--provider ec2 needs --ec2-config FILE (start from experiments/cluster-ec2.yaml)") }
        guard slackGPUs >= 0, slackGPUs == 0 || slackGPUs < workers.counts[.gpu, default: 0] else {
            throw ValidationError("--slack-gpus \(slackGPUs) must be below the initial GPU workers (\(workers.counts[.gpu, default: 0]))")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a port number") }
        if let httpPort { guard (0...65535).contains(httpPort) else { throw ValidationError("--http-port \(httpPort) is not a port number") } }
        for (h, n) in workers.counts where n > maxWorkers.counts[h, default: 0] {
            throw ValidationError("--workers \(h.rawValue)=\(n) is above --max-workers \(h.rawValue)=\(maxWorkers.counts[h, default: 0])")
        }
        for (flag, url) in [("--model-bucket", modelBucket), ("--config-bucket", configBucket)] {
            if let url { _ = try MasterCommand.bucket(url, flag) }
        }
        guard deadlineMs > 0, reportIntervalMs >= 10, bootTimeout > 0 else { throw ValidationError("--deadline-ms, --report-interval-ms (≥ 10) and --boot-timeout-s must be positive") }
    }

    func run() async throws {
        let metrics = Telemetry.bootstrap(label: "infaas.master")
        let logger = Logger(label: "infaas.master")
        let registry = try ModelRegistry(path: "\(home.directory)/cluster/registry.sqlite")
        let limits = ClusterLimits(initial: workers.counts, maximum: maxWorkers.counts.merging(workers.counts) { max($0, $1) })
        let executable = binary ?? CommandLine.executablePath
        let cloud = try cloudSettings(logger: logger)
        let token = try tokenFile.map { try ClusterToken.read(path: $0) }
            ?? ProcessInfo.processInfo.environment["INFAAS_TOKEN"].flatMap(ClusterToken.init)
        let tls = tlsCert.flatMap { cert in tlsKey.map { ServerSecurity.TLSFiles(certificate: cert, key: $0) } }
        // With TLS the whole cluster uses it: workers serve with the same files and trust the same roots.
        let trustRoots = tls.map { tlsCA ?? $0.certificate }
        let (workerProvider, advertisedHost) = makeProvider(cloud: cloud, token: token, tls: tls, trustRoots: trustRoots, executable: executable, logger: logger)
        var policyConfig = PolicyConfig()
        do { try policyConfig.apply(settings: policySettings) } catch { throw ValidationError("--policy-set: \(error)") }
        let resolvedPort = port
        // A fixed port is known up front; with port 0 the advertised address is fixed once bound.
        let master = try Master(
            options: {
                var options = Master.Options(policy: policy, config: policyConfig, limits: limits, advertisedAddress: "\(advertisedHost):\(resolvedPort)",
                                             deadlineMs: deadlineMs, reportIntervalMs: reportIntervalMs, bootTimeoutSeconds: bootTimeout,
                                             workerSecurity: ClientSecurity(token: token, trustRoots: trustRoots),
                                             modelBucket: cloud.modelBucket)
                options.configBucket = cloud.configBucket
                options.identityFile = "\(home.directory)/cluster/workers.json"
                options.slackGPUs = slackGPUs
                return options
            }(),
            registry: registry, provider: workerProvider, objectStore: cloud.objectStore, logger: logger)
        var endpoint: MetricsEndpoint? = nil
        if let metricsPort {
            endpoint = try await MetricsEndpoint.start(host: bindHost, port: metricsPort, registry: metrics)
            logger.info("metrics on http://\(bindHost):\(endpoint!.port)/metrics")
            FileHandle.standardOutput.write(Data("master metrics on \(bindHost):\(endpoint!.port)\n".utf8))
        }
        if token == nil { logger.warning("no bearer token configured (--token-file or INFAAS_TOKEN): the master's API is open to anyone who can reach \(bindHost)") }
        let bindHost = self.bindHost, secure = tls != nil
        let frontDoors = FrontDoors(httpPort: httpPort, configDirectory: configDir.map(UpCommand.absolute)) { bound in
            FileHandle.standardOutput.write(Data("master v2 REST on \(secure ? "https" : "http")://\(bindHost):\(bound)\n".utf8))
        }
        let server = MasterServer(master: master, bindHost: bindHost, port: port, security: ServerSecurity(token: token, tls: tls), logger: logger,
                                  frontDoors: frontDoors) { bound in
            master.setAdvertisedPort(bound)
            FileHandle.standardOutput.write(Data("master listening on \(bindHost):\(bound)\n".utf8))
            if ClusterState.refresh(home: home.directory, port: bound, pid: getpid()) {
                logger.info("this master took over the cluster recorded in \(ClusterState.path(home: home.directory)) (its recorded master was gone)")
            }
        }
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        await endpoint?.close()
    }
}

extension CommandLine {
    /// This process's executable (for starting workers of the same build).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? arguments[0]
    }
}
