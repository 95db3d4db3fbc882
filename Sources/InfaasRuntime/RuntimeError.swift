/// Why a model could not be loaded or run, or an image decoded — with what to do about it.
public struct RuntimeError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// ONNX Runtime's shared library was not found.
        case libraryNotFound
        /// A library was found but is not a usable ONNX Runtime (too old, not ORT at all).
        case libraryIncompatible
        /// The model file does not exist.
        case modelNotFound
        /// The file exists but ONNX Runtime cannot load it, or it has inputs/outputs we cannot feed.
        case invalidModel
        /// The input tensor does not fit the model's input.
        case inputMismatch
        /// The execution provider a device needs is not in this ONNX Runtime build.
        case executionProviderUnavailable
        /// The device does not exist on this kind of host at all (Inferentia off AWS inf1/inf2).
        case notAvailableOnHost
        /// ONNX Runtime failed while running, or the model was unloaded.
        case inferenceFailed
        /// The bytes are not a JPEG or PNG image we can decode.
        case invalidImage
    }

    public var kind: Kind
    public var message: String
    public var hint: String?

    public init(_ kind: Kind, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String {
        guard let hint else { return message }
        return "\(message) (\(hint))"
    }
}
