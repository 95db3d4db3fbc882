import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
public import InfaasCloud
import InfaasCore
public import InfaasPolicies
public import InfaasRegistry
public import InfaasRPC
public import Logging
import Synchronization
import Metrics
import InfaasTelemetry

/// The live master: the registry, the cluster controller behind a lock (decisions take
/// microseconds; a lock is cheaper than an actor hop), connections to workers, and the
/// provider the VM autoscaler drives.
public final class Master: Sendable {
    public struct Options: Sendable {
        public var policy: String
        public var config: PolicyConfig
        public var limits: ClusterLimits
        /// The master's own address, handed to launched workers.
        public var advertisedAddress: String
        public var deadlineMs: Double
        /// Worker report period; a worker silent for two of them is dropped.
        public var reportIntervalMs: Double
        public var bootTimeoutSeconds: Double
        /// How often expiry runs (stale workers, boot timeouts, replacements).
        public var expiryIntervalMs: Double
        /// Initial GPU workers started as slack GPUs (`SLACK_GPU`).
        public var slackGPUs = 0
        /// How the master calls its workers (the cluster token they require).
        public var workerSecurity: ClientSecurity
        /// The model bucket (reference §2.4 step 3): a variant registered from `s3://` is copied
        /// to `<modelBucket>/<variant>/` and served from there. nil: registered where it is.
        public var modelBucket: ObjectLocation?
        /// The config bucket (`CONFIGDB`, reference §1.2): a registration that names a config
        /// without sending its text gets `<configBucket>/<name>` from here.
        public var configBucket: ObjectLocation?
        /// Where the master keeps the identities (launch secrets, provider handles) of the
        /// workers it launched (`<home>/cluster/workers.json`, 0600), so that a restarted
        /// master recognises and waits for them. nil: kept in memory only.
        public var identityFile: String?

        public init(policy: String = "infaas", config: PolicyConfig = PolicyConfig(), limits: ClusterLimits,
                    advertisedAddress: String, deadlineMs: Double = 10_000, reportIntervalMs: Double = 500,
                    bootTimeoutSeconds: Double = 60, expiryIntervalMs: Double = 200, workerSecurity: ClientSecurity = .open,
                    modelBucket: ObjectLocation? = nil) {
            self.workerSecurity = workerSecurity
            self.modelBucket = modelBucket
            self.policy = policy
            self.config = config
            self.limits = limits
            self.advertisedAddress = advertisedAddress
            self.deadlineMs = deadlineMs
            self.reportIntervalMs = reportIntervalMs
            self.bootTimeoutSeconds = bootTimeoutSeconds
            self.expiryIntervalMs = expiryIntervalMs
        }
    }

    struct Counters {
        var queries: UInt64 = 0
        var failed: UInt64 = 0
        var violations: UInt64 = 0
    }

    public let options: Options
    public let registry: ModelRegistry
    let provider: (any WorkerProvider)?
    /// The object store `s3://` registrations are checked and copied in (nil: no AWS settings).
    let objectStore: (any ObjectStore)?
    let logger: Logger
    let controller: Mutex<ClusterController>
    /// Queries held while a worker boots, waiting for the loop to let them go.
    let heldWaiters = Mutex(HeldWaiters())
    let counters = Mutex(Counters())
    let connections: WorkerConnections
    let started = ContinuousClock.now
    let advertised: Mutex<String>
    /// Who may report as a worker (a master with a provider admits only the workers it launched).
    let identities: Mutex<WorkerIdentities>
    var deadlineMs: Double { options.deadlineMs }
    /// The queueing rules of the policy the cluster runs (the workers' queues apply them; the
    /// master turns each query's deadline into the time left when it forwards it).
    let discipline: QueueDiscipline

