/// The software a variant runs on (`tensorrt`, `tensorflow-cpu`, `pytorch`, `inferentia`,
/// `onnxruntime-cpu`, ...). An open set: profiles may name frameworks we do not know.
public struct Framework: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.lowercased() }
    public init(_ name: String) { self.init(rawValue: name) }

    public static let tensorrt = Framework("tensorrt")
    public static let tensorflowCPU = Framework("tensorflow-cpu")
    public static let tensorflowGPU = Framework("tensorflow-gpu")
    public static let pytorch = Framework("pytorch")
    public static let caffe2 = Framework("caffe2")
    public static let inferentia = Framework("inferentia")
    public static let gnmtCPU = Framework("gnmt-nvpy-cpu")
    public static let gnmtGPU = Framework("gnmt-nvpy-gpu")
    public static let onnxruntimeCPU = Framework("onnxruntime-cpu")
    public static let onnxruntimeCUDA = Framework("onnxruntime-cuda")

    /// The frameworks whose hardware the reference's worker decides by name (§0,
    /// `ChooseHardware`), plus ONNX Runtime's CPU and CUDA flavours.
    public static let known: [Framework] = [
        .tensorrt, .tensorflowCPU, .tensorflowGPU, .pytorch, .caffe2, .inferentia,
        .gnmtCPU, .gnmtGPU, .onnxruntimeCPU, .onnxruntimeCUDA,
    ]

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
