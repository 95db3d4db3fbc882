public import InfaasCore
import Foundation

/// The original profiler's `.config` file (reference §2.2): one `key value` pair per line.
///
/// Every key of the template is accepted; the 14 the registrar reads are required. Lines over
/// 254 characters are an error (the original silently truncated them), as is an unknown key.
public enum ConfigFile {
    /// All keys of `model_profile.config.template`, in template order.
    public static let allKeys = [
        "parname", "varname", "filename", "dataset", "task", "framework", "inputdim", "maxbatch", "loadlat",
        "inflatb1", "inflatb4", "inflatb8", "inflatb16", "inflatb32", "inflatb64", "accuracy", "compsize", "peakmemory",
    ]
    /// The keys the original registrar reads; each must be present.
    public static let requiredKeys = [
        "parname", "varname", "dataset", "task", "framework", "inputdim", "maxbatch", "loadlat",
        "inflatb1", "inflatb4", "inflatb8", "accuracy", "compsize", "peakmemory",
    ]
    static let batchKeys: [(key: String, batch: Int)] = [
        ("inflatb1", 1), ("inflatb4", 4), ("inflatb8", 8), ("inflatb16", 16), ("inflatb32", 32), ("inflatb64", 64),
    ]
    /// The original's line limit.
    public static let maxLineLength = 254
    static let bytesPerMB = 1_048_576.0

