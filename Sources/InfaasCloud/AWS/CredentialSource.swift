import Foundation
import Synchronization

/// The credentials a client signs with. Fixed keys stay as they are; an instance profile's
/// temporary keys are fetched again from the metadata service five minutes before they expire,
/// so a master or worker on EC2 keeps working past the keys' lifetime (hours).
public final class CredentialSource: Sendable {
    private let state: Mutex<(credentials: AWSCredentials, expiration: Date?)>
    private let metadataEndpoint: String?

    /// Keys that never change.
    public init(fixed credentials: AWSCredentials) {
        state = Mutex((credentials, nil))
        metadataEndpoint = nil
    }

    /// The settings' keys, renewed through the metadata service when they came from it.
    public init(_ configuration: AWSConfiguration) {
        state = Mutex((configuration.credentials, configuration.expiration))
        metadataEndpoint = configuration.metadataEndpoint
    }

    /// The keys to sign with now.
    public var current: AWSCredentials {
        state.withLock { state in
            guard let expiration = state.expiration, expiration.timeIntervalSinceNow < 300, let metadataEndpoint,
                  let fresh = InstanceMetadata(environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": metadataEndpoint]).credentials() else {
                return state.credentials
            }
            state = (fresh.credentials, fresh.expiration)
            return fresh.credentials
        }
    }
}
