import ArgumentParser
import Foundation
import GRPCCore
import InfaasCore
import InfaasProfiles
import InfaasRPC
import InfaasRegistry
import InfaasRuntime

/// What a `--served` profile's sample is.
enum ServedLatency: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// The time the worker reports for the query: its queue (empty, one query at a time) and its
    /// inference — a replica's run as served, to which a calibration's hops add the RPC path.
    case worker
    /// The client's whole round trip, client → master → worker and back.
    case client
}

/// `infaas profile --served`: the same profile, measured through a live cluster's served path.
extension ProfileCommand {
    func validateServed() throws {
        guard modelArgument == nil else {
            throw ValidationError("--served profiles a registered variant through the cluster: give --variant NAME instead of a model file (\(model))")
        }
        let given = [("--architecture", architectureOption != nil), ("--task", taskOption != nil), ("--dataset", datasetOption != nil),
                     ("--accuracy", accuracyOption != nil)].filter(\.1).map(\.0)
        guard given.isEmpty else {
            throw ValidationError("\(given.joined(separator: ", ")) cannot be given with --served: the variant's registration says them")
        }
        guard let variant, SafeName.isValid(variant) else {
            throw ValidationError("--served needs --variant NAME, a registered variant (see `infaas modinfo ARCHITECTURE`)")
        }
        if let runs, runs < 1 { throw ValidationError("--runs must be at least 1, got \(runs)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
        _ = try trailingDimensions()
    }

    func runServed() async throws {
        let sizes = try batchSizes()
        guard let name = variant else { return }
        let endpoint = try master.requireAddress()
        // The cluster's registry (the master's, `<home>/cluster/registry.sqlite`) says the rest.
        let home = master.home.directory, registryPath = "\(home)/cluster/registry.sqlite"
        guard FileManager.default.fileExists(atPath: registryPath) else {
            throw CommandFailure("no cluster registry at \(registryPath): --served reads the variant's registration from the home of the cluster "
                                 + "(`infaas up --local --home DIR`, then `--home DIR` here)")
        }
        let lookup = Result { () throws(RegistryError) -> RegisteredVariant in try ModelRegistry(path: registryPath).variant(named: name) }
        if case .failure(let error) = lookup, error.code == .unknownVariant {
            throw CommandFailure("variant \(name) is not registered with the cluster of \(home): \(error.message)"
                                 + (error.hint.map { " (\($0))" } ?? "") + "; register it with `infaas register CONFIG URL --home \(home)`")
        }
        let registered = try lookup.get()
        var profiled = registered.variant
        if let largest = sizes.last, largest > profiled.maxBatch {
            throw ValidationError("--batches \(batches): \(largest) is above \(name)'s max batch \(profiled.maxBatch); time batches up to it")
        }
        let side = max(1, profiled.useCase.inputDimension)
        let trailing = try trailingDimensions()
        let itemShape = trailing.isEmpty ? [3, side, side] : trailing.keys.sorted().map { trailing[$0]! }
        printError("Profiling \(name) through the master at \(endpoint) (\(servedLatency == .worker ? "the worker's time" : "the client's round trip")), "
                   + "input \(itemShape.map(String.init).joined(separator: "×")) per item, batches \(sizes.map(String.init).joined(separator: ","))")
        let measured: (points: [LatencyPoint], samples: [[Double]], loadMs: Double?)
        do {
            measured = try await withMasterClient(endpoint) { [runs, warmup, servedLatency] client in
                try await Self.measureServed(client: client, variant: name, batches: sizes, itemShape: itemShape,
                                             runs: runs, warmup: warmup, latency: servedLatency)
            }
        } catch let error as RPCError {
            throw CommandFailure("profiling \(name) through the master at \(endpoint) failed: \(describe(error, master: endpoint))")
        }
        let fit = try LatencyFitter.fit(points: measured.points, maxBatch: profiled.maxBatch)
        let date = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        profiled.latency = LatencyProfile(points: measured.points, model: fit, samplesMs: measured.samples)
        if let loadMs = measured.loadMs { profiled.loadLatencyMs = loadMs }
        profiled.kind = .measured
        profiled.source = "infaas profile --served (\(servedLatency.rawValue) time) through the master at \(endpoint) on \(ProcessInfo.processInfo.hostName), \(date)"
        let replaced = try addToStore(profiled)
        var table = TextTable([("BATCH", .right), ("RUNS", .right), ("P50 MS", .right), ("P90 MS", .right), ("P99 MS", .right), ("MEAN MS", .right)])
        for (point, samples) in zip(measured.points, measured.samples) {
            table.append([String(point.batch), String(samples.count), Self.ms(point.p50Ms ?? 0), Self.ms(point.p90Ms ?? 0),
                          Self.ms(point.p99Ms ?? 0), Self.ms(point.meanMs ?? 0)])
        }
        print("\(name)  (\(profiled.architecture), \(profiled.useCase.name), served)")
        print("load \(Self.ms(profiled.loadLatencyMs ?? 0)) ms (\(measured.loadMs == nil ? "the registry's: the variant was loaded already" : "the cold query's load"))")
        print(table.render())
        print("\(replaced ? "Replaced" : "Added") \(name) in \(output)")
    }

    /// Times `variant` through `client`, one query at a time: per batch, `warmup` untimed queries
    /// (at least one), then `runs` timed ones (adaptive without: at least 20, until 2 s, at most
    /// 1000). Returns the points, the samples and the load a cold query reported.
    static func measureServed(client: Infaas_V1_Master.Client<some ClientTransport>, variant: String, batches: [Int], itemShape: [Int],
                              runs: Int?, warmup: Int, latency: ServedLatency) async throws -> (points: [LatencyPoint], samples: [[Double]], loadMs: Double?) {
        var points: [LatencyPoint] = [], all: [[Double]] = []
        var loadMs: Double?
        for batch in batches {
            let request = QueryTensor.request(variant: variant, batch: batch, itemShape: itemShape)
            for _ in 0..<max(1, warmup) {
                let reply = try await client.queryOnline(request)
                try check(reply, variant: variant)
                if reply.coldStart, loadMs == nil { loadMs = max(0, reply.workerMs - reply.inferenceMs) }
            }
            var samples: [Double] = []
            let started = ContinuousClock.now
            while true {
                let start = ContinuousClock.now
                let reply = try await client.queryOnline(request)
                let roundTrip = (ContinuousClock.now - start).milliseconds
                try check(reply, variant: variant)
                samples.append(latency == .worker ? reply.workerMs : roundTrip)
                if let runs {
                    if samples.count >= runs { break }
                } else if samples.count >= 1000 || (samples.count >= 20 && (ContinuousClock.now - started).milliseconds >= 2000) {
                    break
                }
            }
            let sorted = samples.sorted()
            let point = LatencyPoint(batch: batch, p50Ms: Profiler.quantile(sorted, 0.5), p99Ms: Profiler.quantile(sorted, 0.99),
                                     meanMs: samples.reduce(0, +) / Double(samples.count), p90Ms: Profiler.quantile(sorted, 0.9))
            printError("  batch \(batch): \(samples.count) queries, p50 \(ms(point.p50Ms ?? 0)) ms, p99 \(ms(point.p99Ms ?? 0)) ms")
            points.append(point)
            all.append(samples)
        }
        return (points, all, loadMs)
    }

    /// The master answered with another variant, or with no time: not a profile of `variant`.
    static func check(_ reply: Infaas_V1_OnlineQueryResponse, variant: String) throws {
        guard reply.variant == variant else {
            throw CommandFailure("the master served \(variant)'s query with \(reply.variant.isEmpty ? "no variant" : reply.variant)")
        }
        guard reply.workerMs.isFinite, reply.workerMs > 0 else {
            throw CommandFailure("the worker reported no time (\(reply.workerMs) ms) for \(variant)'s query")
        }
    }
}
