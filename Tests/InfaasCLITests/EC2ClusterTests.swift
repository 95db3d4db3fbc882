import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import InfaasCloud
import InfaasRPC
import InfaasTestSupport
import Testing

/// Stands in for the software of the emulated instances: moto runs none, so for every running
/// instance of the cluster this starts the `infaas worker` its user-data names (on loopback), and
/// stops it when the instance stops or terminates — the rest of the flow is real.
final class EmulatedInstances: @unchecked Sendable {
    let ec2: EC2Client
    let cluster: String
    let cli: CLI
    let environment: [String: String]
    private let lock = NSLock()
    private var workers: [String: Process] = [:]
    private var userData: [String: String] = [:]
    private var stopped = false
    private var thread: Thread?

    init(ec2: EC2Client, cluster: String, cli: CLI, environment: [String: String]) {
        self.ec2 = ec2
        self.cluster = cluster
        self.cli = cli
        self.environment = environment
    }

    func start() {
        let thread = Thread { [self] in
            while !lock.withLock({ stopped }) {
                poll()
                Thread.sleep(forTimeInterval: 0.2)
            }
        }
        self.thread = thread
        thread.start()
    }

    /// The user-data each instance was started with.
    var scripts: [String: String] { lock.withLock { userData } }

    func poll() {
        guard let instances = try? ec2.describeInstances(filters: ["tag:\(EC2ProviderSettings.clusterTag)": [cluster]]) else { return }
        for instance in instances {
            let process = lock.withLock { workers[instance.id] }
            if instance.state == "running", process == nil || process?.isRunning == false {
                guard let script = try? ec2.userData(of: instance.id), let arguments = WorkerUserData.arguments(in: script) else { continue }
                lock.withLock { userData[instance.id] = script }
                boot(instance.id, arguments: arguments, environment: WorkerUserData.environment(in: script))
            } else if instance.state != "running", instance.state != "pending", let process, process.isRunning {
                process.terminate()  // the machine went away
            }
        }
    }

