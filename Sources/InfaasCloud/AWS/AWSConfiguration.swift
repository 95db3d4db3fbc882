public import Foundation

/// Why the AWS settings could not be resolved. Never carries a secret.
public struct AWSConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var hint: String

    public init(_ message: String, hint: String) {
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(message) (\(hint))" }
}

/// Region, credentials and endpoints, resolved the way AWS's own tools do: explicit flags, then
/// `AWS_*` environment variables, then the profile (`AWS_PROFILE`, default `default`) in
/// `~/.aws/credentials` and `~/.aws/config` (or `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE`),
/// then, on an EC2 instance, its instance profile through the metadata service (IMDSv2).
public struct AWSConfiguration: Sendable, CustomStringConvertible {
    public var region: String
    public var credentials: AWSCredentials
    /// One endpoint for every service (`AWS_ENDPOINT_URL`, `--endpoint-url`): an emulator such as moto.
    public var endpointOverride: String?
    /// The profile the settings came from (`instance-profile` for the instance metadata service).
    public var profile: String
    /// When temporary credentials (an instance profile's) expire; resolve again before then.
    public var expiration: Date?

    /// The metadata service the credentials came from (instance-profile credentials only).
    public var metadataEndpoint: String?

    /// Whether the credentials expire within five minutes (or have).
    public var expiresSoon: Bool { expiration.map { $0.timeIntervalSinceNow < 300 } ?? false }

    public init(region: String, credentials: AWSCredentials, endpointOverride: String? = nil, profile: String = "default") {
        self.region = region
        self.credentials = credentials
        self.endpointOverride = endpointOverride.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.profile = profile
    }

    /// The endpoint of a service: the override, else AWS's regional endpoint.
    public func endpoint(for service: String) -> String {
        if let endpointOverride { return endpointOverride }
        return "https://\(service).\(region).amazonaws.com"
    }

    public var description: String {
        "AWS profile \(profile), region \(region), key \(credentials.accessKeyID)\(endpointOverride.map { ", endpoint \($0)" } ?? "")"
    }

