/// The hardware a variant needs and a worker offers (reference §0, §7: CPU `m5.2xlarge`,
/// GPU `p3.2xlarge`, Inferentia `inf1.2xlarge`).
public enum HardwareClass: String, CaseIterable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    case cpu
    case gpu
    case inferentia

    public var description: String { rawValue }

    /// Short name used in worker names and CLI options (`cpu`, `gpu`, `inf`).
    public var shortName: String {
        switch self {
        case .cpu: "cpu"
        case .gpu: "gpu"
        case .inferentia: "inf"
        }
    }

    /// Parses `cpu`, `gpu`, `inf`/`inferentia` (any case).
    public init?(name: String) {
        switch name.lowercased() {
        case "cpu": self = .cpu
        case "gpu": self = .gpu
        case "inf", "inferentia": self = .inferentia
        default: return nil
        }
    }

    public static func < (a: Self, b: Self) -> Bool { a.sortIndex < b.sortIndex }
    private var sortIndex: Int { Self.allCases.firstIndex(of: self)! }

    /// Decides the hardware class of a variant — the one place in the code base that does.
    ///
    /// Order of evidence:
    /// 1. `declared`: a profile that records the hardware it was measured on wins.
    /// 2. The framework, as the reference's worker decides (`ChooseHardware`, §0):
    ///    `pytorch`, `tensorflow-cpu`, `gnmt-nvpy-cpu`,
    ///    `onnxruntime-cpu` → CPU; `tensorrt`, `tensorflow-gpu`, `gnmt-nvpy-gpu`,
    ///    `onnxruntime-cuda`, `caffe2` (profiled from TRTIS like TensorRT) → GPU;
    ///    `inferentia` → Inferentia.
    /// 3. Otherwise the reference master's rule: `max_batch < 64` → GPU, else CPU.
    ///
    /// Fix of reference §8 item 7: the master classified by `max_batch` alone, so a GPU
    /// variant with `max_batch >= 64` (GNMT-GPU) counted as CPU and a CPU variant with a small
    /// max batch as GPU. The framework, when known, now decides; the batch rule is the last
    /// resort for frameworks the reference never named.
    public static func decide(framework: Framework, maxBatch: Int, declared: HardwareClass? = nil) -> HardwareClass {
        if let declared { return declared }
        switch framework.rawValue {
        case "inferentia": return .inferentia
        case "pytorch", "tensorflow-cpu", "gnmt-nvpy-cpu", "onnxruntime-cpu", "onnxruntime": return .cpu
        case "tensorrt", "tensorflow-gpu", "gnmt-nvpy-gpu", "onnxruntime-cuda", "caffe2": return .gpu
        default:
            if framework.rawValue.contains("inferentia") || framework.rawValue.contains("neuron") { return .inferentia }
            return maxBatch < 64 ? .gpu : .cpu
        }
    }

    /// Guesses the class from a free-text hardware description in a published profile
    /// ("NVIDIA Tesla A100", "AMD EPYC, 2 vCPU", "inf1.2xlarge").
    public static func fromDescription(_ text: String) -> HardwareClass {
        let lower = text.lowercased()
        let accelerators = ["inferentia", "inf1", "inf2", "neuron"]
        if accelerators.contains(where: lower.contains) { return .inferentia }
        let gpus = ["nvidia", "gpu", "tesla", "a100", "v100", "h100", "t4", "cuda", "p3.", "g4dn", "g5."]
        if gpus.contains(where: lower.contains) { return .gpu }
        return .cpu
    }
}
