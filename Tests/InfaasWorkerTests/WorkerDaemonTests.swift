import Foundation
import InfaasPolicies
import Testing
import InfaasCore
import InfaasRPC
import InfaasRuntime
@testable import InfaasWorker

/// Runs `body` and returns the WorkerError it throws (nil, with a recorded issue, if none).
func workerError<T>(_ body: () async throws(WorkerError) -> T, sourceLocation: SourceLocation = #_sourceLocation) async -> WorkerError? {
    do {
        _ = try await body()
        Issue.record("expected a WorkerError", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

// These run the real ONNX Runtime in-process on a tiny model; the daemon's monitor and arbiter
// ticks are called directly, never on a timer.
@Suite("Worker daemon", .enabled(if: ORT.available, "ONNX Runtime's library was not found (set INFAAS_ORT_LIB or pip install onnxruntime)"))
struct WorkerDaemonTests {
    // MARK: Queries

    @Test func firstQueryIsAColdStartAndTheSecondIsNot() async throws {
        let box = try Sandbox()
        let spec = try box.variant()
        let first = try await box.daemon.query(try firstItemQuery(spec))
        #expect(first.coldStart)
        #expect(first.loadMs > 0)
        #expect(first.batch == 1)
        #expect(first.outputs.isEmpty)  // not asked for
        let second = try await box.daemon.query(try firstItemQuery(spec))
        #expect(!second.coldStart)
        #expect(second.loadMs == 0)
    }

    @Test func outputsMatchTheReferenceValues() async throws {
        let box = try Sandbox()
        let expected = try Fixtures.expected()
        let response = try await box.daemon.query(
            tensorQuery(try box.variant(), shape: expected.input_shape, values: expected.input, includeOutputs: true))
        #expect(response.batch == 3)
        try #require(response.outputs.count == 2)
        #expect(response.outputs[0].dimensions == [3, 4])
        #expect(maxDifference(try response.outputs[0].floats(), expected.logits) < 1e-4)
        #expect(maxDifference(try response.outputs[1].floats(), expected.features) < 1e-4)
    }

    @Test func topKRanksEachRowsLogits() async throws {
        let box = try Sandbox()
        let expected = try Fixtures.expected()
        let response = try await box.daemon.query(
            tensorQuery(try box.variant(), shape: expected.input_shape, values: expected.input, topK: 2))
        try #require(response.top.count == 3)
        for row in 0..<3 {
            let logits = Array(expected.logits[(row * 4)..<(row * 4 + 4)])
            let order = logits.indices.sorted { logits[$0] > logits[$1] }
            #expect(response.top[row].index == order.prefix(2).map(UInt32.init))
            #expect(maxDifference(response.top[row].score, order.prefix(2).map { logits[$0] }) < 1e-4)
            #expect(response.top[row].score[0] >= response.top[row].score[1])
        }
    }

    @Test func imageQueryIsResizedToTheRequestedSize() async throws {
        let box = try Sandbox()
        let spec = try box.variant()
        var request = Infaas_V1_WorkerQueryRequest()
        request.variant = spec
        var images = Infaas_V1_Images()
        images.data = [try Data(contentsOf: Fixtures.url("rgb.png")), try Data(contentsOf: Fixtures.url("flat.png"))]
        images.height = 8
        images.width = 8
        request.input.images = images
        request.includeOutputs = true
        let response = try await box.daemon.query(request)
        #expect(response.batch == 2)
        #expect(response.outputs.first?.dimensions == [2, 4])
        // Only square resizing is supported.
        images.width = 16
        request.input.images = images
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(request) }
        #expect(error?.code == .invalidArgument)
    }

    @Test func batchAboveTheMaxBatchIsInvalid() async throws {
        let box = try Sandbox()
        let request = tensorQuery(try box.variant(maxBatch: 4), shape: [5, 3, 8, 8], values: [Float](repeating: 0, count: 5 * 192))
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(request) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("max batch 4") == true)
        #expect(await box.daemon.report().variants.isEmpty)  // rejected before loading anything
    }

    @Test func tensorBytesNotMatchingItsShapeAreInvalid() async throws {
        let box = try Sandbox()
        var request = tensorQuery(try box.variant(), shape: [1, 3, 8, 8], values: [Float](repeating: 0, count: 192))
        request.input.tensor.data.removeLast(8)
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(request) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("768 bytes") == true)
    }

    @Test func wrongSpatialSizeIsInvalid() async throws {
        let box = try Sandbox()
        let request = tensorQuery(try box.variant(), shape: [1, 3, 16, 16], values: [Float](repeating: 0, count: 3 * 16 * 16))
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(request) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("tiny_cnn_cpu") == true)
    }

    @Test func emptyInputIsInvalid() async throws {
        let box = try Sandbox()
        var request = Infaas_V1_WorkerQueryRequest()
        request.variant = try box.variant()
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(request) }
        #expect(error?.code == .invalidArgument)
    }

    @Test func missingModelDirectoryIsNotFoundAndOtherVariantsStillServe() async throws {
        let box = try Sandbox()
        let request = try firstItemQuery(box.missingVariant())
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(request) }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("missing_cpu") == true)
        #expect(await box.daemon.report().variants.isEmpty)  // the failed load leaves nothing behind
        // Not even counters: the next group to reuse the freed slot would inherit them.
        #expect(await box.daemon.counters.allSatisfy { $0 == GroupCounters() })
        // Asking again fails the same way (nothing half-loaded is reused)...
        let again = await workerError { () async throws(WorkerError) in try await box.daemon.query(request) }
        #expect(again?.code == .notFound)
        // ...and a good variant serves.
        let response = try await box.daemon.query(try firstItemQuery(try box.variant(), includeOutputs: true))
        #expect(response.outputs.first?.dimensions == [1, 4])
        let report = await box.daemon.report()
        #expect(report.variants.map(\.variant) == ["tiny_cnn_cpu"])
        #expect(report.variants.first?.replicas == 1)
    }

    @Test func concurrentFirstQueriesShareOneLoad() async throws {
        let box = try Sandbox()
        let request = try firstItemQuery(try box.variant(), includeOutputs: true)
        let daemon = box.daemon
        async let a = daemon.query(request)
        async let b = daemon.query(request)
        async let c = daemon.query(request)
        let responses = try await [a, b, c]
        #expect(responses.allSatisfy { $0.outputs.first?.dimensions == [1, 4] })
        #expect(responses.contains { $0.coldStart })
        let report = await daemon.report()
        try #require(report.variants.count == 1)
        #expect(report.variants[0].replicas == 1)
        #expect(report.variants[0].loading == 0)
        #expect(report.variants[0].outstanding == 0)
        #expect(report.usedCores == 1)  // one replica's core reserved, not three
    }

    // MARK: Reports, monitor, load and unload

    @Test func reportListsLoadedVariantsWithAnIncreasingSequence() async throws {
        let box = try Sandbox()
        await box.daemon.setAddress("127.0.0.1:7001")
        let empty = await box.daemon.report()
        #expect(empty.name == "w-test")
        #expect(empty.address == "127.0.0.1:7001")
        #expect(empty.hardware == "cpu")
        #expect(empty.cores == 4)
        #expect(empty.instanceID == "pid-test")
        #expect(empty.variants.isEmpty)
        _ = try await box.daemon.query(try firstItemQuery(try box.variant()))
        let loaded = await box.daemon.report()
        #expect(loaded.sequence > empty.sequence)
        try #require(loaded.variants.count == 1)
        #expect(loaded.variants[0].variant == "tiny_cnn_cpu")
        #expect(loaded.variants[0].replicas == 1)
        #expect(await box.daemon.report().sequence > loaded.sequence)
    }

    @Test func monitorTickTurnsQueriesIntoQPS() async throws {
        let box = try Sandbox()
        let request = try firstItemQuery(try box.variant())
        for _ in 0..<3 { _ = try await box.daemon.query(request) }
        #expect(await box.daemon.report().variants.first?.qps == 0)  // not folded in yet
        await box.daemon.monitorTick(intervalSeconds: 1)
        let busy = try #require(await box.daemon.report().variants.first)
        #expect(busy.qps == 3)
        #expect(busy.averageSloMs == 100)
        #expect(busy.averageLatencyMs > 0)
        // The next interval saw nothing.
        await box.daemon.monitorTick(intervalSeconds: 1)
        #expect(await box.daemon.report().variants.first?.qps == 0)
    }

    @Test func loadAddsReplicasAndUnloadRemovesTheVariant() async throws {
        let box = try Sandbox()
        let spec = try box.variant()
        #expect(try await box.daemon.load(spec, replicas: 2) == 2)
        #expect(await box.daemon.report().variants.first?.replicas == 2)
        #expect(await box.daemon.report().usedCores == 2)
        // A query after an explicit load is warm.
        #expect(try await box.daemon.query(try firstItemQuery(spec)).coldStart == false)
        try await box.daemon.unload(variant: spec.name)
        let report = await box.daemon.report()
        #expect(report.variants.isEmpty)
        #expect(report.usedCores == 0)
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.unload(variant: spec.name) }
        #expect(error?.code == .notFound)
        // It loads again on demand.
        #expect(try await box.daemon.query(try firstItemQuery(spec)).coldStart)
    }

    @Test func arbiterAddsAReplicaUnderDemand() async throws {
        let box = try Sandbox()
        let request = try firstItemQuery(try box.variant())
        for _ in 0..<3 { _ = try await box.daemon.query(request) }
        // 3 queries in a 1 ms interval is 3000 QPS; one replica of a 0.6 ms model carries ~1667.
        await box.daemon.monitorTick(intervalSeconds: 0.001)
        await box.daemon.arbiterTick()
        let report = await box.daemon.report()
        #expect(report.variants.first?.replicas == 2)  // max_replicas_cpu
        #expect(report.usedCores == 2)
    }

    @Test func arbiterUnloadsAnIdleVariantAfterTheDelayOneReplicaAtATime() async throws {
        let box = try Sandbox()
        let spec = try box.variant()
        #expect(try await box.daemon.load(spec, replicas: 2) == 2)
        func idleTicks(_ n: Int) async {
            for _ in 0..<n {
                await box.daemon.monitorTick(intervalSeconds: 1)
                await box.daemon.arbiterTick()
            }
        }
        // The CPU scale-down delay is 10 ticks: the 11th idle tick removes one replica.
        await idleTicks(10)
        #expect(await box.daemon.report().variants.first?.replicas == 2)
        await idleTicks(1)
        #expect(await box.daemon.report().variants.first?.replicas == 1)
        #expect(await box.daemon.report().usedCores == 1)
        // Another full delay removes the last one, and the variant with it.
        await idleTicks(11)
        let report = await box.daemon.report()
        #expect(report.variants.isEmpty)
        #expect(report.usedCores == 0)
    }

    @Test func adoptCatalogueLearnsSpecsAndKeepsIds() async throws {
        let box = try Sandbox()
        let a = try box.variant("tiny_a"), b = try box.variant("tiny_b")
        await box.daemon.adoptCatalogue([a, b], version: 3)
        #expect(await box.daemon.catalogueVersion == 3)
        #expect(await box.daemon.report().catalogueVersion == 3)
        let idA = try #require(await box.daemon.catalogue.variantID("tiny_a"))
        let idB = try #require(await box.daemon.catalogue.variantID("tiny_b"))
        // A later catalogue with a new variant, in another order: old ids stay.
        let c = try box.variant("tiny_c")
        await box.daemon.adoptCatalogue([c, b, a], version: 4)
        #expect(await box.daemon.catalogue.variantID("tiny_a") == idA)
        #expect(await box.daemon.catalogue.variantID("tiny_b") == idB)
        #expect(await box.daemon.catalogue.variantID("tiny_c") == 2)
        #expect(await box.daemon.catalogue.architectureID("tiny_cnn") != nil)
        #expect(await box.daemon.catalogueVersion == 4)
        // A spec the policies reject (no max batch) leaves the catalogue and version as they were.
        var bad = box.spec("bad", url: "file:///nowhere/")
        bad.maxBatch = 0
        await box.daemon.adoptCatalogue([bad], version: 5)
        #expect(await box.daemon.catalogueVersion == 4)
        #expect(await box.daemon.catalogue.count == 3)
    }

    // MARK: Offline jobs

    @Test func offlineJobWritesOutputsErrorsAndASuccessMarker() async throws {
        let box = try Sandbox()
        let spec = try box.variant()
        let input = box.root.appendingPathComponent("offline-in")
        let output = box.root.appendingPathComponent("offline-out")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Fixtures.url("rgb.png"), to: input.appendingPathComponent("a.png"))
        try FileManager.default.copyItem(at: Fixtures.url("flat.png"), to: input.appendingPathComponent("b.png"))
        try Data("not an image".utf8).write(to: input.appendingPathComponent("notes.txt"))
        var request = Infaas_V1_WorkerOfflineRequest()
        request.variant = spec
        request.inputURL = "file://\(input.path)/"
        request.outputURL = "file://\(output.path)/"
        request.inputHeight = 8
        request.inputWidth = 8
        request.jobID = "job1"
        #expect(try await box.daemon.submitOffline(request) == 3)

        // Wait for the job to finish (bounded: 20 s), then check what it wrote.
        let marker = output.appendingPathComponent("_SUCCESS-job1.txt")
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: marker.path) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let summary = try String(contentsOf: marker, encoding: .utf8)
        #expect(summary.contains("2 outputs, 1 failed"))
        for name in ["a.png", "b.png"] {
            let out = try Data(contentsOf: output.appendingPathComponent("\(name).out"))
            #expect(out.count == 16, "\(name).out holds one row of 4 floats")
        }
        #expect(FileManager.default.fileExists(atPath: output.appendingPathComponent("notes.txt.error").path))
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("notes.txt.out").path))
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("a.png.error").path))

        // The .out file is what an online query of the same image returns.
        var online = Infaas_V1_WorkerQueryRequest()
        online.variant = spec
        var images = Infaas_V1_Images()
        images.data = [try Data(contentsOf: Fixtures.url("rgb.png"))]
        images.height = 8
        images.width = 8
        online.input.images = images
        online.includeOutputs = true
        let response = try await box.daemon.query(online)
        let outFile = Infaas_V1_Tensor(shape: [1, 4], values: [])
        var written = outFile
        written.data = try Data(contentsOf: output.appendingPathComponent("a.png.out"))
        #expect(maxDifference(try written.floats(), try response.outputs[0].floats()) < 1e-5)
    }

    @Test func offlineJobNeedsLocalDirectories() async throws {
        let box = try Sandbox()
        var request = Infaas_V1_WorkerOfflineRequest()
        request.variant = try box.variant()
        request.outputURL = "file://\(box.root.path)/out/"
        request.inputURL = "s3://bucket/in/"
        let s3 = await workerError { () async throws(WorkerError) in try await box.daemon.submitOffline(request) }
        #expect(s3?.code == .failedPrecondition && s3?.description.contains("no S3 access") == true && s3?.description.contains("--endpoint-url") == true)
        request.inputURL = "ftp://host/in/"
        let ftp = await workerError { () async throws(WorkerError) in try await box.daemon.submitOffline(request) }
        #expect(ftp?.code == .invalidArgument)
        request.inputURL = "file://\(box.root.path)/does-not-exist/"
        let missing = await workerError { () async throws(WorkerError) in try await box.daemon.submitOffline(request) }
        #expect(missing?.code == .notFound)
    }
}
