import InfaasRuntime

/// Why a worker refused or failed a request, with the gRPC status it travels as.
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidArgument, notFound, failedPrecondition, unavailable, resourceExhausted, internalError
        /// A queued query's deadline passed before it ran (``QueryOutcome/expiredInQueue``).
        case deadlineExceeded
    }

    public var code: Code
    public var message: String
    public var hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message) (\($0))" } ?? message }

    /// The runtime's error, classified.
    init(_ error: RuntimeError, variant: String) {
        let code: Code = switch error.kind {
        case .invalidImage, .inputMismatch: .invalidArgument
        case .modelNotFound: .notFound
        case .executionProviderUnavailable, .notAvailableOnHost, .libraryNotFound, .libraryIncompatible: .failedPrecondition
        case .invalidModel, .inferenceFailed: .internalError
        }
        self.init(code, "variant \(variant): \(error.message)", hint: error.hint)
    }
}
