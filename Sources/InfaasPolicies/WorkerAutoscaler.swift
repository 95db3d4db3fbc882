public import InfaasCore

/// Worker counts per hardware class: the floor (initial workers, never scaled below) and
/// the ceiling.
public struct ClusterLimits: Hashable, Sendable {
    public var initial: [HardwareClass: Int]
    public var maximum: [HardwareClass: Int]

    public init(initial: [HardwareClass: Int] = [.cpu: 1], maximum: [HardwareClass: Int] = [.cpu: 1]) {
        self.initial = initial
        self.maximum = maximum
    }

    public func initial(_ hardware: HardwareClass) -> Int { initial[hardware] ?? 0 }
    public func maximum(_ hardware: HardwareClass) -> Int { maximum[hardware] ?? 0 }

    /// Checks that each class's initial count is within 0…max and that some worker can exist.
    public func validate() throws(ValidationError) {
        for hardware in HardwareClass.allCases {
            let lo = initial(hardware), hi = maximum(hardware)
            guard lo >= 0, hi >= 0 else {
                throw ValidationError(field: "workers.\(hardware.shortName)", value: "\(lo)…\(hi)", reason: "counts cannot be negative")
            }
            guard lo <= hi else {
                throw ValidationError(field: "max_workers.\(hardware.shortName)", value: String(hi), reason: "is below the initial \(lo)")
            }
            // Bounded: the policies' per-tick work grows with the workers (100,000 initial once ran
            // for minutes).
            guard hi <= InputLimits.maxWorkers else {
                throw ValidationError(field: "max_workers.\(hardware.shortName)", value: String(hi), reason: "must be in 0…\(InputLimits.maxWorkers)")
            }
        }
        guard HardwareClass.allCases.contains(where: { maximum($0) > 0 }) else {
            throw ValidationError(field: "max_workers", value: "0", reason: "no worker of any class may run; allow at least one (e.g. cpu=1)")
        }
    }
}

/// The VM autoscaler's memory between iterations (back-off and scale-in counters).
public struct WorkerAutoscalerState: Hashable, Sendable {
    /// Iterations since the last scaling action; `backoffIterations` = not backing off.
    public var backoff: Int
    /// Consecutive iterations that met a scale-in condition.
    public var scaleInCounter = 0
    /// Per class scaled to zero (`min_workers_* = 0`): consecutive iterations its last worker was idle.
    public var lastWorkerIdle: [HardwareClass: Int] = [:]

    public init(config: PolicyConfig) { backoff = config.backoffIterations }
}

/// What one VM-autoscaler iteration decided.
public struct WorkerScalingDecision: Hashable, Sendable {
    /// Launch a worker of this class (slack: reserve it as a slack GPU).
    public var launch: (hardware: HardwareClass, slack: Bool)?
    /// Retire this worker.
    public var retire: Int?
    /// Blacklist these workers for the TTL (utilisation above the blacklist threshold).
    public var blacklist: [Int] = []
    /// Clear the `vmscale` / `slackscale` / capacity requests (back-off over).
    public var clearScaleRequests = false

    public static func == (a: Self, b: Self) -> Bool {
        a.launch?.hardware == b.launch?.hardware && a.launch?.slack == b.launch?.slack && a.retire == b.retire
            && a.blacklist == b.blacklist && a.clearScaleRequests == b.clearScaleRequests
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(launch?.hardware)
        hasher.combine(retire)
        hasher.combine(blacklist)
    }
}

/// The VM-level autoscaler (reference §4.3), run every `vmIntervalMs`.
///
/// Fixes of reference §8 item 10: the class chosen for a scale-out is checked against its own
/// maximum (the original could add a CPU worker past `MAX_CPU_WORKERS`); CPU-only workers can be
/// scaled in (``PolicyConfig/scaleInCPUWorkers``); a failed launch does not stop the autoscaler.
/// Workers still booting count toward their class, so a slow boot does not trigger duplicates.
public struct WorkerAutoscaler: Sendable {
    public let config: PolicyConfig
    public let limits: ClusterLimits