    public init(options: Options, registry: ModelRegistry, provider: (any WorkerProvider)?, objectStore: (any ObjectStore)? = nil,
                logger: Logger) throws {
        guard options.modelBucket == nil || objectStore != nil else {
            throw MasterConfigurationError("a model bucket (\(options.modelBucket!)) needs an object store",
                                           hint: "give the master AWS settings: --region, --endpoint-url, --aws-profile, or AWS_* variables")
        }
        self.objectStore = objectStore
        self.options = options
        self.registry = registry
        self.provider = provider
        self.logger = logger
        connections = WorkerConnections(security: options.workerSecurity)
        var controller = try ClusterController(
            policyName: options.policy, config: options.config, limits: options.limits,
            staleAfter: .seconds(2 * options.reportIntervalMs / 1000), bootTimeout: .seconds(options.bootTimeoutSeconds))
        try controller.setVariants(try registry.allVariants())
        controller.initialSlackGPUs = options.slackGPUs
        discipline = QueueDiscipline(config: controller.config)
        let identities = WorkerIdentities(path: options.identityFile)
        if provider != nil, !identities.known.isEmpty {
            // Workers the previous master launched: waited for, not duplicated (the loop's rule).
            controller.expectRejoin(identities.known.map { ($0.name, HardwareClass(name: $0.hardware) ?? .cpu, $0.instanceID) }, now: .zero)
            logger.info("waiting up to \(Int(controller.config.rejoinGraceS)) s for \(identities.known.count) worker(s) the previous master launched: \(identities.known.map(\.name).joined(separator: ", "))")
        }
        self.identities = Mutex(identities)
        self.controller = Mutex(controller)
        advertised = Mutex(options.advertisedAddress)
    }

    /// The master's address as workers should use it, once the server has bound `port`.
    public func setAdvertisedPort(_ port: Int) {
        advertised.withLock { address in
            let host = address.split(separator: ":").first.map(String.init) ?? "127.0.0.1"
            address = "\(host):\(port)"
        }
    }

    /// Time since the master started, for the policies.
    var now: SimTime {
        SimTime(elapsed: ContinuousClock.now - started)
    }

    // MARK: Queries

    /// Resolves what the query names and routes it; errors carry the reference's messages.
    /// The query is validated by the one validation every entry point uses
    /// (``PolicyCatalogue/query(_:objectives:application:)``).
    ///
    /// A query that finds no worker ready for it while one boots, or its class scaled to zero,
    /// is held by the loop (`cold_start_buffer`) and this waits until the loop lets it go
    /// (``settleHeld(_:)``); `heldFor` is then how long it waited.
    func route(_ request: Infaas_V1_OnlineQueryRequest, batch: Int, queueDeadlineMs: Double?) async throws(RPCError)
        -> (ticket: ClusterController.Ticket, heldFor: Duration?) {
        let now = self.now
        let arrived = ContinuousClock.now
        let (routing, query) = try controller.withLock { c throws(RPCError) -> (ClusterController.Routing, (PolicyQuery, String, UInt64)) in
            let catalogue = c.catalogue
            let target: QueryTarget
            let prefix: String
            switch request.target {
            case .variant(let name):
                target = .variant(name)
                prefix = ""
            case .architecture(let name):
                target = .architecture(name)
                prefix = "PAR: "
            case .useCase(let useCase):
                target = .useCase(UseCase(task: InferenceTask(useCase.task), dataset: Dataset(useCase.dataset), inputDimension: 0))
                prefix = "GPAR: "
            case nil:
                throw RPCError(code: .invalidArgument, message: "the query names no model: give a variant (-m), an architecture (-a) or a task and dataset (-t, -D)")
            }
            let objectives = Objectives(latencySLOMs: request.sloMs > 0 ? request.sloMs : nil,
                                        minAccuracy: request.minAccuracy > 0 ? request.minAccuracy : nil, batch: batch)
            let query: PolicyQuery
            do throws(QueryError) { query = try catalogue.query(target, objectives: objectives) } catch {
                throw RPCError(code: error.kind == .unknownTarget ? .notFound : .invalidArgument, message: error.message)
            }
            let token = heldWaiters.withLock { $0.nextToken() }
            let deadline = queueDeadlineMs.map { SimTime(nanoseconds: now.nanoseconds + Int64($0 * 1e6)) }
            let routing = c.routeOrHold(query, token: token, deadline: deadline, now: now)
            if case .rejected(let reason) = routing { throw Self.error(for: reason, prefix: prefix, query: query, catalogue: catalogue) }
            return (routing, (query, prefix, token))
        }
        switch routing {
        case .ticket(let ticket):
            perform(ticket.actions)
            return (ticket, nil)
        case .held(let actions):
            perform(actions)
            let token = query.2
            let result = await withCheckedContinuation { (waiter: CheckedContinuation<Result<ClusterController.Ticket, RejectReason>, Never>) in
                heldWaiters.withLock { $0.wait(token, waiter) }
            }
            switch result {
            case .success(let ticket): return (ticket, ContinuousClock.now - arrived)
            case .failure(let reason):
                let catalogue = controller.withLock { $0.catalogue }
                throw Self.error(for: reason, prefix: query.1, query: query.0, catalogue: catalogue)
            }
        case .rejected(let reason):
            throw RPCError(code: .internalError, message: "rejected \(reason.rawValue)")  // thrown under the lock above
        }
    }

