import Foundation
import Testing
import InfaasCore

@Suite("Checked numbers, safe names, contained paths")
struct InputLimitsTests {
    @Test func numbersTooLargeToConvertAreErrorsNamingTheKeyAndRange() throws {
        let huge = #expect(throws: ValidationError.self) { try CheckedNumber.int(from: 1e19, key: "batch", range: 1...65_536) }
        #expect(huge?.field == "batch" && huge?.reason.contains("1…65536") == true, "\(String(describing: huge))")
        let infinite = #expect(throws: ValidationError.self) { try CheckedNumber.seconds(.infinity, key: "duration_s", range: 0.001...1e8) }
        #expect(infinite?.description.contains("duration_s") == true && infinite?.description.contains("100000000") == true)
        #expect(throws: ValidationError.self) { try CheckedNumber.double(.nan, key: "slo_ms", range: 0...1e7) }
        #expect(throws: ValidationError.self) { try CheckedNumber.int(from: 2.5, key: "batch", range: 1...8) }
        #expect(throws: ValidationError.self) { try CheckedNumber.int(parsing: "99999999999999999999", key: "batch", range: 1...8) }
        #expect(try CheckedNumber.int(from: 8, key: "batch", range: 1...8) == 8)
        #expect(try CheckedNumber.seconds(1.5, key: "t", range: 0...10).nanoseconds == 1_500_000_000)
        #expect(try CheckedNumber.double(parsing: "2e3", key: "slo_ms", range: 0...1e7) == 2000)
    }

    @Test func excerptsCutLongValuesAndEscapeControlCharacters() {
        let long = String(repeating: "a", count: 10_000)
        let cut = ValidationError.excerpt(long)
        #expect(cut.count < 100 && cut.contains("10000 bytes"))
        #expect(ValidationError.excerpt("a\u{0}b\nc") == "a\\u{0}b\\u{a}c")
    }

    @Test func safeNamesUseOneAlphabetAndNeverEscapeAFolder() {
        for good in ["resnet50", "keras.applications.resnet50_gpu", "vgg16_onnxruntime-int8static-cpu_t2_b8", "A-1.config"] {
            #expect(SafeName.isValid(good), "\(good)")
        }
        for bad in ["", ".", "..", "../../some/dir", "a/b", ".hidden", "a b", "naïve", "x\u{0}", String(repeating: "x", count: 129)] {
            #expect(!SafeName.isValid(bad), "\(bad)")
        }
        let error = #expect(throws: ValidationError.self) { try SafeName.check("../../dir", field: "varname") }
        #expect(error?.description.contains("varname") == true && error?.description.contains("A–Z a–z 0–9 . _ -") == true)
    }

    @Test func pathsAreResolvedThroughDotDotAndLinksBeforeTheRootCheck() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-contained-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let inside = root.appendingPathComponent("cache"), outside = root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: inside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: inside.appendingPathComponent("link"), withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(at: inside.appendingPathComponent("dangling"),
                                                   withDestinationURL: outside.appendingPathComponent("not-yet"))
        #expect(ContainedPath.isContained(inside.path + "/variant", in: inside.path))
        #expect(ContainedPath.isContained(inside.path + "/a/b/../c", in: inside.path))
        #expect(!ContainedPath.isContained(inside.path + "/../outside", in: inside.path))
        #expect(!ContainedPath.isContained(inside.path + "/link", in: inside.path))
        #expect(!ContainedPath.isContained(inside.path + "/link/file", in: inside.path))
        #expect(!ContainedPath.isContained(inside.path + "/dangling", in: inside.path))
        #expect(!ContainedPath.isContained(inside.path + "-sibling", in: inside.path))
        let error = #expect(throws: ValidationError.self) { try ContainedPath.check(inside.path + "/../../x", under: inside.path, role: "model cache folder") }
        #expect(error?.description.contains("outside") == true)
    }

    @Test func variantsWithNegativeOrHugeNumbersOrBadNamesAreRefused() {
        func variant(name: String = "v1", architecture: String = "arch", batch: Int = 1, p50: Double = 10, load: Double? = 100,
                     slope: Double = 1) -> ModelVariant {
            ModelVariant(name: name, architecture: architecture,
                         useCase: UseCase(task: .classification, dataset: Dataset("imagenet"), inputDimension: 224),
                         framework: .onnxruntimeCPU, hardware: .cpu, maxBatch: max(1, batch), accuracy: 70, loadLatencyMs: load, memoryMB: nil,
                         latency: LatencyProfile(points: [LatencyPoint(batch: batch, p50Ms: p50)], model: LinearLatencyModel(slopeMs: slope, interceptMs: 1)),
                         kind: .measured, source: "test")
        }
        #expect(throws: Never.self) { try variant().validate() }
        #expect(throws: ValidationError.self) { try variant(name: "../../x").validate() }
        #expect(throws: ValidationError.self) { try variant(architecture: "a/b").validate() }
        #expect(throws: ValidationError.self) { try variant(batch: 1 << 31).validate() }
        #expect(throws: ValidationError.self) { try variant(batch: -4).validate() }
        #expect(throws: ValidationError.self) { try variant(p50: -1).validate() }
        #expect(throws: ValidationError.self) { try variant(load: 1e308).validate() }
        let nan = #expect(throws: ValidationError.self) { try variant(slope: .nan).validate(location: "p.h5") }
        #expect(nan?.description.contains("slope") == true && nan?.description.contains("p.h5") == true)
    }
}
