public import InfaasCore
import HDF5Kit
import Foundation

/// The profile store `profiles.h5` (DESIGN.md §3):
///
/// ```
/// /meta                       @format = "infaas-profiles", @format_version = 1
/// /variants/<variant-name>    @architecture @task @dataset @input_dim @framework @hardware
///                             @hardware_desc @accuracy @max_batch @memory_mb @load_ms @size_mb
///                             @cpus @kind @source @slope_ms @intercept_ms
///     batch            int32[n]
///     latency_ms_p50   float64[n]   (NaN = not measured, likewise below)
///     latency_ms_p99   float64[n]
///     latency_ms_mean  float64[n]
///     latency_ms_p90   float64[n]
///     samples_ms       float64[n, k] (optional raw samples, NaN-padded)
/// ```
/// Unknown numbers are NaN; `cpus` is 0 when not stated. The file opens with `h5dump` and h5py.
public enum ProfileStore {
    public static let format = "infaas-profiles"
    public static let formatVersion: Int64 = 1

    /// Writes `variants` to `path` atomically: into a temporary file beside it, renamed over
    /// `path` only when complete, so a failure never leaves a half-written store.
    /// Temporary files an interrupted write left (`<store>.tmp-PID`, 80–160 MB for a big import
    /// killed midway) are removed first, when their process is gone.
    public static func write(_ variants: [ModelVariant], to path: String) throws(ProfileError) {
        try replace(path, what: "store") { temporary throws(ProfileError) in try writeUnsafely(variants, to: temporary) }
    }

    /// Writes a file of this folder's stores atomically: `write` fills `<path>.tmp-PID`, which is
    /// renamed over `path` only when complete (and removed when the write fails), so a failure
    /// never leaves a half-written file. Abandoned temporaries of `path` are removed first.
    static func replace(_ path: String, what: String, write: (String) throws(ProfileError) -> Void) throws(ProfileError) {
        removeAbandonedTemporaries(of: path)
        let temporary = path + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try write(temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw ProfileError(.storage, "cannot move the new \(what) into place: \(reason)", at: path)
        }
    }