    /// Starts provider actions without waiting for them.
    func perform(_ actions: [ClusterController.ProviderAction]) {
        guard !actions.isEmpty else { return }
        Task { for action in actions { await self.perform(action) } }
    }

    /// Resumes the waiters of the held queries the loop let go, and runs what their release asked for.
    func settleHeld(_ taken: (released: [(token: UInt64, result: Result<ClusterController.Ticket, RejectReason>)], actions: [ClusterController.ProviderAction])) {
        for (token, result) in taken.released { heldWaiters.withLock { $0.release(token, result) } }
        perform(taken.actions)
    }

    static func hint(_ name: String, _ known: [String]) -> String {
        let hint = NameSuggestion.hint(for: name, known: known)
        return hint.isEmpty ? "" : " (\(hint))"
    }

    static func error(for reason: RejectReason, prefix: String, query: PolicyQuery, catalogue: PolicyCatalogue) -> RPCError {
        switch reason {
        case .noVariantMeetsObjectives:
            let nearest = RejectMessages.nearestFeasible(query, catalogue: catalogue)
            let slo = RejectMessages.number(query.sloMs)
            let accuracy = query.minAccuracy > 0 ? ", accuracy ≥ \(RejectMessages.number(query.minAccuracy))%" : ""
            let objectives = "(batch \(query.batch), SLO \(slo) ms\(accuracy))"
            return RPCError(code: .failedPrecondition, message: "\(prefix)No model can satisfy this request. Try a different accuracy/latency"
                            + " \(objectives)\(nearest.isEmpty ? "" : ": " + nearest)")
        case .batchAboveMaxBatch:
            var limit = ""
            if case .variant(let v) = query.target {
                limit = ": \(catalogue.variants[v].name) takes at most \(catalogue.maxBatch[v])"
                    + RejectMessages.largerBatchVariants(than: v, batch: query.batch, catalogue: catalogue)
            }
            return RPCError(code: .invalidArgument, message: "batch \(query.batch) is above the variant's max batch\(limit)")
        case .noWorkers:
            return RPCError(code: .unavailable, message: "No workers available to service request! (workers may still be starting: see `infaas status`)")
        case .needsAccelerator:
            return RPCError(code: .unavailable, message: "the chosen variant needs an accelerator worker and none is ready")
        case .noCapacity:
            return RPCError(code: .resourceExhausted, message: "no ready worker has room to load the variant; the VM autoscaler has been asked for one")
        case .unknownTarget:
            return RPCError(code: .notFound, message: "unknown model")
        case .deadlineExceeded:
            return RPCError(code: .deadlineExceeded, message: "deadline exceeded")
        case .queueFull, .predictedLate:
            return RPCError(code: .resourceExhausted, message: "\(QueryOutcome.shedPrefix) \(reason.rawValue)")
        }
    }

    func finished(_ ticket: ClusterController.Ticket) {
        controller.withLock { $0.finished(ticket) }
    }

    func workerUnreachable(_ ticket: ClusterController.Ticket, error: String) {
        let now = self.now
        logger.warning("worker \(ticket.workerName) at \(ticket.address) is unreachable (\(error)); no longer routing to it")
        controller.withLock { $0.workerUnreachable(ticket.worker, reason: error, now: now) }
    }

