import Foundation
public import InfaasCore
public import Logging

/// What happens to a scaled-in worker's instance (the original's `DELETE_MACHINES`).
public enum RetireAction: String, Sendable, CaseIterable {
    /// 0: stop the instance (restarted by name on a later scale-out; its disk survives).
    case stop
    /// 1: terminate it.
    case terminate
    /// 2: leave it running, tag it retired, and let the master forget it.
    case forget

    /// `DELETE_MACHINES` 0/1/2.
    public init?(deleteMachines: Int) {
        switch deleteMachines {
        case 0: self = .stop
        case 1: self = .terminate
        case 2: self = .forget
        default: return nil
        }
    }
}

/// How the EC2 provider starts workers: the keys of the original's `start_infaas.sh`.
public struct EC2ProviderSettings: Sendable {
    /// Tags every instance `infaas:cluster=<cluster>`: how a restarted master finds its workers.
    public var cluster: String
    /// `WORKER_IMAGE`: an AMI with `infaas` installed at ``workerBinary``.
    public var imageID: String
    /// `MACHINE_TYPE_CPU/GPU/INFERENTIA`.
    public var instanceTypes: [HardwareClass: String]
    /// `SECURITY_GROUP` (ids or default-VPC names).
    public var securityGroups: [String]
    /// `IAM_ROLE`: the instance profile that lets workers read the model bucket.
    public var iamInstanceProfile: String?
    /// `KEY_NAME`.
    public var keyName: String?
    public var subnetID: String?
    /// `ZONE`.
    public var availabilityZone: String?
    /// `DELETE_MACHINES`.
    public var retireAction: RetireAction
    public var workerBinary: String
    /// The port workers listen on (`--port`); they advertise their private address.
    public var workerPort: Int
    /// Extra `infaas worker` arguments (`--policy`, `--report-interval-ms`, AWS settings).
    public var workerArguments: [String]
    /// Environment for the worker process (the cluster token), kept off the command line.
    public var workerEnvironment: [String: String]
    /// DescribeInstances polls until `running` (the original's `MAX_TRY`) and their spacing.
    public var maxPolls: Int
    public var pollInterval: Duration

    public init(cluster: String, imageID: String, instanceTypes: [HardwareClass: String] = Self.defaultInstanceTypes,
                securityGroups: [String] = [], iamInstanceProfile: String? = nil, keyName: String? = nil, subnetID: String? = nil,
                availabilityZone: String? = nil, retireAction: RetireAction = .terminate, workerBinary: String = "/opt/infaas/bin/infaas",
                workerPort: Int = 50051, workerArguments: [String] = [], workerEnvironment: [String: String] = [:],
                maxPolls: Int = 40, pollInterval: Duration = .seconds(2)) {
        self.cluster = cluster
        self.imageID = imageID
        self.instanceTypes = instanceTypes
        self.securityGroups = securityGroups
        self.iamInstanceProfile = iamInstanceProfile
        self.keyName = keyName
        self.subnetID = subnetID
        self.availabilityZone = availabilityZone
        self.retireAction = retireAction
        self.workerBinary = workerBinary
        self.workerPort = workerPort
        self.workerArguments = workerArguments
        self.workerEnvironment = workerEnvironment
        self.maxPolls = maxPolls
        self.pollInterval = pollInterval
    }

    /// The original's machine types (reference §4.3).
    public static let defaultInstanceTypes: [HardwareClass: String] = [.cpu: "m5.2xlarge", .gpu: "p3.2xlarge", .inferentia: "inf1.2xlarge"]

    /// Tag keys.
    public static let clusterTag = "infaas:cluster", hardwareTag = "infaas:hardware", retiredTag = "infaas:retired"
}

/// Starts workers as EC2 instances (reference `start_vm.sh`): RunInstances with the cluster's
/// image, type, network, role, tags and a user-data script that starts `infaas worker`; or, as
/// the original did, restarts the stopped instance of the same name. Polls until `running`; the
/// master then waits (bounded) for the worker's first report.
public final class EC2Provider: WorkerProvider, Sendable {
    public let name = "ec2"
    public let settings: EC2ProviderSettings
    public let ec2: EC2Client
    let logger: Logger

    public init(settings: EC2ProviderSettings, ec2: EC2Client, logger: Logger = Logger(label: "infaas.ec2")) {
        self.settings = settings
        self.ec2 = ec2
        self.logger = logger
    }

    /// One EC2 call, made off the cooperative thread pool (the client blocks on libcurl).
    func aws<T: Sendable>(_ body: @escaping @Sendable (EC2Client) throws(AWSError) -> T) async throws(AWSError) -> T {
        let ec2 = self.ec2
        return try await BlockingIO.run { () throws(AWSError) -> T in try body(ec2) }
    }


    static let live = ["pending", "running"]
    static let restartable = ["stopping", "stopped"]

