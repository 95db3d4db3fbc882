import Foundation
import Testing
import HDF5Kit

/// A fresh temporary directory per test.
func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("hdf5kit-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("HDF5Kit", .serialized)
struct HDF5KitTests {
    @Test func roundTripsDatasetsOfEveryElementType() throws {
        let path = temporaryDirectory().appendingPathComponent("a.h5").path
        do {
            let file = try HDF5File.create(at: path)
            let group = try file.root().createGroup("data")
            try group.write([1, 2, 3] as [Int32], to: "i32")
            try group.write([Int64.max, -5] as [Int64], to: "i64")
            try group.write([0.5, 1.5, 2.5, 3.5, 4.5, 5.5], to: "matrix", shape: [2, 3])
            try group.write([Double](), to: "empty")
        }
        let file = try HDF5File.open(at: path)
        let group = try file.root().group("data")
        #expect(try group.read(Int32.self, from: "i32") == HDF5Array(values: [1, 2, 3], shape: [3]))
        #expect(try group.read(Int64.self, from: "i64").values == [Int64.max, -5])
        let matrix = try group.read(Double.self, from: "matrix")
        #expect(matrix.shape == [2, 3])
        #expect(matrix.values == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5])
        #expect(try group.read(Double.self, from: "empty").values.isEmpty)
        #expect(try group.childNames() == ["empty", "i32", "i64", "matrix"])
    }

    @Test func roundTripsAttributesAndMarksUnknownNumbersAsNaN() throws {
        let path = temporaryDirectory().appendingPathComponent("attrs.h5").path
        do {
            let group = try HDF5File.create(at: path).root().createGroup("g")
            try group.setAttribute("name", "résnet-50")
            try group.setAttribute("empty", "")
            try group.setAttribute("count", 42 as Int64)
            try group.setAttribute("accuracy", 76.13)
            try group.setAttribute("unknown", nil as Double?)
            try group.setAttribute("count", 43 as Int64)  // replaces
        }
        let group = try HDF5File.open(at: path).root().group("g")
        #expect(try group.stringAttribute("name") == "résnet-50")
        #expect(try group.stringAttribute("empty") == "")
        #expect(try group.integerAttribute("count") == 43)
        #expect(try group.doubleAttribute("accuracy") == 76.13)
        #expect(try group.doubleAttribute("unknown") == nil)
        #expect(try Set(group.attributeNames()) == ["name", "empty", "count", "accuracy", "unknown"])
        #expect(throws: HDF5Error.self) { try group.stringAttribute("count") }
        #expect(throws: HDF5Error.self) { try group.stringAttribute("missing") }
    }

    @Test func roundTripsStringDatasets() throws {
        let path = temporaryDirectory().appendingPathComponent("s.h5").path
        do { try HDF5File.create(at: path).root().write(strings: ["resnet50", "", "vgg16_tensorrt_b32", "ü"], to: "names") }
        #expect(try HDF5File.open(at: path).root().readStrings(from: "names") == ["resnet50", "", "vgg16_tensorrt_b32", "ü"])
    }

    @Test func missingFileErrorNamesThePath() throws {
        let path = temporaryDirectory().appendingPathComponent("nope.h5").path
        let error = #expect(throws: HDF5Error.self) { try HDF5File.open(at: path) }
        #expect(error?.code == .openFile)
        #expect(error?.description.contains(path) == true)
    }

    @Test func fileThatIsNotHDF5IsRejected() throws {
        let url = temporaryDirectory().appendingPathComponent("text.h5")
        try "variant,batch\nresnet50,1\n".write(to: url, atomically: true, encoding: .utf8)
        let error = #expect(throws: HDF5Error.self) { try HDF5File.open(at: url.path) }
        #expect(error?.code == .notHDF5)
        #expect(error?.description.contains(url.path) == true)
    }

    @Test func truncatedFileIsRejectedWithHDF5sMessage() throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("full.h5").path
        do {
            let group = try HDF5File.create(at: path).root().createGroup("g")
            try group.write([Double](repeating: 1, count: 10_000), to: "big")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let truncated = dir.appendingPathComponent("cut.h5")
        try data.prefix(data.count / 3).write(to: truncated)
        #expect(throws: HDF5Error.self) {
            let file = try HDF5File.open(at: truncated.path)
            _ = try file.root().group("g").read(Double.self, from: "big")
        }
    }

    @Test func readingTheWrongTypeIsATypeMismatch() throws {
        let path = temporaryDirectory().appendingPathComponent("t.h5").path
        let root = try HDF5File.create(at: path).root()
        try root.write([1.5], to: "floats")
        let error = #expect(throws: HDF5Error.self) { try root.read(Int32.self, from: "floats") }
        #expect(error?.code == .typeMismatch)
        #expect(error?.description.contains("/floats") == true)
    }

    @Test func badNamesAndShapesAreRejected() throws {
        let root = try HDF5File.create(at: temporaryDirectory().appendingPathComponent("n.h5").path).root()
        #expect(throws: HDF5Error.self) { try root.createGroup("a/b") }
        #expect(throws: HDF5Error.self) { try root.write([1.0, 2.0], to: "x", shape: [3]) }
        #expect(throws: HDF5Error.self) { try root.group("absent") }
        _ = try root.createGroup("dup")
        let error = #expect(throws: HDF5Error.self) { try root.createGroup("dup") }
        #expect(error?.code == .createGroup)
    }

    @Test func openingAndClosingTenThousandTimesLeaksNoIDs() throws {
        let path = temporaryDirectory().appendingPathComponent("leak.h5").path
        do {
            let group = try HDF5File.create(at: path).root().createGroup("g")
            try group.setAttribute("a", "b")
            try group.write([1.0, 2.0], to: "d")
        }
        // Other suites may hold a few HDF5 objects open at the same moment (tests run in
        // parallel in one process), so compare against the count before the loop: a leak of
        // even one id per iteration would add 10,000.
        let before = HDF5Library.openObjectCount()
        for _ in 0..<10_000 {
            let file = try HDF5File.open(at: path)
            let group = try file.root().group("g")
            _ = try group.stringAttribute("a")
            _ = try group.read(Double.self, from: "d")
        }
        #expect(HDF5Library.openObjectCount() - before < 50)
    }

    @Test func h5dumpReadsWhatWeWrite() throws {
        let h5dump = ["/usr/bin/h5dump", "/usr/local/bin/h5dump"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let h5dump else {
            print("skipped: h5dump not installed (apt-get install hdf5-tools, or run scripts/setup)")
            return
        }
        let path = temporaryDirectory().appendingPathComponent("dump.h5").path
        do {
            let group = try HDF5File.create(at: path).root().createGroup("variants")
            try group.setAttribute("architecture", "resnet50")
            try group.write([1, 4, 8] as [Int32], to: "batch")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: h5dump)
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(output.contains("GROUP \"variants\""))
        #expect(output.contains("\"resnet50\""))
        #expect(output.contains("DATASET \"batch\""))
    }

    @Test func libraryVersionIsOnePointTenOrLater() {
        let version = HDF5Library.version
        #expect(version.major == 1 && version.minor >= 10)
    }
}
