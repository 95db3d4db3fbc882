import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasProfiles
import InfaasRPC
import InfaasTestSupport
import Testing

/// Whether ONNX Runtime's library can be found (pip `onnxruntime`, or INFAAS_ORT_LIB): the live
/// tests run real inference and are skipped, saying why, where it is missing.
let onnxRuntimeAvailable: Bool = {
    if let path = ProcessInfo.processInfo.environment["INFAAS_ORT_LIB"] { return FileManager.default.fileExists(atPath: path) }
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = ["python3", "-c", "import onnxruntime"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    guard (try? probe.run()) != nil else { return false }
    probe.waitUntilExit()
    return probe.terminationStatus == 0
}()

/// Every suite that starts cluster processes and waits on them synchronously. They run one
/// at a time: each blocks one of Swift concurrency's cooperative threads while it waits, and on a
/// 2-core machine two at once would starve the in-process gRPC tests running beside them.
@Suite(.serialized) enum LiveProcesses {}

/// A local cluster (`infaas up --local`) in a temporary home, with the tiny fixture model
/// profiled and registered as `tiny_a`, for end-to-end tests on loopback.
struct LiveCluster {
    var cli = CLI()
    var address = ""
    static let fixtures = CLI.root.appendingPathComponent("Tests/InfaasRuntimeTests/Fixtures").path

    /// Reports every 200 ms so a dead worker is dropped within 400 ms.
    static let fastReports = ["--master-arg=--report-interval-ms", "--master-arg=200"]

    mutating func up(_ extra: [String] = [], workers: String = "cpu=1", maxWorkers: String = "cpu=2", environment: [String: String] = [:]) throws {
        let result = try cli.run(["up", "--local", "--port", "0", "--workers", workers, "--max-workers", maxWorkers, "--wait-s", "60"]
                                 + Self.fastReports + extra, environment: environment)
        try #require(result.status == 0, "infaas up failed: \(result.out) \(result.err)")
        let state = try #require(FileManager.default.contents(atPath: cli.path("state/cluster/cluster.json")))
        let json = try #require(try JSONSerialization.jsonObject(with: state) as? [String: Any])
        address = try #require(json["master"] as? String)
    }

    func down() { _ = try? cli.run(["down"]) }

    /// The token `infaas up` wrote into the cluster's home.
    var tokenPath: String { cli.path("state/cluster/token") }

    /// Interceptors that send the cluster's token, for tests that call the master directly.
    func interceptors() throws -> [any ClientInterceptor] {
        [BearerTokenClientInterceptor(token: try ClusterToken.read(path: tokenPath))]
    }

    /// Profiles the fixture into a model repository (`repo/<name>/`, config `configs/<name>.config`).
    func profileTiny(name: String, maxBatch: String = "1,4") throws {
        let repo = cli.path("repo/\(name)")
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        try? FileManager.default.copyItem(atPath: "\(Self.fixtures)/tiny_cnn.onnx", toPath: "\(repo)/model.onnx")
        let profiled = try cli.run(["profile", "\(repo)/model.onnx", "--variant", name, "--architecture", "tinycnn", "--task", "classification",
                                    "--dataset", "tiny", "--accuracy", "50", "--batches", maxBatch, "--runs", "20", "--output", cli.path("p.h5"),
                                    "--config-dir", cli.path("configs")])
        try #require(profiled.status == 0, "\(profiled.err)")
    }

    /// Profiles the fixture into a model repository and registers it through the master.
    func registerTiny(name: String = "tiny_a", maxBatch: String = "1,4") throws {
        try profileTiny(name: name, maxBatch: maxBatch)
        let repo = cli.path("repo/\(name)")
        let registered = try cli.run(["register", cli.path("configs/\(name).config"), "file://\(repo)/"])
        try #require(registered.status == 0, "\(registered.out) \(registered.err)")
    }

    func status() throws -> [String: Any] {
        let result = try cli.run(["status", "--json", "--master", address])
        try #require(result.status == 0, "\(result.err)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
    }

    /// The status, or nil while the master does not answer (records no test issue).
    func statusIfAnswering() -> [String: Any]? {
        guard let result = try? cli.run(["status", "--json", "--master", address]), result.status == 0 else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(result.out.utf8))) as? [String: Any]
    }

    func workers() throws -> [[String: Any]] { (try status()["workers"] as? [[String: Any]]) ?? [] }

    /// Waits (bounded) until `condition` holds for the status.
    func wait(seconds: Double = 30, _ condition: ([String: Any]) -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let s = statusIfAnswering(), condition(s) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    static func readyWorkers(_ s: [String: Any]) -> [[String: Any]] {
        ((s["workers"] as? [[String: Any]]) ?? []).filter { ($0["status"] as? String) == "ready" }
    }

    /// A raw input tensor file for the fixture ([3, 8, 8] float32).
    func tensorFile() throws -> String {
        let path = cli.path("input.f32")
        let values = (0..<192).map { Float($0) / 192 }
        try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: path))
        return path
    }
}

