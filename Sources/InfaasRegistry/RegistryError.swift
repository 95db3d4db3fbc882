/// Why a registry operation failed, in words a user can act on.
public struct RegistryError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case alreadyExists = "already exists"
        case unknownTask = "unknown task"
        case unknownDataset = "unknown dataset"
        case unknownArchitecture = "unknown architecture"
        case unknownVariant = "unknown variant"
        case invalidModelURL = "invalid model URL"
        case conflictingUseCase = "conflicting use-case"
        case invalidVariant = "invalid variant"
        case database = "database"
    }

    public var code: Code
    public var message: String
    public var hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message) — \($0)" } ?? message }
}