    /// Runs the user-data's command line as the instance would, on loopback.
    func boot(_ id: String, arguments: [String], environment extra: [String: String]) {
        var arguments = arguments
        for (flag, value) in [("--port", "0"), ("--bind-host", "127.0.0.1")] {
            if let i = arguments.firstIndex(of: flag), i + 1 < arguments.count { arguments[i + 1] = value }
        }
        arguments += ["--instance-id", id, "--advertise-host", "127.0.0.1", "--model-cache", cli.path("vm-\(id)/models")]
        let log = cli.path("vm-\(id).log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment.merging(extra) { _, new in new }) { _, new in new }
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        guard (try? process.run()) != nil else { return }
        lock.withLock { workers[id] = process }
    }

    func stop() {
        lock.withLock { stopped = true }
        for process in lock.withLock({ Array(workers.values) }) where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    var runningWorkers: Int { lock.withLock { workers.values.filter(\.isRunning).count } }
}

extension LiveProcesses {
    @Suite(.serialized, .enabled(if: onnxRuntimeAvailable, "needs ONNX Runtime (pip install onnxruntime, or INFAAS_ORT_LIB)"))
    struct EC2ClusterTests {
        static let secret = "test-secret-that-must-never-be-logged-7f3a9c"

        /// `infaas up --provider ec2` against an emulator: the initial worker is an instance with the
        /// configured type, tags and user-data; a burst makes the VM autoscaler launch a second one,
        /// and when the load stops it stops one (DELETE_MACHINES=0). Then the emulator dies: a
        /// scale-out fails with a bounded, clear error while the master keeps serving. No log holds
        /// the secret key.
        @Test func autoscalerLaunchesAndStopsInstancesAndSurvivesTheEmulatorGoingDown() throws {
            guard let moto = try MotoServer.startIfInstalled() else { return }
            defer { moto.stop() }
            let cli = CLI()
            let credentials = AWSCredentials(accessKeyID: "AKIDINFAASTEST", secretAccessKey: Self.secret)
            let aws = AWSConfiguration(region: "us-west-2", credentials: credentials, endpointOverride: moto.endpoint)
            let environment = ["AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_REGION": "us-west-2",
                               "AWS_ENDPOINT_URL": moto.endpoint, "AWS_PROFILE": "", "INFAAS_HOME": cli.path("state")]
            let ec2 = EC2Client(configuration: aws, http: HTTPClient(timeout: 5, connectTimeout: 1, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05)))
            // One-time set-up as docs/aws.md describes: a security group and the workers' instance profile.
            let group = try ec2.query.call(service: "ec2", action: "CreateSecurityGroup", version: EC2Client.version,
                                           parameters: [("GroupName", "infaas-workers"), ("GroupDescription", "infaas workers")], idempotent: false)
            let groupID = try #require(XMLTree.parse(group)?.string("groupId"))
            let iam = AWSQueryClient(endpoint: moto.endpoint, region: "us-east-1", credentials: credentials)
            _ = try iam.call(service: "iam", action: "CreateInstanceProfile", version: "2010-05-08",
                             parameters: [("InstanceProfileName", "infaas-worker")], idempotent: false)
            let clusterName = "ci-\(UUID().uuidString.prefix(8).lowercased())"
            let config = cli.path("cluster.yaml")
            try """
                CLUSTER_NAME: \(clusterName)
                REGION: us-west-2
                ZONE: us-west-2a
                SECURITY_GROUP: \(groupID)
                IAM_ROLE: infaas-worker
                WORKER_IMAGE: ami-12c6146b
                KEY_NAME: worker_key
                NUM_INIT_CPU_WORKERS: 1
                MAX_CPU_WORKERS: 2
                MACHINE_TYPE_CPU: m5.xlarge
                DELETE_MACHINES: 0
                MASTER_ADDRESS: 127.0.0.1
                MAX_TRY: 10
                MODELDB: s3://infaas-models-ci/registered
                CONFIGDB: s3://infaas-config-ci/configs
                """.write(toFile: config, atomically: true, encoding: .utf8)

            let vms = EmulatedInstances(ec2: ec2, cluster: clusterName, cli: cli, environment: environment)
            vms.start()
            defer { vms.stop() }
            let up = try cli.run(["up", "--provider", "ec2", "--config", config, "--port", "0", "--bind-host", "127.0.0.1", "--wait-s", "60",
                                  "--worker-cores", "1",
                                  "--master-arg=--report-interval-ms", "--master-arg=200", "--master-arg=--boot-timeout-s", "--master-arg=30",
                                  "--master-arg=--policy-set", "--master-arg=vm_interval_ms=500",
                                  "--master-arg=--policy-set", "--master-arg=utilization_threshold=20",
                                  "--master-arg=--policy-set", "--master-arg=backoff_iterations=2",
                                  "--master-arg=--policy-set", "--master-arg=scale_in_iterations=6"], environment: environment)
            var outputs = up.out + up.err
            defer { _ = try? cli.run(["down", "--yes", "--action", "terminate"], environment: environment) }
            try #require(up.status == 0, "infaas up --provider ec2 failed: \(up.out) \(up.err)")
            let stateData = try #require(FileManager.default.contents(atPath: cli.path("state/cluster/cluster.json")))
            let master = try #require((try JSONSerialization.jsonObject(with: stateData) as? [String: Any])?["master"] as? String)

            let token = try ClusterToken.read(path: cli.path("state/cluster/token"))
            // The initial worker is an instance with the configured type, tags and user-data.
            let first = try #require(try ec2.describeInstances(filters: ["tag:\(EC2ProviderSettings.clusterTag)": [clusterName]]).first)
            #expect(first.instanceType == "m5.xlarge")
            #expect(first.tags["Name"] == "infaas-worker-cpu-0" && first.tags[EC2ProviderSettings.hardwareTag] == "cpu")
            let script = try ec2.userData(of: first.id)
            let arguments = try #require(WorkerUserData.arguments(in: script))
            #expect(Array(arguments.prefix(3)) == ["worker", "--master", master])
            #expect(arguments.contains("infaas-worker-cpu-0") && script.contains("169.254.169.254"))
            #expect(WorkerUserData.environment(in: script)["INFAAS_TOKEN"] == token.secret && !arguments.contains(token.secret),
                    "the cluster token reaches the worker through its environment file, not its command line")

            // A burst: the one worker runs hot, the autoscaler launches a second instance.
            // The model comes from S3: registered from the user's upload, copied into MODELDB (which
            // the master created), downloaded by the EC2 worker (region and endpoint from its user-data).
            let live = LiveCluster(cli: cli, address: master)
            let s3 = S3Client(configuration: aws)
            try s3.createBucket("user-uploads")
            try live.profileTiny(name: "tiny_a")
            try s3.upload(directory: cli.path("repo/tiny_a"), to: ObjectLocation(bucket: "user-uploads", prefix: "tiny_a/"))
            try FileManager.default.removeItem(atPath: cli.path("repo/tiny_a"))
            // The config goes to CONFIGDB and is registered by name, as the original's infaas_modelregistration did.
            try s3.createBucket("infaas-config-ci")
            try s3.putObject(bucket: "infaas-config-ci", key: "configs/tiny_a.config", body: try Data(contentsOf: URL(fileURLWithPath: cli.path("configs/tiny_a.config"))))
            let unknownConfig = try cli.run(["register", "no_such.config", "s3://user-uploads/tiny_a/"], environment: environment)
            #expect(unknownConfig.status != 0 && unknownConfig.err.contains("Failed to GET configuration file s3://infaas-config-ci/configs/no_such.config"),
                    "\(unknownConfig.err)")
            let legacy = try cli.run(["no_such.config", "user-uploads/tiny_a/"], as: "infaas_modelregistration", environment: environment)
            #expect(legacy.out.contains("Model registration for no_such... FAILED") && legacy.out.contains("Failed to GET configuration file"), "\(legacy.out)")
            let registered = try cli.run(["register", "tiny_a.config", "s3://user-uploads/tiny_a/"], environment: environment)
            try #require(registered.status == 0, "\(registered.out) \(registered.err)")
            #expect(try s3.listObjects(bucket: "infaas-models-ci", prefix: "registered/tiny_a/").contains { $0.key.hasSuffix("model.onnx") })
            #expect(arguments.contains("--endpoint-url") && arguments.contains("us-west-2"), "EC2 workers need the region and endpoint: \(arguments)")
            let warm = try cli.run(["query", "online", "-i", try live.tensorFile(), "--raw-shape", "3,8,8", "-m", "tiny_a", "--master", master],
                                   environment: environment)
            try #require(warm.status == 0, "the EC2 worker could not serve the S3 model: \(warm.err)")
            #expect(FileManager.default.fileExists(atPath: cli.path("vm-\(first.id)/models/tiny_a/model.onnx")), "the worker's cache holds the S3 copy")
            let address = try HostPort(master)
            let burst = Burst(address: address, token: token)
            burst.start(clients: 6)
            let decided = Date()
            let launched = try live.wait(seconds: 60) { s in ((s["workers"] as? [[String: Any]]) ?? []).count >= 2 }
            let scaledOut = try live.wait(seconds: 60) { LiveCluster.readyWorkers($0).count >= 2 }
            let serving = Date()
            burst.stop()
            #expect(launched && scaledOut, "no second worker joined under load (served \(burst.served), failed \(burst.failed))")
            let all = try ec2.describeInstances(filters: ["tag:\(EC2ProviderSettings.clusterTag)": [clusterName]])
            #expect(all.count == 2 && all.allSatisfy { $0.instanceType == "m5.xlarge" })
            #expect(all.contains { $0.tags["Name"] == "infaas-worker-cpu-1" })
            print("[ec2-test] scale-out: burst start to second worker ready \(String(format: "%.1f", serving.timeIntervalSince(decided))) s")

            // Load gone: one instance is stopped (DELETE_MACHINES=0) and its worker leaves.
            let scaledIn = try live.wait(seconds: 60) { LiveCluster.readyWorkers($0).count == 1 }
            #expect(scaledIn, "no scale-in after the burst")
            var stoppedOne = false
            for _ in 0..<50 where !stoppedOne {
                stoppedOne = (try? ec2.describeInstances(filters: ["tag:\(EC2ProviderSettings.clusterTag)": [clusterName]]))?.filter { $0.state == "stopped" }.count == 1
                if !stoppedOne { Thread.sleep(forTimeInterval: 0.2) }
            }
            #expect(stoppedOne, "the scaled-in instance was not stopped")

            // The master dies and a new one starts on the same address: it finds the running instance
            // by its tags and waits for its worker instead of launching another.
            let firstLog = cli.path("state/cluster/master.log")
            let recorded = try #require(FileManager.default.contents(atPath: cli.path("state/cluster/cluster.json")))
            let state = try #require(try JSONSerialization.jsonObject(with: recorded) as? [String: Any])
            let firstPID = try #require(state["pid"] as? Int)
            kill(Int32(firstPID), SIGKILL)
            let instancesBefore = try ec2.describeInstances(filters: ["tag:\(EC2ProviderSettings.clusterTag)": [clusterName]]).count
            let masterLog = cli.path("master-restarted.log")
            _ = FileManager.default.createFile(atPath: masterLog, contents: nil)
            let restarted = Process()
            restarted.executableURL = CLI.binary
            restarted.arguments = ["master", "--home", cli.path("state"), "--port", String(address.port), "--bind-host", "127.0.0.1",
                                   "--provider", "ec2", "--ec2-config", config, "--workers", "cpu=1", "--max-workers", "cpu=2",
                                   "--token-file", cli.path("state/cluster/token"), "--report-interval-ms", "200", "--worker-cores", "1",
                                   "--policy-set", "vm_interval_ms=500", "--policy-set", "utilization_threshold=20", "--policy-set", "backoff_iterations=2"]
            restarted.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            restarted.standardOutput = FileHandle(forWritingAtPath: masterLog)
            restarted.standardError = FileHandle(forWritingAtPath: masterLog)
            try restarted.run()
            defer { restarted.terminate(); for _ in 0..<50 where restarted.isRunning { Thread.sleep(forTimeInterval: 0.1) } }
            let rejoined = try live.wait(seconds: 30) { LiveCluster.readyWorkers($0).count == 1 }
            #expect(rejoined, "the running worker did not rejoin the restarted master")
            let restartedText = (try? String(contentsOfFile: masterLog, encoding: .utf8)) ?? ""
            #expect(restartedText.contains("found 1 running worker(s) of this cluster through the ec2 provider"), "\(restartedText.suffix(600))")
            #expect(try ec2.describeInstances(filters: ["tag:\(EC2ProviderSettings.clusterTag)": [clusterName]]).count == instancesBefore)
            #expect((try live.status()["workersLaunched"]).map { "\($0)" } == nil, "the restarted master launched a worker")

            // The emulator goes down: the next scale-out fails, boundedly and clearly; queries still get answers.
            moto.stop()
            let second = Burst(address: address, token: token)
            second.start(clients: 6)
            var failedClearly = false
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, !failedClearly {
                let log = (try? String(contentsOfFile: masterLog, encoding: .utf8)) ?? ""
                failedClearly = log.contains("EC2 could not start") && log.contains("did not answer")
                if !failedClearly { Thread.sleep(forTimeInterval: 0.2) }
            }
            second.stop()
            #expect(failedClearly, "no clear launch failure in the master log")
            let query = try cli.run(["query", "online", "-i", try live.tensorFile(), "--raw-shape", "3,8,8", "-m", "tiny_a", "--master", master])
            #expect(query.status == 0, "the master stopped serving when the emulator went down: \(query.err)")
            outputs += query.out + query.err

            // The secret is nowhere: not in the master's log, the workers' logs or any output.
            let logs = try FileManager.default.contentsOfDirectory(atPath: cli.home.path).filter { $0.hasSuffix(".log") }.map { cli.path($0) } + [firstLog]
            for log in logs {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                #expect(!text.contains(Self.secret), "\(log) contains the secret access key")
            }
            #expect(!outputs.contains(Self.secret))
            let masterText = ((try? String(contentsOfFile: firstLog, encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: masterLog, encoding: .utf8)) ?? "")
            for line in masterText.split(separator: "\n") where line.contains("AWS calls for this") || line.contains("after its launch decision") { print("[ec2-test] \(line)") }
        }
    }
}

