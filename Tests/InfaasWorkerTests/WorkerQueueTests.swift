import Foundation
import InfaasCore
import InfaasPolicies
import InfaasRPC
import InfaasRuntime
import Logging
import Synchronization
import Testing
@testable import InfaasWorker

/// A runtime whose model runs only when the test opens its gate, and records what it ran (the
/// first input value of each query): a batch that "runs long" for exactly as long as a test needs.
final class GatedBackend: InferenceBackend {
    let name = "onnxruntime"
    let gate = DispatchSemaphore(value: 0)
    let ran = Mutex<[Float]>([])
    /// Every input value of each run, one entry per run (a batch is one run).
    let batches = Mutex<[[Float]]>([])
    let running = Mutex(0)
    var memoryInUseBytes: Int { 0 }

    func availableDevices() -> [ExecutionDevice] { [.cpu] }

    func load(modelAt path: String, options: SessionOptions) throws(RuntimeError) -> any LoadedModel { GatedModel(backend: self) }

    /// Waits (polling) until `count` runs have started.
    func waitUntilRunning(_ count: Int) async throws {
        for _ in 0..<2_000 where running.withLock({ $0 }) < count { try await Task.sleep(for: .milliseconds(5)) }
        try #require(running.withLock { $0 } >= count, "the gated model never started run \(count)")
    }
}

final class GatedModel: LoadedModel {
    let backend: GatedBackend
    init(backend: GatedBackend) { self.backend = backend }
    var signature: ModelSignature { ModelSignature(inputName: "x", inputShape: [-1, 1], outputNames: ["y"], outputShapes: [[-1, 1]]) }
    var memoryBytes: Int { 0 }
    func run(_ input: Tensor) throws(RuntimeError) -> [Tensor] {
        backend.running.withLock { $0 += 1 }
        backend.ran.withLock { $0.append(input.values.first ?? -1) }
        backend.batches.withLock { $0.append(input.values) }
        backend.gate.wait()
        return [input]
    }
    func unload() {}
}

/// The live worker's queue in front of its replicas: the shared rules (``QueueDiscipline``) on
/// the wall clock, without a model runtime (the gated backend). Nothing here asserts a duration:
/// each test holds a batch running until the answer it checks has come.
@Suite("Worker queue") struct WorkerQueueTests {
    final class Box: Sendable {
        let root: URL
        let daemon: WorkerDaemon
        let backend = GatedBackend()

        init(batching: DynamicBatching? = nil, configure: (inout PolicyConfig) -> Void = { _ in }) throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-queue-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root.appendingPathComponent("repo/gated_cpu"), withIntermediateDirectories: true)
            try Data("not a real model".utf8).write(to: root.appendingPathComponent("repo/gated_cpu/model.onnx"))
            var options = WorkerOptions(name: "w-queue", cores: 4, masterAddress: "127.0.0.1:1", modelCache: root.appendingPathComponent("cache").path,
                                        instanceID: "pid-test")
            options.batching = batching
            configure(&options.policyConfig)
            daemon = try WorkerDaemon(options: options, backend: backend, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        }

        deinit { try? FileManager.default.removeItem(at: root) }

        var spec: Infaas_V1_VariantSpec {
            var spec = Infaas_V1_VariantSpec()
            spec.name = "gated_cpu"
            spec.architecture = "gated"
            spec.task = "classification"
            spec.dataset = "imagenet"
            spec.framework = "onnxruntime-cpu"
            spec.hardware = "cpu"
            spec.maxBatch = 4
            spec.cpus = 1
            spec.slopeMs = 0
            spec.interceptMs = 10
            spec.inputHeight = 1
            spec.inputWidth = 1
            spec.modelURL = "file://\(root.path)/repo/gated_cpu/"
            return spec
        }

        func query(_ value: Float, priority: Infaas_V1_QueryPriority = .high, deadlineMs: Double = 0) -> Infaas_V1_WorkerQueryRequest {
            var request = tensorQuery(spec, shape: [1, 1], values: [value])
            request.priority = priority
            request.deadlineMs = deadlineMs
            return request
        }

        /// Sends a query in a task (it waits in the queue or runs).
        func send(_ request: Infaas_V1_WorkerQueryRequest) -> Task<Infaas_V1_WorkerQueryResponse, any Error> {
            let daemon = self.daemon
            return Task { try await daemon.query(request) }
        }

