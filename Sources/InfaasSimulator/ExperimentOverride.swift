import Foundation
import InfaasCore
import InfaasPolicies
import Yams

/// One `key=value` change to an experiment: a point of a `sweep:` section or a `--set` flag.
///
/// Keys:
/// - `policy`, `duration_s`, `seed`, `oracle`, `oracle_interval_s`
/// - `policy_config.<key>`: any key of the `policy_config:` section
/// - `rate_scale`: a multiplier on every application's arrival rate (on top of its own `rate_scale`)
/// - `workers.<class>`, `max_workers.<class>`: `cpu`, `gpu` or `inf`
/// - `slo_ms`, `min_accuracy`, `batch`: every application's objectives
/// - `applications.<name>.<slo_ms|min_accuracy|batch|rate_scale>`: one application's
public struct ExperimentOverride: Sendable, Equatable, Codable {
    public var key: String
    /// The value as written (a YAML scalar).
    public var value: String
    /// Where the value was written (`file:line`, or `--set key=value`), for errors.
    public var location: String

    public init(key: String, value: String, location: String) {
        self.key = key
        self.value = value
        self.location = location
    }

    /// Parses a `--set key=value` flag.
    public init(flag text: String) throws(ExperimentError) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ExperimentError("expected --set KEY=VALUE, got \"\(text)\"", at: "--set \(text)",
                                  hint: "e.g. --set policy=static or --set policy_config.utilization_threshold=70 (a percentage)")
        }
        self.init(key: String(text[..<equals]), value: String(text[text.index(after: equals)...]), location: "--set \(text)")
    }

    /// The keys a sweep or `--set` may name (besides `policy_config.*`, `workers.*`, `max_workers.*` and
    /// `applications.<name>.*`).
    public static let plainKeys = ["policy", "duration_s", "seed", "rate_scale", "slo_ms", "min_accuracy", "batch", "oracle", "oracle_interval_s"]
    static var knownKeys: [String] {
        plainKeys + PolicyConfig.keys.map { "policy_config.\($0.name)" }
            + HardwareClass.allCases.flatMap { ["workers.\($0.shortName)", "max_workers.\($0.shortName)"] }
    }
}

/// A key of a `sweep:` section with the values it takes, in file order.
public struct SweepAxis: Sendable, Equatable {
    public var key: String
    public var values: [ExperimentOverride]

    public init(key: String, values: [ExperimentOverride]) {
        self.key = key
        self.values = values
    }
}

extension ExperimentSpec {
    /// Applies overrides in order, then checks the cluster limits again.
    public mutating func apply(_ overrides: [ExperimentOverride]) throws(ExperimentError) {
        for override in overrides { try apply(override) }
        do { try ClusterLimits(initial: initialWorkers, maximum: maxWorkers).validate() } catch {
            throw ExperimentError(error.description, at: overrides.map(\.location).joined(separator: ", "))
        }
    }

