import Foundation
import InfaasPolicies

/// `point.json`: what a sweep point ran (written beside its `summary.json` and `results.h5`).
public struct SweepPointRecord: Codable, Sendable, Equatable {
    public struct Setting: Codable, Sendable, Equatable {
        public var key: String
        public var value: String
    }
    public var experiment: String
    public var experimentFile: String
    public var id: String
    public var index: Int
    public var seed: UInt64
    public var overrides: [Setting]
    /// The `infaas` arguments that reproduce the point.
    public var command: [String]

    public init(experiment: String, experimentFile: String, point: SweepPoint, command: [String]) {
        self.experiment = experiment
        self.experimentFile = experimentFile
        id = point.id
        index = point.index
        seed = point.seed
        overrides = point.overrides.map { Setting(key: $0.key, value: $0.value) }
        self.command = command
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    public static func read(_ path: String) -> SweepPointRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try? decoder.decode(SweepPointRecord.self, from: data)
    }
}

/// The folder of a sweep: `DIR/<id>/` per finished point, `DIR/<id>.partial/` while one runs,
/// and `DIR/index.csv`.
public struct SweepResults: Sendable {
    public var directory: String

    public init(directory: String) { self.directory = directory }

    public func folder(_ point: SweepPoint) -> String { (directory as NSString).appendingPathComponent(point.id) }
    public func partialFolder(_ point: SweepPoint) -> String { folder(point) + ".partial" }

    /// A point is finished when its folder holds `summary.json` (the folder appears only by renaming
    /// a finished `.partial` one).
    public func isFinished(_ point: SweepPoint) -> Bool {
        FileManager.default.fileExists(atPath: (folder(point) as NSString).appendingPathComponent("summary.json"))
    }

    /// The metric columns of `index.csv`, with where each sits in `summary.json`.
    public static let metricColumns: [(column: String, path: [String])] = [
        ("queries", ["queries"]), ("served", ["served"]), ("slo_violation_pct", ["slo_violation_percent"]),
        ("throughput_qps", ["throughput_qps"]), ("p50_ms", ["latency_ms", "p50"]), ("p99_ms", ["latency_ms", "p99"]),
        ("total_cost_usd", ["total_cost_usd"]), ("mean_accuracy", ["mean_accuracy"]),
    ] + QueryOutcome.allCases.map { outcome in
        let key = outcome.rawValue.replacingOccurrences(of: "-", with: "_")
        return ("outcome_" + key, ["outcomes", key])
    } + [("cold_starts", ["cold_starts", "count"]), ("cold_start_wait_ms_mean", ["cold_starts", "wait_ms_mean"])] + [
        ("oracle_cost_usd", ["oracle", "cost_usd"]), ("oracle_slo_violation_pct", ["oracle", "slo_violation_percent"]),
        ("cost_over_oracle", ["oracle", "cost_ratio"]), ("violation_points_over_oracle", ["oracle", "violation_gap_points"]),
    ]

    /// The per-application metric columns of `index.csv` (after ``metricColumns``), each named
    /// `<application>.<metric>`, with where it sits in a `summary.json` `applications` entry.
    public static let applicationColumns: [(column: String, key: String)] = [
        ("queries", "queries"), ("slo_violation_pct", "slo_violation_percent"), ("mean_latency_ms", "mean_latency_ms"),
        ("mean_accuracy", "mean_accuracy"),
    ]