    public init(config: PolicyConfig, limits: ClusterLimits) {
        self.config = config
        self.limits = limits
    }

    public func decide(snapshot: ClusterSnapshot, state: inout WorkerAutoscalerState) -> WorkerScalingDecision {
        var decision = WorkerScalingDecision()
        let ready = snapshot.workers.filter { $0.status == .ready }
        // Step 1: blacklist hot workers; averages.
        for w in ready {
            if w.cpuUtilization > config.blacklistUtilization { decision.blacklist.append(w.id) }
            else if w.gpuUtilization > config.blacklistUtilization && w.gpuUtilization < 100 { decision.blacklist.append(w.id) }
        }
        func average(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count) }
        let avgCPU = average(ready.map(\.cpuUtilization))
        let avgGPU = average(ready.map(\.gpuUtilization).filter { $0 < 100 })
        let avgInf = average(ready.map(\.inferentiaUtilization).filter { $0 < 100 })
        // Step 2: scale, unless backing off.
        if state.backoff >= config.backoffIterations, !ready.isEmpty {
            let minGPU = ready.map(\.gpuUtilization).min() ?? 101
            let minCPU = ready.map(\.cpuUtilization).min() ?? 0
            let minScaleOutCPU = config.cpuScaleOutBasis == .allWorkers ? minCPU
                : (ready.filter { $0.hardware == .cpu }.map(\.cpuUtilization).min() ?? 0)
            let minInf = ready.map(\.inferentiaUtilization).min() ?? 101
            func count(_ h: HardwareClass) -> Int { snapshot.liveWorkerCount(h) }
            func room(_ h: HardwareClass) -> Bool { count(h) < limits.maximum(h) }
            let threshold = config.utilizationThreshold
            let cpuHot = minScaleOutCPU > threshold && room(.cpu)
            let infHot = minInf > config.inferentiaUtilizationThreshold && minInf < 100 && room(.inferentia)
            let gpuHot = minGPU > threshold && minGPU < 100 && room(.gpu)
            // A class short of capacity with a worker already booting is being answered: the
            // queries refused while it boots (a woken class's, say) must not launch a second.
            func short(_ h: HardwareClass) -> Bool {
                snapshot.capacityShortage.contains(h) && !snapshot.workers.contains { $0.hardware == h && $0.status == .booting }
            }
            let gpuWanted = (snapshot.vmScaleRequested || snapshot.slackScaleRequested || short(.gpu)) && room(.gpu)
            let cpuShort = short(.cpu) && room(.cpu)
            let infShort = short(.inferentia) && room(.inferentia)
            // Fix of reference §4.3: a scale request for a class already at its maximum can never
            // be acted on, and (as the flag is cleared only after a scaling action) it blocked
            // scale-in for good once the cluster reached its ceiling. Such requests are dropped.
            let gpuRequested = snapshot.vmScaleRequested || snapshot.slackScaleRequested || snapshot.capacityShortage.contains(.gpu)
            let unactionable = (gpuRequested && !room(.gpu)) || (snapshot.capacityShortage.contains(.cpu) && !room(.cpu))
                || (snapshot.capacityShortage.contains(.inferentia) && !room(.inferentia))
            let pendingRequests = gpuWanted || cpuShort || infShort
            if cpuHot || infHot || gpuHot || gpuWanted || cpuShort || infShort {
                let hardware: HardwareClass = cpuHot || (cpuShort && !infHot && !gpuHot && !gpuWanted) ? .cpu
                    : (infHot || (infShort && !gpuHot && !gpuWanted) ? .inferentia : .gpu)
                decision.launch = (hardware, hardware == .gpu && snapshot.slackScaleRequested)
                state.backoff = 0
                state.scaleInCounter = 0
            } else if !pendingRequests, !(snapshot.vmScaleRequested && room(.gpu)),
                      (minGPU <= config.scaleInMinGPU && minCPU <= config.scaleInMinCPU)
                        || (avgGPU <= config.scaleInAverageGPU && avgCPU <= config.scaleInAverageCPU)
                        || (avgInf <= config.scaleInAverageInferentia && avgCPU <= config.scaleInAverageCPU) {
                state.scaleInCounter += 1
                if state.scaleInCounter >= config.scaleInIterations {
                    state.scaleInCounter = 0
                    if let victim = scaleInVictim(snapshot: snapshot, ready: ready) {
                        decision.retire = victim
                        state.backoff = 0
                    }
                }
            } else {
                state.scaleInCounter = 0
            }
            if unactionable, decision.launch == nil { decision.clearScaleRequests = true }
        }
        // Scale to zero (ours): the last worker of a class that may have none goes once idle.
        if decision.launch == nil, decision.retire == nil { decision.retire = lastIdleWorker(snapshot: snapshot, state: &state) }
        // Step 3: back-off.
        if state.backoff < config.backoffIterations {
            state.backoff += 1
            if state.backoff == config.backoffIterations { decision.clearScaleRequests = true }
        }
        return decision
    }

    /// The worker scale-in removes. Fix of reference §4.3: the reference took the worker with the
    /// lowest CPU utilisation and removed a GPU only if that worker was among the 3 least-used GPUs,
    /// so an idle CPU worker at its floor blocked GPU scale-in for good (GPUs launched for a peak
    /// were never returned). Here the lowest-CPU worker is taken among those that may go (their
    /// class above its initial count, not a slack GPU), then the least-used of its class goes.
    func scaleInVictim(snapshot: ClusterSnapshot, ready: [WorkerState]) -> Int? {
        let minimumWorkers = HardwareClass.allCases.reduce(0) { $0 + scaleInFloor($1) }
        guard ready.count > minimumWorkers else { return nil }
        func removable(_ w: WorkerState) -> Bool {
            snapshot.liveWorkerCount(w.hardware) > scaleInFloor(w.hardware) && !w.isSlack
                && (w.hardware != .cpu || config.scaleInCPUWorkers)
        }
        guard let coolest = snapshot.cpuOrder.first(where: { removable(snapshot.workers[$0]) }) else { return nil }
        switch snapshot.workers[coolest].hardware {
        case .gpu: return snapshot.gpuOrder.first { snapshot.workers[$0].hardware == .gpu && removable(snapshot.workers[$0]) }
        case .inferentia: return snapshot.inferentiaOrder.first { snapshot.workers[$0].hardware == .inferentia && removable(snapshot.workers[$0]) }
        case .cpu: return coolest
        }
    }

    /// The count load-driven scale-in stops at: `min_workers_*` when set (at least 1: the last
    /// worker goes by ``lastIdleWorker(snapshot:state:)``), else the initial count.
    func scaleInFloor(_ hardware: HardwareClass) -> Int {
        config.minWorkers(hardware).map { max(1, $0) } ?? limits.initial(hardware)
    }

    /// The last worker of a class with `min_workers_* = 0` that has been idle (ready, nothing
    /// loading or outstanding, no query counted by the monitor) for `last_worker_idle_iterations`
    /// in a row; any activity restarts the count.
    func lastIdleWorker(snapshot: ClusterSnapshot, state: inout WorkerAutoscalerState) -> Int? {
        var victim: Int? = nil
        for hardware in HardwareClass.allCases where config.minWorkers(hardware) == 0 {
            let live = snapshot.workers.indices.filter { snapshot.workers[$0].status != .gone && snapshot.workers[$0].hardware == hardware }
            guard live.count == 1, let w = live.first, snapshot.workers[w].status == .ready, !snapshot.workers[w].isSlack,
                  snapshot.workers[w].groups.allSatisfy({ g in
                      let group = snapshot.groups[g]
                      return group.outstanding == 0 && group.loading == 0 && group.qps == 0
                  }) else {
                state.lastWorkerIdle[hardware] = nil
                continue
            }
            let idle = state.lastWorkerIdle[hardware, default: 0] + 1
            if idle >= config.lastWorkerIdleLimit, victim == nil {
                victim = w
                state.lastWorkerIdle[hardware] = nil
            } else {
                state.lastWorkerIdle[hardware] = idle
            }
        }
        return victim
    }
}