    /// Offline: where the loop places the job (reference §5.2).
    func routeOffline(_ request: Infaas_V1_OfflineQueryRequest) throws(RPCError) -> (Infaas_V1_VariantSpec, String, String) {
        try controller.withLock { c throws(RPCError) in
            let catalogue = c.catalogue
            let target: PolicyTarget
            switch request.target {
            case .variant(let name):
                guard let found = catalogue.variantID(name) else {
                    throw RPCError(code: .notFound, message: "Model has not been registered: unknown variant \"\(name)\"")
                }
                target = .variant(found)
            case .architecture(let name):
                guard let a = catalogue.architectureID(name) else {
                    throw RPCError(code: .notFound, message: "Parent model has not been registered: unknown architecture \"\(name)\"")
                }
                target = .architecture(a)
            case nil:
                throw RPCError(code: .invalidArgument, message: "an offline query names a variant or an architecture")
            }
            switch c.control.routeOffline(target) {
            case .success(let placed): return (c.spec(placed.variant), c.handles[placed.worker].name, c.handles[placed.worker].address)
            case .failure(.noWorkers): throw RPCError(code: .unavailable, message: "No workers available to service request!")
            case .failure:
                let name = if case .architecture(let a) = target { catalogue.architectureNames[a] } else { "the model" }
                throw RPCError(code: .unavailable, message: "No CPU variant of \(name) for offline work")
            }
        }
    }

    /// Removes a registered variant (`infaas unregister` against a running master): from the
    /// registry, then from routing (withdrawn: no query names or chooses it), then from the
    /// workers running it (their `Unload`). Returns what was removed and the replicas unloaded.
    func unregister(variant name: String) async throws(RPCError) -> (RegisteredVariant, Int) {
        let removed: RegisteredVariant
        do { removed = try registry.unregister(variant: name) } catch {
            throw RPCError(code: error.code == .unknownVariant ? .notFound : .internalError, message: "\(error)")
        }
        let running = controller.withLock { c in c.catalogue.variantID(name).map { c.workersRunning($0) } ?? [] }
        do { try reloadCatalogue() } catch {
            throw RPCError(code: .internalError, message: "unregistered \(name) from the registry, but the master could not reload its catalogue: \(error); restart the master")
        }
        var unloaded = 0
        for worker in running {
            var request = Infaas_V1_UnloadRequest()
            request.variant = name
            do {
                _ = try await connections.client(for: worker.address).unload(request, options: CallOptions.defaults.with(timeoutMs: deadlineMs))
                unloaded += worker.replicas
            } catch {
                logger.warning("unregistered \(name), but unloading it on \(worker.name) failed: \(error) (no query is routed to it)")
            }
        }
        logger.info("unregistered \(name) (\(removed.variant.architecture)); unloaded \(unloaded) replica(s) on \(running.count) worker(s)")
        return (removed, unloaded)
    }

    /// Re-reads the registry (after a registration).
    func reloadCatalogue() throws {
        let all = try registry.allVariants()
        try controller.withLock { c in try c.setVariants(all) }
    }

    // MARK: Workers

    /// A worker's report. With a provider, only workers it launched may report: the report must
    /// carry the launch secret issued for its name, and the worker's instance id is the one
    /// the provider gave — never the report's (issue 13: a forged report could name another
    /// process's pid, and the master would signal it when that "worker" went quiet).
    func ingest(_ report: Infaas_V1_WorkerReport) throws(RPCError) -> Infaas_V1_ReportWorkerResponse {
        var report = report
        if provider != nil {
            guard let identity = identities.withLock({ $0.verify(name: report.name, secret: report.launchSecret) }) else {
                logger.warning("refused a report as worker \"\(ValidationError.excerpt(report.name))\": no launch secret this master issued")
                throw RPCError(code: .permissionDenied, message: "worker report refused: \"\(ValidationError.excerpt(report.name))\" is not a worker this cluster launched"
                               + " (the report carries \(report.launchSecret.isEmpty ? "no launch secret" : "a launch secret not issued for that name")). The master's provider"
                               + " hands each worker it starts its secret (\(LaunchedWorker.secretVariable)); to add workers started by hand, run the master with --provider none")
            }
            report.instanceID = identity.instanceID
            if identity.retired {
                var response = Infaas_V1_ReportWorkerResponse()
                response.stop = true
                return response
            }
        }
        let now = self.now
        let (known, version, specs, bootedIn, released) = controller.withLock { c in
            // A launched worker's first report: how long from the launch decision to serving.
            let booting = c.worker(named: report.name).flatMap { w in c.snapshot.workers[w].status == .booting ? c.snapshot.workers[w].startedAt : nil }
            let known = c.ingest(report, now: now)
            let bootedIn = booting.map { Double(now.nanoseconds - $0.nanoseconds) / 1e9 }
            let version = c.catalogueVersion
            return (known, version, report.catalogueVersion == version ? [] : c.liveSpecs, bootedIn, c.takeReleased())
        }
        settleHeld(released)
        if let bootedIn {
            logger.info("worker \(report.name) (\(report.hardware)) at \(report.address) is ready \(String(format: "%.2f", bootedIn)) s after its launch decision")
        } else if !known {
            logger.info("worker \(report.name) (\(report.hardware)) at \(report.address) joined")
        }
        var response = Infaas_V1_ReportWorkerResponse()
        response.known = known
        response.catalogueVersion = version
        response.variants = specs
        return response
    }