    /// Rebuilds `index.csv` from every finished point in the folder (so shards run apart combine):
    /// `id`, one column per swept key, `seed`, then ``metricColumns``, then ``applicationColumns``
    /// for every application (in the order the points name them); rows by point index. Also writes
    /// `configurations.csv`: per configuration, the number of seeds and each metric's mean and 95 %
    /// confidence half-width over them (Student t). With `ids`, only those points (a folder reused
    /// after the grid changed keeps the old points' folders). Returns the number of index rows.
    @discardableResult
    public func writeIndex(keys: [String], only ids: Set<String>? = nil) throws -> Int {
        let manager = FileManager.default
        var found: [(record: SweepPointRecord, summary: [String: Any])] = []
        var applicationNames: [String] = []
        for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasSuffix(".partial") {
            let folder = (directory as NSString).appendingPathComponent(name)
            guard let record = SweepPointRecord.read((folder as NSString).appendingPathComponent("point.json")),
                  let data = manager.contents(atPath: (folder as NSString).appendingPathComponent("summary.json")),
                  let summary = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  ids?.contains(record.id) ?? true
            else { continue }
            found.append((record, summary))
            for app in summary["applications"] as? [[String: Any]] ?? [] {
                if let name = app["name"] as? String, !applicationNames.contains(name) { applicationNames.append(name) }
            }
        }
        func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue ?? (value as? Double) ?? (value as? Int).map(Double.init) }
        var rows: [(index: Int, id: String, cells: [String], values: [Double?])] = []
        for (record, summary) in found {
            var cells = [record.id]
            for key in keys { cells.append(record.overrides.last { $0.key == key }?.value ?? "") }
            cells.append(String(record.seed))
            var values: [Double?] = []
            for (_, path) in Self.metricColumns {
                var value: Any? = summary
                for step in path { value = (value as? [String: Any])?[step] }
                cells.append(Self.format(value))
                values.append(number(value))
            }
            let apps = summary["applications"] as? [[String: Any]] ?? []
            for name in applicationNames {
                let app = apps.first { $0["name"] as? String == name }
                for (_, key) in Self.applicationColumns {
                    cells.append(Self.format(app?[key]))
                    values.append(number(app?[key]))
                }
            }
            rows.append((record.index, record.id, cells, values))
        }
        rows.sort { ($0.index, $0.id) < ($1.index, $1.id) }
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let columns = Self.metricColumns.map(\.column)
            + applicationNames.flatMap { name in Self.applicationColumns.map { "\(name).\($0.column)" } }
        let header = ["id"] + keys + ["seed"] + columns
        try Self.writeCSV([header] + rows.map(\.cells), to: (directory as NSString).appendingPathComponent("index.csv"))

        // configurations.csv: the seeds of each configuration pooled, mean and 95 % confidence half-width.
        var groups: [(key: [String], values: [[Double?]])] = []
        for row in rows {
            let key = Array(row.cells[1..<(1 + keys.count)])
            if let g = groups.firstIndex(where: { $0.key == key }) { groups[g].values.append(row.values) } else { groups.append((key, [row.values])) }
        }
        let pooledHeader = keys + ["seeds"] + columns.flatMap { [$0 + "_mean", $0 + "_ci95"] }
        let pooled = groups.map { group in
            group.key + [String(group.values.count)] + columns.indices.flatMap { m -> [String] in
                let sample = group.values.compactMap { $0[m] }
                guard let (mean, half) = Self.meanAndHalfWidth(sample) else { return ["", ""] }
                return [Self.format(Self.round(mean)), half.map { Self.format(Self.round($0)) } ?? ""]
            }
        }
        try Self.writeCSV([pooledHeader] + pooled, to: (directory as NSString).appendingPathComponent("configurations.csv"))
        return rows.count
    }

    static func writeCSV(_ rows: [[String]], to path: String) throws {
        let text = rows.map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func round(_ x: Double) -> Double { (x * 1e6).rounded() / 1e6 }

    /// Two-sided 95 % Student-t quantiles for 1…30 degrees of freedom.
    static let t95: [Double] = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]

    /// The mean and the half-width of its 95 % confidence interval (nil with one value).
    static func meanAndHalfWidth(_ sample: [Double]) -> (Double, Double?)? {
        guard !sample.isEmpty else { return nil }
        let n = Double(sample.count)
        let mean = sample.reduce(0, +) / n
        guard sample.count > 1 else { return (mean, nil) }
        let variance = sample.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let t = sample.count - 1 <= t95.count ? t95[sample.count - 2] : 1.960
        return (mean, t * (variance / n).squareRoot())
    }

    static func format(_ value: Any?) -> String {
        switch value {
        case let i as Int: return String(i)
        case let d as Double: return d.isFinite && d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case let n as NSNumber: return n.stringValue
        case let s as String: return s
        default: return ""
        }
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
