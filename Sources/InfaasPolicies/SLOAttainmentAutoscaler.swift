public import InfaasCore

/// A model autoscaler that scales each replica group on what its users see — the share of
/// queries that met their SLO and the queries in the system — rather than on the reference's
/// throughput model (in the spirit of Ray Serve's `autoscaling_policy.py`: a pure function
/// gives the replicas wanted; hysteresis lives outside it, in ``plan(worker:snapshot:)``).
///
/// Registered as the policy `slo-autoscaler`: INFaaS selection and VM autoscaling with this
/// autoscaler on every worker. Its knobs are `slo_*` keys of `policy_config`.
public struct SLOAttainmentAutoscaler: ModelScalingRule {
    public let catalogue: PolicyCatalogue
    public let config: PolicyConfig

    public init(catalogue: PolicyCatalogue, config: PolicyConfig) {
        self.catalogue = catalogue
        self.config = config
    }

    /// The registry entry (the one line in ``PolicyRegistry/entries`` names this).
    public static let policyEntry = PolicyEntry(
        name: "slo-autoscaler",
        summary: "infaas selection and VM autoscaling; replicas scale on SLO attainment and queries in the system (ours)"
    ) { context throws(ValidationError) in
        var config = context.config
        config.modelAutoscaler = .infaas  // the monitor and the VM autoscaler stay the reference's
        let rule = SLOAttainmentAutoscaler(catalogue: context.catalogue, config: config)
        return try StandardPolicySet(name: "slo-autoscaler", config: config, catalogue: context.catalogue, limits: context.limits,
                                     machines: context.machines, modelRule: rule)
    }

    /// Replicas a group should have. Pure. By Little's law the queries in the system are
    /// `qps × latency`; the group wants enough replicas to carry them at
    /// `slo_target_ongoing_per_replica` each, at least one more while fewer than
    /// `slo_target_attainment` of its queries meet their SLO, and no fewer than it has unless
    /// its latency is within `slo_downscale_latency_ratio` of its SLO. An idle group wants none.
    public static func desiredReplicas(current: Int, qps: Double, latencyMs: Double, attainment: Double, sloMs: Double,
                                       config: PolicyConfig) -> Int {
        guard qps > 0 else { return 0 }
        let ongoing = qps * max(0, latencyMs) / 1000
        var desired = max(1, Int((ongoing / config.sloTargetOngoingPerReplica).rounded(.up)))
        if attainment < config.sloTargetAttainment {
            desired = max(desired, current + 1)
        } else if desired < current, !(sloMs > 0 && latencyMs <= config.sloDownscaleLatencyRatio * sloMs) {
            desired = current
        }
        return desired
    }

    public func plan(worker w: Int, snapshot: ClusterSnapshot) -> ModelScalingPlan {
        var plan = ModelScalingPlan()
        let worker = snapshot.workers[w]
        guard worker.status == .ready else { return plan }
        for g in worker.groups where snapshot.groups[g].isRunning {
            let group = snapshot.groups[g]
            let v = group.variant
            let desired = Self.desiredReplicas(current: group.replicas, qps: group.qps, latencyMs: group.averageLatencyMs,
                                               attainment: group.sloAttainment, sloMs: group.averageSLOMs, config: config)
            if desired > group.replicas {
                let up = group.pendingScaleUp + 1
                let add = min(desired - group.replicas, config.maxReplicas(catalogue.hardware[v]) - group.replicas, room(for: v, on: worker))
                if up >= config.sloUpscalePeriods, add > 0 {
                    plan.actions.append(.addReplicas(group: g, count: add))
                    plan.pendingScaleUp.append(.init(group: g, count: 0))
                } else {
                    plan.pendingScaleUp.append(.init(group: g, count: up))
                }
                plan.setPending(g, 0)
            } else if desired < group.replicas, config.mayScaleDown(variant: v, replicas: group.replicas, catalogue: catalogue) {
                let down = group.pendingScaleDown + 1
                if down >= config.scaleDownDelay(catalogue.hardware[v], replicas: group.replicas, normal: config.sloDownscalePeriods) {
                    plan.actions.append(.removeReplica(group: g))
                    plan.setPending(g, 0)
                } else {
                    plan.setPending(g, down)
                }
                plan.pendingScaleUp.append(.init(group: g, count: 0))
            } else if group.pendingScaleUp != 0 || group.pendingScaleDown != 0 {
                plan.setPending(g, 0)
                plan.pendingScaleUp.append(.init(group: g, count: 0))
            }
        }
        return plan
    }

    /// Replicas of `v` that still fit on `worker` (a GPU's replicas share its memory).
    func room(for v: Int, on worker: WorkerState) -> Int {
        switch catalogue.hardware[v] {
        case .cpu: return (worker.cores - worker.usedCores) / max(1, catalogue.cpus[v])
        case .gpu: return Int((worker.acceleratorMemoryMB - worker.usedAcceleratorMemoryMB) / max(1, catalogue.memoryMB[v]))
        case .inferentia: return (worker.neuronCores - worker.usedNeuronCores) / max(1, catalogue.neuronCores[v])
        }
    }
}
