public import InfaasCore

extension ControlLoop {
    // MARK: Replica bookkeeping (both faces report what happened through these)

    /// Counts one replica of group `g` as loading and reserves its room (cores, accelerator
    /// memory, NeuronCores) until it is loaded or fails.
    public mutating func beginLoad(group g: Int, now: SimTime) {
        let v = snapshot.groups[g].variant, w = snapshot.groups[g].worker
        snapshot.reserve(variant: v, worker: w, sign: 1, catalogue: catalogue)
        snapshot.groups[g].loading += 1
        pendingLoads[g] = now
    }

    /// A replica of group `g` finished loading: it serves from now; a pending scale-down is
    /// forgotten and the architecture's parent scale-down flag on that worker cleared (CPU).
    public mutating func replicaLoaded(group g: Int) {
        guard snapshot.groups[g].active, snapshot.groups[g].loading > 0 else { return }
        snapshot.groups[g].loading -= 1
        snapshot.groups[g].replicas += 1
        snapshot.groups[g].pendingScaleDown = 0
        snapshot.groups[g].pendingScaleUp = 0
        pendingLoads[g] = nil
        let v = snapshot.groups[g].variant
        if catalogue.hardware[v] == .cpu { snapshot.workers[snapshot.groups[g].worker].parentScaleDown.remove(catalogue.architecture[v]) }
    }

    /// A replica of group `g` failed to load: its room is released; a group left with nothing
    /// loaded or loading, and no queries but the `waiting` ones that fail with the load, is
    /// dropped. Returns whether it was.
    @discardableResult
    public mutating func loadFailed(group g: Int, waiting: Int = 0) -> Bool {
        guard snapshot.groups[g].active, snapshot.groups[g].loading > 0 else { return false }
        let v = snapshot.groups[g].variant, w = snapshot.groups[g].worker
        snapshot.groups[g].loading -= 1
        snapshot.reserve(variant: v, worker: w, sign: -1, catalogue: catalogue)
        pendingLoads[g] = nil
        guard snapshot.groups[g].replicas == 0, snapshot.groups[g].loading == 0, snapshot.groups[g].outstanding <= waiting else { return false }
        dropGroup(g)
        return true
    }

    /// A query routed by another loop (live: the master's) arrived at group `g` of this one:
    /// outstanding until ``finished(group:variant:)``, and counted for the monitor.
    public mutating func accept(group g: Int, batch: Int, sloMs: Double) {
        snapshot.groups[g].outstanding += 1
        recordArrival(group: g, batch: batch, sloMs: sloMs)
    }

    /// Drops group `g` if it holds nothing and nobody waits for it (after its first load failed).
    /// Returns whether it did.
    public mutating func dropIfAbandoned(group g: Int) -> Bool {
        guard g < snapshot.groups.count, snapshot.groups[g].active else { return false }
        let group = snapshot.groups[g]
        guard group.replicas == 0, group.loading == 0, group.outstanding == 0, pendingLoads[g] == nil else { return false }
        dropGroup(g)
        return true
    }

    /// Whether one replica of group `g` may be stopped now: not the last one while queries wait
    /// for it or a load is under way.
    public func mayRemoveReplica(group g: Int) -> Bool {
        let group = snapshot.groups[g]
        guard group.active, group.replicas > 0 else { return false }
        return !(group.replicas == 1 && (group.outstanding > 0 || group.loading > 0))
    }

    /// One replica of group `g` stopped: its room is released; the last one removes the group.
    /// Returns whether the group was removed.
    @discardableResult
    public mutating func replicaRemoved(group g: Int) -> Bool {
        guard snapshot.groups[g].active, snapshot.groups[g].replicas > 0 else { return false }
        let v = snapshot.groups[g].variant, w = snapshot.groups[g].worker
        snapshot.reserve(variant: v, worker: w, sign: -1, catalogue: catalogue)
        snapshot.groups[g].replicas -= 1
        guard snapshot.groups[g].replicas == 0, snapshot.groups[g].loading == 0 else { return false }
        dropGroup(g)
        return true
    }

