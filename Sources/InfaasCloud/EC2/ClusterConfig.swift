import Foundation
public import InfaasCore
import Yams

/// Why a cluster config file is unusable: which key, what is wrong, how to fix it.
public struct ClusterConfigError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An EC2 cluster as `infaas up --provider ec2 --config cluster.yaml` reads it: the settings of
/// the original's `start_infaas.sh`, under the same names (see `experiments/cluster-ec2.yaml`).
public struct ClusterConfig: Sendable, Equatable {
    public var clusterName = "infaas"
    public var region: String?
    public var zone: String?
    public var securityGroups: [String] = []
    public var iamRole: String?
    /// `MODELDB`: the model bucket, `s3://bucket[/prefix]`.
    public var modelBucket: String?
    /// `CONFIGDB`: the config bucket.
    public var configBucket: String?
    public var workerImage = ""
    public var keyName: String?
    public var subnet: String?
    public var initialWorkers: [HardwareClass: Int] = [.cpu: 1, .gpu: 0, .inferentia: 0]
    public var maximumWorkers: [HardwareClass: Int] = [.cpu: 1, .gpu: 0, .inferentia: 0]
    public var slackGPUs = 0
    public var machineTypes = EC2ProviderSettings.defaultInstanceTypes
    public var retireAction = RetireAction.forget
    /// Host the workers reach the master at (default: this machine's first non-loopback IPv4).
    public var masterHost: String?
    public var workerBinary = "/opt/infaas/bin/infaas"
    public var workerPort = 50051
    public var maxTry = 40
    public var endpointURL: String?

    public init() {}

    /// Every key a config may hold.
    public static let keys: [String] = [
        "CLUSTER_NAME", "REGION", "ZONE", "SECURITY_GROUP", "IAM_ROLE", "MODELDB", "CONFIGDB", "WORKER_IMAGE", "KEY_NAME", "SUBNET",
        "NUM_INIT_CPU_WORKERS", "NUM_INIT_GPU_WORKERS", "NUM_INIT_INFERENTIA_WORKERS",
        "MAX_CPU_WORKERS", "MAX_GPU_WORKERS", "MAX_INFERENTIA_WORKERS", "SLACK_GPU",
        "MACHINE_TYPE_CPU", "MACHINE_TYPE_GPU", "MACHINE_TYPE_INFERENTIA", "DELETE_MACHINES",
        "MASTER_ADDRESS", "WORKER_BINARY", "WORKER_PORT", "MAX_TRY", "ENDPOINT_URL",
    ]