    /// The environment variables that hand these settings to a child process (a local worker).
    public var environment: [String: String] {
        // Temporary instance-profile keys are not handed on: the child finds its own.
        guard profile != "instance-profile" else { return ["AWS_REGION": region].merging(endpointOverride.map { ["AWS_ENDPOINT_URL": $0] } ?? [:]) { a, _ in a } }
        var env = ["AWS_ACCESS_KEY_ID": credentials.accessKeyID, "AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey, "AWS_REGION": region]
        if let token = credentials.sessionToken { env["AWS_SESSION_TOKEN"] = token }
        if let endpointOverride { env["AWS_ENDPOINT_URL"] = endpointOverride }
        return env
    }

    /// Resolves the settings. `region`, `profile` and `endpointURL` are explicit flags (nil = not given).
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment,
                               home: String = NSHomeDirectory(), profile explicitProfile: String? = nil,
                               region explicitRegion: String? = nil, endpointURL: String? = nil) throws(AWSConfigurationError) -> AWSConfiguration {
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        let profile = explicitProfile ?? nonEmpty("AWS_PROFILE") ?? nonEmpty("AWS_DEFAULT_PROFILE") ?? "default"
        let credentialsPath = nonEmpty("AWS_SHARED_CREDENTIALS_FILE") ?? "\(home)/.aws/credentials"
        let configPath = nonEmpty("AWS_CONFIG_FILE") ?? "\(home)/.aws/config"
        let credentialsFile = try INIFile.load(credentialsPath)
        let configFile = try INIFile.load(configPath)
        // ~/.aws/config names profiles `[profile x]` (but `[default]`); ~/.aws/credentials names them `[x]`.
        let fromCredentials = credentialsFile?.sections[profile] ?? [:]
        let fromConfig = configFile?.sections[profile == "default" ? "default" : "profile \(profile)"] ?? configFile?.sections[profile] ?? [:]
        let profileExists = credentialsFile?.sections[profile] != nil || !fromConfig.isEmpty

        let credentials: AWSCredentials
        if let key = nonEmpty("AWS_ACCESS_KEY_ID"), explicitProfile == nil {
            guard let secret = nonEmpty("AWS_SECRET_ACCESS_KEY") else {
                throw AWSConfigurationError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not", hint: "export both, or unset AWS_ACCESS_KEY_ID to use a profile")
            }
            credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: nonEmpty("AWS_SESSION_TOKEN"))
        } else if let key = fromCredentials["aws_access_key_id"] ?? fromConfig["aws_access_key_id"] {
            guard let secret = fromCredentials["aws_secret_access_key"] ?? fromConfig["aws_secret_access_key"] else {
                throw AWSConfigurationError("profile \(profile) has aws_access_key_id but no aws_secret_access_key", hint: "add it to \(credentialsPath)")
            }
            credentials = AWSCredentials(accessKeyID: key, secretAccessKey: secret,
                                         sessionToken: fromCredentials["aws_session_token"] ?? fromConfig["aws_session_token"])
        } else if explicitProfile != nil || nonEmpty("AWS_PROFILE") != nil, !profileExists {
            throw AWSConfigurationError("AWS profile \(profile) is in neither \(credentialsPath) nor \(configPath)",
                                        hint: "run `aws configure --profile \(profile)`, or pick another with AWS_PROFILE")
        } else if !InstanceMetadata.disabled(environment), let fromInstance = InstanceMetadata(environment: environment).credentials() {
            guard let region = explicitRegion ?? nonEmpty("AWS_REGION") ?? nonEmpty("AWS_DEFAULT_REGION") ?? fromConfig["region"] ?? fromInstance.region else {
                throw AWSConfigurationError("no AWS region", hint: "give --region or export AWS_REGION")
            }
            var configuration = AWSConfiguration(region: region, credentials: fromInstance.credentials,
                                                 endpointOverride: endpointURL ?? nonEmpty("AWS_ENDPOINT_URL"), profile: "instance-profile")
            configuration.expiration = fromInstance.expiration
            configuration.metadataEndpoint = InstanceMetadata(environment: environment).endpoint
            return configuration
        } else {
            throw AWSConfigurationError("no AWS credentials: AWS_ACCESS_KEY_ID is unset and profile \(profile) has no keys",
                                        hint: "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure`, or (on EC2) attach an instance profile")
        }
        guard let region = explicitRegion ?? nonEmpty("AWS_REGION") ?? nonEmpty("AWS_DEFAULT_REGION") ?? fromConfig["region"] else {
            throw AWSConfigurationError("no AWS region", hint: "give --region, export AWS_REGION, or set region in \(configPath)")
        }
        let endpoint = endpointURL ?? nonEmpty("AWS_ENDPOINT_URL") ?? fromConfig["endpoint_url"]
        if let endpoint, URL(string: endpoint)?.host == nil {
            throw AWSConfigurationError("endpoint URL \"\(endpoint)\" is not a URL", hint: "write it as http://127.0.0.1:5000 or https://host")
        }
        return AWSConfiguration(region: region, credentials: credentials, endpointOverride: endpoint, profile: profile)
    }
}

/// The INI dialect of `~/.aws/credentials` and `~/.aws/config`: `[section]` lines, `key = value`,
/// `#`/`;` comments. Indented continuation lines (nested settings) are skipped.
struct INIFile {
    var sections: [String: [String: String]]

    /// nil when the file does not exist.
    static func load(_ path: String) throws(AWSConfigurationError) -> INIFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AWSConfigurationError("cannot read \(path)", hint: "check its permissions")
        }
        return INIFile(parsing: String(decoding: data, as: UTF8.self))
    }

    init(parsing text: String) {
        var sections: [String: [String: String]] = [:]
        var current: String? = nil
        for raw in text.split(whereSeparator: \.isNewline) {
            if raw.first == " " || raw.first == "\t" { continue }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                current = name
                sections[name, default: [:]] = sections[name, default: [:]]
                continue
            }
            guard let current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            sections[current, default: [:]][key] = value
        }
        self.sections = sections
    }
}