    /// A replica could not be stopped now (busy, or queries wait for the last one): the
    /// scale-down is retried at the next arbiter tick.
    public mutating func removalFailed(group g: Int) {
        guard snapshot.groups[g].active else { return }
        snapshot.groups[g].pendingScaleDown = config.scaleDownDelay(catalogue.hardware[snapshot.groups[g].variant], replicas: snapshot.groups[g].replicas) + 1
    }

    mutating func dropGroup(_ g: Int) {
        snapshot.removeGroup(g)
        if g < counters.count { counters[g] = GroupCounters() }
        pendingLoads[g] = nil
    }

    // MARK: §4.2 the model autoscaler

    /// One arbiter tick: the policy's plan for every ready worker, executed. Bookkeeping is done
    /// here (pending counts, loads counted as loading); the returned effects are the world's.
    public mutating func arbiterTick(now: SimTime) -> [ControlEffect] {
        var effects: [ControlEffect] = []
        for w in snapshot.workers.indices where snapshot.workers[w].status == .ready {
            let plan = policy.modelPlan(worker: w, snapshot: snapshot)
            for p in plan.pendingScaleDown where snapshot.groups[p.group].active { snapshot.groups[p.group].pendingScaleDown = p.count }
            for p in plan.pendingScaleUp where snapshot.groups[p.group].active { snapshot.groups[p.group].pendingScaleUp = p.count }
            for action in plan.actions { execute(action, now: now, into: &effects) }
        }
        return journaled(effects, now: now)
    }

    mutating func execute(_ action: ModelAction, now: SimTime, into effects: inout [ControlEffect]) {
        switch action {
        case .addReplicas(let g, let count):
            guard snapshot.groups[g].active else { return }
            for _ in 0..<max(0, count) {
                beginLoad(group: g, now: now)
                effects.append(.startReplica(group: g, variant: snapshot.groups[g].variant, worker: snapshot.groups[g].worker, placement: false))
            }
        case .removeReplica(let g):
            guard snapshot.groups[g].active else { return }
            if mayRemoveReplica(group: g) {
                effects.append(.stopReplica(group: g, variant: snapshot.groups[g].variant, worker: snapshot.groups[g].worker))
            } else {
                removalFailed(group: g)
            }
        case .load(let v, let w):
            guard snapshot.workers[w].status == .ready else { return }
            let g = snapshot.ensureGroup(variant: v, worker: w)
            guard snapshot.groups[g].replicas == 0, snapshot.groups[g].loading == 0 else { return }
            beginLoad(group: g, now: now)
            effects.append(.startReplica(group: g, variant: v, worker: w, placement: false))
        }
    }

    // MARK: Static deployments

    /// The application index of a query stream with `query`'s objectives, learning it (and
    /// placing its static deployment, if the policy has one) when new. The simulator declares
    /// its applications up front; live, the first query of a stream declares it.
    public mutating func application(for query: PolicyQuery, now: SimTime) -> (index: Int, effects: [ControlEffect]) {
        let key = ApplicationKey(target: query.target, batch: query.batch, sloMs: query.sloMs, minAccuracy: query.minAccuracy)
        if let known = applicationIndex[key] { return (known, []) }
        return declare(query, key: key, now: now)
    }

    /// Declares the applications of an experiment, in order (their indices are their positions),
    /// and places their static deployments.
    public mutating func declareApplications(_ queries: [PolicyQuery], now: SimTime) -> [ControlEffect] {
        var effects: [ControlEffect] = []
        for query in queries {
            let key = ApplicationKey(target: query.target, batch: query.batch, sloMs: query.sloMs, minAccuracy: query.minAccuracy)
            effects += declare(query, key: key, now: now).effects
        }
        return effects
    }

    mutating func declare(_ query: PolicyQuery, key: ApplicationKey, now: SimTime) -> (index: Int, effects: [ControlEffect]) {
        let index = applications.count
        var query = query
        query.application = index
        applications.append(query)
        if applicationIndex[key] == nil { applicationIndex[key] = index }
        var effects: [ControlEffect] = []
        for replica in policy.placement(for: index, query: query, snapshot: snapshot, state: &master) {
            let g = snapshot.ensureGroup(variant: replica.variant, worker: replica.worker)
            beginLoad(group: g, now: now)
            effects.append(.startReplica(group: g, variant: replica.variant, worker: replica.worker, placement: true))
        }
        return (index, journaled(effects, now: now))
    }
}
