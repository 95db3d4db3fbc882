public import InfaasCore
import HDF5Kit
import Foundation

/// The machine model `calibration.h5` (`infaas calibrate`; docs/experiments.md "Calibration"),
/// written beside `profiles.h5`:
///
/// ```
/// /meta        @format = "infaas-calibration", @format_version = 1, @generator
///              @machine @cores @shared_host (0/1) @background @load_average
///              @first_load_extra_ms (what a fresh worker's first load took beyond the
///              variant's load time; optional: older files lack it, read as 0)
/// /hops        payload_bytes int64[h]   levels float64[q]   cost_ms float64[h, q]
///              serving_cpu_ms float64[h]   worker_cpu_ms float64[h]
///              (CPU per query of the serving path, client + master + worker, less the
///              inference; and the worker's part. Optional: older files lack them, read as 0)
/// /load_times/<variant>                 levels float64[q]   load_ms float64[q]
/// /contention  threads int32[c]   replicas int32[c]   slowdown float64[c]
///              lone_threads int32[l]   lone_ms float64[l]   lone_cpu_share float64[l]
///              (a lone replica's median run, and the share of its threads' cores it kept busy)
/// /idle        run_variant (strings)[i]   run_threads int32[i]   run_gap_ms float64[i]
///              run_slowdown float64[i]   hop_gap_ms float64[j]   hop_extra_ms float64[j]
///              (a variant's lone run after the host sat idle gap ms, against a back-to-back
///              one; a hop's extra ms after such a gap. Optional: older files lack it, read as
///              no effect)
/// /concurrency hop_queries int32[k]   hop_factor float64[k]
///              (hops of k queries sent at once against a lone one's. Optional: older files
///              lack it, read as independent hops)
/// ```
/// Empty tables are written with zero rows. The file opens with `h5dump` and h5py.
public enum CalibrationStore {
    public static let format = "infaas-calibration"
    public static let formatVersion: Int64 = 1

    /// Writes `model` to `path` (replacing it), through a temporary file renamed into place
    /// (``ProfileStore/replace(_:what:write:)``).
    public static func write(_ model: MachineModel, to path: String) throws(ProfileError) {
        try ProfileStore.replace(path, what: "calibration") { temporary throws(ProfileError) in
            do { try writeUnsafely(model, to: temporary, reporting: path) } catch { throw ProfileError(wrapping: error, at: path) }
        }
    }

    static func writeUnsafely(_ model: MachineModel, to temporary: String, reporting path: String) throws {
        let file = try HDF5File.create(at: temporary)
        defer { file.close() }
        let root = try file.root()
        let meta = try root.createGroup("meta")
        try meta.setAttribute("format", format)
        try meta.setAttribute("format_version", formatVersion)
        try meta.setAttribute("generator", "infaas-swift")
        try meta.setAttribute("machine", model.machine)
        try meta.setAttribute("cores", Int64(model.cores))
        try meta.setAttribute("shared_host", Int64(model.sharedHost ? 1 : 0))
        try meta.setAttribute("background", model.background)
        try meta.setAttribute("load_average", model.loadAverage)
        try meta.setAttribute("first_load_extra_ms", model.firstLoadExtraMs)
        let hops = try root.createGroup("hops")
        let levels = model.hops.first?.costMs.levels ?? MachineModel.Quantiles.standardLevels
        guard model.hops.allSatisfy({ $0.costMs.levels == levels && $0.costMs.valuesMs.count == levels.count }) else {
            throw ProfileError(.badValue, "every hop cost needs the same quantile levels", at: path)
        }
        try hops.write(model.hops.map { Int64($0.payloadBytes) }, to: "payload_bytes")
        try hops.write(levels, to: "levels")
        try hops.write(model.hops.flatMap(\.costMs.valuesMs), to: "cost_ms", shape: [model.hops.count, levels.count])
        try hops.write(model.hops.map(\.servingCPUMs), to: "serving_cpu_ms")
        try hops.write(model.hops.map(\.workerCPUMs), to: "worker_cpu_ms")
        let loads = try root.createGroup("load_times")
        for (name, quantiles) in model.loadTimes.sorted(by: { $0.key < $1.key }) {
            guard SafeName.isValid(name) else { throw ProfileError(.badValue, "variant name \"\(name)\" cannot name an HDF5 group", at: path) }
            let g = try loads.createGroup(name)
            try g.write(quantiles.levels, to: "levels")
            try g.write(quantiles.valuesMs, to: "load_ms")
        }
        let contention = try root.createGroup("contention")
        try contention.write(model.contention.map { Int32($0.threads) }, to: "threads")
        try contention.write(model.contention.map { Int32($0.replicas) }, to: "replicas")
        try contention.write(model.contention.map(\.slowdown), to: "slowdown")
        try contention.write(model.lone.map { Int32($0.threads) }, to: "lone_threads")
        try contention.write(model.lone.map(\.medianMs), to: "lone_ms")
        try contention.write(model.lone.map(\.cpuShare), to: "lone_cpu_share")
        let idle = try root.createGroup("idle")
        try idle.write(strings: model.idleRuns.map(\.variant), to: "run_variant")
        try idle.write(model.idleRuns.map { Int32($0.threads) }, to: "run_threads")
        try idle.write(model.idleRuns.map(\.gapMs), to: "run_gap_ms")
        try idle.write(model.idleRuns.map(\.slowdown), to: "run_slowdown")
        try idle.write(model.idleHops.map(\.gapMs), to: "hop_gap_ms")
        try idle.write(model.idleHops.map(\.extraMs), to: "hop_extra_ms")
        let concurrency = try root.createGroup("concurrency")
        try concurrency.write(model.concurrentHops.map { Int32($0.queries) }, to: "hop_queries")
        try concurrency.write(model.concurrentHops.map(\.factor), to: "hop_factor")
        try file.flush()
    }

