import Foundation
import Testing
import InfaasCore
import HDF5Kit
@testable import InfaasProfiles

@Suite("profiles.h5")
struct ProfileStoreTests {
    func sample() throws -> [ModelVariant] {
        var v = try ConfigFile.parse(text: resnetConfig, path: "r.config")
        v.latency.samplesMs = [[249, 250, 251], [800, 801], [1549]]
        let rows = [csvHeader] + [1, 2].map { csvRow(batch: String($0), p50: String(10 * $0)) }
        return [v] + (try ProfileCSVImporter.parse(text: rows.joined(separator: "\n"), path: "t.csv").variants)
    }

    @Test func writesAndReadsBackEveryField() throws {
        let path = temporaryDirectory().appendingPathComponent("profiles.h5").path
        let variants = try sample()
        try ProfileStore.write(variants, to: path)
        let back = try ProfileStore.read(from: path)
        #expect(back.count == 2)
        for original in variants {
            let read = try #require(back.first { $0.name == original.name })
            #expect(read == original)
        }
    }

    @Test func h5dumpShowsTheDesignLayout() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/h5dump") else {
            print("skipped: h5dump not installed (scripts/setup installs hdf5-tools)")
            return
        }
        let path = temporaryDirectory().appendingPathComponent("profiles.h5").path
        try ProfileStore.write(try sample(), to: path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/h5dump")
        process.arguments = ["-H", path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for needle in ["GROUP \"meta\"", "GROUP \"variants\"", "GROUP \"resnet50_tensorflow-cpu_4\"", "DATASET \"batch\"",
                       "DATASET \"latency_ms_p50\"", "DATASET \"latency_ms_p99\"", "DATASET \"samples_ms\"",
                       "ATTRIBUTE \"architecture\"", "ATTRIBUTE \"max_batch\"", "ATTRIBUTE \"load_ms\"", "ATTRIBUTE \"source\""] {
            #expect(out.contains(needle), "h5dump -H lacks \(needle)")
        }
    }

    @Test func anHDF5FileThatIsNotOursIsRejected() throws {
        let path = temporaryDirectory().appendingPathComponent("other.h5").path
        do { try HDF5File.create(at: path).root().write([1.0], to: "x") }
        let error = #expect(throws: ProfileError.self) { try ProfileStore.read(from: path) }
        #expect(error?.code == .notAProfileStore)
        #expect(error?.location == path)
    }

    @Test func truncatedStoreIsRejected() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("p.h5").path
        try ProfileStore.write(try sample(), to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let cut = dir.appendingPathComponent("cut.h5").path
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let error = #expect(throws: ProfileError.self) { try ProfileStore.read(from: cut) }
        #expect(error?.location == cut)
    }

    @Test func anInterruptedImportsTemporaryFileIsRemovedByTheNextWrite() throws {
        let directory = temporaryDirectory()
        let path = directory.appendingPathComponent("profiles.h5").path
        // A child that has exited: its pid is gone, as an import killed midway.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let abandoned = path + ".tmp-\(child.processIdentifier)"
        let live = path + ".tmp-\(getppid())"  // a concurrent import still running: kept
        let other = directory.appendingPathComponent("other.h5.tmp-\(child.processIdentifier)").path  // another store's: kept
        for file in [abandoned, live, other] { #expect(FileManager.default.createFile(atPath: file, contents: Data(repeating: 1, count: 1024))) }
        try ProfileStore.write(try sample(), to: path)
        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: other))
        #expect(try ProfileStore.read(from: path).count == (try sample()).count)
    }

    @Test func failedWriteLeavesTheOldStoreIntact() throws {
        let path = temporaryDirectory().appendingPathComponent("p.h5").path
        let variants = try sample()
        try ProfileStore.write(variants, to: path)
        var bad = variants[0]
        bad.name = "a/b"
        #expect(throws: ProfileError.self) { try ProfileStore.write([variants[1], bad], to: path) }
        #expect(try ProfileStore.read(from: path).count == 2)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
        #expect(leftovers == ["p.h5"])
    }

    @Test func h5pyReadsTheStoreWhenInstalled() throws {
        let path = temporaryDirectory().appendingPathComponent("p.h5").path
        try ProfileStore.write(try sample(), to: path)
        let script = """
        import sys
        try:
            import h5py
        except ImportError:
            print("NO_H5PY"); sys.exit(0)
        f = h5py.File(sys.argv[1], "r")
        g = f["variants/resnet50_tensorflow-cpu_4"]
        print(g.attrs["architecture"].decode() if isinstance(g.attrs["architecture"], bytes) else g.attrs["architecture"], [int(x) for x in g["batch"][:]], f["meta"].attrs["format_version"])
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if out.contains("NO_H5PY") { print("skipped: h5py not installed (scripts/setup installs it)"); return }
        #expect(out.contains("resnet50 [1, 4, 8] 1"), "h5py printed: \(out)")
    }
}
