import ArgumentParser
import Foundation
import InfaasCloud

/// AWS settings for commands that call AWS (the EC2 provider, S3): flags over `AWS_*` variables
/// over the profile in `~/.aws` — as AWS's own tools resolve them.
struct AWSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("AWS region (default: AWS_REGION, else the profile's region).", valueName: "REGION")) var region: String?
    @Option(name: .customLong("aws-profile"), help: ArgumentHelp("Profile in ~/.aws (default: AWS_PROFILE, else default).", valueName: "NAME")) var awsProfile: String?
    @Option(name: .customLong("endpoint-url"), help: ArgumentHelp("One endpoint for every AWS service, e.g. an emulator (default: AWS_ENDPOINT_URL).", valueName: "URL")) var endpointURL: String?

    /// The resolved settings; `region`/`endpoint` from a config file fill in what the flags leave open.
    func resolve(region fallbackRegion: String? = nil, endpoint fallbackEndpoint: String? = nil) throws -> AWSConfiguration {
        do {
            let environment = ProcessInfo.processInfo.environment
            let region = region ?? (environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 } == nil ? fallbackRegion : nil)
            return try AWSConfiguration.resolve(environment: environment, profile: awsProfile, region: region,
                                                endpointURL: endpointURL ?? fallbackEndpoint)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
