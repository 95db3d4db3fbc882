import ArgumentParser
import Foundation
import GRPCCore
import InfaasCore
import InfaasProfiles
import InfaasRPC
import InfaasRuntime

/// `infaas calibrate`: measures on this machine what the simulator needs beyond the profiles
/// (``MachineModel``) and writes `calibration.h5` (``CalibrationStore``).
struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure this machine for the simulator: RPC hops, load times, CPU contention, background load.",
        discussion: reflow("""
            Example (a local cluster up, its variants registered):
              infaas calibrate --contention-model models/build/resnet18_onnxruntime-cpu_t2_b8/model.onnx \\
                  --load resnet18_onnxruntime-cpu_t1_b1=models/build/resnet18_onnxruntime-cpu_t1_b1/model.onnx \\
                  --hop-variant resnet18_onnxruntime-cpu_t1_b1 -o out/calibration.h5
              infaas simulate --experiment E.yaml --machine-model out/calibration.h5

            Contention: for each --threads count, 1 … max(--replicas) sessions of the model run at
            once, each on its own thread; the slowdown is the median run against one session alone.
            Background: a lone session's median against the quiet calibration --reference (made
            with nothing else running); 1 without one. Load times: --loads loads of each --load
            model. Hops: --hop-queries queries per --hop-batches size through the live master
            (--home/--master) to --hop-variant; a hop is the client's latency less the time the
            worker reports (queue, inference). With a local cluster of this --home, the serving path's
            CPU per query too: the CPU the client, master and workers took over the hop queries, less
            their idle rate and the inference's own CPU (reported inference time × the variant's
            threads, from its name, × a lone run's share of them). After idle: a lone session's median
            run (of --idle-runs) after each --idle-gaps of sleep against back-to-back runs, and
            the batch-1 hop's median after each gap less the back-to-back one (profiles and hops are
            timed back to back; a query after a quiet spell wakes idle cores), for each --load variant
            (its threads from its name). Concurrent hops: batch-1 queries sent in groups of each
            --hop-groups size at once, their median hop against a lone query's (the serving path's
            CPU is shared by the queries crossing it together). Run it under the load the simulation should assume.
            """)
    )

    @Option(name: .customLong("contention-model"), help: ArgumentHelp("ONNX model timed for contention.", valueName: "FILE")) var contentionModel: String?
    @Option(help: ArgumentHelp("Intra-op thread counts to time.", valueName: "N,...")) var threads = "1,2"
    @Option(help: ArgumentHelp("Most replicas run at once (1 … N are timed).", valueName: "N")) var replicas = 3
    @Option(help: "Timed runs per replica and configuration.") var runs = 15
    @Option(name: .customLong("load"), help: ArgumentHelp("A variant whose load time to measure (repeatable).", valueName: "NAME=FILE")) var loadModels: [String] = []
    @Option(help: "Loads timed per --load model.") var loads = 5
    @Option(name: .customLong("hop-variant"), help: ArgumentHelp("A registered variant queries are sent to for the hop costs (none: no hops measured).", valueName: "NAME")) var hopVariant: String?
    @Option(name: .customLong("hop-batches"), help: ArgumentHelp("Batch sizes (payloads) for the hops.", valueName: "B,...")) var hopBatches = "1,2,8"
    @Option(name: .customLong("hop-queries"), help: "Queries per hop batch size (after 3 untimed).") var hopQueries = 30
    @Option(name: .customLong("idle-gaps"), help: ArgumentHelp("Idle gaps (ms) before runs and hops, or none.", valueName: "MS,...")) var idleGaps = "5,20,50,150"
    @Option(name: .customLong("hop-groups"), help: ArgumentHelp("Sizes of query groups sent at once, for concurrent hops, or none.", valueName: "K,...")) var hopGroups = "2,3,6"
    @Option(name: .customLong("idle-runs"), help: "Timed runs per thread count and idle gap (and back to back).") var idleRuns = 25
    @Option(name: .customLong("input-dim"), help: "Square input side (3×D×D float32 per item).") var inputDim = 224
    @Option(help: ArgumentHelp("A quiet calibration to measure the background load against.", valueName: "FILE")) var reference: String?
    @Flag(name: .customLong("separate-hosts"), help: "Workers of a run get hosts of their own (cloud); default: they share this host's cores (local).") var separateHosts = false
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("The calibration file.", valueName: "FILE")) var output = "calibration.h5"
    @OptionGroup var master: MasterOptions

    func run() async throws {
        let threadCounts = try parseDimensions(threads, flag: "--threads")
        let batches = try parseDimensions(hopBatches, flag: "--hop-batches")
        let gaps = try Self.list(idleGaps, flag: "--idle-gaps", example: "5,20,50,150", range: "gaps in ms, each 0 … 10000") {
            Double($0).flatMap { $0 > 0 && $0 <= 10_000 ? $0 : nil }
        }
        let groups = try Self.list(hopGroups, flag: "--hop-groups", example: "2,3,6", range: "group sizes 2 … 64") {
            Int($0).flatMap { $0 >= 2 && $0 <= 64 ? $0 : nil }
        }
        guard replicas >= 1, replicas <= 64, runs >= 1, runs <= 10_000, loads >= 1, loads <= 1_000, hopQueries >= 1, hopQueries <= 100_000,
              inputDim >= 1, inputDim <= 4096, idleRuns >= 1, idleRuns <= 10_000 else {
            throw ValidationError("--replicas 1 … 64, --runs 1 … 10000, --idle-runs 1 … 10000, --loads 1 … 1000, --hop-queries 1 … 100000, --input-dim 1 … 4096")
        }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var model = MachineModel(machine: "\(ProcessInfo.processInfo.hostName): \(ProfileCommand.cpuModel()), \(cores) cores", cores: cores,
                                 sharedHost: !separateHosts, loadAverage: Self.loadAverage())
        let backend = try ONNXRuntimeBackend()
        if let contentionModel {
            let probe = ContentionProbe(backend: backend)
            let path = contentionModel, counts = threadCounts, most = replicas
            printError("contention: \(path), threads \(threads), 1 … \(most) replicas at once, \(runs) runs each")
            // Blocking on purpose: nothing else of this process runs while it measures.
            let measured = try probe.measure(modelAt: path, threads: counts, replicas: Array(1...most), runs: runs) { m in
                printError(String(format: "  %d thread%@ × %d replica%@: median %.2f ms, CPU %.0f %% of %d cores", m.threads, m.threads == 1 ? "" : "s",
                                  m.replicas, m.replicas == 1 ? "" : "s", m.medianMs, m.cpuShare * 100, m.threads * m.replicas))
            }
            model.contention = measured.contentionPoints
            model.lone = measured.loneRuns
            if let reference {
                let quiet = try CalibrationStore.read(from: reference)
                let ratios = model.lone.compactMap { run in quiet.lone.first { $0.threads == run.threads }.map { run.medianMs / $0.medianMs } }
                model.background = ratios.isEmpty ? 1 : max(1e-3, ratios.reduce(0, +) / Double(ratios.count))
                printError(String(format: "  background: %.3f× the quiet reference %@", model.background, reference))
            }
        }
        for entry in loadModels {
            guard let eq = entry.firstIndex(of: "="), SafeName.isValid(String(entry[..<eq])) else {
                throw ValidationError("--load \"\(entry)\": expected NAME=FILE with a variant name (\(SafeName.alphabet))")
            }
            let name = String(entry[..<eq]), path = String(entry[entry.index(after: eq)...])
            var samples: [Double] = []
            for _ in 0..<loads {
                let start = ContinuousClock.now
                let loaded = try backend.load(modelAt: path, options: SessionOptions(intraOpThreads: 1))
                samples.append((ContinuousClock.now - start).milliseconds)
                loaded.unload()
            }
            model.loadTimes[name] = MachineModel.Quantiles(samples: samples)
            printError(String(format: "load %@: median %.1f ms of %d", name, model.loadTimes[name]?.medianMs ?? 0, loads))
            if !gaps.isEmpty {
                // The variant's own runs: how much idle costs depends on the model (many short
                // parallel sections pay a wake-up each), not on its thread count alone.
                let threads = ConfigFile.cpuSuffix(name) ?? 1
                model.idleRuns += try ContentionProbe(backend: backend).measureIdle(variant: name, modelAt: path, threads: [threads], gapsMs: gaps,
                                                                                    runs: idleRuns) { run, backToBack in
                    printError(String(format: "  %@ (%d thread%@) after %.0f ms idle: %.2f× its back-to-back run (%.2f ms)", name, run.threads,
                                      run.threads == 1 ? "" : "s", run.gapMs, run.slowdown, backToBack))
                }
            }
        }
        if let hopVariant {
            (model.hops, model.firstLoadExtraMs, model.idleHops) = try await measureHops(variant: hopVariant, batches: batches, model: model,
                                                                                        idleGapsMs: gaps)
            if !groups.isEmpty {
                model.concurrentHops = try await measureConcurrentHops(variant: hopVariant, groups: groups, model: model)
            }
        }
        try CalibrationStore.write(model, to: output)
        print("wrote \(output): \(model.contention.count) contention points, background \(String(format: "%.3f", model.background)), "
              + "\(model.loadTimes.count) load-time distributions, \(model.hops.count) hop sizes (load average \(String(format: "%.2f", model.loadAverage)))")
    }

    /// Hop cost by payload: the client's latency less the worker's time, per query; and, where
    /// the master and its workers run on this host (a local cluster of this home), the serving
    /// path's CPU per query: the CPU time the client (this process), the master and the workers
    /// took over the batch size's queries, less what they take idle at the same rate (measured
    /// for a second before) and less the inference's own CPU (the worker's reported inference
    /// time × the variant's intra-op threads × the share of them a lone run keeps busy), per query.
    /// The hop costs by payload, and what the cluster's first query for `variant` took beyond a
    /// warm one and the variant's in-process load time (``MachineModel/firstLoadExtraMs``; 0
    /// when that query found the variant loaded: the cluster was not fresh); and, for the first
    /// (smallest) batch size, the hop after each of `idleGapsMs` with nothing sent, less the
    /// back-to-back median (``MachineModel/idleHops``).
    func measureHops(variant: String, batches: [Int], model: MachineModel,
                     idleGapsMs: [Double]) async throws -> ([MachineModel.Hop], Double, [MachineModel.IdleHop]) {
        let address = try master.requireAddress()
        let grpc = GRPCClient(transport: try RPCTransport.client(address.address, security: address.security), interceptors: address.security.interceptors)
        let connections = Task { try? await grpc.runConnections() }
        defer { grpc.beginGracefulShutdown(); connections.cancel() }
        let client = Infaas_V1_Master.Client(wrapping: grpc)
        let processes = servingProcesses(endpoint: address)
        let threads = ConfigFile.cpuSuffix(variant) ?? 1
        let share = model.cpuShare(threads: threads)
        if processes.isEmpty {
            printError("serving CPU: not measured (the master at \(address) is not this home's local cluster)")
        }
        func cpu() -> [Double] { processes.map { ProcessCPUTime.seconds(pid: $0.pid) ?? 0 } }
        // What the processes take idle (reports, monitors), per second.
        var idleRate = [Double](repeating: 0, count: processes.count)
        if !processes.isEmpty {
            let before = cpu(), start = ContinuousClock.now
            try await Task.sleep(for: .seconds(1))
            let seconds = (ContinuousClock.now - start).milliseconds / 1000
            idleRate = zip(cpu(), before).map { max(0, $0 - $1) / seconds }
        }
        var hops: [MachineModel.Hop] = []
        var idleHops: [MachineModel.IdleHop] = []
        var firstLoadExtraMs = 0.0
        for (index, batch) in batches.enumerated() {
            let request = QueryTensor.request(variant: variant, batch: batch, itemShape: [3, inputDim, inputDim])
            var samples: [Double] = [], totals: [Double] = []
            var inferenceMs = 0.0, coldMs: Double? = nil
            var before: [Double] = [], started = ContinuousClock.now
            for i in 0..<(hopQueries + 3) {
                if i == 3 { before = cpu(); started = ContinuousClock.now }
                let start = ContinuousClock.now
                let reply = try await client.queryOnline(request)
                let ms = (ContinuousClock.now - start).milliseconds
                if index == 0, i == 0, reply.coldStart { coldMs = ms }
                if i >= 3 {
                    totals.append(ms)
                    samples.append(max(0, ms - reply.workerMs))
                    inferenceMs += reply.inferenceMs
                }
            }
            guard let quantiles = MachineModel.Quantiles(samples: samples) else { continue }
            if let coldMs, let warm = MachineModel.Quantiles(samples: totals)?.medianMs {
                // The first query on the fresh worker waited for its load: what that took beyond
                // a warm query and the in-process load measured above is the fresh process's
                // (and the live load path's) share.
                let load = model.loadTimes[variant]?.medianMs ?? 0
                firstLoadExtraMs = max(0, coldMs - warm - load)
                printError(String(format: "first load on a fresh worker: the first query took %.1f ms, a warm one %.1f ms, the load in-process %.1f ms: %.1f ms more",
                                  coldMs, warm, load, firstLoadExtraMs))
            } else if index == 0 {
                printError("first load on a fresh worker: not measured (the first query found \(variant) loaded; calibrate against a freshly started cluster)")
            }
            let bytes = batch * 3 * inputDim * inputDim * MemoryLayout<Float>.size
            var hop = MachineModel.Hop(payloadBytes: bytes, costMs: quantiles)
            if !processes.isEmpty {
                let seconds = (ContinuousClock.now - started).milliseconds / 1000
                let used = zip(zip(cpu(), before), idleRate).map { max(0, $0.0 - $0.1 - $1 * seconds) * 1000 / Double(hopQueries) }
                let inference = inferenceMs * Double(threads) * share / Double(hopQueries)
                let worker = zip(processes, used).filter { $0.0.role == "worker" }.map(\.1).reduce(0, +)
                hop.servingCPUMs = max(0, used.reduce(0, +) - inference)
                hop.workerCPUMs = min(hop.servingCPUMs, max(0, worker - inference))
                let parts = zip(processes, used).map { String(format: "%@ %.2f", $0.0.role, $0.1) }.joined(separator: ", ")
                printError(String(format: "  serving CPU, batch %d: %.2f ms a query (%@ ms; less inference %.2f ms = %.2f ms × %d threads × %.2f), worker's part %.2f ms",
                                  batch, hop.servingCPUMs, parts, inference, inferenceMs / Double(hopQueries), threads, share, hop.workerCPUMs))
            }
            hops.append(hop)
            printError(String(format: "hops, batch %d (%d bytes): median %.2f ms, p99 %.2f ms", batch, bytes, quantiles.medianMs, quantiles.value(at: 0.99)))
            if index == 0 {
                for gap in idleGapsMs.sorted() {
                    var idle: [Double] = []
                    for _ in 0..<hopQueries {
                        try await Task.sleep(for: .microseconds(Int64(gap * 1000)))
                        idle.append(try await Self.hopMs(client, request))
                    }
                    guard let after = MachineModel.Quantiles(samples: idle)?.medianMs else { continue }
                    idleHops.append(MachineModel.IdleHop(gapMs: gap, extraMs: max(0, after - quantiles.medianMs)))
                    printError(String(format: "  hop after %.0f ms idle: median %.2f ms, %.2f ms more than back to back", gap, after, max(0, after - quantiles.medianMs)))
                }
            }
        }
        return (hops, firstLoadExtraMs, idleHops)
    }

    /// Hops of queries sent together (``MachineModel/concurrentHops``): for each group size k,
    /// --hop-queries queries in groups of k sent at the same instant (50 ms apart, each group
    /// answered before the next), batch 1; the factor is their median hop against the median
    /// of lone batch-1 hops sent the same way (50 ms apart), so it holds the overlap alone.
    func measureConcurrentHops(variant: String, groups: [Int], model: MachineModel) async throws -> [MachineModel.ConcurrentHop] {
        let request = QueryTensor.request(variant: variant, batch: 1, itemShape: [3, inputDim, inputDim])
        let hopQueries = self.hopQueries
        return try await withMasterClient(try master.requireAddress()) { client in
            @Sendable func hops(together k: Int) async throws -> [Double] {
                var samples: [Double] = []
                for _ in 0..<max(3, hopQueries / k) {
                    try await Task.sleep(for: .milliseconds(50))
                    samples += try await withThrowingTaskGroup(of: Double.self) { tasks in
                        for _ in 0..<k { tasks.addTask { try await Self.hopMs(client, request) } }
                        return try await tasks.reduce(into: [Double]()) { $0.append($1) }
                    }
                }
                return samples
            }
            guard let lone = MachineModel.Quantiles(samples: try await hops(together: 1))?.medianMs, lone > 0 else { return [] }
            var result: [MachineModel.ConcurrentHop] = []
            for k in groups.sorted() {
                guard let median = MachineModel.Quantiles(samples: try await hops(together: k))?.medianMs else { continue }
                result.append(MachineModel.ConcurrentHop(queries: k, factor: median / lone))
                printError(String(format: "  hops of %d queries sent at once: median %.2f ms, %.2f× a lone query's %.2f ms", k, median, median / lone, lone))
            }
            return result
        }
    }

    /// A comma-separated list of values `parse` accepts, or `none` (empty).
    static func list<T>(_ text: String, flag: String, example: String, range: String, _ parse: (String) -> T?) throws -> [T] {
        guard text != "none" else { return [] }
        let values = text.split(separator: ",").map { parse($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw ValidationError("\(flag) \(text): give \(range), like \(example), or none")
        }
        return values.compactMap { $0 }
    }

    /// One query's hop: the client's latency less the time the worker reports (ms).
    static func hopMs<T: ClientTransport>(_ client: Infaas_V1_Master.Client<T>, _ request: Infaas_V1_OnlineQueryRequest) async throws -> Double {
        let start = ContinuousClock.now
        let reply = try await client.queryOnline(request)
        return max(0, (ContinuousClock.now - start).milliseconds - reply.workerMs)
    }

    /// The processes a query's serving path runs in on this host: this client, the master of
    /// this home's local cluster (when it is the master `endpoint` names) and that cluster's
    /// workers (those reporting to its port that carry its token). Empty when the master is not
    /// this home's local cluster (its processes are elsewhere, or unknown).
    func servingProcesses(endpoint: MasterEndpoint) -> [(role: String, pid: Int32)] {
        let home = master.home.directory
        guard let state = ClusterState.read(home: home), state.master == endpoint.address.description,
              state.provider ?? "local" == "local", let port = (try? HostPort(state.master))?.port else { return [] }
        let token = (try? String(contentsOfFile: ClusterTokenSource.defaultPath(home: home), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let workers = InfaasProcesses.list(role: "worker").filter { process in
            InfaasProcesses.value(of: "--master", in: process.arguments).flatMap { try? HostPort($0) }?.port == port
                && (token.isEmpty || InfaasProcesses.carries(token: token, pid: process.pid))
        }
        return [("client", getpid()), ("master", state.pid)] + workers.map { ("worker", $0.pid) }
    }

    /// The 1-minute load average (0 where /proc/loadavg is not readable).
    static func loadAverage() -> Double {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return Double(text.split(separator: " ").first ?? "") ?? 0
    }
}
