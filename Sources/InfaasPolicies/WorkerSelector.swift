public import InfaasCore

/// Chooses the worker for a query's variant (reference §3.5–3.7) and applies the master's
/// per-worker overload guard.
///
/// Fixes and additions, noted where they apply:
/// * Cold placement considers only workers with room for the variant (cores, accelerator
///   memory, NeuronCores) or that are already loading it; the original placed blindly and let
///   the worker overcommit. With no room anywhere the query is rejected (`no-capacity`) and the
///   VM autoscaler is asked for a worker of that class.
/// * Round-robin modes only consider workers that can host the variant's hardware.
/// * The Inferentia case of the CPU walk skips non-Inferentia workers (the original only
///   checked the GPU case).
public struct WorkerSelector: Sendable {
    public let catalogue: PolicyCatalogue
    public let config: PolicyConfig

    public init(catalogue: PolicyCatalogue, config: PolicyConfig) {
        self.catalogue = catalogue
        self.config = config
    }

    /// Routes `choice` to a worker at `now`.
    public func route(_ choice: VariantChoice, snapshot: ClusterSnapshot, now: SimTime, state: inout MasterState) -> RouteResult {
        state.ensureWorkers(snapshot.workers.count)
        let v = choice.variant
        var picked: Int? = nil
        var assignExclusive = false
        var slackScale = false
        let mode = config.decisionMode
        if mode.isRoundRobin {
            picked = roundRobin(v, snapshot: snapshot, state: &state)
        } else {
            // §3.6 only matters while some worker is a slack GPU (none unless configured or requested).
            if catalogue.hardware[v] == .gpu, snapshot.slackWorkers > 0 || state.exclusiveWorker[v] >= 0 {
                (picked, assignExclusive, slackScale) = exclusivity(v, snapshot: snapshot, now: now, state: &state)
            }
            if picked == nil, choice.running { picked = runningWorker(v, snapshot: snapshot, now: now, state: &state) }
            if picked == nil, !config.loadOnDemand {
                // Only replicas placed up front serve; one still loading is followed.
                guard let w = loadingWorker(of: v, besides: -1, snapshot: snapshot, now: now) else { return .reject(.noCapacity, wantWorker: nil) }
                picked = w
            }
            if picked == nil {
                switch coldWorker(v, snapshot: snapshot, state: &state) {
                case .success(let w): picked = w
                case .failure(let reason):
                    let want: HardwareClass? = reason == .noCapacity || reason == .needsAccelerator ? catalogue.hardware[v] : nil
                    return .reject(reason, wantWorker: want)
                }
            }
        }
        guard var w = picked else {
            return .reject(snapshot.workers.contains { $0.status == .ready } ? .needsAccelerator : .noWorkers,
                           wantWorker: catalogue.hardware[v] == .cpu ? nil : catalogue.hardware[v])
        }
        let needsLoad = !runningOn(v, w, snapshot)
        // A loading replica is not running, so a cold placement would start a second load on
        // another worker; a query for a variant whose load is under way follows that load.
        if needsLoad, !assignExclusive, let loading = loadingWorker(of: v, besides: w, snapshot: snapshot, now: now) { w = loading }
        var decision = RouteDecision(variant: v, worker: w, needsLoad: needsLoad, requestVMScale: choice.requestVMScale,
                                     requestSlackScale: slackScale, assignExclusive: assignExclusive)
        if config.workerGuardEnabled { overloadGuard(w, snapshot: snapshot, now: now, state: &state, decision: &decision) }
        return .route(decision)
    }

    /// A ready, not blacklisted worker other than `w` that is loading `v`, when `w` itself is not.
    func loadingWorker(of v: Int, besides w: Int, snapshot: ClusterSnapshot, now: SimTime) -> Int? {
        if w >= 0, let g = snapshot.group(variant: v, worker: w), snapshot.groups[g].loading > 0 { return nil }
        // The lowest-numbered such worker: the choice must not depend on the order groups were
        // created in (the live master learns some from reports, the simulator creates them).
        var best: Int? = nil
        for g in snapshot.variantGroups[v] where snapshot.groups[g].loading > 0 && snapshot.groups[g].worker != w {
            let worker = snapshot.workers[snapshot.groups[g].worker]
            if worker.status == .ready, config.ignoreBlacklists || worker.blacklistedUntil <= now, best.map({ worker.id < $0 }) ?? true { best = worker.id }
        }
        return best
    }

    func runningOn(_ v: Int, _ w: Int, _ snapshot: ClusterSnapshot) -> Bool {
        snapshot.group(variant: v, worker: w).map { snapshot.groups[$0].isRunning } ?? false
    }