    /// Parses a `.config` file's text into a variant (kind `measured`, source = the path).
    public static func parse(text: String, path: String) throws(ProfileError) -> ModelVariant {
        var values: [String: (value: String, line: Int)] = [:]
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            let at = "\(path):\(lineNumber)"
            if line.count > maxLineLength {
                throw ProfileError(.lineTooLong, "line is \(line.count) characters; the limit is \(maxLineLength)", at: at,
                                   hint: "the original registrar truncated such lines; shorten the value")
            }
            let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
            let parts: [String] = line.split(whereSeparator: isBlank).map { String($0) }
            if parts.isEmpty { continue }
            let key = parts[0]
            guard allKeys.contains(key) else {
                let close = NameSuggestion.closest(to: key, among: allKeys, limit: 1)
                throw ProfileError(.unknownKey, "unknown key \"\(key)\"", at: at,
                                   hint: close.isEmpty ? "known keys: \(allKeys.joined(separator: ", "))" : "did you mean \"\(close[0])\"?")
            }
            guard parts.count == 2 else {
                throw ProfileError(.badValue, "key \"\(key)\" needs exactly one value, found \(parts.count - 1)", at: at)
            }
            if let earlier = values[key] {
                throw ProfileError(.duplicate, "key \"\(key)\" appears again (first on line \(earlier.line))", at: at)
            }
            values[key] = (parts[1], lineNumber)
        }
        let missing = requiredKeys.filter { values[$0] == nil }
        if !missing.isEmpty {
            throw ProfileError(.missingKey, "missing key\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", "))", at: path)
        }
        func string(_ key: String) -> String { values[key]!.value }
        func number(_ key: String) throws(ProfileError) -> Double {
            let (raw, line) = values[key]!
            guard let value = Double(raw), value.isFinite, value >= 0 else {
                throw ProfileError(.badValue, "\(key) \"\(ValidationError.excerpt(raw))\" is not a number ≥ 0", at: "\(path):\(line)")
            }
            return value
        }
        func integer(_ key: String, minimum: Int) throws(ProfileError) -> Int {
            let (raw, line) = values[key]!
            guard let value = Int(raw), value >= minimum, value <= InputLimits.maxBatch else {
                throw ProfileError(.badValue, "\(key) \"\(ValidationError.excerpt(raw))\" is not an integer in \(minimum)…\(InputLimits.maxBatch)", at: "\(path):\(line)")
            }
            return value
        }
        let maxBatch = try integer("maxbatch", minimum: 1)
        var points: [LatencyPoint] = []
        for (key, batch) in batchKeys where values[key] != nil {
            let ms = try number(key)
            if ms > 0, batch <= maxBatch { points.append(LatencyPoint(batch: batch, meanMs: ms)) }  // 0 = not profiled
        }
        guard !points.isEmpty else {
            throw ProfileError(.badValue, "no batch size was profiled (every inflatbN is 0)", at: path)
        }
        let accuracy = try number("accuracy")
        if string("task") == "classification", accuracy > 100 {
            throw ProfileError(.badValue, "accuracy \(accuracy) is outside 0–100 %", at: "\(path):\(values["accuracy"]!.line)")
        }
        let framework = Framework(string("framework"))
        let model: LinearLatencyModel
        do { model = try LatencyFitter.fit(points: points, maxBatch: maxBatch) } catch {
            throw ProfileError(.fit, error.message, at: path)
        }
        let variantName = string("varname")
        do {
            try SafeName.check(variantName, field: "varname", location: "\(path):\(values["varname"]!.line)")
            try SafeName.check(string("parname"), field: "parname", location: "\(path):\(values["parname"]!.line)")
        } catch { throw ProfileError(error, at: path) }
        let variant = ModelVariant(
            name: variantName, architecture: string("parname"),
            useCase: UseCase(task: InferenceTask(string("task")), dataset: Dataset(string("dataset")),
                             inputDimension: try integer("inputdim", minimum: 1)),
            framework: framework, hardware: HardwareClass.decide(framework: framework, maxBatch: maxBatch),
            maxBatch: maxBatch, accuracy: accuracy, loadLatencyMs: try number("loadlat"),
            memoryMB: try number("peakmemory") / bytesPerMB, sizeMB: try number("compsize") / bytesPerMB,
            cpus: framework.rawValue.hasSuffix("-cpu") || framework == .pytorch ? cpuSuffix(variantName) : nil,
            latency: LatencyProfile(points: points, model: model), kind: .measured, source: "config file \(path)")
        do { try variant.validate(location: path) } catch { throw ProfileError(error, at: path) }
        return variant
    }

    /// A CPU variant's cores (intra-op threads) from its name, which is all a `.config` says of
    /// them: the integer after the last `_` (the reference's `--cpus`, `…_onnxruntime-cpu_4`),
    /// else the last `_tN` segment (ours: `infaas profile` and models/build_models.py name
    /// variants `…_t2_b8`). Without the second rule a `.config`-registered `_t2_b8` variant ran
    /// with 1 intra-op thread live, though profiled with 2, and the model autoscaler packed two
    /// of its "1-core" replicas (4 threads) on a 2-core worker.
    public static func cpuSuffix(_ name: String) -> Int? {
        guard let underscore = name.lastIndex(of: "_") else { return nil }
        if let cores = Int(name[name.index(after: underscore)...]) { return cores }
        for segment in name.split(separator: "_").dropFirst().reversed() where segment.count > 1 && segment.first == "t" {
            if let threads = Int(segment.dropFirst()), threads >= 1 { return threads }
        }
        return nil
    }

    /// Writes a variant as a `.config` the original registrar can read. Batch sizes the
    /// variant was not profiled at are written as `0`, as the original profiler does; the
    /// value at each profiled batch is its central latency (median, else mean).
    public static func render(_ variant: ModelVariant, filename: String? = nil) -> String {
        func format(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
        var lines: [(String, String)] = [
            ("parname", variant.architecture), ("varname", variant.name),
            ("filename", filename ?? variant.name),
            ("dataset", variant.useCase.dataset.rawValue), ("task", variant.useCase.task.rawValue),
            ("framework", variant.framework.rawValue), ("inputdim", String(variant.useCase.inputDimension)),
            ("maxbatch", String(variant.maxBatch)), ("loadlat", format(variant.loadLatencyMs ?? 0)),
        ]
        for (key, batch) in batchKeys {
            lines.append((key, format(variant.latency.point(batch: batch)?.centralMs ?? 0)))
        }
        lines.append(("accuracy", format(variant.accuracy ?? 0)))
        lines.append(("compsize", format(((variant.sizeMB ?? 0) * bytesPerMB).rounded())))
        lines.append(("peakmemory", format(((variant.memoryMB ?? 0) * bytesPerMB).rounded())))
        return lines.map { "\($0.0) \($0.1)" }.joined(separator: "\n") + "\n"
    }
}
