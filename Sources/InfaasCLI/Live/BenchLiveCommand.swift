import ArgumentParser
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasCore
import InfaasProfiles
import InfaasRPC
import InfaasRuntime

/// `infaas bench live`: the live path's costs on this machine — the master's decision time per
/// query under load, a served query against a bare ONNX Runtime run of the same model and batch,
/// and sustained queries/s with many concurrent clients.
struct BenchLive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Decision overhead, served-vs-bare latency and sustained QPS of a local live cluster.",
        discussion: reflow("""
            Example:
              swift run -c release infaas bench live
              swift run -c release infaas bench live --model models/ppocr_cls/model.onnx \\
                  --input-shape 3,48,192

            Starts a master and one worker (temporary home, free ports), registers MODEL, then:
            (1) bare: --runs ONNX Runtime runs in this process at --batch, 1 thread (p50/p99);
            (2) served: --runs sequential queries of the same tensor through the master (p50/p99,
                client-measured), and the served/bare p50 ratio and difference;
            (3) load: --clients concurrent clients for --seconds; queries/s, client p50/p99
                and the master's decision time per query (p50/p99, reported in each reply).
            """)
    )

    @Option(help: ArgumentHelp("ONNX model (float32 input, symbolic batch).", valueName: "PATH")) var model = "models/ppocr_cls/model.onnx"
    @Option(name: .customLong("input-shape"), help: ArgumentHelp("Per-item input shape.", valueName: "C,H,W")) var inputShape = "3,48,192"
    @Option(help: "Batch size for bare vs served.") var batch = 1
    @Option(help: "Runs for bare and served.") var runs = 300
    @Option(help: "Concurrent clients for the load phase.") var clients = 64
    @Option(help: "Seconds of load.") var seconds = 10.0
    @Option(name: .customLong("load-model"), help: ArgumentHelp("Small model for the load phase.", valueName: "PATH")) var loadModel: String = "models/tiny/tinycnn_onnxruntime-cpu_t1_b8/model.onnx"
    @Option(name: .customLong("load-input-shape"), help: ArgumentHelp("Its per-item input shape.", valueName: "C,H,W")) var loadInputShape: String = "3,32,32"

    func run() async throws {
        let shape = try parseDimensions(inputShape, flag: "--input-shape")
        let home = NSTemporaryDirectory() + "infaas-bench-live-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: home) }
        // 1. Bare ONNX Runtime.
        let backend = try ONNXRuntimeBackend()
        let loaded = try backend.load(modelAt: model, options: SessionOptions(intraOpThreads: 1))
        let input = Tensor(shape: [batch] + shape, values: (0..<(batch * shape.reduce(1, *))).map { Float($0 % 255) / 255 })
        for _ in 0..<10 { _ = try loaded.run(input) }
        var bare: [Double] = []
        for _ in 0..<runs {
            let t = ContinuousClock.now
            _ = try loaded.run(input)
            bare.append((ContinuousClock.now - t).milliseconds)
        }
        loaded.unload()
        let bareP50 = percentile(bare, 0.5)
        printError(String(format: "bare ONNX Runtime: p50 %.3f ms, p99 %.3f ms (%d runs, batch %d)", bareP50, percentile(bare, 0.99), runs, batch))

        // 2. A cluster: master + one worker.
        let cluster = try await LocalBenchCluster.start(home: home)
        defer { cluster.stop() }
        try await cluster.register(model: model, name: "bench_served", shape: shape, batch1Ms: bareP50)
        let request = Self.request(variant: "bench_served", tensor: input)
        let served = try await withMasterClient(cluster.address) { client in
            for _ in 0..<10 { _ = try await client.queryOnline(request) }  // cold start + warm-up
            var times: [Double] = [], inference: [Double] = []
            for _ in 0..<runs {
                let t = ContinuousClock.now
                let reply = try await client.queryOnline(request)
                times.append((ContinuousClock.now - t).milliseconds)
                inference.append(reply.inferenceMs)
            }
            return (times, inference)
        }
        // The worker alone (no master hop), to split the served overhead between the two hops.
        let status = try await withMasterClient(cluster.address) { try await $0.clusterStatus(Infaas_V1_ClusterStatusRequest()) }
        let workerAddress = try HostPort(status.workers.first { $0.status == "ready" }?.report.address ?? "")
        var direct = Infaas_V1_WorkerQueryRequest()
        direct.variant.name = "bench_served"
        direct.input = request.input
        let directRequest = direct
        let workerOnly = try await withGRPCClient(transport: RPCTransport.client(workerAddress), interceptors: cluster.address.security.interceptors) { grpc in
            let client = Infaas_V1_Worker.Client(wrapping: grpc)
            var beats: [Double] = []
            for _ in 0..<runs {
                let t = ContinuousClock.now
                _ = try await client.heartbeat(Infaas_V1_HeartbeatRequest())
                beats.append((ContinuousClock.now - t).milliseconds)
            }
            printError(String(format: "gRPC heartbeat round trip to the worker: p50 %.3f ms", percentile(beats, 0.5)))
            var times: [Double] = []
            for _ in 0..<runs {
                let t = ContinuousClock.now
                _ = try await client.query(directRequest)
                times.append((ContinuousClock.now - t).milliseconds)
            }
            return times
        }
        printError(String(format: "worker alone: p50 %.3f ms, p99 %.3f ms", percentile(workerOnly, 0.5), percentile(workerOnly, 0.99)))
        let servedP50 = percentile(served.0, 0.5)
        let servedInference = percentile(served.1, 0.5)
        printError(String(format: "served: p50 %.3f ms, p99 %.3f ms; served/bare p50 %.2f×, overhead %.3f ms (inference on the worker p50 %.3f ms)",
                          servedP50, percentile(served.0, 0.99), servedP50 / bareP50, servedP50 - bareP50, servedInference))

        // 3. Load: concurrent clients on a small model.
        let loadName = "bench_load"
        let loadShape = try parseDimensions(loadInputShape, flag: "--load-input-shape")
        try await cluster.register(model: loadModel, name: loadName, shape: loadShape, batch1Ms: 0.1)
        let loadRequest = Self.request(variant: loadName, tensor: Tensor(shape: [1] + loadShape, values: [Float](repeating: 0.5, count: loadShape.reduce(1, *))))
        _ = try await withMasterClient(cluster.address) { try await $0.queryOnline(loadRequest) }
        let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let started = ContinuousClock.now
        let results = try await withMasterClient(cluster.address) { client in
            try await withThrowingTaskGroup(of: ([Double], [Double], Int).self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        var latencies: [Double] = [], decisions: [Double] = [], errors = 0
                        while ContinuousClock.now < end {
                            let t = ContinuousClock.now
                            do {
                                let reply = try await client.queryOnline(loadRequest)
                                latencies.append((ContinuousClock.now - t).milliseconds)
                                decisions.append(reply.decisionUs)
                            } catch { errors += 1 }
                        }
                        return (latencies, decisions, errors)
                    }
                }
                var all: ([Double], [Double], Int) = ([], [], 0)
                for try await r in group { all.0 += r.0; all.1 += r.1; all.2 += r.2 }
                return all
            }
        }
        let elapsed = (ContinuousClock.now - started).milliseconds / 1000
        let qps = Double(results.0.count) / elapsed
        printError(String(format: "load: %d clients, %.0f queries/s over %.1f s (%d errors); client p50 %.2f ms, p99 %.2f ms; decision p50 %.1f µs, p99 %.1f µs",
                          clients, qps, elapsed, results.2, percentile(results.0, 0.5), percentile(results.0, 0.99),
                          percentile(results.1, 0.5), percentile(results.1, 0.99)))
        let summary: [String: Double] = [
            "bare_p50_ms": bareP50, "bare_p99_ms": percentile(bare, 0.99), "served_p50_ms": servedP50, "served_p99_ms": percentile(served.0, 0.99), "served_inference_p50_ms": servedInference,
            "served_over_bare_p50": servedP50 / bareP50, "served_overhead_p50_ms": servedP50 - bareP50, "load_qps": qps,
            "load_client_p50_ms": percentile(results.0, 0.5), "load_client_p99_ms": percentile(results.0, 0.99),
            "decision_p50_us": percentile(results.1, 0.5), "decision_p99_us": percentile(results.1, 0.99), "load_errors": Double(results.2),
        ]
        print(try jsonString(summary))
    }

    static func request(variant: String, tensor: Tensor) -> Infaas_V1_OnlineQueryRequest {
        var request = Infaas_V1_OnlineQueryRequest()
        request.variant = variant
        request.input.tensor = Infaas_V1_Tensor(shape: tensor.shape, values: tensor.values)
        return request
    }

}