    /// Applies one override; errors name its location and key.
    public mutating func apply(_ override: ExperimentOverride) throws(ExperimentError) {
        let reader = YAMLReader(path: path, location: override.location)
        let node = Node.scalar(Node.Scalar(override.value))
        let key = override.key
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func unknown() -> ExperimentError {
            ExperimentError("unknown sweep key \"\(key)\"", at: override.location,
                            hint: NameSuggestion.hint(for: key, known: ExperimentOverride.knownKeys) + "; or applications.<name>.slo_ms")
        }
        switch parts.count {
        case 1:
            switch key {
            case "policy":
                let name = try reader.string(node, key)
                guard PolicyRegistry.names.contains(name) else {
                    throw reader.error("unknown policy \"\(name)\"", node, hint: PolicyRegistry.unknownHint(name))
                }
                policy = name
            case "duration_s":
                durationSeconds = try reader.double(node, key, in: InputLimits.durationSeconds)
                options.durationSeconds = durationSeconds
            case "seed":
                seed = UInt64(try reader.int(node, key, min: 0))
                options.seed = seed
            case "oracle": oracle = try reader.bool(node, key)
            case "oracle_interval_s": oracleIntervalSeconds = try reader.double(node, key, min: 1, max: 86_400)
            case "rate_scale":
                let factor = try reader.double(node, key, in: InputLimits.rateScale)
                for i in applications.indices { applications[i].rateScale *= factor }
            case "slo_ms", "min_accuracy", "batch":
                for i in applications.indices { try Self.apply(key, node, to: &applications[i], reader: reader) }
            default: throw unknown()
            }
        case 2:
            switch parts[0] {
            case "policy_config":
                try PolicyConfigKeys.set(parts[1], to: node, in: &policyConfig, reader: reader, naming: key, at: override.location)
            case "workers", "max_workers":
                guard let hardware = HardwareClass(name: parts[1]) else {
                    throw ExperimentError("unknown hardware class \"\(parts[1])\" in \(key)", at: override.location, hint: "use cpu, gpu or inf")
                }
                let count = try reader.int(node, key, min: 0, max: InputLimits.maxWorkers)
                if parts[0] == "workers" { initialWorkers[hardware] = count } else { maxWorkers[hardware] = count }
            default: throw unknown()
            }
        case 3 where parts[0] == "applications":
            guard let i = applications.firstIndex(where: { $0.name == parts[1] }) else {
                throw ExperimentError("no application named \"\(parts[1])\" in \(key)", at: override.location,
                                      hint: NameSuggestion.hint(for: parts[1], known: applications.map(\.name)))
            }
            guard ["slo_ms", "min_accuracy", "batch", "rate_scale"].contains(parts[2]) else {
                throw ExperimentError("unknown application key \"\(parts[2])\" in \(key)", at: override.location,
                                      hint: "use slo_ms, min_accuracy, batch or rate_scale")
            }
            try Self.apply(parts[2], node, to: &applications[i], reader: reader)
        default: throw unknown()
        }
    }

    private static func apply(_ field: String, _ node: Node, to app: inout ApplicationSpec, reader: YAMLReader) throws(ExperimentError) {
        switch field {
        case "slo_ms": app.sloMs = try reader.double(node, field, min: 0.001, max: InputLimits.sloMs.upperBound)
        case "min_accuracy":
            let accuracy = try reader.double(node, field, min: 0)
            guard accuracy <= 100 else { throw reader.error("min_accuracy must be a percentage in 0–100, got \(accuracy)", node) }
            app.minAccuracy = accuracy
        case "batch": app.batch = try reader.int(node, field, min: 1, max: InputLimits.maxBatch)
        default: app.rateScale *= try reader.double(node, field, in: InputLimits.rateScale)
        }
    }

    /// Reads a `sweep:` mapping (`key: [values]`) and checks every value on a copy of the experiment.
    func sweepAxes(_ node: Node, reader: YAMLReader) throws(ExperimentError) -> [SweepAxis] {
        var axes: [SweepAxis] = []
        for (keyNode, valueNode) in try reader.mapping(node, "sweep") {
            let key = keyNode.string ?? ""
            if key == "seed" {
                throw reader.error("seed is not swept in the file", keyNode, hint: "give the number of seeds with `infaas sweep --seeds N`")
            }
            guard case .sequence(let items) = valueNode, !items.isEmpty else {
                throw reader.error("sweep.\(key) must be a non-empty list of values, e.g. [a, b]", valueNode)
            }
            guard !axes.contains(where: { $0.key == key }) else { throw reader.error("sweep.\(key) is given twice", keyNode) }
            var values: [ExperimentOverride] = []
            for item in items {
                guard case .scalar = item, let text = item.string else { throw reader.error("sweep.\(key): each value must be a scalar", item) }
                let location = item.mark.map { "\(path):\($0.line)" } ?? path
                let override = ExperimentOverride(key: key, value: text, location: location)
                var copy = self
                try copy.apply(override)
                values.append(override)
            }
            axes.append(SweepAxis(key: key, values: values))
        }
        return axes
    }
}
