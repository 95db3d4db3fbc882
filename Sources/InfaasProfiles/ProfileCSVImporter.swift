public import InfaasCore
import Foundation

/// Options for reading a profile table.
public struct ImportOptions: Sendable {
    /// Task for rows without a `task` column (the bundled table is all image classification).
    public var defaultTask: InferenceTask
    /// Dataset for rows without a `dataset` column.
    public var defaultDataset: Dataset
    /// Input side for rows without an `input_shape`.
    public var defaultInputDimension: Int
    /// Per-architecture use-case overrides (`ppocr_mobilenetv3_cls` → classification/text-direction).
    public var useCaseOverrides: [String: (task: InferenceTask, dataset: Dataset)]

    public init(
        defaultTask: InferenceTask = .classification, defaultDataset: Dataset = Dataset("imagenet"),
        defaultInputDimension: Int = 224, useCaseOverrides: [String: (task: InferenceTask, dataset: Dataset)] = [:]
    ) {
        self.defaultTask = defaultTask
        self.defaultDataset = defaultDataset
        self.defaultInputDimension = defaultInputDimension
        self.useCaseOverrides = useCaseOverrides
    }
}

/// What an import produced, and what it left out and why (nothing is dropped silently).
public struct ImportReport: Sendable {
    public var variants: [ModelVariant]
    /// Rows that describe no variant (no batch and no latency), with the reason.
    public var skipped: [(location: String, reason: String)]
    /// Input rows or lines read.
    public var rowsRead: Int
}

/// Reads the published/measured profile table (`profiles/model_variant_profiles.csv`,
/// columns documented in `profiles/README.md`).
///
/// Rules:
/// * one variant per (variant column, hardware class); its name is the variant column in
///   lower case with runs of other characters than `a-z 0-9 . _ -` turned into `-`; a variant
///   column that appears on more than one hardware class (the same published model on CPU and
///   GPU) becomes one variant per class, suffixed `_cpu`/`_gpu`/`_inf`;
/// * one point per batch size; a second row for the same variant and batch is an error;
/// * latencies are milliseconds ≥ 0; the fit uses p50, else mean, else p90;
/// * `accuracy_top1` is a fraction in 0–1 (stored as a percentage);
/// * max batch is the `max_batch` column when present, else the largest batch measured;
/// * rows with neither a batch nor any latency are accuracy/size metadata, reported as skipped.
public enum ProfileCSVImporter {
    static let required = [
        "architecture", "variant", "framework", "hardware", "batch", "p50_ms", "p99_ms", "mean_ms",
        "load_ms", "memory_mb", "accuracy_top1", "kind", "source",
    ]
    static let optional = ["p90_ms", "size_mb", "input_shape", "task", "dataset", "max_batch", "cpus", "notes"]

    struct Row {
        var line: Int
        var values: [String: String]
        func text(_ column: String) -> String { (values[column] ?? "").trimmingSpaces() }
    }

    /// Parses the table at `path` (already read into `text`).
    public static func parse(text: String, path: String, options: ImportOptions = ImportOptions()) throws(ProfileError) -> ImportReport {
        let table = try CSVTable(text: text, path: path)
        let columns = try table.columnIndices(required: required, optional: optional)
        var groups: [(name: String, rows: [Row])] = []
        var groupIndex: [String: Int] = [:]
        var seenBatch: [String: Int] = [:]  // "name#batch" → line
        var skipped: [(location: String, reason: String)] = []
        // A variant column seen on more than one hardware class gets a class suffix per class.
        var classesOfVariant: [String: Set<HardwareClass>] = [:]
        if let v = columns["variant"], let h = columns["hardware"] {
            for record in table.records where v < record.fields.count && h < record.fields.count {
                classesOfVariant[record.fields[v].trimmingSpaces(), default: []].insert(HardwareClass.fromDescription(record.fields[h]))
            }
        }
        for record in table.records {
            var values: [String: String] = [:]
            for (column, index) in columns where index < record.fields.count { values[column] = record.fields[index] }
            let row = Row(line: record.line, values: values)
            let location = "\(path):\(record.line)"
            let latencyColumns = ["p50_ms", "p99_ms", "mean_ms", "p90_ms"]
            if row.text("batch").isEmpty && latencyColumns.allSatisfy({ row.text($0).isEmpty }) {
                skipped.append((location, "no batch and no latency (accuracy/size metadata only)"))
                continue
            }
            let variantColumn = row.text("variant")
            guard !variantColumn.isEmpty else {
                throw ProfileError(.badValue, "empty \"variant\"", at: location)
            }
            let hardware = HardwareClass.fromDescription(row.text("hardware"))
            let ambiguous = (classesOfVariant[variantColumn]?.count ?? 1) > 1
            let name = slug(variantColumn) + (ambiguous ? "_" + hardware.shortName : "")
            let batch = try integer(row, "batch", at: location, minimum: 1)
            if let earlier = seenBatch.updateValue(row.line, forKey: "\(name)#\(batch)") {
                throw ProfileError(.duplicate, "duplicate row for variant \"\(variantColumn)\" (\(hardware)) at batch \(batch); first seen on line \(earlier)",
                                   at: location, hint: "keep one row per variant, hardware and batch")
            }
            if let index = groupIndex[name] { groups[index].rows.append(row) } else {
                groupIndex[name] = groups.count
                groups.append((name, [row]))
            }
        }
        var variants: [ModelVariant] = []
        for group in groups {
            variants.append(try makeVariant(name: group.name, rows: group.rows, path: path, options: options))
        }
        return ImportReport(variants: variants, skipped: skipped, rowsRead: table.records.count)
    }

