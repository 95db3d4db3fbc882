import Foundation
import InfaasCloud
public import InfaasCore
import InfaasPolicies
public import InfaasRPC
public import InfaasRuntime
public import Logging

/// The worker daemon (reference §1.1 `query_executor`): serves queries for the variants the
/// master sends it, loading them on demand from the model repository, and runs the QPS monitor
/// (§4.1) and the model-level autoscaler (§4.2) through the same InfaasPolicies types as the
/// simulator, on a one-worker ``ClusterSnapshot`` of itself.
public actor WorkerDaemon {
    public let options: WorkerOptions
    let backend: any InferenceBackend
    let repository: ModelRepository
    let config: PolicyConfig
    let logger: Logger
    let startedAt = ContinuousClock.now

    // The policies' view of this worker: worker 0 of a one-worker snapshot.
    var catalogue: PolicyCatalogue
    var specs: [Infaas_V1_VariantSpec] = []
    var monitor: Monitor
    var autoscaler: ModelAutoscaler
    var snapshot: ClusterSnapshot
    public private(set) var catalogueVersion: UInt64 = 0

    var hosts: [Int: VariantHost] = [:]
    var counters: [Int: GroupCounters] = [:]
    var sequence: UInt64 = 0
    var cpu = ProcessCPU()
    /// `host:port` the master reaches this worker on (set once the server listens).
    public var address = ""
    var offline = OfflineQueue()

    public init(options: WorkerOptions, backend: any InferenceBackend, logger: Logger) throws(ValidationError) {
        self.options = options
        self.backend = backend
        self.logger = logger
        repository = ModelRepository(cacheDirectory: options.modelCache, objectStore: options.objectStore)
        config = try StandardPolicySet.presetConfig(options.policy)
        catalogue = try PolicyCatalogue([], binEdges: config.accuracyBinEdges)
        monitor = Monitor(catalogue: catalogue, config: config)
        autoscaler = ModelAutoscaler(catalogue: catalogue, config: config)
        snapshot = ClusterSnapshot(variantCount: 0)
        snapshot.addWorker(WorkerState(id: 0, name: options.name, hardware: options.hardware, status: .ready, startedAt: .zero,
                                       cores: options.cores, acceleratorMemoryMB: options.acceleratorMemoryMB,
                                       neuronCores: options.neuronCores, isSlack: options.slack))
    }

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
        try adopt(specs + [spec])
        return catalogue.variantID(spec.name)!
    }

    /// Takes the master's catalogue (appending what is new, keeping existing ids).
    public func adoptCatalogue(_ incoming: [Infaas_V1_VariantSpec], version: UInt64) {
        let known = Set(specs.map(\.name))
        let fresh = incoming.filter { !known.contains($0.name) }
        do {
            if !fresh.isEmpty { try adopt(specs + fresh) }
            catalogueVersion = version
        } catch {
            logger.error("cannot adopt the master's catalogue: \(error)")
        }
    }

    func adopt(_ all: [Infaas_V1_VariantSpec]) throws(WorkerError) {
        var variants: [ModelVariant] = []
        for spec in all {
            do { variants.append(try spec.modelVariant()) } catch { throw WorkerError(.invalidArgument, error.description) }
        }
        do {
            catalogue = try PolicyCatalogue(variants, binEdges: config.accuracyBinEdges)
        } catch {
            throw WorkerError(.invalidArgument, "variant catalogue rejected: \(error)")
        }
        specs = all
        monitor = Monitor(catalogue: catalogue, config: config)
        autoscaler = ModelAutoscaler(catalogue: catalogue, config: config)
        snapshot.growVariants(to: catalogue.count)
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
        let g = snapshot.ensureGroup(variant: v, worker: 0)
        let host = hosts[g] ?? VariantHost(variant: v)
        hosts[g] = host
        counters[g, default: GroupCounters()].requests += 1
        counters[g, default: GroupCounters()].batchSum += batch
        counters[g, default: GroupCounters()].sloSumMs += request.sloMs
        snapshot.groups[g].outstanding += 1
        snapshot.groups[g].pendingScaleDown = 0
        let arrived = ContinuousClock.now
        defer { release(g, variant: v) }
        var cold = false
        var loadMs = 0.0
        if host.replicas.isEmpty {
            cold = true
            do throws(WorkerError) {
                try await ensureLoaded(group: g)
            } catch {
                complete(g, variant: v, latency: ContinuousClock.now - arrived)
                throw error
            }
            loadMs = (ContinuousClock.now - arrived).milliseconds
        }
        guard let replica = host.nextReplica(), let settings = host.settings else {
            complete(g, variant: v, latency: ContinuousClock.now - arrived)
            throw WorkerError(.unavailable, "variant \(specs[v].name) was unloaded while the query waited", hint: "retry the query")
        }
        let input = request.input
        let name = specs[v].name
        let result: ([Tensor], UInt64)
        let queueNanos: UInt64
        do throws(WorkerError) {
            if let batching = options.batching {
                (result, queueNanos) = try await runBatched(input, settings: settings, group: g, variant: v, batching: batching)
            } else {
                (result, queueNanos) = try await replica.execute { model throws(WorkerError) in
                    let tensor = try Self.tensor(from: input, settings: settings, variant: name)
                    return try Self.run(model, tensor, variant: name)
                }
            }
        } catch {
            complete(g, variant: v, latency: ContinuousClock.now - arrived)
            throw error
        }
        complete(g, variant: v, latency: ContinuousClock.now - arrived)
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

    /// The dynamic-batching path: decode off the actor, then wait in the variant's batch queue.
    func runBatched(_ input: Infaas_V1_QueryInput, settings: VariantSettings, group g: Int, variant v: Int,
                    batching: DynamicBatching) async throws(WorkerError) -> (([Tensor], UInt64), UInt64) {
        let name = specs[v].name
        let decoded: Result<Tensor, WorkerError> = await Task.detached {
            do throws(WorkerError) { return .success(try Self.tensor(from: input, settings: settings, variant: name)) } catch { return .failure(error) }
        }.value
        let tensor = try decoded.get()
        guard let host = hosts[g] else { throw WorkerError(.unavailable, "variant \(name) was unloaded while the query waited", hint: "retry the query") }
        let batcher: DynamicBatcher
        if let existing = host.batcher { batcher = existing } else {
            batcher = DynamicBatcher(maxRows: min(batching.maxBatch, catalogue.maxBatch[v]), maxDelayMs: batching.maxDelayMs) { [weak self] batch in
                guard let self, let replica = await self.replica(group: g) else {
                    return .failure(WorkerError(.unavailable, "variant \(name) was unloaded while the query waited", hint: "retry the query"))
                }
                do throws(WorkerError) {
                    let (result, _) = try await replica.execute { model throws(WorkerError) in try Self.run(model, batch, variant: name) }
                    return .success(result)
                } catch {
                    return .failure(error)
                }
            }
            host.batcher = batcher
        }
        let outcome = try await batcher.submit(tensor).get()
        return ((outcome.outputs, outcome.inferenceNanos), outcome.queueNanos)
    }

    func replica(group g: Int) -> Replica? { hosts[g]?.nextReplica() }

    func release(_ g: Int, variant v: Int) {
        guard g < snapshot.groups.count, snapshot.groups[g].active, snapshot.groups[g].variant == v else { return }
        snapshot.groups[g].outstanding = max(0, snapshot.groups[g].outstanding - 1)
    }

    func complete(_ g: Int, variant v: Int, latency: Duration) {
        // A failed first load drops the group: counting into its freed slot would hand the
        // counts to whichever group reuses it.
        guard g < snapshot.groups.count, snapshot.groups[g].active, snapshot.groups[g].variant == v else { return }
        counters[g, default: GroupCounters()].completed += 1
        counters[g, default: GroupCounters()].latencySumMs += latency.milliseconds
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
            task = Task { try await self.addReplica(group: g) }
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

    /// Loads one more replica of a group's variant.
    func addReplica(group g: Int) async throws(WorkerError) {
        guard let host = hosts[g] else { return }
        let v = host.variant
        let spec = specs[v]
        let hardware = catalogue.hardware[v]
        if hardware == .inferentia {
            throw WorkerError(.failedPrecondition, "variant \(spec.name) needs Inferentia, which this host does not have",
                              hint: "run Inferentia variants on inf1 workers (EC2 provider)")
        }
        snapshot.groups[g].loading += 1
        snapshot.reserve(variant: v, worker: 0, sign: 1, catalogue: catalogue)
        defer { host.firstLoad = nil }
        let started = ContinuousClock.now
        do throws(WorkerError) {
            let repository = self.repository
            let fetched: Result<VariantSettings, WorkerError> = await BlockingIO.run {
                do throws(WorkerError) {
                    return .success(try repository.fetch(variant: spec.name, modelURL: spec.modelURL, graphOptimization: spec.graphOptimization))
                } catch { return .failure(error) }
            }
            let settings = try fetched.get()
            let device: ExecutionDevice = hardware == .gpu ? options.device : .cpu
            let replica = try await Replica.load(
                backend: backend, path: settings.modelPath,
                options: SessionOptions(intraOpThreads: max(1, catalogue.cpus[v]), graphOptimization: settings.graphOptimization, device: device),
                label: spec.name)
            host.settings = settings
            host.replicas.append(replica)
            snapshot.groups[g].loading -= 1
            snapshot.groups[g].replicas += 1
            snapshot.groups[g].pendingScaleDown = 0
            if hardware == .cpu { snapshot.workers[0].parentScaleDown.remove(catalogue.architecture[v]) }
            logger.info("loaded replica \(host.replicas.count) of \(spec.name) in \(String(format: "%.0f", (ContinuousClock.now - started).milliseconds)) ms")
        } catch {
            snapshot.groups[g].loading -= 1
            snapshot.reserve(variant: v, worker: 0, sign: -1, catalogue: catalogue)
            logger.error("loading \(spec.name) failed: \(error)")
            if snapshot.groups[g].replicas == 0, snapshot.groups[g].loading == 0, snapshot.groups[g].outstanding <= 1 {
                dropGroup(g)
            }
            throw error
        }
    }

    /// Unloads one idle-most replica; the last one removes the variant.
    func removeReplica(group g: Int) async {
        guard let host = hosts[g], let replica = host.replicas.popLast() else { return }
        let v = host.variant
        snapshot.groups[g].replicas -= 1
        snapshot.reserve(variant: v, worker: 0, sign: -1, catalogue: catalogue)
        logger.info("unloading a replica of \(specs[v].name) (\(host.replicas.count) left)")
        if host.replicas.isEmpty, snapshot.groups[g].loading == 0 { dropGroup(g) }
        await replica.unload()
    }

    func dropGroup(_ g: Int) {
        hosts[g] = nil
        counters[g] = nil
        snapshot.removeGroup(g)
    }

    /// Loads `replicas` replicas of a variant now (the master's `Load`, or a static deployment).
    public func load(_ spec: Infaas_V1_VariantSpec, replicas: Int) async throws(WorkerError) -> Int {
        let v = try learn(spec)
        let g = snapshot.ensureGroup(variant: v, worker: 0)
        let host = hosts[g] ?? VariantHost(variant: v)
        hosts[g] = host
        while host.replicas.count < replicas { try await addReplica(group: g) }
        return host.replicas.count
    }

    /// Unloads every replica of a variant.
    public func unload(variant name: String) async throws(WorkerError) {
        guard let v = catalogue.variantID(name), let g = snapshot.group(variant: v, worker: 0) else {
            throw WorkerError(.notFound, "variant \(name) is not loaded on this worker")
        }
        while hosts[g] != nil, !(hosts[g]?.replicas.isEmpty ?? true) { await removeReplica(group: g) }
    }

    // MARK: Monitors and the model autoscaler

    /// §4.1 QPS monitor: folds the interval's counters into the groups' rates and flags.
    public func monitorTick(intervalSeconds: Double) {
        for g in snapshot.groups.indices where snapshot.groups[g].active {
            snapshot.groups[g] = monitor.update(snapshot.groups[g], counters: counters[g] ?? GroupCounters(), intervalSeconds: intervalSeconds)
            counters[g] = GroupCounters()
        }
        snapshot.workers[0].parentScaleDown = monitor.parentScaleDown(worker: 0, snapshot: snapshot)
    }

    /// §4.1 resource monitor: this process's CPU use over the interval.
    public func resourceTick() {
        snapshot.workers[0].cpuUtilization = cpu.utilization(cores: options.cores)
    }

    /// §4.2 arbiter: the model autoscaler's plan, applied.
    public func arbiterTick() async {
        let plan = autoscaler.plan(worker: 0, snapshot: snapshot)
        for p in plan.pendingScaleDown where snapshot.groups[p.group].active { snapshot.groups[p.group].pendingScaleDown = p.count }
        for action in plan.actions {
            switch action {
            case .addReplicas(let g, let count):
                guard snapshot.groups[g].active, hosts[g] != nil else { continue }
                logger.info("model autoscaler: +\(count) replica(s) of \(specs[snapshot.groups[g].variant].name)")
                for _ in 0..<count {
                    do { try await addReplica(group: g) } catch { break }
                }
            case .removeReplica(let g):
                guard snapshot.groups[g].active, let host = hosts[g] else { continue }
                if host.replicas.count == 1 && snapshot.groups[g].outstanding > 0 { continue }
                await removeReplica(group: g)
            case .load(let v, _):
                let g = snapshot.ensureGroup(variant: v, worker: 0)
                guard hosts[g] == nil else { continue }
                hosts[g] = VariantHost(variant: v)
                logger.info("model autoscaler: loading \(specs[v].name)")
                do { try await addReplica(group: g) } catch { continue }
            }
        }
    }

    // MARK: Reports

    /// The report the master folds into its snapshot.
    public func report() -> Infaas_V1_WorkerReport {
        sequence += 1
        let worker = snapshot.workers[0]
        var r = Infaas_V1_WorkerReport()
        r.name = options.name
        r.address = address
        r.hardware = options.hardware.rawValue
        r.cores = UInt32(options.cores)
        r.acceleratorMemoryMb = options.acceleratorMemoryMB
        r.neuronCores = UInt32(options.neuronCores)
        r.slack = options.slack
        r.cpuUtilization = worker.cpuUtilization
        r.gpuUtilization = worker.hardware == .gpu ? worker.gpuUtilization : 0
        r.inferentiaUtilization = worker.hardware == .inferentia ? worker.inferentiaUtilization : 0
        r.usedCores = UInt32(max(0, worker.usedCores))
        r.usedAcceleratorMemoryMb = worker.usedAcceleratorMemoryMB
        r.usedNeuronCores = UInt32(max(0, worker.usedNeuronCores))
        r.sequence = sequence
        r.instanceID = options.instanceID
        r.catalogueVersion = catalogueVersion
        r.parentScaleDown = worker.parentScaleDown.map { catalogue.architectureNames[$0] }.sorted()
        r.variants = worker.groups.map { g in
            let group = snapshot.groups[g]
            var vr = Infaas_V1_VariantReport()
            vr.variant = specs[group.variant].name
            vr.replicas = UInt32(max(0, group.replicas))
            vr.loading = UInt32(max(0, group.loading))
            vr.unloading = group.unloading
            vr.qps = group.qps
            vr.averageLatencyMs = group.averageLatencyMs
            vr.averageBatch = UInt32(max(1, group.averageBatch))
            vr.averageSloMs = group.averageSLOMs
            vr.outstanding = UInt32(max(0, group.outstanding))
            vr.blacklisted = group.blacklisted
            return vr
        }
        return r
    }

    /// Whether any variant here is flagged overloaded (gates offline work, reference §5.2).
    var anyBlacklisted: Bool { snapshot.workers[0].groups.contains { snapshot.groups[$0].blacklisted } }
    var cpuUtilization: Double { snapshot.workers[0].cpuUtilization }

    /// Unloads everything (shutdown).
    public func unloadAll() async {
        for g in Array(hosts.keys) {
            while let host = hosts[g], !host.replicas.isEmpty { await removeReplica(group: g) }
        }
    }
}

/// The replicas of one variant on this worker.
final class VariantHost {
    let variant: Int
    var replicas: [Replica] = []
    var settings: VariantSettings?
    var cursor = 0
    var firstLoad: Task<Void, any Error>?
    var batcher: DynamicBatcher?

    init(variant: Int) { self.variant = variant }

    /// Round-robin over the replicas (reference §5.1).
    func nextReplica() -> Replica? {
        guard !replicas.isEmpty else { return nil }
        cursor = (cursor + 1) % replicas.count
        return replicas[cursor]
    }
}