/// Concurrent clients querying `tiny_a` until stopped (errors counted, not thrown).
final class Burst: @unchecked Sendable {
    let address: HostPort
    let token: ClusterToken
    private let lock = NSLock()
    private var running = true
    private(set) var served = 0
    private(set) var failed = 0
    private var task: Task<Void, Never>?

    init(address: HostPort, token: ClusterToken) {
        self.address = address
        self.token = token
    }

    func start(clients: Int) {
        let address = self.address, token = self.token
        task = Task {
            try? await withGRPCClient(transport: .http2NIOPosix(target: address.target, transportSecurity: .plaintext),
                                      interceptors: [BearerTokenClientInterceptor(token: token)]) { grpc in
                let client = Infaas_V1_Master.Client(wrapping: grpc)
                await withTaskGroup(of: Void.self) { group in
                    for c in 0..<clients {
                        group.addTask {
                            var request = Infaas_V1_OnlineQueryRequest()
                            request.variant = "tiny_a"
                            request.input.tensor = Infaas_V1_Tensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float(($0 + c) % 11) / 11 })
                            while self.lock.withLock({ self.running }) {
                                let ok = (try? await client.queryOnline(request)) != nil
                                self.lock.withLock { if ok { self.served += 1 } else { self.failed += 1 } }
                                if !ok { try? await Task.sleep(for: .milliseconds(20)) }
                            }
                        }
                    }
                }
            }
        }
    }

    func stop() {
        lock.withLock { running = false }
    }
}