    /// Reads and validates a config file.
    public static func load(path: String) throws(ClusterConfigError) -> ClusterConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClusterConfigError("cannot read the cluster config \(path); start from experiments/cluster-ec2.yaml")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses and validates YAML text.
    public static func parse(_ text: String, source: String = "cluster config") throws(ClusterConfigError) -> ClusterConfig {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw ClusterConfigError("\(source) is not valid YAML: \(error)") }
        guard let mapping = node?.mapping else { throw ClusterConfigError("\(source) must be a mapping of KEY: value lines") }
        var values: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw ClusterConfigError("\(source): a key is not a string") }
            guard keys.contains(name) else {
                let near = keys.filter { $0.contains(name.uppercased()) || name.uppercased().contains($0) }
                throw ClusterConfigError("\(source): unknown key \(name)\(near.isEmpty ? "" : " (did you mean \(near.joined(separator: " or "))?)"); known keys: \(keys.joined(separator: ", "))")
            }
            values[name] = value
        }
        func string(_ key: String) throws(ClusterConfigError) -> String? {
            guard let node = values[key], node.scalar != nil, node.tag.description != "tag:yaml.org,2002:null" else {
                if values[key]?.sequence != nil { throw ClusterConfigError("\(source): \(key) must be one value, not a list") }
                return nil
            }
            let text = node.string ?? ""
            if text.hasPrefix("<"), text.hasSuffix(">") {
                throw ClusterConfigError("\(source): \(key) still holds the example's placeholder \(text); replace it (docs/aws.md)")
            }
            return text.isEmpty ? nil : text
        }
        func int(_ key: String, min: Int = 0) throws(ClusterConfigError) -> Int? {
            guard let text = try string(key) else { return nil }
            guard let value = Int(text), value >= min else { throw ClusterConfigError("\(source): \(key) must be a whole number ≥ \(min), not \"\(text)\"") }
            return value
        }
        var config = ClusterConfig()
        if let v = try string("CLUSTER_NAME") {
            guard v.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), v.count <= 40 else {
                throw ClusterConfigError("\(source): CLUSTER_NAME \"\(v)\" may use letters, digits, - and _ (at most 40)")
            }
            config.clusterName = v
        }
        config.region = try string("REGION")
        config.zone = try string("ZONE")
        if let list = values["SECURITY_GROUP"]?.sequence {
            config.securityGroups = list.compactMap(\.string).filter { !$0.isEmpty }
            if let placeholder = config.securityGroups.first(where: { $0.hasPrefix("<") }) {
                throw ClusterConfigError("\(source): SECURITY_GROUP still holds the example's placeholder \(placeholder); replace it (docs/aws.md)")
            }
        } else if let v = try string("SECURITY_GROUP") {
            config.securityGroups = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        config.iamRole = try string("IAM_ROLE")
        config.modelBucket = try string("MODELDB").map { $0.hasPrefix("s3://") ? $0 : "s3://\($0)" }
        config.configBucket = try string("CONFIGDB").map { $0.hasPrefix("s3://") ? $0 : "s3://\($0)" }
        guard let image = try string("WORKER_IMAGE") else {
            throw ClusterConfigError("\(source): WORKER_IMAGE is required: the AMI (ami-…) with infaas installed at WORKER_BINARY")
        }
        guard image.hasPrefix("ami-") else { throw ClusterConfigError("\(source): WORKER_IMAGE \"\(image)\" is not an AMI id (ami-…)") }
        config.workerImage = image
        config.keyName = try string("KEY_NAME")
        config.subnet = try string("SUBNET")
        for hardware in HardwareClass.allCases {
            let upper = hardware.rawValue.uppercased()
            if let n = try int("NUM_INIT_\(upper)_WORKERS") { config.initialWorkers[hardware] = n }
            if let n = try int("MAX_\(upper)_WORKERS") { config.maximumWorkers[hardware] = n }
            if let type = try string("MACHINE_TYPE_\(upper)") { config.machineTypes[hardware] = type }
            let initial = config.initialWorkers[hardware, default: 0], maximum = config.maximumWorkers[hardware, default: 0]
            guard initial <= maximum else {
                throw ClusterConfigError("\(source): NUM_INIT_\(upper)_WORKERS (\(initial)) is above MAX_\(upper)_WORKERS (\(maximum))")
            }
        }
        guard config.initialWorkers.values.reduce(0, +) > 0 else {
            throw ClusterConfigError("\(source): no initial workers; set NUM_INIT_CPU_WORKERS (or GPU/INFERENTIA) to at least 1")
        }
        if let n = try int("SLACK_GPU") {
            guard n == 0 || n < config.initialWorkers[.gpu, default: 0] else {
                throw ClusterConfigError("\(source): SLACK_GPU (\(n)) must be below NUM_INIT_GPU_WORKERS (\(config.initialWorkers[.gpu, default: 0]))")
            }
            config.slackGPUs = n
        }
        if let n = try int("DELETE_MACHINES") {
            guard let action = RetireAction(deleteMachines: n) else {
                throw ClusterConfigError("\(source): DELETE_MACHINES must be 0 (stop), 1 (terminate) or 2 (keep running, forget), not \(n)")
            }
            config.retireAction = action
        }
        config.masterHost = try string("MASTER_ADDRESS")
        if let v = try string("WORKER_BINARY") {
            guard v.hasPrefix("/") else { throw ClusterConfigError("\(source): WORKER_BINARY must be an absolute path on the worker image") }
            config.workerBinary = v
        }
        if let n = try int("WORKER_PORT", min: 1) {
            guard n <= 65535 else { throw ClusterConfigError("\(source): WORKER_PORT \(n) is not a port") }
            config.workerPort = n
        }
        if let n = try int("MAX_TRY", min: 1) { config.maxTry = n }
        if let v = try string("ENDPOINT_URL") {
            guard URL(string: v)?.host != nil else { throw ClusterConfigError("\(source): ENDPOINT_URL \"\(v)\" is not a URL") }
            config.endpointURL = v
        }
        return config
    }

    /// Provider settings for this cluster.
    public func providerSettings(workerArguments: [String], workerEnvironment: [String: String] = [:]) -> EC2ProviderSettings {
        EC2ProviderSettings(cluster: clusterName, imageID: workerImage, instanceTypes: machineTypes, securityGroups: securityGroups,
                            iamInstanceProfile: iamRole, keyName: keyName, subnetID: subnet, availabilityZone: zone, retireAction: retireAction,
                            workerBinary: workerBinary, workerPort: workerPort, workerArguments: workerArguments,
                            workerEnvironment: workerEnvironment, maxPolls: maxTry)
    }
}
