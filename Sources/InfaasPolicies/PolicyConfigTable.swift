public import InfaasCore

/// One `PolicyConfig` field as users write it: its key (`utilization_threshold`), the values it
/// takes, and a doc line. The table (``PolicyConfig/keys``) is the only list of keys: experiment
/// YAML (`policy_config:`), `infaas simulate --set policy_config.KEY=V`, sweeps, the live
/// master's `--policy-set` and the configuration the master ships to its workers all use it.
public struct PolicyConfigKey {
    /// What values a key takes.
    public enum Kind: Sendable, Equatable {
        case number(ClosedRange<Double>)
        case integer(ClosedRange<Int>)
        case flag
        case choice([String])
        /// Comma-separated increasing numbers within the range.
        case numbers(ClosedRange<Double>)
        /// Comma-separated integers within the range (one per application, say); may be empty.
        case integers(ClosedRange<Int>)
        /// Comma-separated `NAME=COUNT` pairs, counts within the range; may be empty.
        case assignments(ClosedRange<Int>)
    }

    public let name: String
    public let kind: Kind
    public let doc: String
    let get: (PolicyConfig) -> String
    let set: (inout PolicyConfig, String) throws(ValidationError) -> Void

    /// The value in `config`, as it would be written.
    public func value(in config: PolicyConfig) -> String { get(config) }

    /// Sets the key from its written form; the error names the key, the value and what it takes.
    public func set(_ text: String, in config: inout PolicyConfig) throws(ValidationError) { try set(&config, text) }

    /// What the key takes, for help and errors (`a number in 0…100`).
    public var takes: String {
        switch kind {
        case .number(let r): "a number in \(Self.format(r.lowerBound))…\(Self.format(r.upperBound))"
        case .integer(let r): "an integer in \(r.lowerBound)…\(r.upperBound)"
        case .flag: "true or false"
        case .choice(let names): names.joined(separator: ", ")
        case .numbers(let r): "increasing comma-separated numbers in \(Self.format(r.lowerBound))…\(Self.format(r.upperBound))"
        case .integers(let r): "comma-separated integers in \(r.lowerBound)…\(r.upperBound) (or nothing)"
        case .assignments(let r): "comma-separated NAME=COUNT pairs, counts in \(r.lowerBound)…\(r.upperBound) (or nothing)"
        }
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }

    func invalid(_ text: String) -> ValidationError {
        ValidationError(field: name, value: text, reason: "must be \(takes)")
    }

    // MARK: Builders

    static func number(_ name: String, _ path: WritableKeyPath<PolicyConfig, Double>, _ range: ClosedRange<Double>, _ doc: String) -> Self {
        var key: Self!
        key = Self(name: name, kind: .number(range), doc: doc, get: { format($0[keyPath: path]) }) { config, text throws(ValidationError) in
            guard let x = Double(text.trimmingWhitespace), x.isFinite, range.contains(x) else { throw key.invalid(text) }
            config[keyPath: path] = x
        }
        return key
    }

    static func integer(_ name: String, _ path: WritableKeyPath<PolicyConfig, Int>, _ range: ClosedRange<Int>, _ doc: String) -> Self {
        var key: Self!
        key = Self(name: name, kind: .integer(range), doc: doc, get: { String($0[keyPath: path]) }) { config, text throws(ValidationError) in
            guard let x = Int(text.trimmingWhitespace), range.contains(x) else { throw key.invalid(text) }
            config[keyPath: path] = x
        }
        return key
    }

    static func flag(_ name: String, _ path: WritableKeyPath<PolicyConfig, Bool>, _ doc: String) -> Self {
        var key: Self!
        key = Self(name: name, kind: .flag, doc: doc, get: { String($0[keyPath: path]) }) { config, text throws(ValidationError) in
            switch text.trimmingWhitespace.lowercased() {
            case "true", "yes", "on", "1": config[keyPath: path] = true
            case "false", "no", "off", "0": config[keyPath: path] = false
            default: throw key.invalid(text)
            }
        }
        return key
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ path: WritableKeyPath<PolicyConfig, T>, _ doc: String) -> Self
    where T.RawValue: LosslessStringConvertible {
        let names = T.allCases.map { String($0.rawValue) }
        var key: Self!
        key = Self(name: name, kind: .choice(names), doc: doc, get: { String($0[keyPath: path].rawValue) }) { config, text throws(ValidationError) in
            guard let raw = T.RawValue(text.trimmingWhitespace), let value = T(rawValue: raw) else { throw key.invalid(text) }
            config[keyPath: path] = value
        }
        return key
    }