    func status() -> Infaas_V1_ClusterStatusResponse {
        let now = self.now
        var response = Infaas_V1_ClusterStatusResponse()
        controller.withLock { c in
            response.policy = c.policyName
            response.policySettings = c.config.allSettings
            response.workersLaunched = UInt64(c.launched)
            response.workersRetired = UInt64(c.retired)
            for (w, worker) in c.snapshot.workers.enumerated() {
                var status = Infaas_V1_WorkerStatus()
                status.status = worker.status.rawValue
                status.lastReportAgeMs = Double(now.nanoseconds - c.handles[w].lastReport.nanoseconds) / 1e6
                var report = Infaas_V1_WorkerReport()
                report.name = worker.name
                report.address = c.handles[w].address
                report.hardware = worker.hardware.rawValue
                report.cores = UInt32(max(0, worker.cores))
                report.usedCores = UInt32(max(0, worker.usedCores))
                report.cpuUtilization = worker.cpuUtilization
                report.instanceID = c.handles[w].instanceID
                report.variants = worker.groups.map { g in
                    let group = c.snapshot.groups[g]
                    var vr = Infaas_V1_VariantReport()
                    vr.variant = c.catalogue.variants[group.variant].name
                    vr.replicas = UInt32(max(0, group.replicas))
                    vr.loading = UInt32(max(0, group.loading))
                    vr.qps = group.qps
                    vr.averageLatencyMs = group.averageLatencyMs
                    vr.outstanding = UInt32(max(0, group.outstanding))
                    vr.blacklisted = group.blacklisted
                    return vr
                }
                status.report = report
                response.workers.append(status)
            }
        }
        counters.withLock { c in
            response.queries = c.queries
            response.failed = c.failed
            response.sloViolations = c.violations
        }
        return response
    }

    // MARK: The master's loops

