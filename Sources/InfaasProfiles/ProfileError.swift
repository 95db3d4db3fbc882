import InfaasCore
import HDF5Kit

/// Why a profile file could not be read, imported or written — with the file and line it
/// came from and, where there is one, what to do about it.
public struct ProfileError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case fileNotFound = "file not found"
        case unreadable = "unreadable file"
        case unknownFormat = "unknown file format"
        case missingColumn = "missing column"
        case badValue = "bad value"
        case duplicate = "duplicate"
        case unknownKey = "unknown key"
        case missingKey = "missing key"
        case lineTooLong = "line too long"
        case notAProfileStore = "not a profile store"
        case unsupportedVersion = "unsupported format version"
        case storage = "storage"
        case fit = "latency fit"
        case empty = "nothing to import"
    }

    public var code: Code
    public var message: String
    /// `path` or `path:line`.
    public var location: String
    public var hint: String?

    public init(_ code: Code, _ message: String, at location: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.hint = hint
    }

    init(_ error: ValidationError, at location: String) {
        self.init(.badValue, error.description, at: error.location ?? location)
    }

    init(_ error: HDF5Error) {
        self.init(.storage, error.description, at: error.file)
    }

    /// Any error of a store's read or write as a ``ProfileError`` (one already is kept; an
    /// HDF5 one keeps its file; anything else is a storage error at `path`).
    init(wrapping error: any Error, at path: String) {
        if let error = error as? ProfileError { self = error }
        else if let error = error as? HDF5Error { self.init(error) }
        else { self.init(.storage, "\(error)", at: path) }
    }

    public var description: String {
        var text = "\(location): \(message)"
        if let hint { text += " (\(hint))" }
        return text
    }
}