    /// Reads a calibration; every number is checked (finite, non-negative; slowdowns and the
    /// background factor positive; quantiles increasing).
    public static func read(from path: String) throws(ProfileError) -> MachineModel {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ProfileError(.fileNotFound, "no such file", at: path, hint: "measure one with `infaas calibrate -o \(path)`")
        }
        do {
            let file = try HDF5File.open(at: path)
            defer { file.close() }
            let root = try file.root()
            guard root.contains("meta"), let meta = try? root.group("meta"), (try? meta.stringAttribute("format")) == format else {
                throw ProfileError(.notAProfileStore, "an HDF5 file, but not an infaas calibration (no /meta@format = \"\(format)\")", at: path,
                                   hint: "measure one with `infaas calibrate`")
            }
            let version = try meta.integerAttribute("format_version")
            guard version <= formatVersion else {
                throw ProfileError(.unsupportedVersion, "format version \(version) is newer than this build reads (\(formatVersion))", at: path,
                                   hint: "upgrade infaas")
            }
            func check(_ values: [Double], _ what: String, positive: Bool = false) throws(ProfileError) {
                guard values.allSatisfy({ $0.isFinite && (positive ? $0 > 0 : $0 >= 0) && $0 <= InputLimits.maxLatencyMs }) else {
                    throw ProfileError(.badValue, "\(what) holds a value that is not a finite \(positive ? "positive" : "non-negative") number", at: path)
                }
            }
            func quantiles(_ levels: [Double], _ values: [Double], _ what: String) throws(ProfileError) -> MachineModel.Quantiles {
                try check(values, what)
                guard levels.count == values.count, !levels.isEmpty, levels.allSatisfy({ $0 >= 0 && $0 <= 1 }),
                      zip(levels, levels.dropFirst()).allSatisfy({ $0 < $1 }), zip(values, values.dropFirst()).allSatisfy({ $0 <= $1 }) else {
                    throw ProfileError(.badValue, "\(what): levels must rise from 0 to 1 and values must not fall, one value a level", at: path)
                }
                return MachineModel.Quantiles(levels: levels, valuesMs: values)
            }
            let cores = try meta.integerAttribute("cores")
            guard cores >= 1, cores <= 1 << 16 else { throw ProfileError(.badValue, "/meta@cores \(cores) is not 1 … 65536", at: path) }
            let background = try meta.doubleAttribute("background") ?? 1
            try check([background], "/meta@background", positive: true)
            var model = MachineModel(machine: try meta.stringAttribute("machine"), cores: Int(cores),
                                     sharedHost: try meta.integerAttribute("shared_host") != 0, background: background,
                                     loadAverage: try meta.doubleAttribute("load_average") ?? 0)
            model.firstLoadExtraMs = meta.hasAttribute("first_load_extra_ms") ? try meta.doubleAttribute("first_load_extra_ms") ?? 0 : 0
            try check([model.firstLoadExtraMs], "/meta@first_load_extra_ms")
            let hops = try root.group("hops")
            let payloads = try hops.read(Int64.self, from: "payload_bytes").values
            let levels = try hops.read(Double.self, from: "levels").values
            let costs = try hops.read(Double.self, from: "cost_ms")
            guard costs.values.count == payloads.count * levels.count, payloads.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else {
                throw ProfileError(.badValue, "/hops: cost_ms must be payload_bytes × levels, payloads 0 … 2³¹", at: path)
            }
            // The serving path's CPU per query (absent from files before it was measured: 0).
            func perHop(_ name: String) throws -> [Double] {
                guard hops.contains(name) else { return [Double](repeating: 0, count: payloads.count) }
                let values = try hops.read(Double.self, from: name).values
                guard values.count == payloads.count else {
                    throw ProfileError(.badValue, "/hops/\(name) must have one value per payload size (\(payloads.count)), has \(values.count)", at: path)
                }
                try check(values, "/hops/\(name)")
                return values
            }
            let serving = try perHop("serving_cpu_ms"), worker = try perHop("worker_cpu_ms")
            model.hops = try payloads.indices.map { i throws(ProfileError) in
                MachineModel.Hop(payloadBytes: Int(payloads[i]),
                                 costMs: try quantiles(levels, Array(costs.values[(i * levels.count)..<((i + 1) * levels.count)]), "/hops row \(i)"),
                                 servingCPUMs: serving[i], workerCPUMs: worker[i])
            }.sorted { $0.payloadBytes < $1.payloadBytes }
            let loads = try root.group("load_times")
            for name in try loads.childNames() {
                let g = try loads.group(name)
                model.loadTimes[name] = try quantiles(try g.read(Double.self, from: "levels").values, try g.read(Double.self, from: "load_ms").values,
                                                      "/load_times/\(ValidationError.excerpt(name))")
            }
            let contention = try root.group("contention")
            let threads = try contention.read(Int32.self, from: "threads").values
            let replicas = try contention.read(Int32.self, from: "replicas").values
            let slowdown = try contention.read(Double.self, from: "slowdown").values
            guard threads.count == replicas.count, threads.count == slowdown.count,
                  threads.allSatisfy({ $0 >= 1 && $0 <= 1024 }), replicas.allSatisfy({ $0 >= 1 && $0 <= 1024 }) else {
                throw ProfileError(.badValue, "/contention: threads, replicas and slowdown must have one row each, counts 1 … 1024", at: path)
            }
            try check(slowdown, "/contention/slowdown", positive: true)
            model.contention = threads.indices.map { MachineModel.ContentionPoint(threads: Int(threads[$0]), replicas: Int(replicas[$0]), slowdown: slowdown[$0]) }
            let loneThreads = try contention.read(Int32.self, from: "lone_threads").values
            let loneMs = try contention.read(Double.self, from: "lone_ms").values
            guard loneThreads.count == loneMs.count, loneThreads.allSatisfy({ $0 >= 1 && $0 <= 1024 }) else {
                throw ProfileError(.badValue, "/contention: lone_threads and lone_ms must have one row each, threads 1 … 1024", at: path)
            }
            try check(loneMs, "/contention/lone_ms", positive: true)
            let share = contention.contains("lone_cpu_share") ? try contention.read(Double.self, from: "lone_cpu_share").values
                                                              : [Double](repeating: 1, count: loneMs.count)
            guard share.count == loneMs.count, share.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
                throw ProfileError(.badValue, "/contention/lone_cpu_share must have one value in (0, 1] per lone run", at: path)
            }
            model.lone = loneThreads.indices.map { MachineModel.LoneRun(threads: Int(loneThreads[$0]), medianMs: loneMs[$0], cpuShare: share[$0]) }
            if root.contains("idle") {
                let idle = try root.group("idle")
                let runVariants = try idle.readStrings(from: "run_variant")
                let runThreads = try idle.read(Int32.self, from: "run_threads").values
                let runGaps = try idle.read(Double.self, from: "run_gap_ms").values
                let runSlowdowns = try idle.read(Double.self, from: "run_slowdown").values
                let hopGaps = try idle.read(Double.self, from: "hop_gap_ms").values
                let hopExtras = try idle.read(Double.self, from: "hop_extra_ms").values
                guard runVariants.count == runThreads.count, runThreads.count == runGaps.count, runThreads.count == runSlowdowns.count,
                      hopGaps.count == hopExtras.count, runThreads.allSatisfy({ $0 >= 1 && $0 <= 1024 }) else {
                    throw ProfileError(.badValue, "/idle: run_variant, run_threads, run_gap_ms and run_slowdown need one row each (threads 1 … 1024), "
                                       + "hop_gap_ms and hop_extra_ms one row each", at: path)
                }
                try check(runGaps + hopGaps, "/idle/run_gap_ms or /idle/hop_gap_ms", positive: true)
                try check(runSlowdowns, "/idle/run_slowdown", positive: true)
                try check(hopExtras, "/idle/hop_extra_ms")
                model.idleRuns = runThreads.indices.map {
                    MachineModel.IdleRun(variant: runVariants[$0], threads: Int(runThreads[$0]), gapMs: runGaps[$0], slowdown: runSlowdowns[$0])
                }
                model.idleHops = hopGaps.indices.map { MachineModel.IdleHop(gapMs: hopGaps[$0], extraMs: hopExtras[$0]) }
            }
            if root.contains("concurrency") {
                let concurrency = try root.group("concurrency")
                let queries = try concurrency.read(Int32.self, from: "hop_queries").values
                let factors = try concurrency.read(Double.self, from: "hop_factor").values
                guard queries.count == factors.count, queries.allSatisfy({ $0 >= 2 && $0 <= 1024 }) else {
                    throw ProfileError(.badValue, "/concurrency: hop_queries and hop_factor need one row each, groups of 2 … 1024 queries", at: path)
                }
                try check(factors, "/concurrency/hop_factor", positive: true)
                model.concurrentHops = queries.indices.map { MachineModel.ConcurrentHop(queries: Int(queries[$0]), factor: factors[$0]) }
            }
            return model
        } catch {
            throw ProfileError(wrapping: error, at: path)
        }
    }
}