    static func makeVariant(name: String, rows: [Row], path: String, options: ImportOptions) throws(ProfileError) -> ModelVariant {
        let first = rows[0]
        let location = "\(path):\(first.line)"
        var points: [LatencyPoint] = []
        for row in rows {
            let at = "\(path):\(row.line)"
            let point = LatencyPoint(
                batch: try integer(row, "batch", at: at, minimum: 1),
                p50Ms: try latency(row, "p50_ms", at: at), p99Ms: try latency(row, "p99_ms", at: at),
                meanMs: try latency(row, "mean_ms", at: at), p90Ms: try latency(row, "p90_ms", at: at))
            guard point.centralMs != nil else {
                throw ProfileError(.badValue, "no latency: p50_ms, mean_ms and p90_ms are all empty", at: at)
            }
            points.append(point)
            for column in ["architecture", "framework", "hardware"] where row.text(column) != first.text(column) {
                throw ProfileError(.badValue, "\(column) \"\(row.text(column))\" differs from \"\(first.text(column))\" on line \(first.line) for the same variant", at: at)
            }
        }
        let architecture = first.text("architecture")
        guard !architecture.isEmpty else { throw ProfileError(.badValue, "empty \"architecture\"", at: location) }
        let measuredMax = points.map(\.batch).max() ?? 1
        let maxBatch = first.text("max_batch").isEmpty ? measuredMax : try integer(first, "max_batch", at: location, minimum: 1)
        let declared = HardwareClass.fromDescription(first.text("hardware"))
        let framework = normalisedFramework(first.text("framework"), hardware: declared)
        let hardware = HardwareClass.decide(framework: framework, maxBatch: maxBatch, declared: first.text("hardware").isEmpty ? nil : declared)
        var accuracy: Double? = nil
        if let fraction = try number(first, "accuracy_top1", at: location) {
            guard (0...1).contains(fraction) else {
                throw ProfileError(.badValue, "accuracy_top1 \(first.text("accuracy_top1")) is outside 0–100 % (the column holds fractions: 0.761 = 76.1 %)", at: location)
            }
            accuracy = (fraction * 100 * 1e6).rounded() / 1e6
        }
        let kindText = first.text("kind")
        guard let kind = ProfileKind(rawValue: kindText) else {
            throw ProfileError(.badValue, "kind \"\(kindText)\" is not one of measured, published, derived", at: location)
        }
        let override = options.useCaseOverrides[architecture]
        let task = first.text("task").isEmpty ? (override?.task ?? options.defaultTask) : InferenceTask(first.text("task"))
        let dataset = first.text("dataset").isEmpty ? (override?.dataset ?? options.defaultDataset) : Dataset(first.text("dataset"))
        let inputDimension = try inputSide(first.text("input_shape"), at: location) ?? options.defaultInputDimension
        var cpus: Int? = first.text("cpus").isEmpty ? nil : try integer(first, "cpus", at: location, minimum: 1)
        if cpus == nil, hardware == .cpu { cpus = threads(in: first.text("framework")) }
        let model: LinearLatencyModel
        do { model = try LatencyFitter.fit(points: points, maxBatch: maxBatch) } catch {
            throw ProfileError(.fit, "variant \(name): \(error.message)", at: location)
        }
        let variant = ModelVariant(
            name: name, architecture: architecture,
            useCase: UseCase(task: task, dataset: dataset, inputDimension: inputDimension),
            framework: framework, hardware: hardware, hardwareDescription: first.text("hardware"),
            maxBatch: maxBatch, accuracy: accuracy, loadLatencyMs: try latency(first, "load_ms", at: location),
            memoryMB: try latency(first, "memory_mb", at: location), sizeMB: try latency(first, "size_mb", at: location),
            cpus: cpus, latency: LatencyProfile(points: points, model: model), kind: kind, source: first.text("source"))
        do { try variant.validate(location: location) } catch { throw ProfileError(error, at: location) }
        return variant
    }

