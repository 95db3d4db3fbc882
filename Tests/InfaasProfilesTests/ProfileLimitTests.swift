import Foundation
import Testing
import InfaasCore
import HDF5Kit
@testable import InfaasProfiles

/// Profiles from a CSV, a .config or a profiles.h5 pass the same checks.
@Suite("Profile numbers and names are bounded")
struct ProfileLimitTests {
    static func importing(_ row: String) -> ProfileError? {
        #expect(throws: ProfileError.self) { try ProfileCSVImporter.parse(text: [csvHeader, row].joined(separator: "\n"), path: "t.csv") }
    }

    @Test func aBatchOfTwoToTheThirtyOneIsAnErrorNotATrap() {
        let error = Self.importing(csvRow(batch: "2147483648"))
        #expect(error?.description.contains("batch") == true && error?.description.contains("65536") == true, "\(String(describing: error))")
        #expect(error?.location == "t.csv:2")
    }

    @Test func latenciesAndLoadTimesOf1e308AreRefusedAtImport() {
        #expect(Self.importing(csvRow(load: "1e308"))?.description.contains("load_ms") == true)
        #expect(Self.importing(csvRow(p99: "1e308"))?.description.contains("p99_ms") == true)
    }

    @Test func variantAndArchitectureNamesMustBeSafeInConfigFiles() {
        for (key, bad) in [("varname", "../../some/dir"), ("parname", "a/b")] {
            let text = resnetConfig.split(separator: "\n").map { line in line.hasPrefix(key + " ") ? "\(key) \(bad)" : String(line) }.joined(separator: "\n")
            let error = #expect(throws: ProfileError.self) { try ConfigFile.parse(text: text, path: "x.config") }
            #expect(error?.description.contains(key) == true, "\(String(describing: error))")
        }
    }

    @Test func aStoreWithNegativeLatenciesOrANaNSlopeIsRejectedLikeTheCSV() throws {
        var bad = try ConfigFile.parse(text: resnetConfig, path: "r.config")
        bad.latency.points[0].meanMs = -5
        let path = temporaryDirectory().appendingPathComponent("neg.h5").path
        try ProfileStore.write([bad], to: path)  // writing does not judge; reading does
        let error = #expect(throws: ProfileError.self) { try ProfileStore.read(from: path) }
        #expect(error?.description.contains("mean_ms") == true && error?.description.contains(path) == true, "\(String(describing: error))")

        var nan = try ConfigFile.parse(text: resnetConfig, path: "r.config")
        nan.latency.model.slopeMs = .nan
        let nanPath = temporaryDirectory().appendingPathComponent("nan.h5").path
        try ProfileStore.write([nan], to: nanPath)
        let nanError = #expect(throws: ProfileError.self) { try ProfileStore.read(from: nanPath) }
        #expect(nanError?.description.contains("slope") == true && nanError?.description.contains(nanPath) == true)
    }

    @Test func aDatasetSizeReadFromADamagedFileIsCheckedBeforeAllocating() throws {
        // A real file whose dataspace is then damaged: the extent 12,345 (stored as 8 bytes,
        // little-endian, in the dataset's header) becomes 2^40 — 8 TiB of doubles, which a read
        // once tried to allocate.
        let path = temporaryDirectory().appendingPathComponent("damaged.h5").path
        do {
            let file = try HDF5File.create(at: path)
            try file.root().write([Double](repeating: 1, count: 12_345), to: "values")
            file.close()
        }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let extent: [UInt8] = [0x39, 0x30, 0, 0, 0, 0, 0, 0], damaged: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 0]
        var patched = 0
        var i = 0
        while i + 8 <= bytes.count {
            if Array(bytes[i..<(i + 8)]) == extent { bytes.replaceSubrange(i..<(i + 8), with: damaged); patched += 1; i += 8 } else { i += 1 }
        }
        try #require(patched >= 1, "the extent was not found in the file")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let file = try HDF5File.open(at: path)
        let error = #expect(throws: HDF5Error.self) { _ = try file.root().read(Double.self, from: "values") }
        #expect(error?.description.contains("damaged") == true, "\(String(describing: error))")
    }

    @Test func aFailedStoreWriteLeavesNoTemporaryFile() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("p.h5").path
        var bad = try ConfigFile.parse(text: resnetConfig, path: "r.config")
        bad.name = "a/b"  // not an HDF5 group name: the write fails part-way
        #expect(throws: ProfileError.self) { try ProfileStore.write([bad], to: path) }
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(left.isEmpty, "\(left)")
    }
}
