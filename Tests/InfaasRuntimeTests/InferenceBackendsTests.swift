import InfaasCore
import InfaasRuntime
import Testing

/// The worker finds a variant's runtime by its framework (one registry; the next runtime is one file).
@Suite struct InferenceBackendsTests {
    @Test(arguments: ["onnxruntime-cpu", "onnxruntime-cuda", "onnxruntime"])
    func onnxFrameworksRunOnONNXRuntime(framework: String) throws {
        let entry = try InferenceBackends.entry(for: Framework(framework))
        #expect(entry.name == "onnxruntime")
        #expect(entry.modelExtension == "onnx")
    }

    @Test func aFrameworkNoRuntimeServesNamesTheRuntimes() {
        do {
            _ = try InferenceBackends.entry(for: .tensorrt)
            Issue.record("tensorrt was given a runtime")
        } catch {
            #expect(error.message.contains("\"tensorrt\""))
            #expect(error.hint?.contains("onnxruntime (onnx models)") == true)
        }
    }
}