    /// Whether `w` has room to load `v` (or is loading it already).
    public func hasRoom(_ v: Int, on w: Int, _ snapshot: ClusterSnapshot) -> Bool {
        // Fields read in place: a copy of the worker would retain and release its members (a
        // hot path: every cold routing decision asks it of each candidate).
        guard snapshot.workers[w].canHost(catalogue.hardware[v]) else { return false }
        if let g = snapshot.group(variant: v, worker: w), snapshot.groups[g].loading > 0 || snapshot.groups[g].replicas > 0 { return true }
        switch catalogue.hardware[v] {
        case .cpu: return snapshot.workers[w].usedCores + catalogue.cpus[v] <= snapshot.workers[w].cores
        case .gpu: return snapshot.workers[w].usedAcceleratorMemoryMB + catalogue.memoryMB[v] <= snapshot.workers[w].acceleratorMemoryMB
        case .inferentia: return snapshot.workers[w].usedNeuronCores + catalogue.neuronCores[v] <= snapshot.workers[w].neuronCores
        }
    }

    // MARK: §3.6 exclusive slack GPUs

    func exclusivity(_ v: Int, snapshot: ClusterSnapshot, now: SimTime, state: inout MasterState) -> (Int?, Bool, Bool) {
        defer { state.popularityLast[v] = now }
        guard let last = state.popularityLast[v] else {
            state.popularityCount[v] = 1
            return (nil, false, false)
        }
        let w = state.exclusiveWorker[v]
        if w >= 0 {
            if snapshot.workers[w].status == .ready { return (w, false, false) }
            state.exclusiveWorker[v] = -1
            state.popularityCount[v] = 0
            return (nil, false, false)
        }
        if (now - last).milliseconds < config.popularityGapMs {
            state.popularityCount[v] += 1
            if state.popularityCount[v] >= config.popularVariantQueries {
                state.popularityCount[v] = 0
                for w in snapshot.gpuOrder.prefix(config.acceleratorCandidateWorkers)
                where snapshot.workers[w].isSlack && snapshot.workers[w].exclusiveVariant == nil && snapshot.workers[w].hardware == .gpu {
                    state.exclusiveWorker[v] = w
                    return (w, true, true)
                }
            }
        } else {
            state.popularityCount[v] = 0
        }
        return (nil, false, false)
    }

    // MARK: §3.5 a worker already running the variant

