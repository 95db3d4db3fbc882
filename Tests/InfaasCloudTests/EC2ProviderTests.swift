import Foundation
import InfaasCloud
import InfaasCore
import InfaasTestSupport
import Testing

@Suite("EC2 provider against the emulator")
struct EC2ProviderTests {
    func provider(_ moto: MotoServer, action: RetireAction, cluster: String = "unit") -> EC2Provider {
        let aws = AWSConfiguration(region: "us-west-2", credentials: AWSCredentials(accessKeyID: "AKIDUNIT", secretAccessKey: "unit-secret"),
                                   endpointOverride: moto.endpoint)
        let settings = EC2ProviderSettings(cluster: cluster, imageID: "ami-12c6146b", instanceTypes: [.cpu: "c5.large", .gpu: "g4dn.xlarge"],
                                           retireAction: action, workerArguments: ["--policy", "infaas"],
                                           workerEnvironment: ["INFAAS_TOKEN": "tok'en"], maxPolls: 5, pollInterval: .milliseconds(50))
        return EC2Provider(settings: settings, ec2: EC2Client(configuration: aws))
    }

    @Test func launchTagsRetireAndRestartByName() async throws {
        guard let moto = try MotoServer.startIfInstalled() else { return }
        defer { moto.stop() }
        let ec2 = provider(moto, action: .stop)
        let worker = try await ec2.launch(WorkerLaunch(name: "infaas-worker-gpu-0", hardware: .gpu, slack: true, masterAddress: "10.0.0.5:50052"))
        let instance = try #require(try ec2.ec2.describeInstances(ids: [worker.instanceID]).first)
        #expect(instance.state == "running" && instance.instanceType == "g4dn.xlarge")
        #expect(instance.tags == ["Name": "infaas-worker-gpu-0", "infaas:cluster": "unit", "infaas:hardware": "gpu"])
        let script = try ec2.ec2.userData(of: worker.instanceID)
        #expect(WorkerUserData.arguments(in: script) == ["worker", "--master", "10.0.0.5:50052", "--name", "infaas-worker-gpu-0", "--hardware", "gpu",
                                                         "--port", "50051", "--bind-host", "0.0.0.0", "--slack", "--policy", "infaas"])
        #expect(WorkerUserData.environment(in: script) == ["INFAAS_TOKEN": "tok'en"])
        #expect(!script.contains("--token"), "the token must not be on the worker's command line")
        #expect(await ec2.isAlive(worker))
        #expect(try await ec2.existingWorkers() == [worker])
        // Another cluster's provider sees none of it.
        #expect(try await provider(moto, action: .stop, cluster: "other").existingWorkers().isEmpty)

        try await ec2.retire(worker)
        #expect(try ec2.ec2.describeInstances(ids: [worker.instanceID]).first?.state == "stopped")
        #expect(await !ec2.isAlive(worker))
        #expect(try await ec2.existingWorkers().isEmpty)
        // The next launch of that name restarts the stopped instance with the new master's address.
        let again = try await ec2.launch(WorkerLaunch(name: "infaas-worker-gpu-0", hardware: .gpu, masterAddress: "10.0.0.9:50052"))
        #expect(again.instanceID == worker.instanceID)
        #expect(WorkerUserData.arguments(in: try ec2.ec2.userData(of: again.instanceID))?.contains("10.0.0.9:50052") == true)
        #expect(try ec2.ec2.describeInstances(ids: [again.instanceID]).first?.state == "running")
        #expect(try ec2.clusterInstances().count == 1)
    }

    @Test func terminateAndForget() async throws {
        guard let moto = try MotoServer.startIfInstalled() else { return }
        defer { moto.stop() }
        let terminating = provider(moto, action: .terminate)
        let a = try await terminating.launch(WorkerLaunch(name: "infaas-worker-cpu-0", hardware: .cpu, masterAddress: "m:1"))
        try await terminating.retire(a)
        #expect(try terminating.ec2.describeInstances(ids: [a.instanceID]).first?.state == "terminated")

        let forgetting = provider(moto, action: .forget, cluster: "forget")
        let b = try await forgetting.launch(WorkerLaunch(name: "infaas-worker-cpu-0", hardware: .cpu, masterAddress: "m:1"))
        try await forgetting.retire(b)
        let kept = try #require(try forgetting.ec2.describeInstances(ids: [b.instanceID]).first)
        #expect(kept.state == "running" && kept.tags[EC2ProviderSettings.retiredTag] == "true")
        #expect(try await forgetting.existingWorkers().isEmpty, "a forgotten instance is not adopted")
        // Reusing its name takes the forgotten instance back (restarted with fresh user-data) instead of a new one.
        let c = try await forgetting.launch(WorkerLaunch(name: "infaas-worker-cpu-0", hardware: .cpu, masterAddress: "m:2"))
        #expect(c.instanceID == b.instanceID)
        #expect(try forgetting.ec2.describeInstances(ids: [c.instanceID]).first?.tags[EC2ProviderSettings.retiredTag] == nil)
    }

    @Test func awsErrorsBecomeClearProviderErrors() async throws {
        guard let moto = try MotoServer.startIfInstalled() else { return }
        defer { moto.stop() }
        var settings = provider(moto, action: .stop).settings
        settings.securityGroups = ["sg-doesnotexist"]
        let ec2 = EC2Provider(settings: settings, ec2: provider(moto, action: .stop).ec2)
        await #expect {
            try await ec2.launch(WorkerLaunch(name: "w", hardware: .cpu, masterAddress: "m:1"))
        } throws: { error in
            "\(error)".contains("InvalidGroup.NotFound") && "\(error)".contains("SECURITY_GROUP")
        }
        await #expect { try await ec2.launch(WorkerLaunch(name: "w", hardware: .inferentia, masterAddress: "m:1")) } throws: {
            "\($0)".contains("MACHINE_TYPE_INFERENTIA")
        }
    }
}

