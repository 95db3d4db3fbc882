import Foundation
import InfaasCloud
public import InfaasCore
public import InfaasPolicies
public import InfaasRPC
public import InfaasRuntime
public import Logging

/// The worker daemon (reference §1.1 `query_executor`): serves queries for the variants the
/// master sends it, loading them on demand from the model repository, and runs the shared
/// ``ControlLoop`` over a one-worker snapshot of itself for the QPS monitor (§4.1) and the model
/// autoscaler (§4.2) — the same loop and policy (from ``PolicyRegistry``, by the name and
/// configuration the master gives) the simulator runs for every worker. It decides nothing
/// itself: it performs the loop's effects with the model runtime.
public actor WorkerDaemon {
    public let options: WorkerOptions
    /// The model runtimes started so far, by name (``InferenceBackends``); the one handed to
    /// `init` serves its frameworks.
    var backends: [String: any InferenceBackend]
    let repository: ModelRepository
    let logger: Logger
    let startedAt = ContinuousClock.now

    // The loop's view of this worker: worker 0 of a one-worker snapshot.
    var control: ControlLoop
    var specs: [Infaas_V1_VariantSpec] = []
    public private(set) var catalogueVersion: UInt64 = 0

    var hosts: [Int: VariantHost] = [:]
    var sequence: UInt64 = 0
    var cpu = ProcessCPU()
    /// `host:port` the master reaches this worker on (set once the server listens).
    public var address = ""
    var offline = OfflineQueue()
    /// The last id given to a queued query (``acquire``) or a waiting batch leader.
    var nextTicket: UInt64 = 0
    /// Dynamic batching: queries holding a replica of `group` while they wait for company, with
    /// the rows their batch has room for (``runBatch``).
    var batchLeaders: [UInt64: (group: Int, room: Int, continuation: CheckedContinuation<Void, Never>)] = [:]

    public init(options: WorkerOptions, backend: any InferenceBackend, logger: Logger) throws(ValidationError) {
        self.options = options
        backends = [backend.name: backend]
        self.logger = logger
        repository = ModelRepository(cacheDirectory: options.modelCache, objectStore: options.objectStore)
        control = ControlLoop(policy: try Self.policy(options, catalogue: try PolicyCatalogue([], binEdges: options.policyConfig.accuracyBinEdges)), seed: 1)
        control.addWorker(WorkerState(id: 0, name: options.name, hardware: options.hardware, status: .ready, startedAt: .zero,
                                      cores: options.cores, acceleratorMemoryMB: options.acceleratorMemoryMB,
                                      neuronCores: options.neuronCores, isSlack: options.slack))
    }

    /// The worker's policy over `catalogue`: the one the master names, built by the registry.
    public static func policy(_ options: WorkerOptions, catalogue: PolicyCatalogue) throws(ValidationError) -> any PolicySet {
        let limits = ClusterLimits(initial: [options.hardware: 1], maximum: [options.hardware: 1])
        return try PolicyRegistry.make(options.policy, PolicyContext(catalogue: catalogue, limits: limits, config: options.policyConfig))
    }

    var catalogue: PolicyCatalogue { control.catalogue }
    /// What the monitor has counted per group since its last tick.
    var counters: [GroupCounters] { control.counters }
    var config: PolicyConfig { control.config }
    /// The schedule of the loop's periodic jobs.
    public var schedule: TickSchedule { control.schedule }
    /// The configuration the worker's loop runs (`KEY=VALUE`).
    public var resolvedSettings: [String] { control.config.allSettings }

    public func setAddress(_ address: String) { self.address = address }

    var now: SimTime {
        SimTime(elapsed: ContinuousClock.now - startedAt)
    }

    // MARK: Catalogue

    /// The local id of a variant, learning its spec if new. Ids never change once given.
    func learn(_ spec: Infaas_V1_VariantSpec) throws(WorkerError) -> Int {
        if let v = catalogue.variantID(spec.name) {
            if !spec.modelURL.isEmpty, spec != specs[v] { specs[v] = spec }  // a name alone refers to the known spec
            return v
        }
        try adopt(specs + [spec], withdrawn: catalogue.withdrawn)
        return catalogue.variantID(spec.name)!
    }

    /// Takes the master's catalogue (appending what is new, keeping existing ids).
    /// Variants the master no longer lists (unregistered) are withdrawn here too
    /// (``PolicyCatalogue/withdrawn``): the model autoscaler never upgrades or downgrades to them.
    public func adoptCatalogue(_ incoming: [Infaas_V1_VariantSpec], version: UInt64) {
        let listed = Set(incoming.map(\.name))
        let known = Set(specs.indices.filter { !catalogue.withdrawn.contains($0) }.map { specs[$0].name })
        let fresh = incoming.filter { !known.contains($0.name) }
        let withdrawn = catalogue.withdrawn.union(specs.indices.filter { !listed.contains(specs[$0].name) })
        do {
            if !fresh.isEmpty || withdrawn != catalogue.withdrawn { try adopt(specs + fresh, withdrawn: withdrawn) }
            catalogueVersion = version
        } catch {
            logger.error("cannot adopt the master's catalogue: \(error)")
        }
    }

    func adopt(_ all: [Infaas_V1_VariantSpec], withdrawn: Set<Int> = []) throws(WorkerError) {
        var variants: [ModelVariant] = []
        for spec in all {
            do { variants.append(try spec.modelVariant()) } catch { throw WorkerError(.invalidArgument, error.description) }
        }
        do {
            let catalogue = try PolicyCatalogue(variants, binEdges: config.accuracyBinEdges, withdrawn: withdrawn)
            control.replacePolicy(try Self.policy(options, catalogue: catalogue))
        } catch {
            throw WorkerError(.invalidArgument, "variant catalogue rejected: \(error)")
        }
        specs = all
    }

    // MARK: Queries

    /// Serves one query (reference §5.1: the client's batch runs as one call on one replica).
    public func query(_ request: Infaas_V1_WorkerQueryRequest) async throws(WorkerError) -> Infaas_V1_WorkerQueryResponse {
        let v = try learn(request.variant)
        let batch = request.input.batchSize
        guard batch >= 1 else { throw WorkerError(.invalidArgument, "the query has no input", hint: "send at least one image or a tensor with batch ≥ 1") }
        guard batch <= catalogue.maxBatch[v] else {
            throw WorkerError(.invalidArgument, "batch \(batch) is above variant \(specs[v].name)'s max batch \(catalogue.maxBatch[v])",
                              hint: "send at most \(catalogue.maxBatch[v]) inputs, or let the master pick a variant (-a ARCH)")
        }
        let g = control.snapshot.ensureGroup(variant: v, worker: 0)
        let host = hosts[g] ?? VariantHost(variant: v)
        hosts[g] = host
        control.accept(group: g, batch: batch, sloMs: request.sloMs)
        let sloMs = request.sloMs
        let arrived = ContinuousClock.now
        let arrival = now
        let deadline = queueDeadline(arrival: arrival, sloMs: sloMs, deadlineMs: request.deadlineMs)
        defer { release(g, variant: v) }
        var cold = false
        var loadMs = 0.0
        if host.replicas.isEmpty {
            cold = true
            do throws(WorkerError) {
                try await ensureLoaded(group: g)
            } catch {
                complete(g, variant: v, latency: ContinuousClock.now - arrived, sloMs: sloMs)
                throw error
            }
            loadMs = (ContinuousClock.now - arrived).milliseconds
        }
        guard !host.replicas.isEmpty, let settings = host.settings else {
            complete(g, variant: v, latency: ContinuousClock.now - arrived, sloMs: sloMs)
            throw Self.unloaded(specs[v].name)
        }
        let input = request.input
        let name = specs[v].name
        var result: ([Tensor], UInt64)
        var queueNanos: UInt64
        // With dynamic batching the input is decoded before it queues (off the actor), so the
        // query that leads a batch can run it with its own.
        var decoded: Tensor? = nil
        if options.batching != nil {
            let tensor: Result<Tensor, WorkerError> = await Task.detached {
                do throws(WorkerError) { return .success(try Self.tensor(from: input, settings: settings, variant: name)) } catch { return .failure(error) }
            }.value
            do throws(WorkerError) { decoded = try tensor.get() } catch {
                complete(g, variant: v, latency: ContinuousClock.now - arrived, sloMs: sloMs)
                throw error
            }
        }
        // The replica's queue (the shared rules): wait for an idle replica (or, batching, a
        // place in a batch), or be answered expired or shed without running.
        let waitStart = ContinuousClock.now
        let grant: QueueGrant
        do throws(WorkerError) {
            grant = try await acquire(group: g, variant: v, batch: batch, sloMs: sloMs, arrival: arrival, deadline: deadline,
                                      priority: request.priority.queuePriority, input: decoded)
        } catch {
            switch error.code {
            case .deadlineExceeded: complete(g, variant: v, latency: ContinuousClock.now - arrived, sloMs: sloMs, met: false)
            case .resourceExhausted: break  // shed: it never waited, the monitor does not count it as a completion
            default: complete(g, variant: v, latency: ContinuousClock.now - arrived, sloMs: sloMs)
            }
            throw error
        }
        let waited = UInt64(max(0, (ContinuousClock.now - waitStart).totalNanoseconds))
        switch grant {
        case .batched(let rows):
            result = (rows.outputs, rows.inferenceNanos)
            queueNanos = rows.queueNanos
        case .replica(let replica):
            do throws(WorkerError) {
                if let batching = options.batching, let decoded {
                    (result, queueNanos) = try await runBatch(decoded, on: replica, group: g, variant: v, batching: batching, arrived: waitStart)
                } else {
                    (result, queueNanos) = try await replica.execute { model throws(WorkerError) in
                        let tensor = try Self.tensor(from: input, settings: settings, variant: name)
                        return try Self.run(model, tensor, variant: name)
                    }
                    queueNanos += waited
                }
            } catch {
                releaseReplica(replica, group: g)
                complete(g, variant: v, latency: ContinuousClock.now - arrived, sloMs: sloMs)
                throw error
            }
            releaseReplica(replica, group: g)
        }
        complete(g, variant: v, latency: ContinuousClock.now - arrived, sloMs: sloMs)
        var response = Infaas_V1_WorkerQueryResponse()
        response.batch = UInt32(batch)
        response.coldStart = cold
        response.loadMs = loadMs
        response.queueMs = Double(queueNanos) / 1e6
        response.inferenceMs = Double(result.1) / 1e6
        if let first = result.0.first, request.topK > 0, first.shape.count >= 2 {
            let columns = first.shape.dropFirst().reduce(1, *)
            response.top = (0..<first.shape[0]).map { Infaas_V1_TopK(row: $0, of: first.values, columns: columns, k: Int(request.topK)) }
        }
        if request.includeOutputs {
            response.outputs = result.0.map { Infaas_V1_Tensor(shape: $0.shape, values: $0.values) }
        }
        return response
    }

    /// Runs a model on the calling (replica) thread; returns outputs and inference nanoseconds.
    static func run(_ model: any LoadedModel, _ tensor: Tensor, variant: String) throws(WorkerError) -> ([Tensor], UInt64) {
        let start = DispatchTime.now().uptimeNanoseconds
        do throws(RuntimeError) {
            let outputs = try model.run(tensor)
            return (outputs, DispatchTime.now().uptimeNanoseconds - start)
        } catch {
            throw WorkerError(error, variant: variant)
        }
    }

    func release(_ g: Int, variant v: Int) {
        control.finished(group: g, variant: v)
        if control.dropIfAbandoned(group: g) { hosts[g] = nil }
    }

    /// Counts a query's end for the monitor; `met` defaults to whether it was within its SLO
    /// (an expired query passes `false`: it was never served).
    func complete(_ g: Int, variant v: Int, latency: Duration, sloMs: Double, met: Bool? = nil) {
        // A failed first load drops the group: counting into its freed slot would hand the
        // counts to whichever group reuses it.
        guard g < control.snapshot.groups.count, control.snapshot.groups[g].active, control.snapshot.groups[g].variant == v else { return }
        let ms = latency.milliseconds
        control.recordCompletion(group: g, latencyMs: ms, met: met ?? (sloMs <= 0 || ms <= sloMs))
    }

    /// Builds the model input: images are decoded, resized and normalised here (on the
    /// replica's thread); a raw tensor is used as is.
    static func tensor(from input: Infaas_V1_QueryInput, settings: VariantSettings, variant: String) throws(WorkerError) -> Tensor {
        switch input.payload {
        case .images(let images):
            let height = images.height > 0 ? Int(images.height) : settings.inputHeight
            let width = images.width > 0 ? Int(images.width) : settings.inputWidth
            guard height == width else {
                throw WorkerError(.invalidArgument, "variant \(variant) takes \(settings.inputHeight)×\(settings.inputWidth) inputs; only square image resizing is supported",
                                  hint: "send a raw float32 tensor instead")
            }
            do {
                return try ImageInput.batchTensor(images: images.data.map { [UInt8]($0) }, size: height, mean: settings.mean,
                                                  std: settings.std, layout: settings.layout)
            } catch {
                throw WorkerError(error, variant: variant)
            }
        case .tensor(let wire):
            do {
                return Tensor(shape: wire.dimensions, values: try wire.floats())
            } catch {
                throw WorkerError(.invalidArgument, error.description, hint: error.hint)
            }
        case nil:
            throw WorkerError(.invalidArgument, "the query has no input", hint: "send images or a tensor")
        }
    }

    // MARK: Loading

    /// Waits until the group has a replica, starting a load if none is under way.
    func ensureLoaded(group g: Int) async throws(WorkerError) {
        guard let host = hosts[g] else { return }
        if !host.replicas.isEmpty { return }
        let task: Task<Void, any Error>
        if let running = host.firstLoad {
            task = running
        } else {
            if control.snapshot.groups[g].loading == 0 { control.beginLoad(group: g, now: now) }
            task = Task { try await self.performLoad(group: g) }
            host.firstLoad = task
        }
        do {
            try await task.value
        } catch let error as WorkerError {
            throw error
        } catch {
            throw WorkerError(.internalError, "loading failed: \(error)")
        }
    }

    /// Loads one replica of a group's variant, which the loop already counts as loading
    /// (``ControlLoop/beginLoad(group:now:)``), and tells the loop how it went.
    func performLoad(group g: Int) async throws(WorkerError) {
        guard let host = hosts[g] else { return }
        let v = host.variant
        let spec = specs[v]
        let hardware = catalogue.hardware[v]
        defer { host.firstLoad = nil }
        let started = ContinuousClock.now
        do throws(WorkerError) {
            if hardware == .inferentia {
                throw WorkerError(.failedPrecondition, "variant \(spec.name) needs Inferentia, which this host does not have",
                                  hint: "run Inferentia variants on inf1 workers (EC2 provider)")
            }
            let runtime = try backend(for: catalogue.variants[v].framework)
            let repository = self.repository
            let fetched: Result<VariantSettings, WorkerError> = await BlockingIO.run {
                do throws(WorkerError) {
                    return .success(try repository.fetch(variant: spec.name, modelURL: spec.modelURL, graphOptimization: spec.graphOptimization,
                                                         modelExtension: runtime.modelExtension))
                } catch { return .failure(error) }
            }
            let settings = try fetched.get()
            let device: ExecutionDevice = hardware == .gpu ? options.device : .cpu
            let replica = try await Replica.load(
                backend: runtime.backend, path: settings.modelPath,
                options: SessionOptions(intraOpThreads: max(1, catalogue.cpus[v]), graphOptimization: settings.graphOptimization, device: device),
                label: spec.name)
            host.settings = settings
            host.replicas.append(replica)
            control.replicaLoaded(group: g)
            dispatchQueued(group: g)  // queued queries take the new replica
            logger.info("loaded replica \(host.replicas.count) of \(spec.name) in \(String(format: "%.0f", (ContinuousClock.now - started).milliseconds)) ms")
        } catch {
            logger.error("loading \(spec.name) failed: \(error)")
            // The query that asked for the load fails with it; it is still outstanding here.
            if control.loadFailed(group: g, waiting: 1) { hosts[g] = nil }
            throw error
        }
    }

    /// The runtime for a variant's framework (``InferenceBackends``), started on first use.
    func backend(for framework: Framework) throws(WorkerError) -> (backend: any InferenceBackend, modelExtension: String) {
        let entry: BackendEntry
        do { entry = try InferenceBackends.entry(for: framework) } catch { throw WorkerError(error, variant: framework.rawValue) }
        if let started = backends[entry.name] { return (started, entry.modelExtension) }
        do {
            let started = try entry.start()
            backends[entry.name] = started
            return (started, entry.modelExtension)
        } catch {
            throw WorkerError(error, variant: framework.rawValue)
        }
    }

    /// Stops one replica (the loop decided it may go); the last one removes the variant.
    /// Returns false when there is none to stop.
    func stopReplica(group g: Int) async -> Bool {
        guard let host = hosts[g], let replica = host.replicas.popLast() else { return false }
        let v = host.variant
        logger.info("unloading a replica of \(specs[v].name) (\(host.replicas.count) left)")
        if control.replicaRemoved(group: g) {
            hosts[g] = nil
            Self.failQueued(host, variant: specs[v].name)
        }
        await replica.unload()
        return true
    }

    /// Loads `replicas` replicas of a variant now (the master's `Load`: a static deployment).
    public func load(_ spec: Infaas_V1_VariantSpec, replicas: Int) async throws(WorkerError) -> Int {
        let v = try learn(spec)
        let g = control.snapshot.ensureGroup(variant: v, worker: 0)
        let host = hosts[g] ?? VariantHost(variant: v)
        hosts[g] = host
        try await ensureLoaded(group: g)
        while host.replicas.count < replicas {
            control.beginLoad(group: g, now: now)
            try await performLoad(group: g)
        }
        return host.replicas.count
    }

    /// Unloads every replica of a variant.
    public func unload(variant name: String) async throws(WorkerError) {
        // By name among withdrawn ones too: the master unloads a variant it just unregistered.
        let ids = specs.indices.filter { specs[$0].name == name }
        guard let g = ids.compactMap({ control.snapshot.group(variant: $0, worker: 0) }).first(where: { hosts[$0] != nil })
                ?? ids.compactMap({ control.snapshot.group(variant: $0, worker: 0) }).first else {
            throw WorkerError(.notFound, "variant \(name) is not loaded on this worker")
        }
        while hosts[g] != nil, !(hosts[g]?.replicas.isEmpty ?? true) { _ = await stopReplica(group: g) }
    }

    // MARK: Monitors and the model autoscaler

    /// §4.1 QPS monitor (the loop's).
    public func monitorTick(intervalSeconds: Double) {
        control.monitorTick(intervalSeconds: intervalSeconds)
    }

    /// §4.1 resource monitor: this process's CPU use over the interval.
    public func resourceTick() {
        control.snapshot.workers[0].cpuUtilization = cpu.utilization(cores: options.cores)
    }

    /// §4.2 arbiter: the loop's plan for this worker, carried out with the model runtime.
    public func arbiterTick() async {
        let effects = control.arbiterTick(now: now)
        for effect in effects {
            switch effect {
            case .startReplica(let g, let v, _, _):
                let host = hosts[g] ?? VariantHost(variant: v)
                hosts[g] = host
                logger.info("model autoscaler: +1 replica of \(specs[v].name)")
                do { try await performLoad(group: g) } catch { continue }
            case .stopReplica(let g, _, _):
                if !(await stopReplica(group: g)) { control.couldNotPerform(effect, now: now) }
            case .launchWorker, .retireWorker:
                break  // a worker's loop has no VM autoscaler (the master's has)
            }
        }
    }

    // MARK: Reports

    /// The report the master folds into its snapshot.
    public func report() -> Infaas_V1_WorkerReport {
        sequence += 1
        var worker = control.snapshot.workers[0]
        worker.cores = options.cores
        worker.acceleratorMemoryMB = options.acceleratorMemoryMB
        worker.neuronCores = options.neuronCores
        worker.isSlack = options.slack
        var r = Infaas_V1_WorkerReport(name: options.name, address: address, worker: worker,
                                       groups: worker.groups.map { control.snapshot.groups[$0] }, catalogue: catalogue)
        r.sequence = sequence
        r.instanceID = options.instanceID
        r.launchSecret = options.launchSecret
        r.catalogueVersion = catalogueVersion
        return r
    }

    /// Unloads everything (shutdown).
    public func unloadAll() async {
        for g in Array(hosts.keys) {
            while let host = hosts[g], !host.replicas.isEmpty { _ = await stopReplica(group: g) }
        }
    }
}