        func waitUntilQueued(_ count: Int) async throws {
            for _ in 0..<2_000 where await daemon.queuedQueries(variant: "gated_cpu") < count { try await Task.sleep(for: .milliseconds(5)) }
            try #require(await daemon.queuedQueries(variant: "gated_cpu") >= count, "\(count) queries never queued")
        }
    }

    @Test func anExpiredQueryIsAnsweredWithItsStatusBeforeTheBatchAheadOfItRuns() async throws {
        let box = try Box()
        let first = box.send(box.query(1))
        try await box.backend.waitUntilRunning(1)
        // The replica is busy (its batch is held); this query's 30 ms deadline passes in the queue.
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(box.query(2, deadlineMs: 30)) }
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.message.hasPrefix("deadline exceeded in queue after ") == true, "\(error?.message ?? "")")
        #expect(error?.rpcError.code == .deadlineExceeded)
        #expect(box.backend.ran.withLock { $0 } == [1], "the expired query must never run")
        #expect(box.backend.running.withLock { $0 } == 1, "it was answered while the batch ahead of it still ran")
        box.backend.gate.signal()
        _ = try await first.value
        #expect(await box.daemon.queuedQueries(variant: "gated_cpu") == 0)
        #expect(box.backend.ran.withLock { $0 } == [1])
    }

    /// An hour's starvation bound: the low query must not go first because a loaded machine was
    /// slow to free the replica (it waited past the 1 s default).
    static func noStarvationBound(_ config: inout PolicyConfig) { config.lowPriorityMaxWaitMs = 3_600_000 }

    @Test func aFullQueueShedsWithItsStatusAndTheQueuedQueryStillRuns() async throws {
        let box = try Box { $0.maxQueueLength = 1 }
        let first = box.send(box.query(1))
        try await box.backend.waitUntilRunning(1)
        let second = box.send(box.query(2))
        try await box.waitUntilQueued(1)
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(box.query(3)) }
        #expect(error?.code == .resourceExhausted)
        #expect(error?.message == "shed: the replica's queue is full (1 queued, max_queue_length 1)")
        #expect(QueryOutcome.queueOutcome(ofMessage: error?.rpcError.message ?? "") == .shed)
        box.backend.gate.signal()
        box.backend.gate.signal()
        _ = try await first.value
        _ = try await second.value
        #expect(box.backend.ran.withLock { $0 } == [1, 2])
    }

    @Test func aHighPriorityQueryOvertakesAQueuedLowOne() async throws {
        let box = try Box(configure: Self.noStarvationBound)
        let first = box.send(box.query(1))
        try await box.backend.waitUntilRunning(1)
        let low = box.send(box.query(2, priority: .low))
        try await box.waitUntilQueued(1)
        let high = box.send(box.query(3, priority: .high))
        try await box.waitUntilQueued(2)
        for _ in 0..<3 { box.backend.gate.signal() }
        _ = try await first.value
        _ = try await high.value
        _ = try await low.value
        #expect(box.backend.ran.withLock { $0 } == [1, 3, 2])
    }

    // MARK: Dynamic batching: the same queue

    /// Batches of at most 2 rows, and no wait for company: a query handed an idle replica runs
    /// with whatever is queued then (the tests hold the replica busy instead of timing a delay).
    static let batching = DynamicBatching(maxBatch: 2, maxDelayMs: 0)

    @Test func aBatchingWorkerAnswersAnExpiredQueuedQueryWithItsStatusAndNeverRunsIt() async throws {
        let box = try Box(batching: Self.batching)
        let first = box.send(box.query(1))
        try await box.backend.waitUntilRunning(1)
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(box.query(2, deadlineMs: 30)) }
        #expect(error?.code == .deadlineExceeded)
        #expect(error?.message.hasPrefix("deadline exceeded in queue after ") == true, "\(error?.message ?? "")")
        #expect(box.backend.running.withLock { $0 } == 1, "it was answered while the batch ahead of it still ran")
        box.backend.gate.signal()
        _ = try await first.value
        #expect(await box.daemon.queuedQueries(variant: "gated_cpu") == 0)
        #expect(box.backend.batches.withLock { $0 } == [[1]], "the expired query must never run")
    }

    @Test func aBatchingWorkerBatchesHighPriorityQueriesFirst() async throws {
        let box = try Box(batching: Self.batching, configure: Self.noStarvationBound)
        let first = box.send(box.query(1))
        try await box.backend.waitUntilRunning(1)
        var queued: [Task<Infaas_V1_WorkerQueryResponse, any Error>] = []
        for (i, (value, priority)) in [(2, Infaas_V1_QueryPriority.low), (3, .low), (4, .high), (5, .high)].enumerated() {
            queued.append(box.send(box.query(Float(value), priority: priority)))
            try await box.waitUntilQueued(i + 1)
        }
        for _ in 0..<3 { box.backend.gate.signal() }
        _ = try await first.value
        for task in queued { _ = try await task.value }
        // The two high queries form the next batch ahead of the older low ones, which follow together.
        #expect(box.backend.batches.withLock { $0 } == [[1], [4, 5], [2, 3]])
    }

    @Test func aBatchingWorkersBoundedQueueSheds() async throws {
        let box = try Box(batching: Self.batching) { $0.maxQueueLength = 1 }
        let first = box.send(box.query(1))
        try await box.backend.waitUntilRunning(1)
        let second = box.send(box.query(2))
        try await box.waitUntilQueued(1)
        let error = await workerError { () async throws(WorkerError) in try await box.daemon.query(box.query(3)) }
        #expect(error?.code == .resourceExhausted)
        #expect(error?.message == "shed: the replica's queue is full (1 queued, max_queue_length 1)")
        box.backend.gate.signal()
        box.backend.gate.signal()
        _ = try await first.value
        _ = try await second.value
        #expect(box.backend.batches.withLock { $0 } == [[1], [2]])
    }
}