@Suite("Cluster config")
struct ClusterConfigTests {
    static let minimal = "WORKER_IMAGE: ami-0abc\n"

    @Test func theOriginalsKeysParse() throws {
        let config = try ClusterConfig.parse("""
            CLUSTER_NAME: lab
            REGION: us-west-2
            ZONE: us-west-2a
            SECURITY_GROUP: [sg-1, sg-2]
            IAM_ROLE: infaas-worker
            MODELDB: my-models
            CONFIGDB: s3://my-config
            WORKER_IMAGE: ami-0abc
            KEY_NAME: worker_key
            NUM_INIT_CPU_WORKERS: 1
            NUM_INIT_GPU_WORKERS: 2
            MAX_CPU_WORKERS: 3
            MAX_GPU_WORKERS: 4
            SLACK_GPU: 1
            MACHINE_TYPE_GPU: g5.xlarge
            DELETE_MACHINES: 1
            """)
        #expect(config.clusterName == "lab" && config.region == "us-west-2" && config.zone == "us-west-2a")
        #expect(config.securityGroups == ["sg-1", "sg-2"] && config.iamRole == "infaas-worker")
        #expect(config.modelBucket == "s3://my-models" && config.configBucket == "s3://my-config")
        #expect(config.initialWorkers[.gpu] == 2 && config.maximumWorkers[.cpu] == 3 && config.slackGPUs == 1)
        #expect(config.machineTypes[.gpu] == "g5.xlarge" && config.machineTypes[.cpu] == "m5.2xlarge")
        #expect(config.retireAction == .terminate)
        let defaults = try ClusterConfig.parse(Self.minimal)
        #expect(defaults.retireAction == .forget && defaults.initialWorkers[.cpu] == 1 && defaults.maxTry == 40)
    }

    @Test func mistakesAreNamed() {
        let cases: [(String, String)] = [
            ("REGION: us-west-2\n", "WORKER_IMAGE is required"),
            ("WORKER_IMAGE: ubuntu\n", "not an AMI"),
            (Self.minimal + "NUM_INIT_CPU_WORKER: 2\n", "unknown key NUM_INIT_CPU_WORKER (did you mean NUM_INIT_CPU_WORKERS?)"),
            (Self.minimal + "NUM_INIT_CPU_WORKERS: 3\nMAX_CPU_WORKERS: 2\n", "NUM_INIT_CPU_WORKERS (3) is above MAX_CPU_WORKERS (2)"),
            (Self.minimal + "DELETE_MACHINES: 5\n", "DELETE_MACHINES must be 0 (stop), 1 (terminate) or 2"),
            (Self.minimal + "SLACK_GPU: 1\n", "SLACK_GPU (1) must be below NUM_INIT_GPU_WORKERS (0)"),
            (Self.minimal + "NUM_INIT_CPU_WORKERS: two\n", "must be a whole number"),
            (Self.minimal + "NUM_INIT_CPU_WORKERS: 0\n", "no initial workers"),
            (Self.minimal + "CLUSTER_NAME: a b\n", "CLUSTER_NAME"),
            (Self.minimal + "ENDPOINT_URL: nope\n", "not a URL"),
            ("- a\n- b\n", "must be a mapping"),
            ("WORKER_IMAGE: [ami-1\n", "not valid YAML"),
        ]
        for (text, message) in cases {
            #expect { try ClusterConfig.parse(text) } throws: { "\($0)".contains(message) }
        }
    }

