public import InfaasCore

/// What a worker counted for one replica group during one monitor interval.
public struct GroupCounters: Hashable, Sendable {
    public var requests = 0
    public var batchSum = 0
    public var completed = 0
    public var latencySumMs = 0.0
    public var sloSumMs = 0.0
    /// Completed queries that met their SLO (or had none).
    public var metSLO = 0

    public init(requests: Int = 0, batchSum: Int = 0, completed: Int = 0, latencySumMs: Double = 0, sloSumMs: Double = 0, metSLO: Int = 0) {
        self.metSLO = metSLO
        self.requests = requests
        self.batchSum = batchSum
        self.completed = completed
        self.latencySumMs = latencySumMs
        self.sloSumMs = sloSumMs
    }
}

/// The worker-side QPS monitor (reference §4.1): per replica group, QPS, average batch,
/// latency and SLO, and the variant blacklist; per worker, the parent scale-down flags.
///
/// Fix of reference §8 item 9: the original divided integers before `ceil` (so the average
/// batch was floored) and let an idle variant's average batch be 0; here it is a true ceiling
/// and never below 1.
public struct Monitor: Sendable {
    public let catalogue: PolicyCatalogue
    public let config: PolicyConfig

    public init(catalogue: PolicyCatalogue, config: PolicyConfig) {
        self.catalogue = catalogue
        self.config = config
    }

    /// The blacklist thresholds (`lat_h`, `qps_h`, `queue_h`, `unset_h`) for a group.
    public func thresholds(variant v: Int, replicas: Int, inferenceMs inf: Double) -> (latency: Double, qps: Double, queue: Double, unset: Double) {
        switch catalogue.hardware[v] {
        case .gpu:
            return (inf < 10 ? min(5, 15 / max(inf, 1e-9)) : 1.5, config.gpuQPSFactor, config.gpuQueueFactor, config.gpuUnsetFactor)
        case .cpu where replicas == 1:
            return (config.singleCPULatencyFactor, config.singleCPUQPSFactor, config.singleCPUQueueFactor, config.unsetFactor)
        default:
            return (config.latencyFactor, config.qpsFactor, config.queueFactor, config.unsetFactor)
        }
    }

    /// The group after one monitor interval of `intervalSeconds` with `counters`.
    public func update(_ group: ReplicaGroup, counters c: GroupCounters, intervalSeconds: Double) -> ReplicaGroup {
        var g = group
        guard g.replicas > 0 else { return g }
        let v = g.variant
        let qpsPerReplica = Double(c.requests) / (intervalSeconds * Double(g.replicas))
        if c.requests > 0 {
            g.averageBatch = max(1, (c.batchSum + c.requests - 1) / c.requests)
            g.averageSLOMs = c.sloSumMs / Double(c.requests)
        }
        if c.completed > 0 {
            g.averageLatencyMs = c.latencySumMs / Double(c.completed)
            g.sloAttainment = Double(c.metSLO) / Double(c.completed)
        } else {
            g.averageLatencyMs /= catalogue.hardware[v] == .cpu ? config.cpuLatencyDecay : config.otherLatencyDecay
        }
        g.qps = qpsPerReplica * Double(g.replicas)
        let inf = max(1e-6, catalogue.model[v].predictMs(batch: g.averageBatch))
        let t = thresholds(variant: v, replicas: g.replicas, inferenceMs: inf)
        let queueLimit = t.queue * Double(g.replicas) * 1000 / inf
        let outstanding = Double(g.outstanding)
        if (g.averageLatencyMs > inf * t.latency && qpsPerReplica > t.qps * 1000 / inf) || outstanding > queueLimit {
            g.blacklisted = true
        } else if outstanding < queueLimit && g.averageLatencyMs < inf * t.unset {
            g.blacklisted = false
        }
        return g
    }

    /// Architectures to flag for parent scale-down on worker `w`: every accelerator variant of
    /// the architecture here is nearly idle under a loose SLO, and no CPU variant of it runs here.
    public func parentScaleDown(worker w: Int, snapshot: ClusterSnapshot) -> Set<Int> {
        // Most workers run only CPU variants: nothing to flag, and no need to build a map.
        guard snapshot.workers[w].groups.contains(where: { snapshot.groups[$0].isRunning && catalogue.hardware[snapshot.groups[$0].variant] != .cpu })
        else { return [] }
        var verdict: [Int: Bool] = [:]
        for g in snapshot.workers[w].groups where snapshot.groups[g].isRunning {
            let group = snapshot.groups[g]
            let v = group.variant, a = catalogue.architecture[v]
            let inf = max(1e-6, catalogue.model[v].predictMs(batch: group.averageBatch))
            let perReplica = group.qps / Double(max(1, group.replicas))
            let ok: Bool
            switch catalogue.hardware[v] {
            case .cpu: ok = false
            case .gpu:
                ok = group.averageSLOMs > config.scaleDownGPUSLOFactor * inf && perReplica < config.scaleDownGPUQPSFactor * 1000 / inf
            case .inferentia:
                ok = group.averageSLOMs > config.scaleDownInferentiaSLOFactor * inf && perReplica < config.scaleDownInferentiaQPSFactor * 1000 / inf
            }
            verdict[a] = (verdict[a] ?? true) && ok
        }
        return Set(verdict.filter(\.value).keys)
    }
}
