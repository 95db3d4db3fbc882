import Foundation

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
    ]

    /// Rebuilds `index.csv` from every finished point in the folder (so shards run apart combine):
    /// `id`, one column per swept key, `seed`, then ``metricColumns``; rows by point index.
    /// Returns the number of rows.
    @discardableResult
    public func writeIndex(keys: [String]) throws -> Int {
        let manager = FileManager.default
        var rows: [(index: Int, id: String, cells: [String])] = []
        for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasSuffix(".partial") {
            let folder = (directory as NSString).appendingPathComponent(name)
            guard let record = SweepPointRecord.read((folder as NSString).appendingPathComponent("point.json")),
                  let data = manager.contents(atPath: (folder as NSString).appendingPathComponent("summary.json")),
                  let summary = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            else { continue }
            var cells = [record.id]
            for key in keys { cells.append(record.overrides.last { $0.key == key }?.value ?? "") }
            cells.append(String(record.seed))
            for (_, path) in Self.metricColumns {
                var value: Any? = summary
                for step in path { value = (value as? [String: Any])?[step] }
                cells.append(Self.format(value))
            }
            rows.append((record.index, record.id, cells))
        }
        rows.sort { ($0.index, $0.id) < ($1.index, $1.id) }
        let header = ["id"] + keys + ["seed"] + Self.metricColumns.map(\.column)
        let text = ([header] + rows.map(\.cells)).map { $0.map(Self.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: (directory as NSString).appendingPathComponent("index.csv"), atomically: true, encoding: .utf8)
        return rows.count
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