@Suite("infaas up/down --provider ec2: bad input")
struct EC2CommandInputTests {
    @Test func mistakesAreCaughtBeforeAnythingStarts() throws {
        let cli = CLI()
        let noCredentials = ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "", "AWS_REGION": "",
                             "AWS_SHARED_CREDENTIALS_FILE": cli.path("none"), "AWS_CONFIG_FILE": cli.path("none"),
                             "AWS_EC2_METADATA_DISABLED": "true"]
        let missing = try cli.run(["up", "--provider", "ec2"])
        #expect(missing.status != 0 && missing.err.contains("--config"))
        let both = try cli.run(["up", "--local", "--provider", "ec2", "--config", "x.yaml"])
        #expect(both.status != 0 && both.err.contains("contradict"))
        try "WORKER_IMAGE: ami-1\nMAX_CPU_WORKER: 2\n".write(toFile: cli.path("typo.yaml"), atomically: true, encoding: .utf8)
        let typo = try cli.run(["up", "--provider", "ec2", "--config", cli.path("typo.yaml")], environment: noCredentials)
        #expect(typo.status != 0 && typo.err.contains("unknown key MAX_CPU_WORKER"), "\(typo.err)")
        try "WORKER_IMAGE: ami-1\n".write(toFile: cli.path("ok.yaml"), atomically: true, encoding: .utf8)
        let unsigned = try cli.run(["up", "--provider", "ec2", "--config", cli.path("ok.yaml")], environment: noCredentials)
        #expect(unsigned.status != 0 && unsigned.err.contains("no AWS credentials"), "\(unsigned.err)")
        #expect(!FileManager.default.fileExists(atPath: cli.path("state/cluster/cluster.json")), "no cluster may be recorded")

        // down on an EC2 cluster with nobody to ask and no --action: a clear refusal, nothing stopped.
        try FileManager.default.createDirectory(atPath: cli.path("state/cluster"), withIntermediateDirectories: true)
        try #"{"master":"127.0.0.1:1","pid":999999,"log":"x","startedAt":0,"provider":"ec2","config":"\#(cli.path("ok.yaml"))"}"#
            .write(toFile: cli.path("state/cluster/cluster.json"), atomically: true, encoding: .utf8)
        let down = try cli.run(["down"])
        #expect(down.status != 0 && down.err.contains("--yes --action"), "\(down.err)")
        let yesOnly = try cli.run(["down", "--yes"])
        #expect(yesOnly.status != 0 && yesOnly.err.contains("--action"), "\(yesOnly.err)")
        #expect(FileManager.default.fileExists(atPath: cli.path("state/cluster/cluster.json")))
    }
}
