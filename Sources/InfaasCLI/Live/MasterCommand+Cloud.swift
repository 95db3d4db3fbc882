import ArgumentParser
import Foundation
import InfaasCloud
import InfaasRPC
import Logging

/// What `infaas master` talks to AWS with, if anything: the EC2 cluster config, the resolved
/// settings, the object store and the two buckets.
struct MasterCloudSettings {
    var ec2Cluster: ClusterConfig?
    var aws: AWSConfiguration?
    var objectStore: S3Client?
    var modelBucket: ObjectLocation?
    var configBucket: ObjectLocation?
}

extension MasterCommand {
    /// Reads the EC2 cluster config (with `--provider ec2`), resolves the AWS settings when
    /// anything needs them, and creates the model bucket when it is missing.
    func cloudSettings(logger: Logger) throws -> MasterCloudSettings {
        let ec2Cluster = try provider == "ec2" ? ClusterConfig.load(path: ec2Config!) : nil
        // Flags were checked in validate(); what the cluster config adds is checked here.
        let modelBucket = try (self.modelBucket ?? ec2Cluster?.modelBucket).map { try Self.bucket($0, "MODELDB") }
        let configBucket = try (self.configBucket ?? ec2Cluster?.configBucket).map { try Self.bucket($0, "CONFIGDB") }
        let settings = try ec2Cluster.map { try aws.resolve(region: $0.region, endpoint: $0.endpointURL) }
            ?? aws.resolve(required: modelBucket != nil || configBucket != nil)
        let store = settings.map { S3Client(configuration: $0) }
        if let modelBucket, let store { try ensureBucket(modelBucket.bucket, store: store, logger: logger) }
        if let settings {
            logger.info("s3:// through \(settings)\(modelBucket.map { ", model bucket \($0)" } ?? "")\(configBucket.map { ", config bucket \($0)" } ?? "")")
        }
        return MasterCloudSettings(ec2Cluster: ec2Cluster, aws: settings, objectStore: store, modelBucket: modelBucket, configBucket: configBucket)
    }

    /// A bucket URL (`s3://BUCKET[/prefix]`), or an error naming where it was given.
    static func bucket(_ url: String, _ source: String) throws -> ObjectLocation {
        guard let location = ObjectLocation(url: url) else { throw ValidationError("\(source) \(url): write it as s3://BUCKET or s3://BUCKET/prefix") }
        return location
    }

    /// The provider that starts workers (`--provider`), and the host they reach the master at.
    /// Workers get the cluster token through their environment, never their command line
    /// (`ps` shows that); local ones also get the master's AWS settings for s3:// models.
    func makeProvider(cloud: MasterCloudSettings, token: ClusterToken?, tls: ServerSecurity.TLSFiles?, trustRoots: String?,
                      executable: String, logger: Logger) -> (provider: (any WorkerProvider)?, advertisedHost: String) {
        let workerTrust = tls.flatMap { files in trustRoots.map { ["--tls-ca", $0, "--tls-cert", files.certificate, "--tls-key", files.key] } } ?? []
        // Workers run the master's policy with the user's settings (resolved the same way there).
        let sharedWorkerArguments = ["--report-interval-ms", String(reportIntervalMs), "--policy", policy]
            + policySettings.flatMap { ["--policy-set", $0] } + (workerCores.map { ["--cores", String($0)] } ?? [])
            + workerTrust + offlineRoots.flatMap { ["--offline-root", $0] } + workerArgs
        switch provider {
        case "local":
            var environment = ProcessInfo.processInfo.environment.merging(cloud.aws?.environment ?? [:]) { _, new in new }
            environment["INFAAS_TOKEN"] = token?.secret
            return (LocalProcessProvider(executable: executable, workerArguments: sharedWorkerArguments, logDirectory: "\(home.directory)/cluster/logs",
                                         environment: environment), bindHost)
        case "ec2":
            guard let config = cloud.ec2Cluster, let settings = cloud.aws else { return (nil, bindHost) }
            let host = config.masterHost ?? (bindHost == "0.0.0.0" ? HostAddress.firstNonLoopbackIPv4() ?? bindHost : bindHost)
            // EC2 workers find their credentials through their instance profile; region and endpoint
            // are no secret. TLS files must exist at the same paths on the worker image.
            let awsArguments = ["--region", settings.region] + (settings.endpointOverride.map { ["--endpoint-url", $0] } ?? [])
            let provider = EC2Provider(settings: config.providerSettings(workerArguments: sharedWorkerArguments + awsArguments,
                                                                         workerEnvironment: token.map { ["INFAAS_TOKEN": $0.secret] } ?? [:]),
                                       ec2: EC2Client(configuration: settings), logger: Logger(label: "infaas.ec2"))
            logger.info("EC2 provider: cluster \(config.clusterName), \(settings), image \(config.workerImage), DELETE_MACHINES=\(config.retireAction.rawValue)")
            return (provider, host)
        default:
            return (nil, bindHost)
        }
    }
}

/// Creates the model bucket when it does not exist yet, as the original's start script did.
func ensureBucket(_ bucket: String, store: S3Client, logger: Logger) throws {
    do {
        _ = try store.listObjectsPage(bucket: bucket, prefix: "", maxKeys: 1)
    } catch where error.kind == .noSuchBucket {
        logger.info("creating the model bucket s3://\(bucket)")
        do { try store.createBucket(bucket) } catch { throw CommandFailure("cannot create the model bucket s3://\(bucket): \(error)") }
    } catch {
        throw CommandFailure("cannot reach the model bucket s3://\(bucket): \(error)")
    }
}
