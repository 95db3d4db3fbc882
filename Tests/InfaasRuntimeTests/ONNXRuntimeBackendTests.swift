import Foundation
import Testing
@testable import InfaasRuntime

// ONNX Runtime is a run-time dependency (pip's onnxruntime wheel, or INFAAS_ORT_LIB): where
// it cannot be located these tests are skipped rather than failed.
@Suite("ONNX Runtime backend", .enabled(if: ORT.available, "ONNX Runtime's library was not found (set INFAAS_ORT_LIB or pip install onnxruntime)"))
struct ONNXRuntimeBackendTests {
    let model = Fixtures.path("tiny_cnn.onnx")

    @Test func reportsVersionAndCPU() throws {
        let backend = try ORT.shared()
        #expect(backend.name == "onnxruntime")
        #expect(backend.version.split(separator: ".").count >= 2)
        #expect(backend.executionProviders.contains("CPUExecutionProvider"))
        #expect(backend.availableDevices().first == .cpu)
    }

    @Test func readsTheSignature() throws {
        let loaded = try ORT.shared().load(modelAt: model, options: SessionOptions())
        defer { loaded.unload() }
        #expect(loaded.signature == ModelSignature(inputName: "image", inputShape: [-1, 3, 8, 8],
                                                   outputNames: ["logits", "features"], outputShapes: [[-1, 4], [-1, 4]]))
    }

    @Test(arguments: GraphOptimization.allCases)
    func batchOfThreeMatchesNumpy(optimization: GraphOptimization) throws {
        let expected = try Fixtures.expected()
        let loaded = try ORT.shared().load(modelAt: model, options: SessionOptions(intraOpThreads: 2, graphOptimization: optimization))
        defer { loaded.unload() }
        let outputs = try loaded.run(Tensor(shape: expected.input_shape, values: expected.input))
        try #require(outputs.count == 2)
        #expect(outputs[0].shape == [3, 4])
        #expect(outputs[1].shape == [3, 4])
        #expect(maxDifference(outputs[0].values, expected.logits) < 1e-4)
        #expect(maxDifference(outputs[1].values, expected.features) < 1e-4)
    }

    @Test func batchOfOneMatchesTheFirstRow() throws {
        let expected = try Fixtures.expected()
        let loaded = try ORT.shared().load(modelAt: model, options: SessionOptions())
        defer { loaded.unload() }
        let first = Array(expected.input.prefix(3 * 8 * 8))
        // Run twice: the second run reuses the model's buffers and must give the same answer.
        for _ in 0..<2 {
            let outputs = try loaded.run(Tensor(shape: [1, 3, 8, 8], values: first))
            #expect(outputs[0].shape == [1, 4])
            #expect(maxDifference(outputs[0].values, Array(expected.logits.prefix(4))) < 1e-4)
            #expect(maxDifference(outputs[1].values, Array(expected.features.prefix(4))) < 1e-4)
        }
    }

    @Test func wrongInputShapeIsAnInputMismatch() throws {
        let loaded = try ORT.shared().load(modelAt: model, options: SessionOptions())
        defer { loaded.unload() }
        let error = #expect(throws: RuntimeError.self) {
            try loaded.run(Tensor(shape: [1, 3, 16, 16], values: [Float](repeating: 0, count: 3 * 16 * 16)))
        }
        #expect(error?.kind == .inputMismatch)
        #expect(error?.message.contains("[N,3,8,8]") == true)
        #expect(error?.message.contains("[1, 3, 16, 16]") == true)
        let miscounted = #expect(throws: RuntimeError.self) { try loaded.run(Tensor(shape: [1, 3, 8, 8], values: [1, 2])) }
        #expect(miscounted?.kind == .inputMismatch)
    }

    @Test func missingFileIsModelNotFound() throws {
        let error = #expect(throws: RuntimeError.self) {
            try ORT.shared().load(modelAt: "/nonexistent/model.onnx", options: SessionOptions())
        }
        #expect(error?.kind == .modelNotFound)
        #expect(error?.message.contains("/nonexistent/model.onnx") == true)
    }

    @Test func garbageFileIsAnInvalidModel() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = directory.appendingPathComponent("garbage.onnx")
        try Data("this is not a protobuf, let alone a model".utf8).write(to: garbage)
        let error = #expect(throws: RuntimeError.self) { try ORT.shared().load(modelAt: garbage.path, options: SessionOptions()) }
        #expect(error?.kind == .invalidModel)
        #expect(error?.message.contains(garbage.path) == true)
    }

    @Test func integerInputIsRefusedAsInvalidModel() throws {
        let error = #expect(throws: RuntimeError.self) {
            try ORT.shared().load(modelAt: Fixtures.path("int_input.onnx"), options: SessionOptions())
        }
        #expect(error?.kind == .invalidModel)
        #expect(error?.message.contains("float32") == true)
    }

    @Test func inferentiaIsNotAvailableOnThisHost() throws {
        let error = #expect(throws: RuntimeError.self) {
            try ORT.shared().load(modelAt: model, options: SessionOptions(device: .inferentia))
        }
        #expect(error?.kind == .notAvailableOnHost)
    }

    @Test(.enabled(if: !(ORT.backend?.executionProviders.contains("CUDAExecutionProvider") ?? true), "this ONNX Runtime has CUDA"))
    func cudaWithoutTheProviderIsUnavailable() throws {
        let backend = try ORT.shared()
        #expect(!backend.availableDevices().contains(.cuda(deviceID: 0)))
        let error = #expect(throws: RuntimeError.self) {
            try backend.load(modelAt: model, options: SessionOptions(device: .cuda(deviceID: 0)))
        }
        #expect(error?.kind == .executionProviderUnavailable)
        #expect(error?.hint?.contains("pip install onnxruntime-gpu") == true)
    }

    /// Calls OrtApi entry 152 directly: a CPU-only build answers that CUDA is not there. A
    /// miscounted table would reach a neighbouring entry (ROCm, OpenVINO, ...) instead.
    @Test(.enabled(if: !(ORT.backend?.executionProviders.contains("CUDAExecutionProvider") ?? true), "this ONNX Runtime has CUDA"))
    func cudaTableEntryReachesTheCUDAProvider() throws {
        let refusal = try ORT.shared().runtime.probeCUDA(deviceID: 0)
        let message = try #require(refusal)
        #expect(message.localizedCaseInsensitiveContains("cuda"))
    }

    @Test func runAfterUnloadFails() throws {
        let backend = try ONNXRuntimeBackend()
        let loaded = try backend.load(modelAt: model, options: SessionOptions())
        #expect(backend.memoryInUseBytes == loaded.memoryBytes)
        loaded.unload()
        #expect(backend.memoryInUseBytes == 0)
        let error = #expect(throws: RuntimeError.self) {
            try loaded.run(Tensor(shape: [1, 3, 8, 8], values: [Float](repeating: 0, count: 192)))
        }
        #expect(error?.kind == .inferenceFailed)
        #expect(error?.message.contains("unloaded") == true)
        loaded.unload()  // a second unload is harmless
        #expect(backend.memoryInUseBytes == 0)
    }

    @Test func backendsShareOneLibraryLoad() throws {
        let first = try ONNXRuntimeBackend()
        let second = try ONNXRuntimeBackend(libraryPath: first.libraryPath)
        #expect(first.runtime === second.runtime)
    }

    @Test func processMemoryReadsResidentAndPeak() {
        let resident = ProcessMemory.residentBytes()
        #expect(resident > 1 << 20)
        #expect(ProcessMemory.peakResidentBytes() >= resident)
    }
}

