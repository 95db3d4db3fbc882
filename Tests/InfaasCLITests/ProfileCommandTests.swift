import Foundation
import InfaasProfiles
import InfaasRuntime
import Testing

@Suite("infaas profile")
struct ProfileCommandTests {
    static let model = "Tests/InfaasRuntimeTests/Fixtures/tiny_cnn.onnx"
    static let required = ["--architecture", "tiny_cnn", "--task", "classification", "--dataset", "synthetic", "--accuracy", "61.5"]

    // Needs ONNX Runtime's library at run time (INFAAS_ORT_LIB or pip's onnxruntime).
    @Test(.enabled(if: (try? ONNXRuntimeBackend.locateLibrary()) != nil, "ONNX Runtime's library was not found"))
    func profilesIntoTheStoreAndAConfigKeepingOtherVariants() throws {
        let cli = CLI()
        let store = cli.path("profiles.h5"), configs = cli.path("configs")
        let first = try cli.run(["profile", Self.model, "--variant", "tiny_a"] + Self.required
                                + ["--batches", "1,2", "--runs", "4", "--loads", "2", "--warmup", "1", "--output", store, "--config-dir", configs])
        #expect(first.status == 0, "\(first.err)")
        #expect(first.err.contains("batch 1: 4 runs"))
        #expect(first.err.contains("batch 2: 4 runs"))
        #expect(first.out.contains("Added tiny_a in \(store)"))

        let variants = try ProfileStore.read(from: store)
        try #require(variants.count == 1)
        let variant = variants[0]
        #expect(variant.name == "tiny_a")
        #expect(variant.architecture == "tiny_cnn")
        #expect(variant.useCase.name == "classification-synthetic-8")
        #expect(variant.framework == .onnxruntimeCPU)
        #expect(variant.hardware == .cpu)
        #expect(variant.cpus == 1)
        #expect(variant.maxBatch == 2)
        #expect(variant.accuracy == 61.5)
        #expect(variant.kind == .measured)
        #expect((variant.loadLatencyMs ?? 0) > 0)
        #expect((variant.memoryMB ?? -1) >= 0)
        #expect(variant.sizeMB.map { abs($0 * 1_048_576 - 977) < 1 } == true)
        #expect(variant.latency.points.map(\.batch) == [1, 2])
        #expect(variant.latency.points.allSatisfy { ($0.p50Ms ?? 0) > 0 && ($0.p99Ms ?? 0) >= ($0.p50Ms ?? 0) })
        #expect(variant.latency.samplesMs?.map(\.count) == [4, 4])

        let configText = try String(contentsOfFile: configs + "/tiny_a.config", encoding: .utf8)
        let fromConfig = try ConfigFile.parse(text: configText, path: configs + "/tiny_a.config")
        #expect(configText.contains("filename tiny_cnn.onnx\n"))
        #expect(configText.contains("framework onnxruntime-cpu\n"))
        #expect(configText.contains("compsize 977\n"))
        #expect(configText.contains("inflatb4 0\n"))
        #expect(fromConfig.name == "tiny_a")
        #expect(fromConfig.hardware == .cpu)
        #expect(fromConfig.latency.point(batch: 1)?.meanMs == variant.latency.point(batch: 1)?.p50Ms)

        // A second variant joins the first; profiling the first again replaces it.
        let second = try cli.run(["profile", Self.model, "--variant", "tiny_b", "--cpus", "2", "--graph-optimization", "basic"] + Self.required
                                 + ["--batches", "1", "--runs", "2", "--loads", "1", "--output", store, "--config-dir", configs])
        #expect(second.status == 0, "\(second.err)")
        let again = try cli.run(["profile", Self.model, "--variant", "tiny_a"] + Self.required
                                + ["--batches", "1", "--runs", "2", "--loads", "1", "--output", store, "--config-dir", configs])
        #expect(again.out.contains("Replaced tiny_a"))
        let both = try ProfileStore.read(from: store).sorted { $0.name < $1.name }
        #expect(both.map(\.name) == ["tiny_a", "tiny_b"])
        #expect(both[0].latency.points.map(\.batch) == [1])
        #expect(both[1].cpus == 2)

        let shown = try cli.run(["profiles", "show", store, "--variant", "tiny_b"])
        #expect(shown.status == 0)
        #expect(shown.out.contains("onnxruntime-cpu"))
    }

    @Test func badArgumentsFailWithTheValueAndAFix() throws {
        let cli = CLI()
        let cases: [([String], String)] = [
            (["--batches", "1,x"], "--batches \"1,x\""),
            (["--batches", "0,4"], "batch sizes ≥ 1"),
            (["--accuracy", "150"], "--accuracy 150.0 is outside 0–100"),
            (["--task", "detection"], "classification or translation"),
            (["--device", "tpu"], "--device \"tpu\""),
            (["--graph-optimization", "max"], "disabled, basic, extended, all"),
            (["--runs", "0"], "--runs must be at least 1"),
        ]
        for (extra, message) in cases {
            // A repeated option (--accuracy, --task) takes its last value, so `extra` overrides `required`.
            let arguments = ["profile", Self.model] + Self.required + extra
            let result = try cli.run(arguments + ["--output", cli.path("p.h5"), "--config-dir", cli.path("c")])
            #expect(result.status != 0, "\(extra) was accepted")
            #expect(result.err.contains(message), "\(extra): \(result.err)")
        }
        let missing = try cli.run(["profile", "/nonexistent/model.onnx"] + Self.required + ["--output", cli.path("p.h5")])
        #expect(missing.status != 0)
        #expect(missing.err.contains("no model file at /nonexistent/model.onnx"))
        #expect(!FileManager.default.fileExists(atPath: cli.path("p.h5")))
    }

    @Test func helpHasAnExample() throws {
        let help = try CLI().run(["profile", "--help"])
        #expect(help.status == 0)
        #expect(help.out.contains("Example"))
        #expect(help.out.contains("--batches"))
    }
}
