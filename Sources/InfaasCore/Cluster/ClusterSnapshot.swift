/// The cluster as policies see it: workers, the replica groups on them, utilisation orders and
/// the scale requests the master has raised. The simulator and the live master keep one up to
/// date and hand it to policies with the current time; policies never read a clock or a socket.
///
/// Variants are catalogue indices; workers and groups are indices into ``workers`` and
/// ``groups`` (slots are never moved, so indices stay valid; freed group slots are reused).
public struct ClusterSnapshot: Sendable {
    public var workers: [WorkerState] = []
    public var groups: [ReplicaGroup] = []
    private var freeGroups: [Int] = []
    /// Per variant: the active groups hosting it (loading or running).
    public private(set) var variantGroups: [[Int]]
    /// Ready workers by ascending CPU / GPU / Inferentia utilisation (reference
    /// `cpuutil_set`, `gpuutil_set`, `inferentiautil_set`); refreshed by the resource monitor.
    public private(set) var cpuOrder: [Int] = []
    public private(set) var gpuOrder: [Int] = []
    public private(set) var inferentiaOrder: [Int] = []
    /// The master asks the VM autoscaler for one more GPU worker (`vmscale`).
    public var vmScaleRequested = false
    /// The master asks for one more slack GPU (`slackscale`).
    public var slackScaleRequested = false
    /// Classes for which a query found no worker with room (ours, beside `vmscale`): the VM
    /// autoscaler adds a worker of such a class as it does for `vmscale`.
    public var capacityShortage: Set<HardwareClass> = []

    public init(variantCount: Int) {
        variantGroups = Array(repeating: [], count: variantCount)
    }

    // MARK: Workers

    /// Adds a worker and returns its index.
    @discardableResult
    public mutating func addWorker(_ worker: WorkerState) -> Int {
        var worker = worker
        worker.id = workers.count
        workers.append(worker)
        refreshUtilizationOrder()
        return worker.id
    }

    /// Workers of a class that are booting or ready.
    public func liveWorkerCount(_ hardware: HardwareClass) -> Int {
        workers.reduce(0) { $0 + ($1.hardware == hardware && $1.status != .gone ? 1 : 0) }
    }

    /// Ready slack GPU workers (reference §3.6); refreshed with the utilisation orders.
    public private(set) var slackWorkers = 0

    /// Re-sorts the utilisation orders (ties by worker index, so the order is deterministic).
    public mutating func refreshUtilizationOrder() {
        let ready = workers.indices.filter { workers[$0].status == .ready }
        slackWorkers = ready.reduce(0) { $0 + (workers[$1].isSlack ? 1 : 0) }
        cpuOrder = ready.sorted { (workers[$0].cpuUtilization, $0) < (workers[$1].cpuUtilization, $1) }
        gpuOrder = ready.sorted { (workers[$0].gpuUtilization, $0) < (workers[$1].gpuUtilization, $1) }
        inferentiaOrder = ready.sorted { (workers[$0].inferentiaUtilization, $0) < (workers[$1].inferentiaUtilization, $1) }
    }

    // MARK: Replica groups

    /// The group of `variant` on `worker`, if any.
    @inlinable
    public func group(variant: Int, worker: Int) -> Int? {
        for g in workers[worker].groups where groups[g].variant == variant { return g }
        return nil
    }

    /// The group of `variant` on `worker`, created empty if missing.
    public mutating func ensureGroup(variant: Int, worker: Int) -> Int {
        if let g = group(variant: variant, worker: worker) { return g }
        let fresh = ReplicaGroup(variant: variant, worker: worker)
        let index: Int
        if let reused = freeGroups.popLast() {
            groups[reused] = fresh
            index = reused
        } else {
            groups.append(fresh)
            index = groups.count - 1
        }
        workers[worker].groups.append(index)
        variantGroups[variant].append(index)
        return index
    }

    /// Removes an (unloaded) group.
    public mutating func removeGroup(_ g: Int) {
        let group = groups[g]
        guard group.active else { return }
        workers[group.worker].groups.removeAll { $0 == g }
        variantGroups[group.variant].removeAll { $0 == g }
        groups[g].active = false
        freeGroups.append(g)
    }

    /// Whether `variant` has a serving replica anywhere (`is_model_running`).
    @inlinable
    public func isRunning(_ variant: Int) -> Bool {
        for g in variantGroups[variant] where groups[g].isRunning && workers[groups[g].worker].status == .ready { return true }
        return false
    }

    /// The running group of `variant` with the lowest QPS (`min_qps_name(v, 1)`), ties by
    /// worker index; only groups on ready workers count.
    @inlinable
    public func lowestQPSGroup(of variant: Int) -> Int? {
        var best: Int? = nil
        for g in variantGroups[variant] where groups[g].isRunning && workers[groups[g].worker].status == .ready {
            if let b = best {
                if (groups[g].qps, groups[g].worker) < (groups[b].qps, groups[b].worker) { best = g }
            } else {
                best = g
            }
        }
        return best
    }
}

extension ClusterSnapshot {
    /// Grows the per-variant index after variants were appended to the catalogue (live mode:
    /// a registration while the cluster runs). Existing variant ids keep their meaning.
    public mutating func growVariants(to count: Int) {
        while variantGroups.count < count { variantGroups.append([]) }
    }
}