/// The replicas of one variant on this worker.
final class VariantHost {
    let variant: Int
    var replicas: [Replica] = []
    var settings: VariantSettings?
    var firstLoad: Task<Void, any Error>?
    /// Queries waiting for a replica (``WorkerDaemon/acquire``), by ticket, and the
    /// continuations that answer them.
    var queue = ServingQueue<UInt64>()
    var waiting: [UInt64: CheckedContinuation<Result<QueueGrant, WorkerError>, Never>] = [:]
    /// Dynamic batching: the decoded inputs of the queued queries, by ticket
    /// (``addBatchInput(_:ticket:)``, ``takeBatchInput(_:)``).
    private(set) var batchInputs: [UInt64: Tensor] = [:]
    /// The rows of the queued queries' inputs, kept as they come and go (every arrival and
    /// every waiting leader asks: a sum over the queue each time grew with the backlog).
    private(set) var queuedRows = 0
    /// Replicas running a query now.
    var busy: Set<ObjectIdentifier> = []
    /// When the expiry timer fires (nil: not armed).
    var checkAt: SimTime?
    var expiryTimer: Task<Void, Never>?

    init(variant: Int) { self.variant = variant }

    /// A replica running nothing, if any.
    func idleReplica() -> Replica? { replicas.first { !busy.contains(ObjectIdentifier($0)) } }

    /// Answers a queued query.
    func answer(_ ticket: UInt64, with outcome: Result<QueueGrant, WorkerError>) {
        _ = takeBatchInput(ticket)
        waiting.removeValue(forKey: ticket)?.resume(returning: outcome)
    }

    /// Keeps a queued query's decoded input for the batch that takes it.
    func addBatchInput(_ input: Tensor, ticket: UInt64) {
        if let old = batchInputs.updateValue(input, forKey: ticket) { queuedRows -= old.shape.first ?? 1 }
        queuedRows += input.shape.first ?? 1
    }

    /// Takes a queued query's input out (it joins a batch, or is answered otherwise).
    func takeBatchInput(_ ticket: UInt64) -> Tensor? {
        guard let input = batchInputs.removeValue(forKey: ticket) else { return nil }
        queuedRows -= input.shape.first ?? 1
        return input
    }
}
