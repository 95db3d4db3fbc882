import InfaasSimulator
import CFuzzDriver

/// Experiment YAML (parsing and every check, sweep values included).
func fuzzExperiment(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? ExperimentSpec.parse(yaml: text, path: "fuzz.yaml")
    return 0
}

/// The entry point SwiftPM gives this executable: libFuzzer's driver with the callback above.
@_cdecl("FuzzExperiment_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzExperiment(data, size) }
}
