import InfaasCore
import InfaasPolicies
import Yams

/// The `policy_config:` section of an experiment file: each key goes through the one table
/// beside `PolicyConfig` (``PolicyConfig/keys``); this only turns YAML nodes into its text and
/// its errors into errors with the file and line.
enum PolicyConfigKeys {
    /// Sets `key` from `node`; errors are located at `location`.
    static func set(_ key: String, to node: Node, in config: inout PolicyConfig, reader: YAMLReader, naming name: String,
                    at location: String) throws(ExperimentError) {
        guard let entry = PolicyConfig.key(named: key) else {
            throw ExperimentError("unknown policy_config key \"\(key)\"", at: location,
                                  hint: NameSuggestion.hint(for: key, known: PolicyConfig.keys.map(\.name)))
        }
        let value = try text(of: node, reader: reader, key: name)
        do { try entry.set(value, in: &config) } catch {
            throw ExperimentError("\(name) \(error.reason), got \(error.value)", at: location)
        }
    }

    /// A scalar's text, or a sequence of scalars joined by commas (`accuracy_bin_edges`).
    static func text(of node: Node, reader: YAMLReader, key: String) throws(ExperimentError) -> String {
        switch node {
        case .scalar(let scalar): return scalar.string
        case .sequence(let items):
            var parts: [String] = []
            for item in items {
                guard case .scalar(let scalar) = item else { throw reader.error("\(key) must be a list of numbers", node) }
                parts.append(scalar.string)
            }
            return parts.joined(separator: ",")
        default: throw reader.error("\(key) must be a value", node)
        }
    }

    static func apply(_ mapping: Node.Mapping, to config: inout PolicyConfig, reader: YAMLReader) throws(ExperimentError) {
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard let entry = PolicyConfig.key(named: name) else {
                throw reader.error("unknown policy_config key \"\(name)\"", key,
                                   hint: NameSuggestion.hint(for: name, known: PolicyConfig.keys.map(\.name)))
            }
            let written = try text(of: value, reader: reader, key: name)
            do { try entry.set(written, in: &config) } catch {
                throw reader.error("\(name) \(error.reason), got \(error.value)", value)
            }
        }
    }
}
