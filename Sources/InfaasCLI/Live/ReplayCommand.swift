import ArgumentParser
import Foundation
import GRPCCore
import InfaasCore
import InfaasPolicies
import InfaasRPC
import InfaasSimulator
import InfaasRuntime
import InfaasTraces
import Synchronization

/// `infaas replay`: an experiment's arrivals sent open-loop to a live master at their timestamps,
/// recorded into the simulator's `results.h5` / `summary.json` layout, so one plotting script (and
/// `scripts/fidelity`) reads both.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay an experiment's trace against a live master; write results.h5 like the simulator.",
        discussion: reflow("""
            Example:
              infaas up --local
              infaas replay --experiment experiments/fidelity/steady.yaml -o out/fidelity-live

            Each arrival is sent at its time (open loop: a slow answer never delays the next query),
            with the application's target, batch, SLO and accuracy floor, and a synthetic float32
            input of --input-shape (default: 3×D×D, D the architecture's input size at the master).
            At most --max-in-flight queries are outstanding; an arrival beyond that is recorded as
            rejected, never silently dropped. Worker counts come from the master every interval.
            """)
    )

    @Option(help: ArgumentHelp("Experiment file (the same one `infaas simulate` takes).", valueName: "FILE")) var experiment: String
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output folder (default out/replay-<experiment>).", valueName: "DIR")) var output: String?
    @Option(help: ArgumentHelp("Seconds of arrivals to replay (default: the experiment's duration_s, else the whole trace).", valueName: "S")) var duration: Double?
    @Option(help: ArgumentHelp("Random seed (default: the experiment's); `rate_scale` copies arrivals by it, so `infaas simulate --seed` with the same value replays the same arrivals.", valueName: "N")) var seed: UInt64?
    @Option(name: .customLong("max-in-flight"), help: "Most outstanding queries.") var maxInFlight = 512
    @Option(name: .customLong("input-shape"), help: ArgumentHelp("Per-item input shape.", valueName: "C,H,W")) var inputShape: String?
    @Option(name: .customLong("deadline-ms"), help: "Client deadline per query.") var deadlineMs = 10_000.0
    @Flag(help: "No progress line.") var quiet = false
    @OptionGroup var master: MasterOptions

    struct Record: Sendable {
        var arrival: Double
        var finish: Double
        var application: Int
        var variant: String
        var worker: String
        var batch: Int
        var sloMs: Double
        var met: Int8
        var failure: String?
        /// The worker's time and the model run, as the reply reported them (ms; −1: no reply).
        var workerMs = -1.0
        var inferenceMs = -1.0
        /// How late the client sent it against the trace's timestamp (its timer's wake-up and
        /// its task's start on a busy host), ms; −1: never sent. Latency counts from the send.
        var clientLagMs = -1.0
        /// The master's and worker's wall times for it (nil: not served, or an older master).
        var servingPath: ServingPathTimes?
        /// How it ended: `met`/`late` when answered, else the queue's status (`expired-in-queue`,
        /// `shed`) the answer named, or `rejected`.
        var outcome: QueryOutcome = .rejected
    }

    /// What the sending tasks and the status poller share.
    final class Shared: Sendable {
        let records = Mutex<[Record]>([])
        let samples = Mutex<[Sample]>([])
        let inFlight = Atomic<Int>(0)
    }

    struct Sample: Sendable {
        var time: Double
        var workers: [HardwareClass: Int]
        var replicas: Int
        var running: Int
    }

    func run() async throws {
        var spec = try ExperimentSpec.load(path: experiment)
        if let duration { spec.durationSeconds = duration; spec.options.durationSeconds = duration }
        if let seed { spec.seed = seed; spec.options.seed = seed }
        spec.options.recordQueries = true
        let runner = ExperimentRunner(spec: spec)
        let catalogue = try runner.loadCatalogue()
        let applications = try runner.applications(in: catalogue)
        var stream = try runner.arrivals()
        let address = try master.requireAddress()
        let limit = spec.durationSeconds.map { Int64($0 * 1e9) } ?? .max
        let directory = output ?? "out/replay-\(spec.name)"
        let shapes = try await itemShapes(applications: applications, catalogue: catalogue, address: address)
        let interval = spec.options.timeseriesIntervalSeconds
        let shared = Shared()
        let start = ContinuousClock.now
        let maxInFlight = self.maxInFlight, deadlineMs = self.deadlineMs, quiet = self.quiet
        var sent = 0
        var inputs: [[Int]: Infaas_V1_Tensor] = [:]
        let grpc = GRPCClient(transport: try RPCTransport.client(address.address, security: address.security), interceptors: address.security.interceptors)
        let connections = Task { try? await grpc.runConnections() }
        defer { grpc.beginGracefulShutdown(); connections.cancel() }
        let client = Infaas_V1_Master.Client(wrapping: grpc)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let poller = Task {
                    while !Task.isCancelled {
                        if let status = try? await client.clusterStatus(Infaas_V1_ClusterStatusRequest()) {
                            var workers: [HardwareClass: Int] = [:]
                            var replicas = 0
                            var running = Set<String>()
                            for w in status.workers where w.status == "ready" {
                                workers[HardwareClass(name: w.report.hardware) ?? .cpu, default: 0] += 1
                                for v in w.report.variants where v.replicas > 0 { replicas += Int(v.replicas); running.insert(v.variant) }
                            }
                            let sample = Sample(time: Self.seconds(since: start), workers: workers, replicas: replicas, running: running.count)
                            shared.samples.withLock { $0.append(sample) }
                        }
                        try? await Task.sleep(for: .milliseconds(Int64(min(1000, interval * 1000))))
                    }
                }
                while let arrival = try stream.next(), arrival.time.nanoseconds <= limit {
                    // The simulator's mapping of an arrival to a query (the same function).
                    let declared = applications[arrival.application].query
                    guard let query = PolicyQuery.arrival(of: declared, target: arrival.target, batch: arrival.batch, sloMs: arrival.sloMs,
                                                          minAccuracy: arrival.minAccuracy, resolve: catalogue.resolve) else {
                        let at = Double(arrival.time.nanoseconds) / 1e9
                        shared.records.withLock { $0.append(Record(arrival: at, finish: at, application: arrival.application, variant: "", worker: "",
                                                            batch: arrival.batch, sloMs: arrival.sloMs ?? declared.sloMs, met: -1,
                                                            failure: "unknown target \"\(arrival.target ?? "")\" (trace row \(arrival.row))")) }
                        continue
                    }
                    let batch = query.batch
                    let slo = query.sloMs
                    // One input per (batch, shape), built once: building 150,528 floats per query
                    // took this client's CPU from the cluster it measures, on the same cores.
                    let key = [batch] + shapes[arrival.application]
                    let input = inputs[key] ?? QueryTensor.tensor(batch: batch, itemShape: shapes[arrival.application])
                    inputs[key] = input
                    var request = Self.request(target: query.target, catalogue: catalogue, sloMs: slo, minAccuracy: query.minAccuracy, input: input)
                    request.priority = applications[arrival.application].priority.wire
                    request.deadlineMs = applications[arrival.application].deadlineMs
                    let due = start + .nanoseconds(arrival.time.nanoseconds)
                    if due > ContinuousClock.now { try await Task.sleep(until: due, clock: .continuous) }
                    let at = Double(arrival.time.nanoseconds) / 1e9
                    sent += 1
                    if !quiet, sent % 200 == 0 {
                        printError(String(format: "replay: %d queries sent, %.0f s of %@, %d in flight", sent, at,
                                          limit == .max ? "the trace" : String(format: "%.0f s", Double(limit) / 1e9), shared.inFlight.load(ordering: .relaxed)))
                    }
                    guard shared.inFlight.load(ordering: .relaxed) < maxInFlight else {
                        shared.records.withLock { $0.append(Record(arrival: at, finish: at, application: arrival.application, variant: "", worker: "",
                                                            batch: batch, sloMs: slo, met: -1, failure: "client: more than \(maxInFlight) in flight")) }
                        continue
                    }
                    shared.inFlight.add(1, ordering: .relaxed)
                    group.addTask {
                        var record = Record(arrival: at, finish: at, application: arrival.application, variant: "", worker: "", batch: batch,
                                            sloMs: slo, met: -1, failure: nil)
                        // The system's latency counts from the send: the client's lag behind the
                        // trace (timer slack, its task waiting for a core) is the client's, kept apart.
                        let sentAt = Self.seconds(since: start)
                        record.clientLagMs = max(0, (sentAt - at) * 1000)
                        let sendShift = max(0, sentAt - at)
                        do {
                            let reply = try await client.queryOnline(request, options: .defaults.with(timeoutMs: deadlineMs))
                            record.finish = Self.seconds(since: start) - sendShift
                            record.variant = reply.variant
                            record.worker = reply.worker
                            record.workerMs = reply.workerMs
                            record.inferenceMs = reply.inferenceMs
                            if reply.masterMs > 0 {
                                record.servingPath = ServingPathTimes(masterMs: reply.masterMs, workerCallMs: reply.workerCallMs,
                                                                      workerWallMs: reply.workerWallMs > 0 ? reply.workerWallMs : -1)
                            }
                            record.met = slo <= 0 || (record.finish - at) * 1000 <= slo ? 1 : 0
                            record.outcome = record.met == 1 ? .met : .late
                        } catch {
                            record.finish = Self.seconds(since: start) - sendShift
                            let queueOutcome = (error as? RPCError).flatMap { QueryOutcome.queueOutcome(ofMessage: $0.message) }
                            record.outcome = queueOutcome ?? .rejected
                            record.failure = queueOutcome?.rawValue ?? (error as? RPCError).map { "\($0.code)" } ?? "\(error)"
                        }
                        shared.inFlight.subtract(1, ordering: .relaxed)
                        shared.records.withLock { $0.append(record) }
                    }
                }
                try await group.waitForAll()
                poller.cancel()
            }
        }
        let all = shared.records.withLock { $0 }.sorted { $0.arrival < $1.arrival }
        let result = Self.result(all, samples: shared.samples.withLock { $0 }, spec: spec, catalogue: catalogue, applications: applications)
        let summary = ExperimentSummary(result)
        let paths = try ResultWriter.write(result, summary: summary, to: directory)
        let failures = Dictionary(grouping: all.compactMap(\.failure), by: { $0 }).mapValues(\.count)
        print(summary.table())
        print(String(format: "replay client CPU: %.2f s user + system", ProcessCPUTime.seconds()))
        let lags = all.map(\.clientLagMs).filter { $0 >= 0 }.sorted()
        if !lags.isEmpty {
            print(String(format: "replay client send lag behind the trace: median %.2f ms, p99 %.2f ms, max %.2f ms (latencies count from the send)",
                         lags[lags.count / 2], lags[min(lags.count - 1, Int(Double(lags.count) * 0.99))], lags[lags.count - 1]))
        }
        if !failures.isEmpty { print("failed queries by reason: " + failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) }
        print("wrote \(paths.h5) and \(paths.json)")
    }

    /// The input shape of one item for each application: --input-shape, else 3×D×D with D the
    /// input size the master reports for the application's architecture.
    func itemShapes(applications: [Application], catalogue: PolicyCatalogue, address: MasterEndpoint) async throws -> [[Int]] {
        if let inputShape {
            let dims = try parseDimensions(inputShape, flag: "--input-shape")
            return applications.map { _ in dims }
        }
        var shapes: [[Int]] = []
        for app in applications {
            let architecture: String
            switch app.target {
            case .variant(let v): architecture = catalogue.variants[v].architecture
            case .architecture(let a): architecture = catalogue.architectureNames[a]
            case .useCase(let u):
                guard let v = catalogue.variants.firstIndex(where: { $0.useCase.task == catalogue.useCases[u].task && $0.useCase.dataset == catalogue.useCases[u].dataset }) else {
                    throw CommandFailure("application \(app.name): no variant of its use-case in the experiment's profiles")
                }
                architecture = catalogue.variants[v].architecture
            }
            var request = Infaas_V1_DescribeArchitectureRequest()
            request.architecture = architecture
            let r = request
            let info: Infaas_V1_DescribeArchitectureResponse
            do { info = try await withMasterClient(address) { try await $0.describeArchitecture(r) } } catch {
                throw CommandFailure("application \(app.name): the master does not know \(architecture): \(describe(error, master: address)) (register the experiment's variants first)")
            }
            guard info.inputDimension > 0 else { throw CommandFailure("the master reports no input size for \(architecture): pass --input-shape C,H,W") }
            shapes.append([3, Int(info.inputDimension), Int(info.inputDimension)])
        }
        return shapes
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).totalSeconds
    }

    static func request(target: PolicyTarget, catalogue: PolicyCatalogue, sloMs: Double, minAccuracy: Double,
                        input: Infaas_V1_Tensor) -> Infaas_V1_OnlineQueryRequest {
        var request = Infaas_V1_OnlineQueryRequest()
        switch target {
        case .variant(let v): request.variant = catalogue.variants[v].name
        case .architecture(let a): request.architecture = catalogue.architectureNames[a]
        case .useCase(let u):
            var useCase = Infaas_V1_UseCase()
            useCase.task = catalogue.useCases[u].task.rawValue
            useCase.dataset = catalogue.useCases[u].dataset.rawValue
            request.useCase = useCase
        }
        request.sloMs = sloMs
        request.minAccuracy = minAccuracy
        request.input.tensor = input
        return request
    }

    /// The replay's records as the simulator's result (per-query records, timeseries, cost at the
    /// experiment's machine prices for the workers the master reported).
    static func result(_ records: [Record], samples: [Sample], spec: ExperimentSpec, catalogue: PolicyCatalogue,
                       applications: [Application]) -> ExperimentResult {
        var metrics = SimulationMetrics(applications: applications.count, variants: catalogue.count)
        var workerIndex: [String: Int32] = [:]
        let end = max(records.map(\.finish).max() ?? 0, samples.last?.time ?? 0)
        for r in records {
            metrics.applications[r.application].arrivals += 1
            metrics.recordArrival(atSeconds: r.arrival)
            let v = catalogue.variantID(r.variant).map { Int32($0) } ?? -1
            let w: Int32 = r.worker.isEmpty ? -1 : workerIndex[r.worker] ?? {
                let next = Int32(workerIndex.count)
                workerIndex[r.worker] = next
                return next
            }()
            if r.met >= 0 {
                metrics.applications[r.application].served += 1
                let latencyMs = (r.finish - r.arrival) * 1000
                metrics.applications[r.application].latencySumMs += latencyMs
                if r.met == 1 { metrics.applications[r.application].metSLO += 1 }
                if v >= 0 {
                    metrics.servedByVariant[Int(v)] += 1
                    if let accuracy = catalogue.accuracy[Int(v)] {
                        metrics.applications[r.application].accuracySum += accuracy
                        metrics.applications[r.application].accuracyCount += 1
                    }
                }
                metrics.recordLatency(nanoseconds: Int64(latencyMs * 1e6))
            } else {
                metrics.applications[r.application].rejected += 1
                if r.outcome == .expiredInQueue { metrics.applications[r.application].expiredInQueue += 1 }
                if r.outcome == .shed { metrics.applications[r.application].shed += 1 }
            }
            metrics.queries.append(QueryRecord(arrival: r.arrival, finish: r.finish, application: Int32(r.application), variant: v, worker: w,
                                               batch: Int32(r.batch), sloMs: r.sloMs, met: r.met, outcome: r.outcome,
                                               workerMs: r.workerMs, inferenceMs: r.inferenceMs, clientLagMs: max(0, r.clientLagMs),
                                               servingPath: r.servingPath))
        }
        // Timeseries and cost: per interval, the arrivals and completions in it and the last
        // worker sample before its end; worker-hours priced as the simulator prices them.
        let interval = spec.options.timeseriesIntervalSeconds
        var hours: [HardwareClass: Double] = [:]
        var cost = 0.0
        // Each record into its interval once (by arrival, and by finish for completions).
        var arrivedIn: [Int: [Record]] = [:], finishedIn: [Int: [Record]] = [:]
        for r in records {
            arrivedIn[Int(r.arrival / interval), default: []].append(r)
            if r.met >= 0 { finishedIn[Int(r.finish / interval), default: []].append(r) }
        }
        var t = 0.0
        var bin = 0
        while t < end {
            let next = t + interval
            let inBin = arrivedIn[bin] ?? []
            let done = finishedIn[bin] ?? []
            bin += 1
            let sample = samples.last { $0.time <= next } ?? samples.first
            for (hardware, count) in sample?.workers ?? [:] {
                let h = Double(count) * min(interval, end - t) / 3600
                hours[hardware, default: 0] += h
                cost += h * spec.machines[hardware].hourlyUSD
            }
            let latencies = done.map { ($0.finish - $0.arrival) * 1000 }
            var row = TimeseriesRow(
                time: next, arrivals: inBin.count, completions: done.count, violations: 0, rejected: 0,
                meanLatencyMs: latencies.isEmpty ? 0 : latencies.reduce(0, +) / Double(latencies.count),
                workers: sample?.workers ?? [:], costUSD: cost, replicas: sample?.replicas ?? 0, runningVariants: sample?.running ?? 0)
            var outcomes = OutcomeCounts()
            for r in inBin { outcomes.record(r.outcome) }
            row.setArrivalOutcomes(outcomes)  // the simulator's columns, by the same function
            metrics.timeseries.append(row)
            t = next
        }
        let dollars = hours.mapValues { _ in 0.0 }.merging(hours.map { ($0.key, $0.value * spec.machines[$0.key].hourlyUSD) }) { $1 }
        return ExperimentResult(spec: spec, policyName: "live", catalogue: catalogue, applications: applications, metrics: metrics,
                                simulatedSeconds: end, workerHours: hours, dollars: dollars, totalDollars: cost)
    }
}

/// The synthetic float32 input `infaas replay` and `infaas calibrate` send.
enum QueryTensor {
    /// `batch` items of `itemShape`, values cycling through 0 … 250 / 251.
    static func tensor(batch: Int, itemShape: [Int]) -> Infaas_V1_Tensor {
        let count = batch * itemShape.reduce(1, *)
        return Infaas_V1_Tensor(shape: [batch] + itemShape, values: (0..<count).map { Float($0 % 251) / 251 })
    }

    /// A query for one variant with that input, no SLO.
    static func request(variant: String, batch: Int, itemShape: [Int]) -> Infaas_V1_OnlineQueryRequest {
        var request = Infaas_V1_OnlineQueryRequest()
        request.variant = variant
        request.input.tensor = tensor(batch: batch, itemShape: itemShape)
        return request
    }
}
