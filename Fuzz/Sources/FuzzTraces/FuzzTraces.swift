import Foundation
import CFuzzDriver
import InfaasTraces

/// Every trace reader over the same bytes: an error is fine, a trap or a hang is a finding.
/// The readers take paths, so each input goes through one scratch file.
let scratch = NSTemporaryDirectory() + "infaas-fuzz-trace-\(getpid()).csv"

func fuzzTraces(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Data(bytes: data, count: size)
    guard FileManager.default.createFile(atPath: scratch, contents: bytes) else { return 0 }
    if var trace = try? AzureLLMTrace(path: scratch) { _ = try? trace.collect(limit: 10_000) }
    if var trace = try? QueryTraceCSV(path: scratch) { _ = try? trace.collect(limit: 10_000) }
    if var trace = try? AzureFunctionsTrace(path: scratch, applications: 2, seed: 1) { _ = try? trace.collect(limit: 10_000) }
    return 0
}

/// The entry point SwiftPM gives this executable: libFuzzer's driver with the callback above.
@_cdecl("FuzzTraces_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzTraces(data, size) }
}