    /// Expiry every `expiryIntervalMs`, the VM autoscaler every `vmIntervalMs` (§4.3); provider
    /// actions run concurrently so a slow launch never stalls the loop.
    func runLoops() async {
        let initial = options.limits.initial
        let grace = SimTime.seconds(2 * options.reportIntervalMs / 1000 + 0.5)
        var schedule = controller.withLock { $0.control.schedule }
        await adoptExistingWorkers()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                let now = self.now
                var actions = controller.withLock { $0.expire(now: now, initialWorkers: initial, replace: now.nanoseconds > grace.nanoseconds) }
                // The loop's schedule says when the master-side jobs are due (the simulator
                // reads the same schedule in virtual time).
                for kind in schedule.due(at: now, among: [.resource, .vm]) {
                    switch kind {
                    case .resource: controller.withLock { $0.resourceTick(now: now) }
                    case .vm:
                        let (scaled, released) = controller.withLock { c in (c.autoscale(now: now), c.takeReleased()) }
                        actions += scaled
                        settleHeld(released)
                    default: break
                    }
                }
                for action in actions { group.addTask { await self.perform(action) } }
                publishGauges()
                try? await Task.sleep(for: .milliseconds(Int64(options.expiryIntervalMs)))
            }
        }
    }

    /// Registers the workers the provider already runs (a restarted master's cluster) as booting.
    func adoptExistingWorkers() async {
        guard let provider else { return }
        do {
            let existing = try await provider.existingWorkers()
            guard !existing.isEmpty else { return }
            logger.info("found \(existing.count) running worker(s) of this cluster through the \(provider.name) provider: \(existing.map(\.name).joined(separator: ", "))")
            let now = self.now
            controller.withLock { $0.adopt(existing.map { ($0.name, $0.hardware, $0.instanceID) }, now: now) }
        } catch {
            logger.warning("could not list this cluster's running workers (\(error)); new ones may be launched")
        }
    }

    /// Replicas per variant and utilisation per worker, as Prometheus gauges.
    func publishGauges() {
        let (replicas, workers) = controller.withLock { c -> ([String: Int], [(String, String, Double)]) in
            var replicas: [String: Int] = [:]
            for g in c.snapshot.groups where g.active && c.snapshot.workers[g.worker].status != .gone {
                replicas[c.catalogue.variants[g.variant].name, default: 0] += g.replicas
            }
            let workers = c.snapshot.workers.map { ($0.name, $0.status.rawValue, $0.cpuUtilization) }
            return (replicas, workers)
        }
        ColdStartMetrics.held(controller.withLock { $0.control.held.count })
        for (variant, count) in replicas { Gauge(label: "infaas_master_replicas", dimensions: [("variant", variant)]).record(count) }
        for (name, status, cpu) in workers {
            Gauge(label: "infaas_master_worker_cpu_utilization_percent", dimensions: [("worker", name)]).record(status == "gone" ? 0 : cpu)
            Gauge(label: "infaas_master_worker_ready", dimensions: [("worker", name)]).record(status == "ready" ? 1 : 0)
        }
    }

    func perform(_ action: ClusterController.ProviderAction) async {
        switch action {
        case .launch(let name, let hardware, let slack):
            guard let provider else {
                logger.warning("the VM autoscaler wants a \(hardware.rawValue) worker (\(name)) but no provider is configured")
                let now = self.now
                controller.withLock { $0.launchFailed(name: name, reason: "no provider", now: now) }
                return
            }
            logger.info("launching \(name) (\(hardware.rawValue)) through the \(provider.name) provider")
            let secret = identities.withLock { $0.issue(name: name, hardware: hardware) }
            do {
                let worker = try await provider.launch(WorkerLaunch(name: name, hardware: hardware, slack: slack, masterAddress: advertised.withLock { $0 }, secret: secret))
                identities.withLock { $0.launched(name: name, instanceID: worker.instanceID) }
                controller.withLock { $0.launchedInstance(name: name, instanceID: worker.instanceID) }
            } catch {
                identities.withLock { $0.forget(name: name) }
                logger.error("launching \(name) failed: \(error)")
                let now = self.now
                let wait = controller.withLock { c in
                    c.launchFailed(name: name, reason: error.description, now: now)
                    return ClusterController.launchBackoff(afterFailures: c.launchFailures)
                }
                logger.warning("no launch for \(String(format: "%.0f", wait)) s (launch failures in a row back off)")
            }
        case .load(let workerName, let address, let spec, let replicas):
            logger.info("static deployment: loading \(replicas) replica(s) of \(spec.name) on \(workerName)")
            do {
                var request = Infaas_V1_LoadRequest()
                request.variant = spec
                request.replicas = UInt32(replicas)
                _ = try await connections.client(for: address).load(request)
            } catch {
                logger.error("loading \(spec.name) on \(workerName) failed: \(error)")
            }
        case .retire(let name, let instanceID, let reason):
            logger.info("retiring \(name) (\(reason))")
            switch reason {
            case "scale-in": identities.withLock { $0.retire(name: name) }  // its next report is answered with stop
            case "never became ready": identities.withLock { $0.forget(name: name) }
            default: break  // silent, not scaled in: it may re-join with its secret
            }
            if let address = controller.withLock({ c in c.worker(named: name).map { c.handles[$0].address } }), !address.isEmpty {
                await connections.forget(address: address)
            }
            guard let provider, !instanceID.isEmpty else { return }
            do {
                try await provider.retire(LaunchedWorker(name: name, hardware: .cpu, instanceID: instanceID))
            } catch {
                logger.error("retiring \(name) failed: \(error)")
            }
        }
    }
}