extension LiveProcesses {
    @Suite(.serialized, .enabled(if: onnxRuntimeAvailable, "needs ONNX Runtime (pip install onnxruntime, or INFAAS_ORT_LIB)"))
    struct LiveClusterTests {
        @Test func walkThroughAndBadInput() throws {
            var cluster = LiveCluster()
            try cluster.up(["--metrics-port", "0"])
            defer { cluster.down() }
            try cluster.registerTiny()
            let cli = cluster.cli
            let input = try cluster.tensorFile()

            // Named variant: the first query loads it (cold), the repeat does not.
            let first = try cli.run(["query", "online", "-i", input, "--raw-shape", "3,8,8", "-m", "tiny_a", "--json"])
            #expect(first.status == 0, "\(first.err)")
            let firstJSON = try #require(try JSONSerialization.jsonObject(with: Data(first.out.utf8)) as? [String: Any])
            #expect(firstJSON["coldStart"] as? Bool == true)
            #expect(firstJSON["variant"] as? String == "tiny_a")
            let second = try cli.run(["query", "online", "-i", input, "--raw-shape", "3,8,8", "-m", "tiny_a", "--json"])
            let secondJSON = try #require(try JSONSerialization.jsonObject(with: Data(second.out.utf8)) as? [String: Any])
            #expect(secondJSON["coldStart"] as? Bool == false)
            let top = try #require((secondJSON["top"] as? [[[String: Any]]])?.first)
            #expect(top.count == 4)  // the fixture has 4 classes; all of them are the top-5

            // An image through the original's CLI name and flags.
            let legacy = try cli.run(["-d", "8", "-i", "\(LiveCluster.fixtures)/rgb.png", "-a", "tinycnn", "-l", "200"], as: "infaas_online_query")
            #expect(legacy.status == 0, "\(legacy.out) \(legacy.err)")
            // As the original: the reply size, then every output value (the fixture has two outputs,
            // logits and features, of 4 values each).
            #expect(legacy.out.contains("1 reply, reply[0] size: 32"), "\(legacy.out)")
            let prediction = try #require(legacy.out.split(separator: "\n").first { $0.hasPrefix("Prediction 0: ") })
            #expect(prediction.dropFirst("Prediction 0: ".count).split(separator: " ").compactMap { Float($0) }.count == 8, "\(prediction)")
            // `infaas query online --raw`: every value too, beside the readable summary.
            let raw = try cli.run(["query", "online", "-i", input, "--raw-shape", "3,8,8", "-m", "tiny_a", "--raw"])
            #expect(raw.status == 0, "\(raw.err)")
            #expect(raw.out.contains("input 0: 8 values: "), "\(raw.out)")
            // The original's exit codes: a refused query is printed and exits 0; a usage error exits 1.
            let refused = try cli.run(["-d", "8", "-i", "\(LiveCluster.fixtures)/rgb.png", "-a", "tinycnn", "-l", "0.0001"], as: "infaas_online_query")
            #expect(refused.status == 0 && refused.out.contains("PAR: No model can satisfy this request"), "\(refused.out) \(refused.err)")
            #expect(refused.out.contains("use -l"), "\(refused.out)")
            let usage = try cli.run(["-i", "\(LiveCluster.fixtures)/rgb.png", "-a", "tinycnn", "-l", "100"], as: "infaas_online_query")
            #expect(usage.status == 1 && usage.err.contains("Must specify both input_dim (-d) and input (-i)"), "\(usage.status) \(usage.err)")
            // A bare path is an S3 bucket path, as in the original, with a hint for local folders; exit 0.
            let bare = try cli.run(["/no/such/in/", "/no/such/out/", "tinycnn"], as: "infaas_offline_query")
            #expect(bare.status == 0, "\(bare.out) \(bare.err)")
            #expect(bare.out.contains("Offline query job submission FAILED: "), "\(bare.out)")
            #expect(bare.out.contains("for a local folder give file:///no/such/in/ and file:///no/such/out/"), "\(bare.out)")

            // Bad input, each with a message that says what was wrong.
            let cases: [([String], String)] = [
                (["-i", "\(LiveCluster.fixtures)/not-an-image.txt", "-d", "8", "-m", "tiny_a"], "not an image"),
                (["-i", "\(LiveCluster.fixtures)/rgb.png", "-d", "16", "-m", "tiny_a"], "expects shape"),
                (["-i", input, "--raw-shape", "3,8,8", "-m", "tiny_b"], "Model has not been registered"),
                (["-i", input, "--raw-shape", "3,8,8", "-a", "resnet999", "-l", "100"], "Parent model has not been registered"),
                (["-i", input, "--raw-shape", "3,8,8", "-t", "classification", "-D", "nowhere", "-A", "1", "-l", "100"], "Grandparent model has not been registered"),
                (["-i", input, "--raw-shape", "3,8,8", "-t", "classification", "-D", "tinny", "-A", "1", "-l", "100"], "did you mean dataset \"tiny\""),
                (["-i", input, "--raw-shape", "3,8,8", "-a", "tinycnn", "-l", "0.0001"], "No model can satisfy this request"),
                (["-i", input, "--raw-shape", "3,8,8", "-a", "tinycnn", "-l", "0.0001"], "use -l"),
                (Array(repeating: ["-i", input], count: 9).flatMap { $0 } + ["--raw-shape", "3,8,8", "-a", "tinycnn", "-l", "500"],
                 "the largest max batch among tinycnn's variants is 4"),
                (Array(repeating: ["-i", input], count: 5).flatMap { $0 } + ["--raw-shape", "3,8,8", "-m", "tiny_a"], "above the variant's max batch"),
                (["-i", "/nonexistent.png", "-d", "8", "-m", "tiny_a"], "is not a valid input path"),
            ]
            for (arguments, message) in cases {
                let result = try cli.run(["query", "online"] + arguments)
                #expect(result.status != 0, "\(arguments) should fail")
                #expect(result.err.contains(message), "\(arguments): \(result.err)")
            }

            // The registry answers discovery through the master.
            let modinfo = try cli.run(["tinycnn"], as: "infaas_modinfo")
            #expect(modinfo.out.contains("SUCCEEDED") && modinfo.out.contains("tiny_a"), "\(modinfo.out)")

            // Prometheus metrics on the master.
            let state = try #require(try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: cli.path("state/cluster/cluster.json"))!) as? [String: Any])
            let metricsPort = try #require(state["metricsPort"] as? Int)
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            curl.arguments = ["python3", "-c", "import urllib.request,sys; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())",
                              "http://127.0.0.1:\(metricsPort)/metrics"]
            let pipe = Pipe()
            curl.standardOutput = pipe
            try curl.run()
            let metrics = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            curl.waitUntilExit()
            for name in ["infaas_master_queries_total", "infaas_master_query_seconds_bucket", "infaas_master_decision_seconds",
                         "infaas_master_variant_queries_total{variant=\"tiny_a\"}", "infaas_master_replicas{variant=\"tiny_a\"}",
                         "infaas_master_worker_cpu_utilization_percent"] {
                #expect(metrics.contains(name), "/metrics lacks \(name)")
            }
        }

