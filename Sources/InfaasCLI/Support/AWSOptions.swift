import ArgumentParser
import Foundation
import InfaasCloud

/// The AWS settings flags of the live commands (`--region`, `--endpoint-url`, `--aws-profile`),
/// resolved as AWS's own tools do: flags, then `AWS_*` environment variables, then the profile.
struct AWSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("AWS region (default: AWS_REGION, else the profile's).", valueName: "REGION")) var region: String?
    @Option(name: .customLong("endpoint-url"), help: ArgumentHelp("One endpoint for EC2 and S3, e.g. an emulator's http://127.0.0.1:5000 (default: AWS_ENDPOINT_URL, else AWS's).", valueName: "URL"))
    var endpointURL: String?
    @Option(name: .customLong("aws-profile"), help: ArgumentHelp("Profile in ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE, else default).", valueName: "NAME"))
    var profile: String?

    /// Whether any flag was given (then the settings must resolve).
    var given: Bool { region != nil || endpointURL != nil || profile != nil }

    /// The resolved settings. With `required` (a flag given, or s3:// configured) a failure is an
    /// error that says what is missing; otherwise nil when there are none.
    func resolve(required: Bool) throws -> AWSConfiguration? {
        try resolveExplaining(required: required).settings
    }

    /// As ``resolve(required:)``, with why there are none (for the daemon's log).
    func resolveExplaining(required: Bool) throws -> (settings: AWSConfiguration?, whyNone: String?) {
        do {
            return (try AWSConfiguration.resolve(profile: profile, region: region, endpointURL: endpointURL), nil)
        } catch {
            if required || given { throw ValidationError("AWS settings: \(error)") }
            return (nil, error.description)
        }
    }

    /// The settings an EC2 cluster needs (they must resolve); the config file's `REGION` and
    /// `ENDPOINT_URL` fill in what the flags and `AWS_REGION`/`AWS_ENDPOINT_URL` leave open.
    func resolve(region fallbackRegion: String?, endpoint fallbackEndpoint: String?) throws -> AWSConfiguration {
        do {
            let environment = ProcessInfo.processInfo.environment
            let regionFromEnvironment = environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 }
            return try AWSConfiguration.resolve(environment: environment, profile: profile, region: region ?? (regionFromEnvironment == nil ? fallbackRegion : nil),
                                                endpointURL: endpointURL ?? fallbackEndpoint)
        } catch {
            throw ValidationError("AWS settings: \(error)")
        }
    }
}
