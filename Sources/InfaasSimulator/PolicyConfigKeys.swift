import InfaasCore
import InfaasPolicies
import Yams

/// The `policy_config:` keys of an experiment file: snake_case names of ``PolicyConfig`` fields.
enum PolicyConfigKeys {
    typealias Setter = (inout PolicyConfig, Node, YAMLReader) throws(ExperimentError) -> Void

    static func number(_ path: WritableKeyPath<PolicyConfig, Double>, min: Double = 0) -> Setter {
        { config, node, reader throws(ExperimentError) in config[keyPath: path] = try reader.double(node, "value", min: min) }
    }
    static func integer(_ path: WritableKeyPath<PolicyConfig, Int>, min: Int = 1) -> Setter {
        { config, node, reader throws(ExperimentError) in config[keyPath: path] = try reader.int(node, "value", min: min) }
    }
    static func flag(_ path: WritableKeyPath<PolicyConfig, Bool>) -> Setter {
        { config, node, reader throws(ExperimentError) in config[keyPath: path] = try reader.bool(node, "value") }
    }

    /// Sets `key` from `node`; errors call it `name` (the setters say "value").
    static func set(_ key: String, to node: Node, in config: inout PolicyConfig, reader: YAMLReader, naming name: String,
                    at location: String) throws(ExperimentError) {
        let setters = self.setters
        guard let setter = setters[key] else {
            throw ExperimentError("unknown policy_config key \"\(key)\"", at: location, hint: NameSuggestion.hint(for: key, known: Array(setters.keys)))
        }
        do { try setter(&config, node, reader) } catch {
            var named = error
            if named.message.hasPrefix("value ") { named.message = name + named.message.dropFirst(5) }
            throw named
        }
    }

    static var setters: [String: Setter] { [
        "decision_mode": { config, node, reader throws(ExperimentError) in
            let value = try reader.int(node, "decision_mode", min: 0)
            guard let mode = DecisionMode(rawValue: value) else { throw reader.error("decision_mode must be 0–7", node) }
            config.decisionMode = mode
        },
        "model_autoscaler": { config, node, reader throws(ExperimentError) in
            let value = try reader.string(node, "model_autoscaler")
            guard let kind = ModelAutoscalerKind(rawValue: value) else {
                throw reader.error("model_autoscaler must be none, static, individual or infaas", node)
            }
            config.modelAutoscaler = kind
        },
        "prefer_cheapest": flag(\.preferCheapest),
        "vm_autoscaling": flag(\.vmAutoscaling),
        "scale_in_cpu_workers": flag(\.scaleInCPUWorkers),
        "utilization_threshold": number(\.utilizationThreshold, min: 0.001),
        "inferentia_utilization_threshold": number(\.inferentiaUtilizationThreshold, min: 0.001),
        "blacklist_utilization": number(\.blacklistUtilization, min: 0.001),
        "backoff_iterations": integer(\.backoffIterations),
        "scale_in_iterations": integer(\.scaleInIterations),
        "max_replicas_cpu": integer(\.maxReplicasCPU),
        "max_replicas_gpu": integer(\.maxReplicasGPU),
        "max_replicas_inferentia": integer(\.maxReplicasInferentia),
        "scale_down_delay_cpu": integer(\.scaleDownDelayCPU, min: 0),
        "scale_down_delay_gpu": integer(\.scaleDownDelayGPU, min: 0),
        "scale_down_delay_inferentia": integer(\.scaleDownDelayInferentia, min: 0),
        "worker_guard_queries": integer(\.workerGuardQueries),
        "popular_variant_queries": integer(\.popularVariantQueries),
        "monitor_interval_ms": number(\.monitorIntervalMs, min: 1),
        "resource_monitor_interval_ms": number(\.resourceMonitorIntervalMs, min: 1),
        "arbiter_interval_ms": number(\.arbiterIntervalMs, min: 1),
        "vm_interval_ms": number(\.vmIntervalMs, min: 1),
        "cold_penalty_ms": number(\.coldPenaltyMs),
        "loose_slo_ms": number(\.looseSLOMs),
        "blacklist_trickle_probability": number(\.blacklistTrickleProbability),
        "worker_blacklist_ms": number(\.workerBlacklistMs),
        "latency_factor": number(\.latencyFactor, min: 0.001),
        "queue_factor": number(\.queueFactor, min: 0.001),
    ] }

    static func apply(_ mapping: Node.Mapping, to config: inout PolicyConfig, reader: YAMLReader) throws(ExperimentError) {
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard let setter = setters[name] else {
                throw reader.error("unknown policy_config key \"\(name)\"", key, hint: NameSuggestion.hint(for: name, known: Array(setters.keys)))
            }
            try setter(&config, value, reader)
        }
    }
}