    /// The user-data for a worker.
    public func userData(for request: WorkerLaunch) -> WorkerUserData {
        let arguments = ["worker", "--master", request.masterAddress, "--name", request.name, "--hardware", request.hardware.rawValue,
                         "--port", String(settings.workerPort), "--bind-host", "0.0.0.0"]
            + (request.slack ? ["--slack"] : []) + settings.workerArguments
        var environment = settings.workerEnvironment
        if !request.secret.isEmpty { environment[LaunchedWorker.secretVariable] = request.secret }  // the 0600 worker.env
        return WorkerUserData(binary: settings.workerBinary, arguments: arguments, environment: environment)
    }

    public func launch(_ request: WorkerLaunch) async throws(ProviderError) -> LaunchedWorker {
        let counter = AWSCallCounter()
        let result: Result<LaunchedWorker, ProviderError> = await AWSCallCounter.$current.withValue(counter) {
            do throws(ProviderError) { return .success(try await launchCounted(request)) } catch { return .failure(error) }
        }
        logger.info("\(request.name): AWS calls for this launch: \(counter.summary)")
        return try result.get()
    }

    func launchCounted(_ request: WorkerLaunch) async throws(ProviderError) -> LaunchedWorker {
        guard let instanceType = settings.instanceTypes[request.hardware] else {
            throw ProviderError("no instance type for \(request.hardware.rawValue) workers", hint: "set MACHINE_TYPE_\(request.hardware.rawValue.uppercased()) in the cluster config")
        }
        let script = userData(for: request).script
        let instance: EC2Instance
        do {
            let (cluster, name) = (settings.cluster, request.name)
            let existing = try await aws { ec2 throws(AWSError) in
                try ec2.describeInstances(filters: ["tag:\(EC2ProviderSettings.clusterTag)": [cluster], "tag:Name": [name], "instance-state-name": Self.live + Self.restartable])
            }
            if let running = existing.first(where: { Self.live.contains($0.state) }), running.tags[EC2ProviderSettings.retiredTag] == nil {
                logger.info("\(request.name): instance \(running.id) of this cluster is already \(running.state); adopting it")
                instance = running
            } else if let idle = existing.first(where: { Self.restartable.contains($0.state) || $0.tags[EC2ProviderSettings.retiredTag] != nil }) {
                instance = try await restart(idle, name: request.name, script: script)
            } else {
                let spec = EC2LaunchSpec(
                    imageID: settings.imageID, instanceType: instanceType,
                    clientToken: String("\(settings.cluster)-\(request.name)-\(UUID().uuidString.prefix(8))".prefix(64)),
                    userData: script,
                    tags: ["Name": request.name, EC2ProviderSettings.clusterTag: settings.cluster, EC2ProviderSettings.hardwareTag: request.hardware.rawValue],
                    securityGroups: settings.securityGroups, iamInstanceProfile: settings.iamInstanceProfile, keyName: settings.keyName,
                    subnetID: settings.subnetID, availabilityZone: settings.availabilityZone)
                instance = try await aws { ec2 throws(AWSError) in try ec2.runInstance(spec) }
                logger.info("\(request.name): RunInstances started \(instance.id) (\(instanceType))")
            }
        } catch {
            throw ProviderError("EC2 could not start \(request.name): \(error)", hint: Self.hint(for: error))
        }
        try await waitUntilRunning(instance.id, name: request.name)
        logger.info("\(request.name): \(instance.id) is running")
        return LaunchedWorker(name: request.name, hardware: request.hardware, instanceID: instance.id)
    }

    /// Starts a stopped (or retired, still running) instance of the same name with fresh user-data.
    func restart(_ instance: EC2Instance, name: String, script: String) async throws(AWSError) -> EC2Instance {
        logger.info("\(name): restarting instance \(instance.id) (\(instance.state))")
        if instance.state != "stopped" {
            if Self.live.contains(instance.state) { try await aws { ec2 throws(AWSError) in try ec2.stopInstances([instance.id]) } }
            var state = instance.state
            for _ in 0..<settings.maxPolls where state != "stopped" {
                try? await Task.sleep(for: settings.pollInterval)
                state = try await aws { ec2 throws(AWSError) in try ec2.describeInstances(ids: [instance.id]).first?.state ?? "gone" }
            }
        }
        try await aws { ec2 throws(AWSError) in try ec2.setUserData(of: instance.id, to: script) }
        if instance.tags[EC2ProviderSettings.retiredTag] != nil { try await aws { ec2 throws(AWSError) in try ec2.deleteTags([instance.id], keys: [EC2ProviderSettings.retiredTag]) } }
        try await aws { ec2 throws(AWSError) in try ec2.startInstances([instance.id]) }
        return instance
    }