    /// The documented example parses once its placeholders are filled in (and not before).
    @Test func theExampleConfigStaysValid() throws {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let text = try String(contentsOf: root.appendingPathComponent("experiments/cluster-ec2.yaml"), encoding: .utf8)
        #expect { try ClusterConfig.parse(text) } throws: { "\($0)".contains("placeholder") }
        let filled = text.replacingOccurrences(of: "<sg-0123456789abcdef0>", with: "sg-0123456789abcdef0")
            .replacingOccurrences(of: "<ami-0123456789abcdef0>", with: "ami-0123456789abcdef0")
            .replacingOccurrences(of: "<your-infaas-models>", with: "my-models").replacingOccurrences(of: "<your-infaas-config>", with: "my-config")
        let config = try ClusterConfig.parse(filled)
        #expect(config.retireAction == .forget && config.workerImage == "ami-0123456789abcdef0" && config.modelBucket == "s3://my-models")
    }

    /// The start-up script itself, run by bash in a scratch root with stand-ins for the metadata
    /// service (`curl`) and systemd: it installs the per-boot hook and the 0600 token file, and
    /// starts the worker with the instance's id and address.
    @Test func userDataScriptRunsWithStandIns() throws {
        let root = NSTemporaryDirectory() + "userdata-\(UUID().uuidString)"
        let stubs = root + "/stubs"
        try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
        let standIns = [
            "curl": "#!/bin/bash\ncase \"$*\" in *api/token*) echo tok;; *instance-id*) echo i-0abc;; *local-ipv4*) echo 10.1.2.3;; *) exit 22;; esac\n",
            "systemctl": "#!/bin/bash\nexit 0\n",
            "systemd-run": "#!/bin/bash\nprintf '%s\\n' \"$@\" > \"$INFAAS_ROOT/systemd-run.args\"\n",
        ]
        for (name, text) in standIns {
            try text.write(toFile: "\(stubs)/\(name)", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(stubs)/\(name)")
        }
        let data = WorkerUserData(binary: "/opt/infaas/bin/infaas", arguments: ["worker", "--master", "10.0.0.5:50052", "--name", "infaas-worker-cpu-0"],
                                  environment: ["INFAAS_TOKEN": "s3cr3t"])
        try data.script.write(toFile: root + "/user-data", atomically: true, encoding: .utf8)
        let bash = Process()
        bash.executableURL = URL(fileURLWithPath: "/bin/bash")
        bash.arguments = [root + "/user-data"]
        bash.environment = ["INFAAS_ROOT": root, "PATH": "\(stubs):/usr/bin:/bin"]
        try bash.run()
        bash.waitUntilExit()
        #expect(bash.terminationStatus == 0)
        let started = (try? String(contentsOfFile: root + "/systemd-run.args", encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        #expect(started == ["--unit", "infaas-worker", "--collect", "--property=EnvironmentFile=/etc/infaas/worker.env", "/opt/infaas/bin/infaas",
                            "worker", "--master", "10.0.0.5:50052", "--name", "infaas-worker-cpu-0", "--instance-id", "i-0abc", "--advertise-host", "10.1.2.3"])
        let envFile = root + "/etc/infaas/worker.env"
        #expect((try? String(contentsOfFile: envFile, encoding: .utf8))?.contains("INFAAS_TOKEN='s3cr3t'") == true)
        #expect((try FileManager.default.attributesOfItem(atPath: envFile)[.posixPermissions] as? Int) == 0o600)
        let hook = root + "/var/lib/cloud/scripts/per-boot/infaas-worker.sh"
        #expect((try FileManager.default.attributesOfItem(atPath: hook)[.posixPermissions] as? Int) == 0o700)
        #expect((try? String(contentsOfFile: hook, encoding: .utf8))?.hasSuffix("exec bash /run/infaas-user-data\n") == true)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/bin/bash")
        check.arguments = ["-n", hook]
        try check.run()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "the per-boot hook is valid bash")
    }

    @Test func userDataQuotingRoundTrips() {
        let data = WorkerUserData(binary: "/opt/infaas/bin/infaas", arguments: ["worker", "--name", "it's a \"name\"", "--x", ""],
                                  environment: ["INFAAS_TOKEN": "a'b c"])
        #expect(WorkerUserData.arguments(in: data.script) == data.arguments)
        #expect(WorkerUserData.environment(in: data.script) == data.environment)
        #expect(data.script.hasPrefix("#!/bin/bash\n"))
    }
}