    /// Lower-case, with runs of characters outside `a-z 0-9 . _ -` replaced by one `-`.
    public static func slug(_ text: String) -> String {
        var out = ""
        var pendingDash = false
        for scalar in text.lowercased().unicodeScalars {
            let ok = ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "." || scalar == "_" || scalar == "-"
            if ok {
                if pendingDash && !out.isEmpty { out.append("-") }
                pendingDash = false
                out.unicodeScalars.append(scalar)
            } else {
                pendingDash = true
            }
        }
        return out
    }

    /// Maps a free-text framework ("onnxruntime-1.32.0 (CPU EP, …)", "keras/tensorflow") to
    /// a framework name that says where it runs.
    public static func normalisedFramework(_ text: String, hardware: HardwareClass) -> Framework {
        let lower = text.lowercased()
        let onGPU = hardware == .gpu
        if lower.contains("onnxruntime") { return onGPU ? .onnxruntimeCUDA : .onnxruntimeCPU }
        if lower.contains("tensorrt") { return .tensorrt }
        if lower.contains("inferentia") || lower.contains("neuron") { return .inferentia }
        if lower.contains("keras") || lower.contains("tensorflow") { return onGPU ? .tensorflowGPU : .tensorflowCPU }
        if lower.contains("torch") { return .pytorch }
        let word = lower.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "/" }).first.map(String.init) ?? "unknown"
        return Framework(word.isEmpty ? "unknown" : word)
    }

    /// `intra_op_threads=N` in a framework description.
    static func threads(in text: String) -> Int? {
        guard let range = text.range(of: "intra_op_threads=") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    /// The square side of an input shape like `1x3x224x224` or `1x224x224x3`: the larger of
    /// the two spatial dimensions (`1x3x48x192` → 192).
    static func inputSide(_ shape: String, at location: String) throws(ProfileError) -> Int? {
        guard !shape.isEmpty else { return nil }
        let dims = shape.split(separator: "x").map { Int($0) }
        guard dims.count == 4, dims.allSatisfy({ $0 != nil && $0! > 0 }) else {
            throw ProfileError(.badValue, "input_shape \"\(shape)\" is not NxCxHxW or NxHxWxC", at: location)
        }
        let d = dims.map { $0! }
        let spatial = d[1] <= 4 ? [d[2], d[3]] : [d[1], d[2]]
        return spatial.max()
    }

    static func number(_ row: Row, _ column: String, at location: String) throws(ProfileError) -> Double? {
        let text = row.text(column)
        if text.isEmpty { return nil }
        guard let value = Double(text), value.isFinite else {
            throw ProfileError(.badValue, "\(column) \"\(ValidationError.excerpt(text))\" is not a number", at: location)
        }
        return value
    }

    static func latency(_ row: Row, _ column: String, at location: String) throws(ProfileError) -> Double? {
        guard let value = try number(row, column, at: location) else { return nil }
        guard value >= 0 else { throw ProfileError(.badValue, "\(column) \(ValidationError.excerpt(row.text(column))) is negative", at: location) }
        guard value <= InputLimits.maxLatencyMs else {
            throw ProfileError(.badValue, "\(column) \(ValidationError.excerpt(row.text(column))) is above \(CheckedNumber.format(InputLimits.maxLatencyMs)), the largest accepted", at: location)
        }
        return value
    }

    static func integer(_ row: Row, _ column: String, at location: String, minimum: Int,
                        maximum: Int = InputLimits.maxBatch) throws(ProfileError) -> Int {
        let text = row.text(column)
        guard let value = Int(text), value >= minimum, value <= maximum else {
            throw ProfileError(.badValue, "\(column) \"\(ValidationError.excerpt(text))\" is not an integer ≥ \(minimum) and ≤ \(maximum)", at: location)
        }
        return value
    }
}