    func waitUntilRunning(_ id: String, name: String) async throws(ProviderError) {
        var state = "pending"
        for poll in 0..<max(1, settings.maxPolls) {
            do {
                state = try await aws { ec2 throws(AWSError) in try ec2.describeInstances(ids: [id]).first?.state ?? "gone" }
            } catch {
                logger.warning("\(name): DescribeInstances failed (\(error)); poll \(poll + 1) of \(settings.maxPolls)")
            }
            if state == "running" { return }
            if ["shutting-down", "terminated", "gone"].contains(state) { break }
            try? await Task.sleep(for: settings.pollInterval)
        }
        throw ProviderError("instance \(id) (\(name)) is \(state), not running, after \(settings.maxPolls) polls",
                            hint: "see the instance's console output in the EC2 console; the master retires it")
    }

    public func retire(_ worker: LaunchedWorker) async throws(ProviderError) {
        let counter = AWSCallCounter()
        defer { logger.info("\(worker.name): AWS calls for this retirement: \(counter.summary)") }
        let result: Result<Void, ProviderError> = await AWSCallCounter.$current.withValue(counter) {
            do throws(ProviderError) { return .success(try await retireCounted(worker)) } catch { return .failure(error) }
        }
        try result.get()
    }

    func retireCounted(_ worker: LaunchedWorker) async throws(ProviderError) {
        let id = worker.instanceID
        do {
            switch settings.retireAction {
            case .stop: try await aws { ec2 throws(AWSError) in try ec2.stopInstances([id]) }
            case .terminate: try await aws { ec2 throws(AWSError) in try ec2.terminateInstances([id]) }
            case .forget: try await aws { ec2 throws(AWSError) in try ec2.createTags([id], tags: [EC2ProviderSettings.retiredTag: "true"]) }
            }
            logger.info("\(worker.name): \(settings.retireAction.rawValue) \(worker.instanceID)")
        } catch {
            throw ProviderError("EC2 could not \(settings.retireAction.rawValue) \(worker.instanceID) (\(worker.name)): \(error)", hint: Self.hint(for: error))
        }
    }

    public func isAlive(_ worker: LaunchedWorker) async -> Bool {
        guard let instance = try? await aws({ ec2 throws(AWSError) in try ec2.describeInstances(ids: [worker.instanceID]).first }) else { return false }
        return Self.live.contains(instance.state)
    }

    /// This cluster's instances that are pending or running and not retired: workers a
    /// restarted master should wait for instead of launching new ones.
    public func existingWorkers() async throws(ProviderError) -> [LaunchedWorker] {
        let instances: [EC2Instance]
        do {
            let cluster = settings.cluster
            instances = try await aws { ec2 throws(AWSError) in try ec2.describeInstances(filters: ["tag:\(EC2ProviderSettings.clusterTag)": [cluster], "instance-state-name": Self.live]) }
        } catch {
            throw ProviderError("EC2 could not list the cluster's instances: \(error)", hint: Self.hint(for: error))
        }
        return instances.compactMap { instance in
            guard instance.tags[EC2ProviderSettings.retiredTag] == nil, let name = instance.tags["Name"],
                  let hardware = instance.tags[EC2ProviderSettings.hardwareTag].flatMap(HardwareClass.init(name:)) else { return nil }
            return LaunchedWorker(name: name, hardware: hardware, instanceID: instance.id)
        }
    }

    /// Every instance of the cluster that still exists (for `infaas down`).
    public func clusterInstances() throws(ProviderError) -> [EC2Instance] {
        do {
            return try ec2.describeInstances(filters: ["tag:\(EC2ProviderSettings.clusterTag)": [settings.cluster],
                                                       "instance-state-name": Self.live + Self.restartable])
        } catch {
            throw ProviderError("EC2 could not list the cluster's instances: \(error)", hint: Self.hint(for: error))
        }
    }

    /// What to do about an AWS error, in a user's words.
    static func hint(for error: AWSError) -> String {
        switch error.code {
        case "Transport": "the EC2 endpoint did not answer; check the network, the region or AWS_ENDPOINT_URL"
        case "AuthFailure", "SignatureDoesNotMatch", "InvalidClientTokenId", "UnrecognizedClientException":
            "AWS rejected the credentials; check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile"
        case "UnauthorizedOperation", "AccessDenied": "the credentials lack an EC2 permission; see docs/aws.md for the policy"
        case "InvalidAMIID.NotFound", "InvalidAMIID.Malformed": "WORKER_IMAGE is not an AMI in this region"
        case "InvalidGroup.NotFound": "SECURITY_GROUP does not exist in this region/VPC"
        case "InvalidKeyPair.NotFound": "KEY_NAME is not a key pair in this region"
        case "NoSuchEntity", "InvalidParameterValue": "check IAM_ROLE (an instance profile name) and the other cluster settings"
        case "InsufficientInstanceCapacity", "InstanceLimitExceeded", "VcpuLimitExceeded": "EC2 has no capacity or quota for this type; try another ZONE or ask for a quota increase"
        default: "see the AWS error code above"
        }
    }
}