    static func integers(_ name: String, _ path: WritableKeyPath<PolicyConfig, [Int]>, _ range: ClosedRange<Int>, _ doc: String) -> Self {
        var key: Self!
        key = Self(name: name, kind: .integers(range), doc: doc, get: { $0[keyPath: path].map(String.init).joined(separator: ",") }) { config, text throws(ValidationError) in
            let trimmed = text.trimmingWhitespace
            let parts = trimmed.isEmpty ? [] : trimmed.split(separator: ",", omittingEmptySubsequences: false).map { Int(String($0).trimmingWhitespace) }
            guard parts.count <= 100_000, parts.allSatisfy({ $0 != nil && range.contains($0!) }) else { throw key.invalid(text) }
            config[keyPath: path] = parts.map { $0! }
        }
        return key
    }

    static func assignments(_ name: String, _ path: WritableKeyPath<PolicyConfig, [String: Int]>, _ range: ClosedRange<Int>,
                            _ doc: String) -> Self {
        var key: Self!
        key = Self(name: name, kind: .assignments(range),
                   doc: doc, get: { $0[keyPath: path].sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }) { config, text throws(ValidationError) in
            var values: [String: Int] = [:]
            for part in text.split(separator: ",") where !String(part).trimmingWhitespace.isEmpty {
                let pair = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingWhitespace }
                guard pair.count == 2, !pair[0].isEmpty, let n = Int(pair[1]), range.contains(n), values.count < 100_000 else {
                    throw ValidationError(field: name, value: String(part), reason: "must be \(key.takes), e.g. resnet50-cpu=1")
                }
                guard values.updateValue(n, forKey: pair[0]) == nil else {
                    throw ValidationError(field: name, value: pair[0], reason: "is named twice; give each variant one count")
                }
            }
            config[keyPath: path] = values
        }
        return key
    }

    static func numbers(_ name: String, _ path: WritableKeyPath<PolicyConfig, [Double]>, _ range: ClosedRange<Double>, _ doc: String) -> Self {
        var key: Self!
        key = Self(name: name, kind: .numbers(range), doc: doc, get: { $0[keyPath: path].map(format).joined(separator: ",") }) { config, text throws(ValidationError) in
            let parts = text.split(separator: ",").map { Double(String($0).trimmingWhitespace) }
            guard parts.count >= 2, parts.allSatisfy({ $0 != nil && $0!.isFinite && range.contains($0!) }) else { throw key.invalid(text) }
            let values = parts.map { $0! }
            guard zip(values, values.dropFirst()).allSatisfy({ $0 < $1 }) else { throw key.invalid(text) }
            config[keyPath: path] = values
        }
        return key
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

extension PolicyConfig {
    static let periodMs: ClosedRange<Double> = 1...3_600_000
    static let factor: ClosedRange<Double> = 0...1_000_000
    static let percent: ClosedRange<Double> = 0...100
    static let count: ClosedRange<Int> = 1...1_000_000

    /// Every field, with its key, the values it takes and its meaning (section numbers refer to
    /// the reference notes, `docs/design.md`). `infaas simulate --list-policy-keys` prints it.
    public static var keys: [PolicyConfigKey] {
        typealias K = PolicyConfigKey
        return [
            // Selection (§3)
            K.choice("decision_mode", \.decisionMode, "master decision mode 0–7 (§3.2); 6 = the original's default"),
            K.choice("variant_selection", \.variantSelection, "how the variant is chosen: the reference's searches, a fixed variant per application, max-accuracy or cheapest"),
            K.integer("fast_path_candidates", \.fastPathCandidates, count, "fast-path candidates inf_lat_bin(parent, min_lat, L, N) (§3.3)"),
            K.number("loose_slo_ms", \.looseSLOMs, 0...3_600_000, "an SLO above this is loose: prefer variants at least this slow (§3.3, §3.4)"),
            K.flag("loose_slo_rule", \.looseSLORule, "true (the reference): for a loose SLO consider only variants at least loose_slo_ms slow; false (ours): every SLO alike"),
            K.number("cpu_excluded_at_or_below_slo_ms", \.cpuExcludedAtOrBelowSLOMs, 0...3_600_000, "CPU variants are skipped when the SLO is at most this (§3.3)"),
            K.integer("max_online_batch", \.maxOnlineBatch, 1...4096, "batch cap for accelerator latency estimates, MAX_ONLINE_BATCH (§5.1)"),
            K.number("blacklist_trickle_probability", \.blacklistTrickleProbability, 0...1, "probability of sending a query to a blacklisted running variant anyway (§3.3)"),
            K.integer("use_case_cache_size", \.useCaseCacheSize, 1...10_000, "use-case search LRU cache size, gmod_max_lru (§3.4)"),
            K.choice("use_case_cache_scope", \.useCaseCacheScope, "which queries share that cache: use-case (the reference; a low accuracy floor reuses a higher floor's variant) or accuracy-bin (ours: per use-case and accuracy bin of the floor)"),
            K.number("use_case_search_fraction", \.useCaseSearchFraction, 0...1, "use-case search budget N = max(min, floor(fraction·L / lookup_ms)) (§3.4)"),
            K.number("use_case_search_lookup_ms", \.useCaseSearchLookupMs, 0.000_001...1_000_000, "the budget's lookup cost in ms (§3.4)"),
            K.integer("use_case_search_minimum", \.useCaseSearchMinimum, count, "the budget's minimum (§3.4)"),
            K.numbers("accuracy_bin_edges", \.accuracyBinEdges, 0...100, "accuracy bin edges of the use-case index, e.g. 0,50,70,75,78,100 (§1.3)"),
            K.number("cold_penalty_ms", \.coldPenaltyMs, 0...3_600_000, "score penalty that keeps cold variants behind running ones (§3.4)"),
            K.integer("running_worker_candidates", \.runningWorkerCandidates, count, "workers considered for a running variant, min_qps_name(v, N) (§3.5)"),
            K.integer("cpu_candidate_workers", \.cpuCandidateWorkers, count, "least-CPU-utilised workers considered for a cold load (§3.5)"),
            K.integer("accelerator_candidate_workers", \.acceleratorCandidateWorkers, count, "least-GPU/Inferentia-utilised workers considered (§3.5)"),
            K.integer("popular_variant_queries", \.popularVariantQueries, count, "consecutive close queries that make a GPU variant popular (§3.6)"),
            K.number("popularity_gap_ms", \.popularityGapMs, 0...3_600_000, "the gap under which queries count as consecutive (§3.6)"),
            K.integer("worker_guard_queries", \.workerGuardQueries, count, "queries to one worker within the window that blacklist it (§3.7)"),
            K.number("worker_guard_window_ms", \.workerGuardWindowMs, periodMs, "the overload guard's window (§3.7)"),
            K.number("worker_blacklist_ms", \.workerBlacklistMs, 0...3_600_000, "how long a worker stays blacklisted (§3.7, §4.3)"),
            K.flag("ignore_blacklists", \.ignoreBlacklists, "route to running replicas even when blacklisted (hand-configured deployments)"),
            K.flag("worker_guard_enabled", \.workerGuardEnabled, "the per-worker overload guard (§3.7)"),
            K.flag("load_on_demand", \.loadOnDemand, "load a variant on a worker when a query needs it (§3.8); false: only placed replicas serve"),
            K.flag("prefer_cheapest", \.preferCheapest, "ours: pick the cheapest cold variant that meets the objectives"),
            K.integer("static_replicas", \.staticReplicas, 1...10_000, "replicas of each application's fixed variant a static deployment places"),
            K.integers("static_replicas_by_application", \.staticReplicasByApplication, 1...10_000, "replicas per application (by index), overriding static_replicas; static-peak sizes them from the trace's peak"),
            K.number("static_peak_utilization", \.staticPeakUtilization, 0.01...1, "static-peak: utilisation of a serving unit at the peak rate (headroom = 1 − this)"),
            K.number("static_peak_window_s", \.staticPeakWindowSeconds, 0.001...86_400, "static-peak: window over which the peak arrival rate is measured, seconds"),
            K.number("offline_cpu_threshold", \.offlineCPUThreshold, percent, "offline work waits while the worker's CPU is above this, percent (§5.2)"),
            // Monitoring (§4.1)
            K.number("monitor_interval_ms", \.monitorIntervalMs, periodMs, "QPS monitor period (§4.1)"),
            K.number("resource_monitor_interval_ms", \.resourceMonitorIntervalMs, periodMs, "utilisation monitor period (§4.1)"),
            K.number("latency_factor", \.latencyFactor, factor, "blacklist: latency above this × predicted (§4.1)"),
            K.number("qps_factor", \.qpsFactor, factor, "blacklist: per-replica QPS above this × capacity (§4.1)"),
            K.number("queue_factor", \.queueFactor, factor, "blacklist: outstanding above this × capacity (§4.1)"),
            K.number("unset_factor", \.unsetFactor, factor, "blacklist cleared below this × predicted latency (§4.1)"),
            K.number("gpu_qps_factor", \.gpuQPSFactor, factor, "GPU override of qps_factor (§4.1)"),
            K.number("gpu_queue_factor", \.gpuQueueFactor, factor, "GPU override of queue_factor (§4.1)"),
            K.number("gpu_unset_factor", \.gpuUnsetFactor, factor, "GPU override of unset_factor (§4.1)"),
            K.number("single_cpu_latency_factor", \.singleCPULatencyFactor, factor, "single-replica CPU override of latency_factor (§4.1)"),
            K.number("single_cpu_qps_factor", \.singleCPUQPSFactor, factor, "single-replica CPU override of qps_factor (§4.1)"),
            K.number("single_cpu_queue_factor", \.singleCPUQueueFactor, factor, "single-replica CPU override of queue_factor (§4.1)"),
            K.number("cpu_latency_decay", \.cpuLatencyDecay, 1...1_000_000, "idle CPU average-latency decay divisor (§4.1)"),
            K.number("other_latency_decay", \.otherLatencyDecay, 1...1_000_000, "idle accelerator average-latency decay divisor (§4.1)"),
            K.number("scale_down_gpu_slo_factor", \.scaleDownGPUSLOFactor, factor, "parent scale-down: GPU average SLO above this × inference (§4.1)"),
            K.number("scale_down_gpu_qps_factor", \.scaleDownGPUQPSFactor, factor, "parent scale-down: GPU QPS below this × capacity (§4.1)"),
            K.number("scale_down_inferentia_slo_factor", \.scaleDownInferentiaSLOFactor, factor, "parent scale-down: Inferentia SLO factor (§4.1)"),
            K.number("scale_down_inferentia_qps_factor", \.scaleDownInferentiaQPSFactor, factor, "parent scale-down: Inferentia QPS factor (§4.1)"),
            // Model autoscaler (§4.2)
            K.choice("model_autoscaler", \.modelAutoscaler, "the worker-side model autoscaler (§4.2)"),
            K.number("arbiter_interval_ms", \.arbiterIntervalMs, periodMs, "model autoscaler period (§4.2)"),
            K.integer("static_replicas_cpu", \.staticReplicasCPU, count, "STATIC autoscaler's target replicas, CPU (§4.2)"),
            K.integer("static_replicas_gpu", \.staticReplicasGPU, count, "STATIC autoscaler's target replicas, GPU (§4.2)"),
            K.integer("static_replicas_inferentia", \.staticReplicasInferentia, count, "STATIC autoscaler's target replicas, Inferentia (§4.2)"),
            K.integer("max_replicas_cpu", \.maxReplicasCPU, 1...10_000, "replica cap per worker, CPU (§4.2)"),
            K.integer("max_replicas_gpu", \.maxReplicasGPU, 1...10_000, "replica cap per worker, GPU (§4.2)"),
            K.integer("max_replicas_inferentia", \.maxReplicasInferentia, 1...10_000, "replica cap per worker, Inferentia (§4.2)"),
            K.integer("scale_down_delay_cpu", \.scaleDownDelayCPU, 0...1_000_000, "arbiter periods of low load before a CPU scale-down (§4.2)"),
            K.integer("scale_down_delay_gpu", \.scaleDownDelayGPU, 0...1_000_000, "arbiter periods of low load before a GPU scale-down (§4.2)"),
            K.integer("scale_down_delay_inferentia", \.scaleDownDelayInferentia, 0...1_000_000, "arbiter periods of low load before an Inferentia scale-down (§4.2)"),
            K.number("load_heuristic", \.loadHeuristic, factor, "load-latency weight in an accelerator's required throughput (§4.2)"),
            K.number("cpu_heuristic", \.cpuHeuristic, 0...1, "CPU replicas are added above 1 − this of capacity (§4.2)"),
            K.number("upgrade_cost_factor", \.upgradeCostFactor, factor, "upgrade when saved replicas cost more than this × load latency (§4.2)"),
            K.number("slo_target_attainment", \.sloTargetAttainment, 0...1, "slo-autoscaler: scale up while fewer than this fraction meet their SLO"),
            K.number("slo_target_ongoing_per_replica", \.sloTargetOngoingPerReplica, 0.001...1_000_000, "slo-autoscaler: queries in the system one replica should carry"),
            K.integer("slo_upscale_periods", \.sloUpscalePeriods, count, "slo-autoscaler: arbiter periods wanting more before a scale-up"),
            K.integer("slo_downscale_periods", \.sloDownscalePeriods, count, "slo-autoscaler: arbiter periods wanting fewer before a scale-down"),
            K.number("slo_downscale_latency_ratio", \.sloDownscaleLatencyRatio, 0...1, "slo-autoscaler: scale down only while latency ≤ this × SLO"),
            // VM autoscaler (§4.3)
            K.flag("vm_autoscaling", \.vmAutoscaling, "the VM autoscaler (§4.3)"),
            K.number("vm_interval_ms", \.vmIntervalMs, periodMs, "VM autoscaler period (§4.3)"),
            K.number("utilization_threshold", \.utilizationThreshold, 0.001...100, "scale out above this least CPU/GPU utilisation, percent (§4.3)"),
            K.choice("cpu_scale_out_over", \.cpuScaleOutBasis, "whose CPU utilisation CPU scale-out reads: all-workers (the reference; an idle GPU worker's CPU keeps it low) or cpu-workers (ours)"),
            K.number("inferentia_utilization_threshold", \.inferentiaUtilizationThreshold, 0.001...100, "scale out above this Inferentia utilisation, percent (§4.3)"),
            K.number("blacklist_utilization", \.blacklistUtilization, 0.001...100, "blacklist a worker above this utilisation, percent (§4.3)"),
            K.integer("backoff_iterations", \.backoffIterations, count, "VM autoscaler iterations of back-off after a scaling action (§4.3)"),
            K.integer("scale_in_iterations", \.scaleInIterations, count, "consecutive low-load iterations before a scale-in (§4.3)"),
            K.number("scale_in_min_gpu", \.scaleInMinGPU, percent, "scale-in condition: least GPU utilisation ≤ this (§4.3)"),
            K.number("scale_in_min_cpu", \.scaleInMinCPU, percent, "scale-in condition: least CPU utilisation ≤ this (§4.3)"),
            K.number("scale_in_average_gpu", \.scaleInAverageGPU, percent, "scale-in condition: average GPU utilisation ≤ this (§4.3)"),
            K.number("scale_in_average_cpu", \.scaleInAverageCPU, percent, "scale-in condition: average CPU utilisation ≤ this (§4.3)"),
            K.number("scale_in_average_inferentia", \.scaleInAverageInferentia, percent, "scale-in condition: average Inferentia utilisation ≤ this (§4.3)"),
            K.flag("scale_in_cpu_workers", \.scaleInCPUWorkers, "let idle CPU workers above the floor go (fix of reference §8 item 10)"),
            // Replica queues (ours)
            K.choice("admission", \.admission, "a query predicted to miss its SLO on arrival: always admit, shed-if-late (answer it shed), or demote (to low priority)"),
            K.integer("max_queue_length", \.maxQueueLength, 0...1_000_000, "most queries waiting in one replica's queue, more are shed; 0 = unbounded"),
            K.choice("queue_deadline", \.queueDeadline, "a queued query's deadline when it names none: fixed (deadline_ms, 10 s) or slo (its SLO); past it, it is answered expired-in-queue"),
            K.number("low_priority_max_wait_ms", \.lowPriorityMaxWaitMs, 0...3_600_000, "starvation bound: a low-priority query queued this long runs before high ones"),
            // Scale to zero (ours)
            K.integer("min_replicas_cpu", \.minReplicasCPU, 0...10_000, "replicas a loaded CPU variant keeps however idle; 0 (the reference): its last replica unloads"),
            K.integer("min_replicas_gpu", \.minReplicasGPU, 0...10_000, "replicas a loaded GPU variant keeps however idle; 0: scale to zero"),
            K.integer("min_replicas_inferentia", \.minReplicasInferentia, 0...10_000, "replicas a loaded Inferentia variant keeps however idle; 0: scale to zero"),
            K.assignments("min_replicas_by_variant", \.minReplicasByVariant, 0...10_000, "per-variant floors overriding min_replicas_*, e.g. resnet50-cpu=1,vgg16-gpu=0"),
            K.integer("scale_to_zero_delay", \.scaleToZeroDelay, -1...1_000_000, "arbiter periods of low load before a variant's last replica unloads (1 → 0); -1: the class's scale_down_delay_*"),
            K.integer("min_workers_cpu", \.minWorkersCPU, -1...InputLimits.maxWorkers, "CPU workers the VM autoscaler keeps; -1: the initial count (the reference); 0: the last one goes when idle"),
            K.integer("min_workers_gpu", \.minWorkersGPU, -1...InputLimits.maxWorkers, "GPU workers the VM autoscaler keeps; -1: the initial count; 0: the last one goes when idle"),
            K.integer("min_workers_inferentia", \.minWorkersInferentia, -1...InputLimits.maxWorkers, "Inferentia workers the VM autoscaler keeps; -1: the initial count; 0: the last one goes when idle"),
            K.integer("last_worker_idle_iterations", \.lastWorkerIdleIterations, -1...1_000_000, "VM-autoscaler iterations the last worker of a class must be idle before it goes (1 → 0); -1: scale_in_iterations"),
            K.integer("cold_start_buffer", \.coldStartBuffer, 0...1_000_000, "queries held while a worker boots for them, and most waiting for one cold load; more are shed; 0: none held (no-workers), loads unbounded"),
            K.number("rejoin_grace_s", \.rejoinGraceS, 0...3600, "a restarted master waits this long for the workers it knew before replacing them, s"),
        ]
    }

    /// The key named `name`.
    public static func key(named name: String) -> PolicyConfigKey? { keys.first { $0.name == name } }

    /// Sets `name` to `text`; an unknown key is named with the nearest known ones.
    public mutating func set(_ name: String, to text: String) throws(ValidationError) {
        guard let key = Self.key(named: name) else {
            throw ValidationError(field: "policy_config", value: name,
                                  reason: "is not a policy_config key" + Self.suggestion(for: name))
        }
        try key.set(text, in: &self)
    }

    static func suggestion(for name: String) -> String {
        let hint = NameSuggestion.hint(for: name, known: keys.map(\.name))
        return hint.isEmpty ? " (`infaas simulate --list-policy-keys` lists them)" : " (\(hint))"
    }

    /// `KEY=VALUE` for every field that differs from `base` (what the master ships to the
    /// workers it starts, so they run the experiment's thresholds, not the preset's).
    public func settings(differingFrom base: PolicyConfig = PolicyConfig()) -> [String] {
        Self.keys.compactMap { key in
            let value = key.value(in: self)
            return value == key.value(in: base) ? nil : "\(key.name)=\(value)"
        }
    }

    /// Every key with its value, `KEY=VALUE`, in table order.
    public var allSettings: [String] { Self.keys.map { "\($0.name)=\($0.value(in: self))" } }

    /// Applies `KEY=VALUE` settings (the live master's and worker's `--policy-set`, keys as in an
    /// experiment's `policy_config:`), then checks the whole configuration.
    public mutating func apply(settings: [String], flag: String = "--policy-set") throws(ValidationError) {
        for text in settings {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw ValidationError(field: flag, value: text, reason: "expects KEY=VALUE, e.g. \(flag) utilization_threshold=60")
            }
            try set(String(text[..<equals]), to: String(text[text.index(after: equals)...]))
        }
        try validate()
    }
}
