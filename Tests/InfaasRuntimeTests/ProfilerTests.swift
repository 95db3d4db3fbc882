import Testing
import InfaasRuntime

@Suite("Profiler")
struct ProfilerTests {
    @Test func quantilesInterpolateBetweenRanks() {
        let sorted: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        #expect(Profiler.quantile(sorted, 0.5) == 5.5)
        #expect(abs(Profiler.quantile(sorted, 0.99) - 9.91) < 1e-12)
        #expect(Profiler.quantile(sorted, 0) == 1)
        #expect(Profiler.quantile(sorted, 1) == 10)
        #expect(Profiler.quantile([4], 0.99) == 4)
        #expect(Profiler.quantile([], 0.5) == 0)
    }

    @Test func syntheticInputIsDeterministicAndInRange() {
        let a = Profiler.syntheticInput(shape: [2, 3, 4], seed: 9)
        let b = Profiler.syntheticInput(shape: [2, 3, 4], seed: 9)
        let c = Profiler.syntheticInput(shape: [2, 3, 4], seed: 10)
        #expect(a == b)
        #expect(a != c)
        #expect(a.values.count == 24)
        #expect(a.values.allSatisfy { $0 >= -1 && $0 < 1 })
        #expect(Set(a.values).count > 20)
    }

    @Test(.enabled(if: ORT.available, "ONNX Runtime's library was not found (set INFAAS_ORT_LIB or pip install onnxruntime)"))
    func profilesEveryBatchWithTheRequestedRuns() throws {
        let profiler = Profiler(backend: try ORT.shared())
        var reported: [Int] = []
        let plan = Profiler.Plan(batches: [1, 3], loads: 2, warmupRuns: 1, runs: 7)
        let result = try profiler.profile(modelAt: Fixtures.path("tiny_cnn.onnx"), plan: plan) { reported.append($0.batch) }
        #expect(reported == [1, 3])
        #expect(result.loadSamplesMs.count == 2)
        #expect(result.loadMs > 0)
        #expect(result.signature.inputName == "image")
        #expect(result.batches.map(\.batch) == [1, 3])
        #expect(result.batches.map(\.inputShape) == [[1, 3, 8, 8], [3, 3, 8, 8]])
        for batch in result.batches {
            #expect(batch.samplesMs.count == 7)
            #expect(batch.samplesMs.allSatisfy { $0 > 0 })
            #expect(batch.p50Ms <= batch.p90Ms && batch.p90Ms <= batch.p99Ms)
            #expect(batch.p99Ms <= batch.samplesMs.max()!)
            #expect(batch.meanMs >= batch.samplesMs.min()! && batch.meanMs <= batch.samplesMs.max()!)
        }
        #expect(result.peakMemoryBytes >= 0)
    }

    @Test(.enabled(if: ORT.available, "ONNX Runtime's library was not found (set INFAAS_ORT_LIB or pip install onnxruntime)"))
    func adaptiveRunsStopAtTheMinimumOnceTheTimeTargetIsMet() throws {
        let profiler = Profiler(backend: try ORT.shared())
        let plan = Profiler.Plan(batches: [2], loads: 1, warmupRuns: 0, minRuns: 4, maxRuns: 50, targetSecondsPerBatch: 0)
        let result = try profiler.profile(modelAt: Fixtures.path("tiny_cnn.onnx"), plan: plan)
        #expect(result.batches[0].samplesMs.count == 4)
    }

    @Test(.enabled(if: ORT.available, "ONNX Runtime's library was not found (set INFAAS_ORT_LIB or pip install onnxruntime)"))
    func badBatchesAndMissingModelsAreErrors() throws {
        let profiler = Profiler(backend: try ORT.shared())
        let zero = #expect(throws: RuntimeError.self) {
            try profiler.profile(modelAt: Fixtures.path("tiny_cnn.onnx"), plan: Profiler.Plan(batches: [1, 0]))
        }
        #expect(zero?.kind == .inputMismatch)
        let missing = #expect(throws: RuntimeError.self) {
            try profiler.profile(modelAt: "/nonexistent.onnx", plan: Profiler.Plan(batches: [1], runs: 1))
        }
        #expect(missing?.kind == .modelNotFound)
    }
}
