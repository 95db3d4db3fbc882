import Foundation
import CFuzzDriver
import InfaasCore
import InfaasProfiles

/// `profiles.h5` reading (``ProfileStore/read(from:)``: `H5Fis_hdf5`, the layout checks, every
/// size against the file and a limit, every variant through the import checks). The reader
/// takes a path, so each input goes through one scratch file. An error is fine; a trap, an
/// allocation beyond the RSS limit or a hang is a finding (libhdf5's own faults included).
let scratch = NSTemporaryDirectory() + "infaas-fuzz-profiles-\(getpid()).h5"

func fuzzProfilesH5(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard FileManager.default.createFile(atPath: scratch, contents: Data(bytes: data, count: size)) else { return 0 }
    _ = try? ProfileStore.read(from: scratch)
    return 0
}

/// Seeds: stores written from the bundled profiles (`INFAAS_FUZZ_WRITE_SEEDS=DIR`, run in the
/// repository): the `.config` examples, and the first rows of the bundled profile table.
func writeSeeds(to directory: String, root: String) throws {
    let examples = root + "/profiles/examples"
    var variants = [ModelVariant]()
    for name in try FileManager.default.contentsOfDirectory(atPath: examples).sorted() where name.hasSuffix(".config") {
        let path = examples + "/" + name
        variants.append(try ConfigFile.parse(text: try String(contentsOfFile: path, encoding: .utf8), path: path))
    }
    try ProfileStore.write(variants, to: directory + "/examples.h5")
    let table = try String(contentsOfFile: root + "/profiles/model_variant_profiles.csv", encoding: .utf8)
    let head = table.split(separator: "\n", omittingEmptySubsequences: false).prefix(4).joined(separator: "\n") + "\n"
    let report = try ProfileCSVImporter.parse(text: head, path: "model_variant_profiles.csv")
    try ProfileStore.write(report.variants, to: directory + "/table-head.h5")
}

/// The entry point SwiftPM gives this executable: libFuzzer's driver with the callback above.
@_cdecl("FuzzProfilesH5_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if let directory = ProcessInfo.processInfo.environment["INFAAS_FUZZ_WRITE_SEEDS"] {
        do { try writeSeeds(to: directory, root: FileManager.default.currentDirectoryPath); return 0 } catch {
            FileHandle.standardError.write(Data("FuzzProfilesH5: cannot write seeds to \(directory): \(error)\n".utf8))
            return 1
        }
    }
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzProfilesH5(data, size) }
}