    func runningWorker(_ v: Int, snapshot: ClusterSnapshot, now: SimTime, state: inout MasterState) -> Int? {
        let k = max(1, config.runningWorkerCandidates)
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: k) { top -> Int? in
            // The k running groups with the lowest QPS (`min_qps_name(v, k)`), by (qps, worker).
            var count = 0
            for g in snapshot.variantGroups[v] where snapshot.groups[g].isRunning && snapshot.workers[snapshot.groups[g].worker].status == .ready {
                let key = (snapshot.groups[g].qps, snapshot.groups[g].worker)
                var position = count
                while position > 0 {
                    let other = snapshot.groups[top[position - 1]]
                    if key < (other.qps, other.worker) { position -= 1 } else { break }
                }
                guard position < k else { continue }
                var i = min(count, k - 1)
                while i > position { top[i] = top[i - 1]; i -= 1 }
                top[position] = g
                count = min(count + 1, k)
            }
            if config.decisionMode.triggersVMScale, count > 1 {
                for i in stride(from: count - 1, to: 0, by: -1) { top.swapAt(i, state.rng.below(i + 1)) }
            }
            for i in 0..<count {
                let g = top[i]
                let w = snapshot.groups[g].worker
                guard snapshot.workers[w].status == .ready, config.ignoreBlacklists || snapshot.workers[w].blacklistedUntil <= now,
                      !snapshot.workers[w].isSlack || snapshot.workers[w].exclusiveVariant == v else { continue }
                if config.decisionMode != .gpuShareTriggerSkipBlacklist, !config.ignoreBlacklists, snapshot.groups[g].blacklisted { continue }
                return w
            }
            return nil
        }
    }

    // MARK: §3.5 a worker for a cold variant

    func coldWorker(_ v: Int, snapshot: ClusterSnapshot, state: inout MasterState) -> Result<Int, RejectReason> {
        let hardware = catalogue.hardware[v]
        let needsGPU = hardware == .gpu, needsInferentia = hardware == .inferentia
        let ready = snapshot.cpuOrder
        guard !ready.isEmpty else { return .failure(.noWorkers) }
        let cpuCandidates = Array(ready.prefix(config.cpuCandidateWorkers))
        var accelerators: [Int] = []
        if needsGPU {
            // At most `cpu_candidate_workers` (15) candidates: a linear scan beats hashing them.
            accelerators = snapshot.gpuOrder.prefix(config.acceleratorCandidateWorkers).filter { cpuCandidates.contains($0) && snapshot.workers[$0].hardware == .gpu }
        } else if needsInferentia {
            accelerators = snapshot.inferentiaOrder.prefix(config.acceleratorCandidateWorkers).filter { snapshot.workers[$0].hardware == .inferentia }
        }
        state.rng.shuffle(&accelerators)
        if (needsGPU || needsInferentia) && !accelerators.isEmpty {
            if let w = accelerators.first(where: { usable(v, on: $0, snapshot) }) { return .success(w) }
            return .failure(.noCapacity)
        }
        if needsGPU || needsInferentia {
            // No accelerator among the candidates: fall back to the full CPU walk, as the original.
            guard ready.contains(where: { snapshot.workers[$0].hardware == hardware }) else { return .failure(.needsAccelerator) }
        }
        var first: Int? = nil
        for w in cpuCandidates where usable(v, on: w, snapshot) {
            if first == nil { first = w }
            if w != state.lastWorkerPicked {
                state.lastWorkerPicked = w
                return .success(w)
            }
        }
        if let first { state.lastWorkerPicked = first; return .success(first) }
        // Beyond the 15 least-utilised workers, any with room.
        if let w = ready.dropFirst(config.cpuCandidateWorkers).first(where: { usable(v, on: $0, snapshot) }) { return .success(w) }
        return .failure(.noCapacity)
    }

    /// Whether `w` may take a cold load of `v`: it can host the hardware, is not a slack GPU kept
    /// for another variant, and has room. (A method, not a closure over the snapshot: the
    /// closure copied each worker it read.)
    func usable(_ v: Int, on w: Int, _ snapshot: ClusterSnapshot) -> Bool {
        snapshot.workers[w].canHost(catalogue.hardware[v]) && !(snapshot.workers[w].isSlack && snapshot.workers[w].exclusiveVariant != v)
            && hasRoom(v, on: w, snapshot)
    }

    // MARK: §3.2 round-robin modes

    func roundRobin(_ v: Int, snapshot: ClusterSnapshot, state: inout MasterState) -> Int? {
        let hardware = catalogue.hardware[v]
        let hosts = snapshot.workers.indices.filter { snapshot.workers[$0].status == .ready && snapshot.workers[$0].canHost(hardware) }
        guard !hosts.isEmpty else { return nil }
        switch config.decisionMode {
        case .roundRobin:
            defer { state.roundRobinCursor += 1 }
            return hosts[state.roundRobinCursor % hosts.count]
        default:
            if let w = state.stickyWorker[v], snapshot.workers[w].status == .ready {
                var keep = true
                if config.decisionMode == .roundRobinDynamic, let g = snapshot.group(variant: v, worker: w) {
                    keep = !snapshot.groups[g].blacklisted && snapshot.groups[g].replicas + snapshot.groups[g].loading > 0
                }
                if keep { return w }
            }
            let sameClass = hosts.filter { snapshot.workers[$0].hardware == hardware }
            let pool = sameClass.isEmpty ? hosts : sameClass
            let cursor = state.roundRobinCursorByHardware[hardware, default: 0]
            state.roundRobinCursorByHardware[hardware] = cursor + 1
            let w = pool[cursor % pool.count]
            state.stickyWorker[v] = w
            return w
        }
    }

    // MARK: §3.7 per-worker overload guard

    func overloadGuard(_ w: Int, snapshot: ClusterSnapshot, now: SimTime, state: inout MasterState, decision: inout RouteDecision) {
        guard let start = state.guardWindowStart[w] else {
            state.guardWindowStart[w] = now
            state.guardCount[w] = 1
            return
        }
        if (now - start).milliseconds < config.workerGuardWindowMs {
            state.guardCount[w] += 1
            if state.guardCount[w] >= config.workerGuardQueries {
                if config.decisionMode == .roundRobinDynamic { decision.requestVMScale = true }
                state.guardWindowStart[w] = now
                state.guardCount[w] = 0
                let readyCount = snapshot.workers.reduce(0) { $0 + ($1.status == .ready ? 1 : 0) }
                if readyCount > 1, snapshot.workers[w].hardware != .inferentia { decision.blacklistWorker = w }
            }
        } else {
            state.guardWindowStart[w] = now
            state.guardCount[w] = 0
        }
    }
}
