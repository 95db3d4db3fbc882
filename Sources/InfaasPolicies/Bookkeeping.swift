public import InfaasCore

// The master-side bookkeeping that follows a decision. The simulator and the live master both
// apply decisions through these, so what a decision means to the cluster state is defined once.

extension ClusterSnapshot {
    /// Applies a routing decision's side effects: scale requests, the §3.7 worker blacklist and
    /// §3.6 exclusivity.
    public mutating func applySideEffects(of d: RouteDecision, now: SimTime, config: PolicyConfig) {
        if d.requestVMScale { vmScaleRequested = true }
        if d.requestSlackScale { slackScaleRequested = true }
        if let w = d.blacklistWorker {
            workers[w].blacklistedUntil = SimTime(nanoseconds: now.nanoseconds + Int64(config.workerBlacklistMs * 1e6))
        }
        if d.assignExclusive { workers[d.worker].exclusiveVariant = d.variant }
    }

    /// Applies the parts of a VM-autoscaler decision that are bookkeeping (blacklists and
    /// clearing the scale requests); launching and retiring are the caller's.
    public mutating func applyBookkeeping(of d: WorkerScalingDecision, now: SimTime, config: PolicyConfig) {
        let until = SimTime(nanoseconds: now.nanoseconds + Int64(config.workerBlacklistMs * 1e6))
        for w in d.blacklist { workers[w].blacklistedUntil = until }
        if d.clearScaleRequests {
            vmScaleRequested = false
            slackScaleRequested = false
            capacityShortage = []
        }
    }

    /// Reserves (`sign` = 1) or releases (−1) the room one replica of `variant` takes on `worker`.
    public mutating func reserve(variant v: Int, worker w: Int, sign: Int, catalogue: PolicyCatalogue) {
        switch catalogue.hardware[v] {
        case .cpu: workers[w].usedCores += sign * catalogue.cpus[v]
        case .gpu: workers[w].usedAcceleratorMemoryMB += Double(sign) * catalogue.memoryMB[v]
        case .inferentia: workers[w].usedNeuronCores += sign * catalogue.neuronCores[v]
        }
    }
}
