/// An HDF5 operation that failed, with the file, the object inside it and HDF5's own message.
///
/// HDF5's habit of printing its error stack to stderr is switched off by HDF5Kit; the stack's
/// descriptions are captured into ``hdf5Message`` instead.
public struct HDF5Error: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of operation failed.
    public enum Code: String, Sendable {
        case createFile = "create file"
        case openFile = "open file"
        case notHDF5 = "not an HDF5 file"
        case createGroup = "create group"
        case openGroup = "open group"
        case createDataset = "create dataset"
        case openDataset = "open dataset"
        case write = "write"
        case read = "read"
        case attribute = "attribute"
        case typeMismatch = "type mismatch"
        case invalidArgument = "invalid argument"
        case close = "close"
    }

    public var code: Code
    /// The file on disk.
    public var file: String
    /// The object inside the file (`/variants/resnet50_cpu`, `/meta@format_version`).
    public var object: String
    /// HDF5's error stack, innermost first, or our own explanation.
    public var hdf5Message: String

    public init(code: Code, file: String, object: String, hdf5Message: String) {
        self.code = code
        self.file = file
        self.object = object
        self.hdf5Message = hdf5Message
    }

    public var description: String {
        let detail = hdf5Message.isEmpty ? "" : ": \(hdf5Message)"
        return "HDF5 \(code.rawValue) failed for \(file) \(object)\(detail)"
    }
}