func percentile(_ values: [Double], _ q: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
}

/// A master (with one local worker) started as a child process, for benchmarks and demos.
struct LocalBenchCluster {
    let process: Process
    let address: MasterEndpoint
    let home: String

    static func start(home: String, workers: String = "cpu=1", extra: [String] = []) async throws -> LocalBenchCluster {
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let logPath = "\(home)/master.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)!
        let (token, tokenPath) = try ClusterTokenSource.create(home: home)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.executablePath)
        process.arguments = ["master", "--home", home, "--port", "0", "--workers", workers, "--max-workers", workers, "--token-file", tokenPath] + extra
        process.standardOutput = log
        process.standardError = log
        try process.run()
        for _ in 0..<600 {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("master listening on ") }),
               let port = line.split(separator: ":").last.flatMap({ Int($0) }) {
                let address = MasterEndpoint(address: HostPort(host: "127.0.0.1", port: port), security: ClientSecurity(token: token))
                let cluster = LocalBenchCluster(process: process, address: address, home: home)
                try await cluster.waitForWorkers(1)
                return cluster
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.terminate()
        throw CommandFailure("the benchmark master did not start; see \(logPath)")
    }

    func waitForWorkers(_ count: Int) async throws {
        for _ in 0..<600 {
            let status = try? await withMasterClient(address) { try await $0.clusterStatus(Infaas_V1_ClusterStatusRequest()) }
            if (status?.workers.filter { $0.status == "ready" }.count ?? 0) >= count { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CommandFailure("the benchmark worker did not report within 60 s; see \(home)/cluster/logs/")
    }

    /// Registers a model file as a one-variant architecture (its directory is the model URL).
    func register(model: String, name: String, shape: [Int], batch1Ms: Double) async throws {
        let repo = "\(home)/repo/\(name)"
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        let source = model.hasPrefix("/") ? model : FileManager.default.currentDirectoryPath + "/" + model
        try? FileManager.default.removeItem(atPath: "\(repo)/model.onnx")
        try FileManager.default.copyItem(atPath: source, toPath: "\(repo)/model.onnx")
        let variant = ModelVariant(
            name: name, architecture: name, useCase: UseCase(task: InferenceTask("classification"), dataset: Dataset("bench"), inputDimension: shape.last ?? 0),
            framework: Framework("onnxruntime-cpu"), hardware: .cpu, maxBatch: 64, accuracy: 50, loadLatencyMs: 10, memoryMB: 64, cpus: 1,
            latency: LatencyProfile(points: [LatencyPoint(batch: 1, p50Ms: batch1Ms)], model: LinearLatencyModel(slopeMs: batch1Ms, interceptMs: 0)),
            kind: .measured, source: "bench")
        var request = Infaas_V1_RegisterModelRequest()
        request.configName = name + ".config"
        request.configText = ConfigFile.render(variant)
        request.modelURL = "file://\(repo)/"
        let r = request
        _ = try await withMasterClient(address) { try await $0.registerModel(r) }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
