import ArgumentParser
import Foundation
import InfaasCloud
import InfaasCore
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
            worker's API requires that bearer token and its reports carry it; --tls-ca makes it
            reach a master that serves TLS; --tls-cert/--tls-key make its own API serve TLS.
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
    @Option(help: ArgumentHelp("Policy preset whose model autoscaler runs here (infaas, static, round-robin-static, …).", valueName: "NAME")) var policy = "infaas"
    @Option(name: .customLong("report-interval-ms"), help: ArgumentHelp("Report period.", valueName: "MS")) var reportIntervalMs = 500.0
    @Option(help: ArgumentHelp("Execution device for GPU variants: cuda[:N].", valueName: "DEVICE")) var device = "cuda:0"
    @Option(name: .customLong("metrics-port"), help: ArgumentHelp("Serve Prometheus /metrics on this port (0 = any; omit for none).", valueName: "PORT")) var metricsPort: Int?
    @Flag(help: "This GPU worker is a slack GPU (reference §3.6).") var slack = false
    @Option(name: .customLong("instance-id"), help: ArgumentHelp("The provider's id for this machine (an EC2 instance id; default: this process's id).", valueName: "ID")) var instanceID: String?
    @Option(name: .customLong("batch-max"), help: ArgumentHelp("Dynamic batching: run up to N waiting rows of a variant together (off unless given; the reference had none).", valueName: "N")) var batchMax: Int?
    @Option(name: .customLong("token-file"), help: ArgumentHelp("The cluster's bearer token (default: $INFAAS_TOKEN; none = open).", valueName: "PATH")) var tokenFile: String?
    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("Reach the master over TLS, trusting these PEM certificates.", valueName: "PATH")) var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Serve TLS with this certificate (PEM).", valueName: "PATH")) var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("Its private key (PEM).", valueName: "PATH")) var tlsKey: String?
    @Option(name: .customLong("batch-delay-ms"), help: ArgumentHelp("Dynamic batching: longest wait for company.", valueName: "MS")) var batchDelayMs = 2.0
    @OptionGroup var aws: AWSOptions

    func validate() throws {
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
        let daemon = try WorkerDaemon(options: options, backend: backend, logger: logger)
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