@Suite("Locating ONNX Runtime")
struct LibraryLocationTests {
    @Test func missingExplicitLibraryNamesBothWaysToProvideOne() {
        let error = #expect(throws: RuntimeError.self) {
            try ONNXRuntimeBackend.locateLibrary(environment: ["INFAAS_ORT_LIB": "/nonexistent/libonnxruntime.so"])
        }
        #expect(error?.kind == .libraryNotFound)
        let text = error?.description ?? ""
        #expect(text.contains("INFAAS_ORT_LIB"))
        #expect(text.contains("pip install onnxruntime"))
        #expect(text.contains("/nonexistent/libonnxruntime.so"))
    }

    @Test func nothingInstalledNamesBothWaysToProvideOne() throws {
        var locator = ORTLibraryLocator(environment: [:], searchRoots: ["/nonexistent/lib/python3*/site-packages"])
        locator.askPython = false
        let error = #expect(throws: RuntimeError.self) { try locator.locate() }
        #expect(error?.kind == .libraryNotFound)
        #expect(error?.description.contains("INFAAS_ORT_LIB") == true)
        #expect(error?.description.contains("pip install onnxruntime") == true)
    }

    @Test func findsTheLibraryInAPackageDirectory() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let capi = root.appendingPathComponent("lib/python3.12/site-packages/onnxruntime/capi")
        try FileManager.default.createDirectory(at: capi, withIntermediateDirectories: true)
        for name in ["libonnxruntime_providers_shared.so", "libonnxruntime.so.1.32.0", "__init__.py"] {
            try Data().write(to: capi.appendingPathComponent(name))
        }
        var locator = ORTLibraryLocator(environment: [:], searchRoots: [root.path + "/lib/python3*/site-packages"])
        locator.askPython = false
        #expect(try locator.locate() == capi.appendingPathComponent("libonnxruntime.so.1.32.0").path)
    }

    @Test func explicitLibraryWinsOverEverythingElse() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let library = root.appendingPathComponent("libonnxruntime.so")
        try Data().write(to: library)
        #expect(try ONNXRuntimeBackend.locateLibrary(environment: ["INFAAS_ORT_LIB": library.path]) == library.path)
    }

    @Test func aFileThatIsNotALibraryIsIncompatible() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let fake = root.appendingPathComponent("libonnxruntime.so")
        try Data("not an ELF file".utf8).write(to: fake)
        let error = #expect(throws: RuntimeError.self) { try ONNXRuntimeBackend(libraryPath: fake.path) }
        #expect(error?.kind == .libraryIncompatible)
        #expect(error?.message.contains(fake.path) == true)
    }
}