        /// `infaas up --local --policy static` serves the walk-through's model-less queries: the
        /// first query of each application places its static deployment, as the simulator places
        /// an experiment's before its first query (the live master once had no placement at all).
        @Test func servedProfileTimesARegisteredVariantThroughTheCluster() throws {
            var cluster = LiveCluster()
            try cluster.up()
            defer { cluster.down() }
            try cluster.registerTiny()
            let cli = cluster.cli
            let store = cli.path("served.h5")
            let result = try cli.run(["profile", "--served", "--variant", "tiny_a", "--batches", "1,4", "--runs", "5", "--warmup", "1", "--output", store])
            try #require(result.status == 0, "\(result.out) \(result.err)")
            #expect(result.out.contains("Added tiny_a in \(store)"), "\(result.out)")
            let variants = try ProfileStore.read(from: store)
            try #require(variants.count == 1)
            let served = variants[0]
            #expect(served.name == "tiny_a" && served.architecture == "tinycnn" && served.maxBatch == 4)
            #expect(served.latency.points.map(\.batch) == [1, 4])
            #expect(served.latency.samplesMs?.map(\.count) == [5, 5])
            #expect(served.latency.samplesMs?.allSatisfy { $0.allSatisfy { $0 > 0 && $0.isFinite } } == true)
            #expect(served.latency.points.allSatisfy { ($0.p50Ms ?? 0) > 0 && ($0.p99Ms ?? 0) >= ($0.p50Ms ?? 0) })
            #expect((served.loadLatencyMs ?? 0) > 0)
            #expect(served.source.contains("--served"), "\(served.source)")
            // The round trip as the sample, into the same store: the variant is replaced.
            let client = try cli.run(["profile", "--served", "--served-latency", "client", "--variant", "tiny_a", "--batches", "1", "--runs", "3",
                                      "--output", store])
            #expect(client.status == 0 && client.out.contains("Replaced tiny_a"), "\(client.out) \(client.err)")
            #expect(try ProfileStore.read(from: store).first?.latency.samplesMs?.map(\.count) == [3])
            // A variant the cluster does not know, and a batch above the max, are clear errors.
            let unknown = try cli.run(["profile", "--served", "--variant", "tiny_zz", "--batches", "1", "--output", store])
            #expect(unknown.status != 0 && unknown.err.contains("tiny_zz is not registered"), "\(unknown.err)")
            let tooLarge = try cli.run(["profile", "--served", "--variant", "tiny_a", "--batches", "8", "--output", store])
            #expect(tooLarge.status != 0 && tooLarge.err.contains("above tiny_a's max batch 4"), "\(tooLarge.err)")
        }

        @Test func servedProfileWithoutAClusterSaysHowToStartOne() throws {
            let cli = CLI()
            let none = try cli.run(["profile", "--served", "--variant", "tiny_a", "--output", cli.path("p.h5")])
            #expect(none.status != 0 && none.err.contains("infaas up --local"), "\(none.err)")
            let both = try cli.run(["profile", "--served", "model.onnx", "--variant", "tiny_a"])
            #expect(both.status != 0 && both.err.contains("instead of a model file"), "\(both.err)")
            let bare = try cli.run(["profile", "--variant", "tiny_a"])
            #expect(bare.status != 0 && bare.err.contains("--served"), "\(bare.err)")
        }

        @Test func staticPolicyServesTheWalkThroughQueries() throws {
            var cluster = LiveCluster()
            try cluster.up(["--policy", "static", "--policy-set", "static_replicas=1"])
            defer { cluster.down() }
            try cluster.registerTiny()
            let cli = cluster.cli
            let input = try cluster.tensorFile()
            for arguments in [["-a", "tinycnn", "-l", "300"], ["-t", "classification", "-D", "tiny", "-A", "40", "-l", "300"], ["-a", "tinycnn", "-l", "300"]] {
                let result = try cli.run(["query", "online", "-i", input, "--raw-shape", "3,8,8", "--json"] + arguments)
                #expect(result.status == 0, "\(arguments): \(result.err)")
                let json = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
                #expect(json?["variant"] as? String == "tiny_a", "\(arguments): \(result.out)")
            }
            // The deployment is what static placed: one replica, and the policy is static on the master.
            let status = try cluster.status()
            #expect(status["policy"] as? String == "static")
            let replicas = LiveCluster.readyWorkers(status).flatMap { (($0["report"] as? [String: Any])?["variants"] as? [[String: Any]]) ?? [] }
                .filter { ($0["variant"] as? String) == "tiny_a" }.compactMap { $0["replicas"] as? Int }.reduce(0, +)
            #expect(replicas == 1, "\(status)")
        }

