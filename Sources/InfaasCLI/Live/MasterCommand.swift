import ArgumentParser
import Foundation
import InfaasCloud
import InfaasCore
import InfaasMaster
import InfaasPolicies
import InfaasRegistry
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
}

/// `infaas master`: the master daemon (reference modelreg_server + queryfe_server + VM daemon).
struct MasterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master",
        abstract: "Run the master: registry, query routing with the INFaaS policies, and the VM autoscaler.",
        discussion: """
            Example (`infaas up --local` runs this for you):
              infaas master --port 50052 --workers cpu=1 --max-workers cpu=2

            Workers are started through --provider local (each an `infaas worker` process on a free
            loopback port); --provider none only accepts workers started by hand. The registry is
            <home>/cluster/registry.sqlite, separate from the simulator's catalogue registry.

            With --model-bucket s3://BUCKET/[prefix], a model registered from s3:// is copied to
            s3://BUCKET/[prefix/]<variant>/ and served from there (AWS settings: --region,
            --endpoint-url, --aws-profile, or AWS_* variables; local workers get the same settings).
            """
    )

    @Option(help: ArgumentHelp("Port for the master's gRPC service (0 = any free port).", valueName: "PORT")) var port: Int = 50052
    @Option(name: .customLong("bind-host"), help: ArgumentHelp("Address to listen on.", valueName: "HOST")) var bindHost = "127.0.0.1"
    @Option(help: ArgumentHelp("Policy preset: \(StandardPolicySet.presetNames.joined(separator: ", ")).", valueName: "NAME")) var policy = "infaas"
    @Option(help: ArgumentHelp("Initial workers (kept up: lost ones are replaced).", valueName: "cpu=N,gpu=N")) var workers = WorkerCounts([.cpu: 1])
    @Option(name: .customLong("max-workers"), help: ArgumentHelp("Most workers the VM autoscaler may run.", valueName: "cpu=N,gpu=N")) var maxWorkers = WorkerCounts([.cpu: 2])
    @Option(help: ArgumentHelp("local (worker processes) or none.", valueName: "NAME")) var provider = "local"
    @Option(name: .customLong("worker-cores"), help: ArgumentHelp("Cores each local worker may reserve.", valueName: "N")) var workerCores: Int?
    @Option(name: .customLong("deadline-ms"), help: ArgumentHelp("Deadline for forwarding a query to a worker (reference: 10 s).", valueName: "MS")) var deadlineMs = 10_000.0
    @Option(name: .customLong("report-interval-ms"), help: ArgumentHelp("Workers' report period (a worker silent for two is dropped).", valueName: "MS")) var reportIntervalMs = 500.0
    @Option(name: .customLong("boot-timeout-s"), help: ArgumentHelp("A launched worker that has not reported by then is stopped.", valueName: "S")) var bootTimeout = 60.0
    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Serve Prometheus /metrics on this port (omit for none).", valueName: "PORT")) var metricsPort: Int?
    @Option(name: .customLong("infaas-binary"), help: ArgumentHelp("The infaas binary local workers run (default: this one).", valueName: "PATH")) var binary: String?
    @Option(name: .customLong("worker-arg"), help: ArgumentHelp("An extra argument for every local worker (repeatable).", valueName: "ARG")) var workerArgs: [String] = []
    @Option(name: .customLong("model-bucket"), help: ArgumentHelp("Copy models registered from s3:// into this bucket (and prefix).", valueName: "s3://BUCKET/[PREFIX]"))
    var modelBucket: String?
    @OptionGroup var aws: AWSOptions
    @OptionGroup var home: HomeOptions

    func validate() throws {
        guard ["local", "none"].contains(provider) else { throw ValidationError("--provider \(provider): use local or none (ec2 comes with the cloud provider)") }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a port number") }
        for (h, n) in workers.counts where n > maxWorkers.counts[h, default: 0] {
            throw ValidationError("--workers \(h.rawValue)=\(n) is above --max-workers \(h.rawValue)=\(maxWorkers.counts[h, default: 0])")
        }
        if let modelBucket, ObjectLocation(url: modelBucket) == nil {
            throw ValidationError("--model-bucket \(modelBucket): write it as s3://BUCKET or s3://BUCKET/prefix")
        }
        guard deadlineMs > 0, reportIntervalMs >= 10, bootTimeout > 0 else { throw ValidationError("--deadline-ms, --report-interval-ms (≥ 10) and --boot-timeout-s must be positive") }
    }

    func run() async throws {
        let metrics = Telemetry.bootstrap(label: "infaas.master")
        let logger = Logger(label: "infaas.master")
        let registry = try ModelRegistry(path: "\(home.directory)/cluster/registry.sqlite")
        let limits = ClusterLimits(initial: workers.counts, maximum: maxWorkers.counts.merging(workers.counts) { max($0, $1) })
        let executable = binary ?? CommandLine.executablePath
        let awsSettings = try aws.resolve(required: modelBucket != nil)
        // Local workers read s3:// with the master's AWS settings (flags included).
        let workerEnvironment = ProcessInfo.processInfo.environment.merging(awsSettings?.environment ?? [:]) { _, new in new }
        let workerProvider: (any WorkerProvider)? = provider == "local" ? LocalProcessProvider(
            executable: executable,
            workerArguments: ["--report-interval-ms", String(reportIntervalMs), "--policy", policy] + (workerCores.map { ["--cores", String($0)] } ?? []) + workerArgs,
            logDirectory: "\(home.directory)/cluster/logs", environment: workerEnvironment) : nil
        let resolvedPort = port
        // A fixed port is known up front; with port 0 the advertised address is fixed once bound.
        let master = try Master(
            options: Master.Options(policy: policy, limits: limits, advertisedAddress: "\(bindHost):\(resolvedPort)", deadlineMs: deadlineMs,
                                    reportIntervalMs: reportIntervalMs, bootTimeoutSeconds: bootTimeout,
                                    modelBucket: modelBucket.flatMap(ObjectLocation.init(url:))),
            registry: registry, provider: workerProvider, objectStore: awsSettings.map { S3Client(configuration: $0) }, logger: logger)
        if let awsSettings { logger.info("s3:// through \(awsSettings)\(modelBucket.map { ", model bucket \($0)" } ?? "")") }
        var endpoint: MetricsEndpoint? = nil
        if let metricsPort {
            endpoint = try await MetricsEndpoint.start(host: bindHost, port: metricsPort, registry: metrics)
            logger.info("metrics on http://\(bindHost):\(endpoint!.port)/metrics")
            FileHandle.standardOutput.write(Data("master metrics on \(bindHost):\(endpoint!.port)\n".utf8))
        }
        let server = MasterServer(master: master, bindHost: bindHost, port: port, logger: logger) { bound in
            master.setAdvertisedPort(bound)
            FileHandle.standardOutput.write(Data("master listening on \(bindHost):\(bound)\n".utf8))
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