    /// Removes `<path>.tmp-PID` files whose process no longer runs (a write of this store that
    /// was killed or interrupted); those of a live process (a concurrent import) stay. Returns
    /// the files removed.
    @discardableResult
    public static func removeAbandonedTemporaries(of path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let prefix = url.lastPathComponent + ".tmp-"
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }  // still running (or not ours to probe): leave it
            let file = directory + "/" + name
            if (try? FileManager.default.removeItem(atPath: file)) != nil { removed.append(file) }
        }
        return removed
    }

    static func writeUnsafely(_ variants: [ModelVariant], to path: String) throws(ProfileError) {
        do {
            let file = try HDF5File.create(at: path)
            defer { file.close() }  // closed before the caller removes a failed file, never at exit
            let root = try file.root()
            let meta = try root.createGroup("meta")
            try meta.setAttribute("format", format)
            try meta.setAttribute("format_version", formatVersion)
            try meta.setAttribute("generator", "infaas-swift")
            let group = try root.createGroup("variants")
            for variant in variants {
                guard !variant.name.isEmpty, !variant.name.contains("/"), variant.name != "." else {
                    throw ProfileError(.badValue, "variant name \"\(variant.name)\" cannot be an HDF5 group name (no '/')", at: path)
                }
                try writeVariant(variant, into: try group.createGroup(variant.name))
            }
            try file.flush()
        } catch {
            throw ProfileError(wrapping: error, at: path)
        }
    }

    static func writeVariant(_ v: ModelVariant, into g: HDF5Group) throws(HDF5Error) {
        try g.setAttribute("architecture", v.architecture)
        try g.setAttribute("task", v.useCase.task.rawValue)
        try g.setAttribute("dataset", v.useCase.dataset.rawValue)
        try g.setAttribute("input_dim", Int64(v.useCase.inputDimension))
        try g.setAttribute("framework", v.framework.rawValue)
        try g.setAttribute("hardware", v.hardware.rawValue)
        try g.setAttribute("hardware_desc", v.hardwareDescription)
        try g.setAttribute("accuracy", v.accuracy)
        try g.setAttribute("max_batch", Int64(v.maxBatch))
        try g.setAttribute("memory_mb", v.memoryMB)
        try g.setAttribute("load_ms", v.loadLatencyMs)
        try g.setAttribute("size_mb", v.sizeMB)
        try g.setAttribute("cpus", Int64(v.cpus ?? 0))
        try g.setAttribute("kind", v.kind.rawValue)
        try g.setAttribute("source", v.source)
        try g.setAttribute("slope_ms", v.latency.model.slopeMs)
        try g.setAttribute("intercept_ms", v.latency.model.interceptMs)
        let points = v.latency.points
        try g.write(points.map { Int32($0.batch) }, to: "batch")
        try g.write(points.map { $0.p50Ms ?? .nan }, to: "latency_ms_p50")
        try g.write(points.map { $0.p99Ms ?? .nan }, to: "latency_ms_p99")
        try g.write(points.map { $0.meanMs ?? .nan }, to: "latency_ms_mean")
        try g.write(points.map { $0.p90Ms ?? .nan }, to: "latency_ms_p90")
        if let samples = v.latency.samplesMs, !samples.isEmpty {
            let width = samples.map(\.count).max() ?? 0
            let flat = samples.flatMap { $0 + [Double](repeating: .nan, count: width - $0.count) }
            try g.write(flat, to: "samples_ms", shape: [samples.count, width])
        }
    }

    /// Reads every variant of the store at `path`.
    public static func read(from path: String) throws(ProfileError) -> [ModelVariant] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ProfileError(.fileNotFound, "no such file", at: path, hint: "create one with `infaas profiles import FILE... -o \(path)`")
        }
        do {
            let file = try HDF5File.open(at: path)
            let root = try file.root()
            guard root.contains("meta"), let meta = try? root.group("meta"),
                  (try? meta.stringAttribute("format")) == format else {
                throw ProfileError(.notAProfileStore, "an HDF5 file, but not an infaas profile store (no /meta@format = \"\(format)\")",
                                   at: path, hint: "create one with `infaas profiles import`")
            }
            let version = try meta.integerAttribute("format_version")
            guard version <= formatVersion else {
                throw ProfileError(.unsupportedVersion, "format version \(version) is newer than this build reads (\(formatVersion))",
                                   at: path, hint: "upgrade infaas")
            }
            let variants = try root.group("variants")
            var result: [ModelVariant] = []
            for name in try variants.childNames() {
                let variant = try readVariant(named: name, from: try variants.group(name), path: path)
                // The same rules as CSV and .config import: a store is no back door for
                // negative latencies, NaN slopes or names that would escape a folder.
                do { try variant.validate(location: "\(path) /variants/\(ValidationError.excerpt(name))") } catch {
                    throw ProfileError(error, at: path)
                }
                result.append(variant)
            }
            return result
        } catch {
            throw ProfileError(wrapping: error, at: path)
        }
    }

    static func readVariant(named name: String, from g: HDF5Group, path: String) throws -> ModelVariant {
        let batches = try g.read(Int32.self, from: "batch").values.map(Int.init)
        func column(_ dataset: String) throws -> [Double?] {
            guard g.contains(dataset) else { return [Double?](repeating: nil, count: batches.count) }
            let values = try g.read(Double.self, from: dataset).values
            guard values.count == batches.count else {
                throw ProfileError(.storage, "\(g.path)/\(dataset) has \(values.count) values but batch has \(batches.count)", at: path)
            }
            return values.map { $0.isNaN ? nil : $0 }
        }
        let p50 = try column("latency_ms_p50"), p99 = try column("latency_ms_p99")
        let mean = try column("latency_ms_mean"), p90 = try column("latency_ms_p90")
        let points = batches.indices.map { LatencyPoint(batch: batches[$0], p50Ms: p50[$0], p99Ms: p99[$0], meanMs: mean[$0], p90Ms: p90[$0]) }
        var samples: [[Double]]? = nil
        if g.contains("samples_ms") {
            let array = try g.read(Double.self, from: "samples_ms")
            if array.shape.count == 2, array.shape[0] == batches.count {
                let width = array.shape[1]
                samples = (0..<array.shape[0]).map { row in
                    Array(array.values[(row * width)..<((row + 1) * width)]).filter { !$0.isNaN }
                }
            }
        }
        let hardwareName = try g.stringAttribute("hardware")
        guard let hardware = HardwareClass(name: hardwareName) else {
            throw ProfileError(.storage, "\(g.path)@hardware \"\(hardwareName)\" is not cpu, gpu or inferentia", at: path)
        }
        let kindName = try g.stringAttribute("kind")
        guard let kind = ProfileKind(rawValue: kindName) else {
            throw ProfileError(.storage, "\(g.path)@kind \"\(kindName)\" is not measured, published or derived", at: path)
        }
        let model = LinearLatencyModel(slopeMs: try g.doubleAttribute("slope_ms") ?? .nan,
                                       interceptMs: try g.doubleAttribute("intercept_ms") ?? .nan)
        let cpus = g.hasAttribute("cpus") ? Int(try g.integerAttribute("cpus")) : 0
        return ModelVariant(
            name: name, architecture: try g.stringAttribute("architecture"),
            useCase: UseCase(task: InferenceTask(try g.stringAttribute("task")), dataset: Dataset(try g.stringAttribute("dataset")),
                             inputDimension: Int(try g.integerAttribute("input_dim"))),
            framework: Framework(try g.stringAttribute("framework")), hardware: hardware,
            hardwareDescription: g.hasAttribute("hardware_desc") ? try g.stringAttribute("hardware_desc") : "",
            maxBatch: Int(try g.integerAttribute("max_batch")), accuracy: try g.doubleAttribute("accuracy"),
            loadLatencyMs: try g.doubleAttribute("load_ms"), memoryMB: try g.doubleAttribute("memory_mb"),
            sizeMB: g.hasAttribute("size_mb") ? try g.doubleAttribute("size_mb") : nil,
            cpus: cpus > 0 ? cpus : nil, latency: LatencyProfile(points: points, model: model, samplesMs: samples),
            kind: kind, source: try g.stringAttribute("source"))
    }
}
