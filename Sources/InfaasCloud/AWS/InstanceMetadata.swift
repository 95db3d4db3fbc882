import Foundation

/// The EC2 instance metadata service (IMDSv2), as the SDKs use it: an EC2 worker's credentials
/// come from its instance profile (`IAM_ROLE`) and its region from its placement, so no keys are
/// ever copied onto worker machines.
struct InstanceMetadata {
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else the link-local address.
    let endpoint: String
    let http: HTTPClient

    init(environment: [String: String]) {
        let configured = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://169.254.169.254"
        endpoint = configured.hasSuffix("/") ? String(configured.dropLast()) : configured
        // Off EC2 nothing answers: fail fast rather than hold up a "no credentials" error.
        http = HTTPClient(timeout: 2, connectTimeout: 1, retry: RetryPolicy(maxAttempts: 1))
    }

    /// Whether the SDK convention `AWS_EC2_METADATA_DISABLED=true` turns it off.
    static func disabled(_ environment: [String: String]) -> Bool { environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" }

    func token() -> String? {
        let request = HTTPRequest(method: "PUT", url: "\(endpoint)/latest/api/token", headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")])
        guard let response = try? http.send(request), response.status == 200 else { return nil }
        return response.text
    }

    func get(_ path: String, token: String) -> String? {
        let request = HTTPRequest(method: "GET", url: "\(endpoint)/latest/\(path)", headers: [("X-aws-ec2-metadata-token", token)])
        guard let response = try? http.send(request), response.status == 200 else { return nil }
        return response.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The instance profile's temporary credentials and when they expire, and the instance's region.
    func credentials() -> (credentials: AWSCredentials, expiration: Date?, region: String?)? {
        guard let token = token(),
              let role = get("meta-data/iam/security-credentials/", token: token)?.split(separator: "\n").first.map(String.init),
              let json = get("meta-data/iam/security-credentials/\(role)", token: token),
              let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let key = object["AccessKeyId"] as? String, let secret = object["SecretAccessKey"] as? String else { return nil }
        let expiration = (object["Expiration"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) }
        return (AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: object["Token"] as? String), expiration,
                get("meta-data/placement/region", token: token))
    }
}
