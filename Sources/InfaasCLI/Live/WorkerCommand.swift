import ArgumentParser
import Foundation
import InfaasCloud
import InfaasCore
import InfaasPolicies
import InfaasRPC
import InfaasRuntime
import InfaasTelemetry
import InfaasWorker
import Logging
import ServiceLifecycle

/// `infaas worker`: a worker daemon (reference `query_executor`).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker daemon: serve queries with ONNX Runtime, autoscale its replicas, report to the master.",
        discussion: reflow("""
            Example (the master usually starts workers itself through its provider):
              infaas worker --master 127.0.0.1:50052 --name infaas-worker-cpu-9 --cores 2

            The worker binds --port (0 = a free port) on --bind-host and reports its address to the
            master every --report-interval-ms; the master drops it after two missed reports.
            Variants are copied from their file:// model directory, or downloaded from their s3://
            prefix, into --model-cache on first use. s3:// models and offline data need AWS settings:
            --region/--endpoint-url/--aws-profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION.

            With --token-file (or $INFAAS_TOKEN, which the master's local provider sets) the
            worker's API requires that bearer token and its reports carry it. The master's
            provider also hands each worker it starts a launch secret ($INFAAS_WORKER_SECRET), its
            identity: a master with a provider refuses reports without the secret it issued, so
            a worker started by hand reports only to a `--provider none` master. --tls-ca makes it
            reach a master that serves TLS; --tls-cert/--tls-key make its own API serve TLS.

            file:// offline jobs read and write only inside the folders given with --offline-root
            (none: refused); input file names must use A–Z a–z 0–9 . _ - (others are skipped).
            """)
    )

    @Option(help: ArgumentHelp("The master's gRPC address.", valueName: "HOST:PORT")) var master: String
    @Option(help: ArgumentHelp("The worker's name (unique in the cluster).", valueName: "NAME")) var name: String
    @Option(help: ArgumentHelp("cpu, gpu or inferentia.", valueName: "CLASS")) var hardware: String = "cpu"
    @Option(help: ArgumentHelp("Cores CPU replicas may reserve (default: all of this machine's).", valueName: "N")) var cores: Int?
    @Option(help: ArgumentHelp("Port for the worker's gRPC service (0 = any free port).", valueName: "PORT")) var port: Int = 0
    @Option(name: .customLong("bind-host"), help: ArgumentHelp("Address to listen on.", valueName: "HOST")) var bindHost = "127.0.0.1"
    @Option(name: .customLong("advertise-host"), help: ArgumentHelp("Host the master should call (default: --bind-host).", valueName: "HOST")) var advertiseHost: String?
    @Option(name: .customLong("model-cache"), help: ArgumentHelp("Local model cache (default: $TMPDIR/infaas-models/<name>).", valueName: "DIR")) var modelCache: String?
    @Option(help: ArgumentHelp("Policy whose monitor and model autoscaler run here (the master passes its own; registered: \(PolicyRegistry.names.joined(separator: ", "))).", valueName: "NAME")) var policy = "infaas"
    @Option(name: .customLong("policy-set"), help: ArgumentHelp("A policy setting, as in an experiment's policy_config (repeatable; the master passes its own).", valueName: "KEY=VALUE")) var policySettings: [String] = []
    @Option(name: .customLong("report-interval-ms"), help: ArgumentHelp("Report period.", valueName: "MS")) var reportIntervalMs = 500.0
    @Option(help: ArgumentHelp("Execution device for GPU variants: cuda[:N].", valueName: "DEVICE")) var device = "cuda:0"
    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Serve Prometheus /metrics on this port (0 = any; omit for none).", valueName: "PORT")) var metricsPort: Int?
    @Flag(help: "This GPU worker is a slack GPU (reference §3.6).") var slack = false
    @Option(name: .customLong("instance-id"), help: ArgumentHelp("The provider's id for this machine (an EC2 instance id; default: this process's id).", valueName: "ID")) var instanceID: String?
    @Option(name: .customLong("batch-max"), help: ArgumentHelp("Dynamic batching: run up to N queued rows of a variant together, taken from its queue by its rules (deadlines, admission, priorities; off unless given; the reference had none).", valueName: "N")) var batchMax: Int?
    @Option(name: .customLong("token-file"), help: ArgumentHelp("The cluster's bearer token (default: $INFAAS_TOKEN; none = open).", valueName: "PATH")) var tokenFile: String?
    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("Reach the master over TLS, trusting these PEM certificates.", valueName: "PATH")) var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serve TLS with this certificate (PEM).", valueName: "PATH")) var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("Its private key (PEM).", valueName: "PATH")) var tlsKey: String?
    @Option(name: .customLong("batch-delay-ms"), help: ArgumentHelp("Dynamic batching: longest wait for company of a query handed an idle replica (0: run what is queued at once).", valueName: "MS")) var batchDelayMs = 2.0
    @Option(name: .customLong("offline-root"), help: ArgumentHelp("A folder file:// offline jobs may read from and write into (repeatable; none: file:// offline jobs are refused).", valueName: "DIR"))
    var offlineRoots: [String] = []
    @OptionGroup var aws: AWSOptions

    static func policyConfig(_ settings: [String]) throws -> PolicyConfig {
        var config = PolicyConfig()
        do { try config.apply(settings: settings) } catch { throw ValidationError("--policy-set: \(error)") }
        return config
    }

    func validate() throws {
        guard PolicyRegistry.names.contains(policy) else { throw ValidationError("--policy \(policy): \(PolicyRegistry.unknownHint(policy))") }
        _ = try Self.policyConfig(policySettings)
        for root in offlineRoots {
            var isDirectory: ObjCBool = false
            guard root.hasPrefix("/"), FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--offline-root \(root) is not an existing folder given by its absolute path")
            }
        }
        guard HardwareClass(name: hardware) != nil else { throw ValidationError("--hardware \(hardware): use cpu, gpu or inferentia") }
        if let cores, cores < 1 { throw ValidationError("--cores must be at least 1") }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a port number") }
        if let batchMax, batchMax < 1 { throw ValidationError("--batch-max must be at least 1") }
        guard batchDelayMs >= 0, batchDelayMs <= 10_000 else { throw ValidationError("--batch-delay-ms must be within 0–10000") }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("give --tls-cert and --tls-key together") }
        guard reportIntervalMs >= 10 else { throw ValidationError("--report-interval-ms must be at least 10") }
        _ = try HostPort(master)
    }

    func run() async throws {
        let registry = Telemetry.bootstrap(label: "infaas.worker")
        let logger = Logger(label: "infaas.worker.\(name)")
        let hardwareClass = HardwareClass(name: hardware)!
        guard let device = ExecutionDevice(parsing: device) else { throw ValidationError("--device \(self.device): use cuda or cuda:N") }
        let backend = try ONNXRuntimeBackend()
        if hardwareClass == .gpu, !backend.availableDevices().contains(where: { if case .cuda = $0 { true } else { false } }) {
            throw ValidationError("this worker is --hardware gpu but ONNX Runtime offers no CUDA provider here (providers: \(backend.executionProviders.joined(separator: ", "))); install onnxruntime-gpu on a GPU host")
        }
        if hardwareClass == .inferentia {
            throw ValidationError("Inferentia workers need AWS Neuron, which this host does not have; run them on inf1 instances")
        }
        let cache = modelCache ?? (NSTemporaryDirectory() + "infaas-models/\(name)")
        let (awsSettings, whyNone) = try aws.resolveExplaining(required: false)
        if let awsSettings { logger.info("s3:// through \(awsSettings)") } else { logger.info("s3:// models and offline data are refused: \(whyNone ?? "no AWS settings")") }
        let options = WorkerOptions(
            name: name, hardware: hardwareClass, cores: cores ?? ProcessInfo.processInfo.activeProcessorCount,
            acceleratorMemoryMB: hardwareClass == .gpu ? 16_000 : 0, slack: slack, policy: policy, masterAddress: master,
            advertisedHost: advertiseHost ?? bindHost, modelCache: cache, reportIntervalMs: reportIntervalMs,
            device: hardwareClass == .gpu ? device : .cpu, batching: batchMax.map { DynamicBatching(maxBatch: $0, maxDelayMs: batchDelayMs) },
            instanceID: instanceID ?? String(getpid()),
            token: try tokenFile.map { try ClusterToken.read(path: $0) } ?? ProcessInfo.processInfo.environment["INFAAS_TOKEN"].flatMap(ClusterToken.init),
            masterTrustRoots: tlsCA,
            tls: tlsCert.flatMap { cert in tlsKey.map { ServerSecurity.TLSFiles(certificate: cert, key: $0) } },
            objectStore: awsSettings.map { S3Client(configuration: $0) })
        var configured = options
        configured.policyConfig = try Self.policyConfig(policySettings)
        configured.offlineRoots = offlineRoots
        configured.launchSecret = ProcessInfo.processInfo.environment[LaunchedWorker.secretVariable] ?? ""
        let daemon = try WorkerDaemon(options: configured, backend: backend, logger: logger)
        let shipped = configured.policyConfig.settings()
        logger.info("policy \(policy)\(shipped.isEmpty ? "" : " with " + shipped.joined(separator: ", "))")
        var endpoint: MetricsEndpoint? = nil
        if let metricsPort {
            endpoint = try await MetricsEndpoint.start(host: bindHost, port: metricsPort, registry: registry)
            logger.info("metrics on http://\(bindHost):\(endpoint!.port)/metrics")
        }
        let server = WorkerServer(daemon: daemon, bindHost: bindHost, port: port, logger: logger)
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        await endpoint?.close()
    }
}