        /// The example autoscaler of docs/adding-a-policy.md runs live: the master takes it by name,
        /// hands it and its settings to the worker it starts, and serves with it.
        @Test func sloAutoscalerRunsLive() throws {
            var cluster = LiveCluster()
            try cluster.up(["--policy", "slo-autoscaler", "--policy-set", "slo_downscale_periods=3"])
            defer { cluster.down() }
            try cluster.registerTiny()
            let input = try cluster.tensorFile()
            let result = try cluster.cli.run(["query", "online", "-i", input, "--raw-shape", "3,8,8", "-a", "tinycnn", "-l", "300", "--json"])
            #expect(result.status == 0, "\(result.err)")
            let status = try cluster.status()
            #expect(status["policy"] as? String == "slo-autoscaler")
            // `infaas status` shows the configuration the master's loop runs, the setting included.
            let settings = (status["policySettings"] as? [String]) ?? []
            #expect(settings.contains("slo_downscale_periods=3"), "\(settings)")
            #expect(settings.count > 70, "\(settings.count) settings: every policy_config key")
            // The worker was started with the master's policy and settings.
            let logs = (try? FileManager.default.contentsOfDirectory(atPath: cluster.cli.path("state/cluster/logs"))) ?? []
            let workerLog = logs.filter { $0.contains("worker") }.compactMap { try? String(contentsOfFile: cluster.cli.path("state/cluster/logs/\($0)"), encoding: .utf8) }.joined()
            #expect(workerLog.contains("policy slo-autoscaler"), "\(workerLog.prefix(2000))")
            #expect(workerLog.contains("slo_downscale_periods=3"), "\(workerLog.prefix(2000))")
        }

        @Test func missingModelFilesGiveAClearError() throws {
            var cluster = LiveCluster()
            try cluster.up()
            defer { cluster.down() }
            try cluster.registerTiny()
            try FileManager.default.removeItem(atPath: cluster.cli.path("repo/tiny_a"))
            let result = try cluster.cli.run(["query", "online", "-i", try cluster.tensorFile(), "--raw-shape", "3,8,8", "-m", "tiny_a"])
            #expect(result.status != 0)
            #expect(result.err.contains("model files of variant tiny_a are missing"), "\(result.err)")
        }

        @Test func workerThatNeverReportsIsABoundedClearError() throws {
            let cli = CLI()
            defer { _ = try? cli.run(["down"]) }
            let result = try cli.run(["up", "--local", "--port", "0", "--workers", "cpu=1", "--max-workers", "cpu=1", "--wait-s", "4",
                                      "--master-arg=--infaas-binary", "--master-arg=/bin/true", "--master-arg=--boot-timeout-s", "--master-arg=2"])
            #expect(result.status != 0)
            #expect(result.err.contains("only 0 of 1 workers reported within 4 s"), "\(result.err)")
            let log = (try? String(contentsOfFile: cli.path("state/cluster/master.log"), encoding: .utf8)) ?? ""
            #expect(log.contains("never became ready") || log.contains("did not report within"), "\(log.suffix(800))")
        }

        @Test func killedWorkerIsDroppedAndReplacedWhileQueriesGetAnAnswer() async throws {
            var cluster = LiveCluster()
            try cluster.up(workers: "cpu=1", maxWorkers: "cpu=2")
            defer { cluster.down() }
            try cluster.registerTiny()
            let victim = try #require(LiveCluster.readyWorkers(try cluster.status()).first)
            let victimName = try #require((victim["report"] as? [String: Any])?["name"] as? String)
            let pid = try #require(Int32(((victim["report"] as? [String: Any])?["instanceId"] as? String) ?? ""))
            let address = try HostPort(cluster.address)

            var request = Infaas_V1_OnlineQueryRequest()
            request.variant = "tiny_a"
            request.input.tensor = Infaas_V1_Tensor(shape: [1, 3, 8, 8], values: [Float](repeating: 0.25, count: 192))
            let query = request
            // Load: 8 clients, each sending queries back to back for 6 s; the worker dies after 1 s.
            let outcomes = try await withGRPCClient(transport: .http2NIOPosix(target: address.target, transportSecurity: .plaintext),
                                                    interceptors: try cluster.interceptors()) { grpc in
                let client = Infaas_V1_Master.Client(wrapping: grpc)
                return try await withThrowingTaskGroup(of: (ok: Int, failed: [String]).self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            var ok = 0, failed: [String] = []
                            let end = Date().addingTimeInterval(6)
                            while Date() < end {
                                do {
                                    _ = try await client.queryOnline(query, options: .defaults.with(timeoutMs: 15_000))
                                    ok += 1
                                } catch let error as RPCError {
                                    failed.append("\(error.code): \(error.message)")
                                    try await Task.sleep(for: .milliseconds(20))
                                }
                            }
                            return (ok, failed)
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: .seconds(1))
                        kill(pid, SIGKILL)
                        return (0, [])
                    }
                    var ok = 0, failed: [String] = []
                    for try await r in group { ok += r.ok; failed += r.failed }
                    return (ok: ok, failed: failed)
                }
            }
            // Every query came back (the group finished) with a result or an explicit error.
            #expect(outcomes.ok > 0)
            for message in outcomes.failed { #expect(message.contains("unavailable") || message.contains("No workers") || message.contains("unreachable"), "\(message)") }
            // The master dropped the dead worker and the replacement serves.
            let replaced = try cluster.wait(seconds: 60) { s in
                let workers = (s["workers"] as? [[String: Any]]) ?? []
                let dead = workers.first { (($0["report"] as? [String: Any])?["name"] as? String) == victimName }
                return (dead?["status"] as? String) == "gone" && !LiveCluster.readyWorkers(s).isEmpty
            }
            #expect(replaced)
            let after = try cluster.cli.run(["query", "online", "-i", try cluster.tensorFile(), "--raw-shape", "3,8,8", "-m", "tiny_a"])
            #expect(after.status == 0, "\(after.err)")
        }

        @Test func downStopsWorkersThatOutlivedAKilledMasterAndKeepsNothingRunning() throws {
            var cluster = LiveCluster()
            try cluster.up()
            defer { cluster.down() }
            let state = try #require(try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: cluster.cli.path("state/cluster/cluster.json"))!) as? [String: Any])
            let masterPID = try #require(state["pid"] as? Int)
            let port = try HostPort(cluster.address).port
            func workerPIDs() -> [Int32] {
                ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry in
                    guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return nil }
                    let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
                    return arguments.count > 3 && arguments[1] == "worker" && arguments.contains("127.0.0.1:\(port)") ? pid : nil
                }
            }
            try #require(!workerPIDs().isEmpty, "the cluster's worker is not running")
            kill(Int32(masterPID), SIGKILL)  // the workers are orphaned and keep running
            Thread.sleep(forTimeInterval: 0.5)
            let down = try cluster.cli.run(["down", "--wait-s", "10"])
            #expect(down.status == 0, "\(down.err)")
            #expect(down.err.contains("outlived the master"), "\(down.err)")
            #expect(workerPIDs().isEmpty, "down left workers running")
            #expect(!FileManager.default.fileExists(atPath: cluster.tokenPath))
        }

        @Test func restartedMasterKeepsItsRegistryAndWorkersRejoin() throws {
            var cluster = LiveCluster()
            try cluster.up()
            defer { cluster.down() }
            try cluster.registerTiny()
            let state = try #require(try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: cluster.cli.path("state/cluster/cluster.json"))!) as? [String: Any])
            let masterPID = try #require(state["pid"] as? Int)
            let port = try HostPort(cluster.address).port
            let workerBefore = try #require(LiveCluster.readyWorkers(try cluster.status()).first)
            let workerName = (workerBefore["report"] as? [String: Any])?["name"] as? String
            kill(Int32(masterPID), SIGKILL)
            // Down for a while (issue 13: a master down ~20 s launched a duplicate 2 s after its
            // start although the old worker re-joined 3 s later): the worker's reconnects back off.
            Thread.sleep(forTimeInterval: 6)
            // A new master on the same port and home: the registry is on disk, the worker re-registers
            // with the launch secret the first master issued (kept in <home>/cluster/workers.json).
            let log = cluster.cli.path("state/cluster/master2.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = Process()
            process.executableURL = CLI.binary
            process.arguments = ["master", "--home", cluster.cli.path("state"), "--port", String(port), "--workers", "cpu=1", "--max-workers", "cpu=2",
                                 "--report-interval-ms", "200", "--token-file", cluster.tokenPath]
            process.standardOutput = FileHandle(forWritingAtPath: log)
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
            defer { process.terminate(); process.waitUntilExit() }
            let rejoined = try cluster.wait(seconds: 30) { s in
                LiveCluster.readyWorkers(s).contains { (($0["report"] as? [String: Any])?["name"] as? String) == workerName }
            }
            #expect(rejoined, "worker \(workerName ?? "?") did not re-register")
            // The new master took over the record: commands without --master find it.
            let refreshed = try #require(try JSONSerialization.jsonObject(with: FileManager.default.contents(atPath: cluster.cli.path("state/cluster/cluster.json"))!) as? [String: Any])
            #expect(refreshed["pid"] as? Int == Int(process.processIdentifier), "cluster.json still names the killed master")
            let status = try cluster.cli.run(["status"])
            #expect(status.status == 0, "\(status.err)")
            let modinfo = try cluster.cli.run(["modinfo", "tinycnn", "--master", cluster.address])
            #expect(modinfo.out.contains("tiny_a"), "\(modinfo.out) \(modinfo.err)")
            let query = try cluster.cli.run(["query", "online", "-i", try cluster.tensorFile(), "--raw-shape", "3,8,8", "-m", "tiny_a", "--master", cluster.address])
            #expect(query.status == 0, "\(query.err)")
            let launched = try cluster.status()["workersLaunched"].map { Int("\($0)") ?? -1 } ?? 0  // proto JSON: uint64 as a string, 0 omitted
            #expect(launched == 0, "the restarted master launched workers instead of adopting the running one")
            let names = ((try cluster.status()["workers"] as? [[String: Any]]) ?? []).compactMap { ($0["report"] as? [String: Any])?["name"] as? String }
            #expect(names == [workerName].compactMap { $0 }, "\(names)")
        }

        @Test func aForgedWorkerReportWithAForeignPidIsRefusedAndKillsNothing() async throws {
            var cluster = LiveCluster()
            try cluster.up()
            defer { cluster.down() }
            // Another cluster's worker (its master is not there; it keeps trying): the victim.
            let victim = Process()
            victim.executableURL = CLI.binary
            victim.arguments = ["worker", "--master", "127.0.0.1:1", "--name", "victim", "--model-cache", cluster.cli.path("victim-cache")]
            victim.standardOutput = FileHandle.nullDevice
            victim.standardError = FileHandle.nullDevice
            try victim.run()
            defer { if victim.isRunning { victim.terminate(); victim.waitUntilExit() } }
            let pid = victim.processIdentifier
            let realWorker = try #require(LiveCluster.readyWorkers(try cluster.status()).first?["report"] as? [String: Any])
            let realName = try #require(realWorker["name"] as? String)
            let master = try HostPort(cluster.address)
            // The reproducer: a token holder reports as a worker with the victim's pid — under a new
            // name, and under the real worker's name — then goes quiet.
            var refusals: [RPCError] = []
            for name in ["intruder", realName] {
                var report = Infaas_V1_WorkerReport()
                report.name = name
                report.address = "127.0.0.1:9"
                report.hardware = "cpu"
                report.cores = 2
                report.sequence = 1
                report.instanceID = String(pid)
                let interceptors = try cluster.interceptors()
                if let error = await Self.rpcError({
                    try await withGRPCClient(transport: RPCTransport.client(master), interceptors: interceptors) { grpc in
                        _ = try await Infaas_V1_Master.Client(wrapping: grpc).reportWorker(report, options: .defaults.with(timeoutMs: 10_000))
                    }
                }) { refusals.append(error) }
            }
            #expect(refusals.count == 2)
            for error in refusals {
                #expect(error.code == .permissionDenied && error.message.contains("not a worker this cluster launched"), "\(error.code): \(error.message)")
            }
            // Well past two report periods (200 ms each): a registered "intruder" would have gone stale and been retired.
            try await Task.sleep(for: .seconds(3))
            #expect(victim.isRunning, "the master signalled a process it did not start")
            let status = try cluster.status()
            let names = ((status["workers"] as? [[String: Any]]) ?? []).compactMap { ($0["report"] as? [String: Any])?["name"] as? String }
            #expect(!names.contains("intruder"), "\(names)")
            let real = ((status["workers"] as? [[String: Any]]) ?? []).first { ($0["report"] as? [String: Any])?["name"] as? String == realName }
            #expect((real?["report"] as? [String: Any])?["instanceId"] as? String != String(pid), "the forged pid replaced the worker's")
            #expect(LiveCluster.readyWorkers(status).count == 1, "the real worker is still serving")
        }

        @Test func unregisterAgainstARunningClusterStopsRoutingUnloadsAndAllowsRegisteringAgain() throws {
            var cluster = LiveCluster()
            try cluster.up()
            defer { cluster.down() }
            try cluster.registerTiny()
            let tensor = try cluster.tensorFile()
            let query = ["query", "online", "-i", tensor, "--raw-shape", "3,8,8", "-m", "tiny_a"]
            let first = try cluster.cli.run(query)
            try #require(first.status == 0, "\(first.err)")  // the worker loaded it
            let removed = try cluster.cli.run(["unregister", "tiny_a"])
            #expect(removed.status == 0, "\(removed.out) \(removed.err)")
            #expect(removed.out.contains("Unregistered tiny_a") && removed.out.contains("from the master at"), "\(removed.out)")
            let refused = try cluster.cli.run(query)
            #expect(refused.status != 0)
            #expect(refused.err.contains("tiny_a"), "\(refused.err)")
            let modinfo = try cluster.cli.run(["modinfo", "tinycnn"])
            #expect(!modinfo.out.contains("tiny_a"), "\(modinfo.out)")
            // The worker unloaded it (its report lists no replica of it).
            let unloaded = try cluster.wait(seconds: 20) { s in
                !LiveCluster.readyWorkers(s).contains { w in
                    (((w["report"] as? [String: Any])?["variants"] as? [[String: Any]]) ?? []).contains { ($0["variant"] as? String) == "tiny_a" }
                }
            }
            #expect(unloaded, "a worker still runs tiny_a")
            // Unknown: a clear error naming it. Registered again: served again.
            let unknown = try cluster.cli.run(["unregister", "tiny_a"])
            #expect(unknown.status != 0 && unknown.err.contains("tiny_a"), "\(unknown.err)")
            let again = try cluster.cli.run(["register", cluster.cli.path("configs/tiny_a.config"), "file://\(cluster.cli.path("repo/tiny_a"))/"])
            #expect(again.status == 0, "\(again.out) \(again.err)")
            let served = try cluster.cli.run(query)
            #expect(served.status == 0, "\(served.err)")
        }

        @Test func dynamicBatchingGivesEachQueryItsOwnRows() async throws {
            var cluster = LiveCluster()
            try cluster.up(["--master-arg=--worker-arg=--batch-max", "--master-arg=--worker-arg=4", "--master-arg=--worker-arg=--batch-delay-ms",
                            "--master-arg=--worker-arg=20"])
            defer { cluster.down() }
            try cluster.registerTiny()
            let address = try HostPort(cluster.address)
            let requests: [Infaas_V1_OnlineQueryRequest] = (0..<8).map { i in
                var request = Infaas_V1_OnlineQueryRequest()
                request.variant = "tiny_a"
                request.includeOutputs = true
                request.input.tensor = Infaas_V1_Tensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float(($0 * (i + 3)) % 17) / 17 })
                return request
            }
            let outputs = try await withGRPCClient(transport: .http2NIOPosix(target: address.target, transportSecurity: .plaintext),
                                                   interceptors: try cluster.interceptors()) { grpc in
                let client = Infaas_V1_Master.Client(wrapping: grpc)
                _ = try await client.queryOnline(requests[0])  // load the variant
                // One at a time (no company: batches of one), then all at once (batched together).
                var alone: [[Float]] = []
                for r in requests { alone.append(try await client.queryOnline(r).outputs[0].floats()) }
                let together = try await withThrowingTaskGroup(of: (Int, [Float], [Int64]).self) { group in
                    for (i, r) in requests.enumerated() {
                        group.addTask {
                            let reply = try await client.queryOnline(r)
                            return (i, try reply.outputs[0].floats(), reply.outputs[0].shape)
                        }
                    }
                    var all: [(Int, [Float], [Int64])] = []
                    for try await x in group { all.append(x) }
                    return all
                }
                return (alone, together)
            }
            for (i, values, shape) in outputs.1 {
                #expect(shape == [1, 4])
                #expect(zip(values, outputs.0[i]).allSatisfy { abs($0 - $1) < 1e-4 }, "query \(i) got another query's rows")
            }
            #expect(Set(outputs.0.map { $0.map { ($0 * 1000).rounded() } }).count > 1, "inputs should differ in their outputs")
        }

        /// Scale to zero live: with `min_workers_cpu=0` the idle cluster's only worker goes, and the
        /// next query is held by the master's loop while a worker is launched and boots, then
        /// served (a cold start), not failed with "no workers".
        /// (`infaas up` does not wait for the workers of a class whose minimum is 0.)
        @Test func aClusterScaledToZeroServesTheFirstQueryAfterAWorkerIsWoken() throws {
            var cluster = LiveCluster()
            try cluster.up(["--policy-set", "min_workers_cpu=0", "--policy-set", "last_worker_idle_iterations=2",
                            "--policy-set", "cold_start_buffer=10", "--policy-set", "vm_interval_ms=500", "--policy-set", "backoff_iterations=1"])
            defer { cluster.down() }
            try cluster.registerTiny()
            let gone = try cluster.wait(seconds: 30) { LiveCluster.readyWorkers($0).isEmpty }
            try #require(gone, "the idle worker was not scaled in: \(String(describing: cluster.statusIfAnswering()))")
            let input = try cluster.tensorFile()
            let result = try cluster.cli.run(["query", "online", "-i", input, "--raw-shape", "3,8,8", "-m", "tiny_a", "--json"])
            #expect(result.status == 0, "the held query failed: \(result.err)")
            let json = try JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any]
            #expect(json?["variant"] as? String == "tiny_a", "\(result.out)")
            #expect(json?["coldStart"] as? Bool == true, "\(result.out)")
            #expect(LiveCluster.readyWorkers(try cluster.status()).count == 1, "a worker was woken for it")
        }

        /// A query whose deadline passes while it waits on the worker (here for its variant's
        /// cold load, which takes longer than 1 ms) is answered with the queue's named status over
        /// the native API and never run; the next query, without one, is served.
        @Test func aQueryPastItsDeadlineInTheWorkersQueueGetsItsStatus() async throws {
            var cluster = LiveCluster()
            try cluster.up()
            defer { cluster.down() }
            try cluster.registerTiny()
            let address = try HostPort(cluster.address)
            var request = Infaas_V1_OnlineQueryRequest()
            request.variant = "tiny_a"
            request.input.tensor = Infaas_V1_Tensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0) / 192 })
            request.deadlineMs = 1
            request.priority = .low
            let timely = { var r = request; r.deadlineMs = 0; return r }()
            let (expired, served) = try await withGRPCClient(transport: .http2NIOPosix(target: address.target, transportSecurity: .plaintext),
                                                             interceptors: try cluster.interceptors()) { grpc in
                let client = Infaas_V1_Master.Client(wrapping: grpc)
                let error = await Self.rpcError { _ = try await client.queryOnline(request) }
                return (error, try await client.queryOnline(timely))
            }
            #expect(expired?.code == .deadlineExceeded, "\(String(describing: expired))")
            #expect(expired?.message.contains("deadline exceeded in queue after") == true, "\(expired?.message ?? "")")
            #expect(served.variant == "tiny_a")
        }

        /// Full-cluster shedding through the master: one worker whose variant's queue holds one
        /// query (`max_queue_length=1`), and a replica kept busy by its batcher (a query handed an
        /// idle replica waits 1.5 s for company). Of a burst of concurrent queries the ones that
        /// find the queue full are answered with the shed status, over the native API and over
        /// Open Inference v2 gRPC; every other query is served. Only statuses and counts are checked.
        @Test func aBurstAtABoundedQueueIsShedWithItsStatusOverBothAPIs() async throws {
            var cluster = LiveCluster()
            try cluster.up(["--policy-set", "max_queue_length=1",
                            "--master-arg=--worker-arg=--batch-max", "--master-arg=--worker-arg=4",
                            "--master-arg=--worker-arg=--batch-delay-ms", "--master-arg=--worker-arg=1500"], maxWorkers: "cpu=1")
            defer { cluster.down() }
            try cluster.registerTiny()
            let address = try HostPort(cluster.address)
            let values = (0..<192).map { Float($0) / 192 }
            var native = Infaas_V1_OnlineQueryRequest()
            native.variant = "tiny_a"
            native.input.tensor = Infaas_V1_Tensor(shape: [1, 3, 8, 8], values: values)
            var v2 = Inference_ModelInferRequest()
            v2.modelName = "tiny_a"
            var input = Inference_ModelInferRequest.InferInputTensor()
            input.datatype = "FP32"
            input.shape = [1, 3, 8, 8]
            input.contents.fp32Contents = values
            v2.inputs = [input]
            let burst = 8
            let (nativeErrors, v2Errors) = try await withGRPCClient(transport: .http2NIOPosix(target: address.target, transportSecurity: .plaintext),
                                                                   interceptors: try cluster.interceptors()) { grpc in
                let master = Infaas_V1_Master.Client(wrapping: grpc)
                let inference = Inference_GRPCInferenceService.Client(wrapping: grpc)
                _ = try await master.queryOnline(native)  // load the variant first: no query waits for a cold load
                func errors(_ send: @escaping @Sendable () async throws -> Void) async -> [RPCError?] {
                    await withTaskGroup(of: RPCError?.self) { group in
                        for _ in 0..<burst { group.addTask { await Self.rpcError(send) } }
                        var all: [RPCError?] = []
                        for await e in group { all.append(e) }
                        return all
                    }
                }
                let request = native, inferRequest = v2
                return (await errors { _ = try await master.queryOnline(request) }, await errors { _ = try await inference.modelInfer(inferRequest) })
            }
            for (api, results) in [("native", nativeErrors), ("v2 gRPC", v2Errors)] {
                let failures = results.compactMap { $0 }
                #expect(results.count == burst)
                #expect(!failures.isEmpty, "\(api): the burst should overflow a queue of one")
                #expect(failures.count < burst, "\(api): the queries the replica and queue took should be served")
                for failure in failures {
                    #expect(failure.code == .resourceExhausted, "\(api): \(failure)")
                    #expect(failure.message.contains("shed: the replica's queue is full (1 queued, max_queue_length 1)"), "\(api): \(failure.message)")
                }
            }
        }

        @Test func clusterRequiresItsTokenEndToEnd() async throws {
            var cluster = LiveCluster()
            try cluster.up()
            defer { cluster.down() }
            let cli = cluster.cli
            // The token file is the owner's alone.
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: cluster.tokenPath)[.posixPermissions] as? Int)
            #expect(mode == 0o600)
            let token = try ClusterToken.read(path: cluster.tokenPath)
            // The CLI finds it in the home: registering and querying work.
            try cluster.registerTiny()
            let query = try cli.run(["query", "online", "-i", try cluster.tensorFile(), "--raw-shape", "3,8,8", "-m", "tiny_a"])
            #expect(query.status == 0, "\(query.err)")
            // A wrong token (from the environment, or a file) is refused with a clear message.
            let wrongFile = cli.path("wrong-token")
            try ClusterToken.generate().write(path: wrongFile)
            for (arguments, environment) in [(["status"], ["INFAAS_TOKEN": ClusterToken.generate().secret]),
                                              (["status", "--token-file", wrongFile], [:])] {
                let refused = try cli.run(arguments, environment: environment)
                #expect(refused.status != 0)
                #expect(refused.err.contains("missing or wrong bearer token"), "\(refused.err)")
            }
            // A client with no token at all, straight to the master and to a worker.
            let worker = try #require(LiveCluster.readyWorkers(try cluster.status()).first?["report"] as? [String: Any])
            let workerAddress = try HostPort(try #require(worker["address"] as? String))
            let master = try HostPort(cluster.address)
            let anonymousMaster = await Self.rpcError {
                try await withGRPCClient(transport: RPCTransport.client(master)) { grpc in
                    _ = try await Infaas_V1_Master.Client(wrapping: grpc).clusterStatus(Infaas_V1_ClusterStatusRequest())
                }
            }
            #expect(anonymousMaster?.code == .unauthenticated)
            let anonymousWorker = await Self.rpcError {
                try await withGRPCClient(transport: RPCTransport.client(workerAddress)) { grpc in
                    _ = try await Infaas_V1_Worker.Client(wrapping: grpc).heartbeat(Infaas_V1_HeartbeatRequest())
                }
            }
            #expect(anonymousWorker?.code == .unauthenticated)
            // The secret is on no command line, in no log and in no status output.
            let status = try cli.run(["status"])
            #expect(status.status == 0 && !status.out.contains(token.secret))
            let pids = [try #require(worker["instanceId"] as? String)] + [String(try Self.masterPID(cli))]
            for pid in pids {
                let commandLine = String(decoding: FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data(), as: UTF8.self)
                #expect(!commandLine.isEmpty && !commandLine.contains(token.secret), "pid \(pid)")
            }
            let logs = try FileManager.default.contentsOfDirectory(atPath: cli.path("state/cluster/logs")).map { cli.path("state/cluster/logs/\($0)") }
            for log in logs + [cli.path("state/cluster/master.log")] {
                let text = try String(contentsOfFile: log, encoding: .utf8)
                #expect(!text.contains(token.secret), "\(log)")
            }
        }

        @Test(.enabled(if: SelfSignedCertificate.opensslAvailable, "needs the openssl command"))
        func clusterOverTLS() async throws {
            let certificate = try SelfSignedCertificate()
            defer { certificate.remove() }
            var cluster = LiveCluster()
            try cluster.up(["--tls-cert", certificate.certificate, "--tls-key", certificate.key])
            defer { cluster.down() }
            // The workers reported through TLS (up waited for them); the CLI trusts the recorded CA.
            try cluster.registerTiny()
            let query = try cluster.cli.run(["query", "online", "-i", try cluster.tensorFile(), "--raw-shape", "3,8,8", "-m", "tiny_a"])
            #expect(query.status == 0, "\(query.err)")
            #expect(try cluster.cli.run(["status", "--tls-ca", certificate.certificate]).status == 0)
            // The worker serves TLS too (the master called it for the query): plaintext fails, TLS with the token works.
            let worker = try #require(LiveCluster.readyWorkers(try cluster.status()).first?["report"] as? [String: Any])
            let workerAddress = try HostPort(try #require(worker["address"] as? String))
            let token = try ClusterToken.read(path: cluster.tokenPath)
            let plaintext = await Self.rpcError {
                try await withGRPCClient(transport: RPCTransport.client(workerAddress), interceptors: [BearerTokenClientInterceptor(token: token)]) { grpc in
                    _ = try await Infaas_V1_Worker.Client(wrapping: grpc).heartbeat(Infaas_V1_HeartbeatRequest(), options: .defaults.with(timeoutMs: 10_000))
                }
            }
            #expect(plaintext != nil)
            let secure = await Self.rpcError {
                try await withGRPCClient(transport: RPCTransport.client(workerAddress, trustRoots: certificate.certificate),
                                         interceptors: [BearerTokenClientInterceptor(token: token)]) { grpc in
                    _ = try await Infaas_V1_Worker.Client(wrapping: grpc).heartbeat(Infaas_V1_HeartbeatRequest(), options: .defaults.with(timeoutMs: 10_000))
                }
            }
            #expect(secure == nil, "\(String(describing: secure))")
        }

        static func rpcError(_ body: () async throws -> Void) async -> RPCError? {
            do { try await body(); return nil } catch { return error as? RPCError }
        }

        static func masterPID(_ cli: CLI) throws -> Int {
            let state = try #require(FileManager.default.contents(atPath: cli.path("state/cluster/cluster.json")))
            return try #require((try JSONSerialization.jsonObject(with: state) as? [String: Any])?["pid"] as? Int)
        }
    }
}
