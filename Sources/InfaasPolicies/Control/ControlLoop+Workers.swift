public import InfaasCore

extension ControlLoop {
    // MARK: Workers

    /// Adds a worker to the snapshot and returns its index.
    @discardableResult
    public mutating func addWorker(_ worker: WorkerState) -> Int {
        let w = snapshot.addWorker(worker)
        workerIndex[worker.name] = w
        return w
    }

    /// A worker of `hardware` as the machine catalogue describes it, named `name`.
    public func machineWorker(_ hardware: HardwareClass, name: String, status: WorkerStatus, now: SimTime, slack: Bool) -> WorkerState {
        let machine = policy.machines[hardware]
        return WorkerState(id: 0, name: name, hardware: hardware, status: status, startedAt: now, cores: machine.vcpus,
                           acceleratorMemoryMB: machine.acceleratorMemoryMB, neuronCores: machine.neuronCores, isSlack: slack)
    }

    /// The index of the worker named `name`.
    public func worker(named name: String) -> Int? { workerIndex[name] }

    /// A name for the next worker of a class (`infaas-worker-cpu-3`), unique in this loop's life.
    public mutating func nextWorkerName(_ hardware: HardwareClass) -> String {
        var i = launchCounter[hardware, default: 0]
        while workerIndex["infaas-worker-\(hardware.shortName)-\(i)"] != nil { i += 1 }
        launchCounter[hardware] = i + 1
        return "infaas-worker-\(hardware.shortName)-\(i)"
    }

    /// A booting worker is ready (its boot time passed; live: its first report). A launched
    /// worker becoming ready ends a run of failed launches, and answers the capacity shortage
    /// of its class recorded while it booted (queries refused for want of it): only a shortage
    /// seen once it serves asks the VM autoscaler for another.
    public mutating func workerReady(_ w: Int) {
        rejoinDeadlines[w] = nil
        guard snapshot.workers[w].status == .booting else { return }
        snapshot.workers[w].status = .ready
        snapshot.capacityShortage.remove(snapshot.workers[w].hardware)
        launchFailures = 0
        nextLaunchAllowed = .zero
        snapshot.refreshUtilizationOrder()
    }

    /// A worker is gone (retired, vanished, or its launch failed): never chosen again.
    public mutating func workerGone(_ w: Int) {
        rejoinDeadlines[w] = nil
        guard snapshot.workers[w].status != .gone else { return }
        snapshot.workers[w].status = .gone
        for g in snapshot.workers[w].groups { pendingLoads[g] = nil }
        snapshot.refreshUtilizationOrder()
    }

    /// A launch failed: the worker is gone and the next launch waits (``launchBackoff(afterFailures:)``).
    public mutating func launchFailed(worker w: Int, now: SimTime) {
        workerGone(w)
        launchFailures += 1
        nextLaunchAllowed = SimTime.seconds(now.seconds + Self.launchBackoff(afterFailures: launchFailures))
    }

    /// Seconds to wait after `failures` failed launches in a row: 2, 4, 8, … capped at 60.
    public static func launchBackoff(afterFailures failures: Int) -> Double {
        min(60, 2 * Double(1 << min(6, max(0, failures - 1))))
    }

    /// Adds a booting worker of `hardware` under the next name and returns the effect that
    /// launches it (the ticks call this; a face may too, to start a worker by hand).
    public mutating func launch(_ hardware: HardwareClass, slack: Bool, now: SimTime) -> ControlEffect {
        let name = nextWorkerName(hardware)
        let w = addWorker(machineWorker(hardware, name: name, status: .booting, now: now, slack: slack))
        launched += 1
        return .launchWorker(worker: w, name: name, hardware: hardware, slack: slack)
    }

    // MARK: Workers known before a restart

    /// A worker the cluster ran before this loop started (a restarted live master reads them
    /// from its persisted cluster state) is expected back: it is added booting under its own
    /// name, so it counts toward its class when lost workers are replaced and the VM autoscaler
    /// sees it coming, until it re-joins (``workerReady(_:)``) or `rejoin_grace_s` passes
    /// (``expireRejoins(now:)``). Without this a master that was down for a while launched a
    /// duplicate 2 s after it started although the old worker re-joined 3 s later. Returns the
    /// worker's index (an existing live worker of that name is left as it is).
    @discardableResult
    public mutating func expectRejoin(name: String, hardware: HardwareClass, now: SimTime) -> Int {
        if let w = worker(named: name), snapshot.workers[w].status != .gone { return w }
        let w = addWorker(machineWorker(hardware, name: name, status: .booting, now: now, slack: false))
        rejoinDeadlines[w] = SimTime.seconds(now.seconds + config.rejoinGraceS)
        return w
    }

    /// Expected workers that did not re-join by their deadline are gone (then replaced up to
    /// the floor like any lost worker). Returns them. The ticks that launch call this first.
    @discardableResult
    public mutating func expireRejoins(now: SimTime) -> [Int] {
        let overdue = rejoinDeadlines.filter { now >= $0.value }.keys.sorted()
        for w in overdue where snapshot.workers[w].status == .booting { workerGone(w) }
        for w in overdue { rejoinDeadlines[w] = nil }
        return overdue
    }

    // MARK: §4.3 the VM autoscaler

    /// One VM-autoscaler iteration: the policy's decision, its bookkeeping, and the launch or
    /// retirement it asks for (a launch waits out the failed-launch back-off).
    public mutating func vmTick(now: SimTime) -> [ControlEffect] {
        expireRejoins(now: now)
        var effects: [ControlEffect] = []
        let decision = policy.workerDecision(snapshot: snapshot, state: &vmState)
        snapshot.applyBookkeeping(of: decision, now: now, config: config)
        if let launch = decision.launch, now >= nextLaunchAllowed {
            effects.append(self.launch(launch.hardware, slack: launch.slack, now: now))
        }
        if let w = decision.retire, snapshot.workers[w].status != .gone {
            workerGone(w)
            retired += 1
            effects.append(.retireWorker(worker: w, name: snapshot.workers[w].name, reason: "scale-in"))
        }
        return journaled(effects, now: now)
    }

    /// Lost workers are replaced up to each class's floor (the reference assumed workers never
    /// die); the first `slackGPUs` GPU workers are slack GPUs (reference §3.6). Nothing happens
    /// while a failed launch backs off.
    /// `floor`: the counts to keep (default: the policy's initial workers; `min_workers_*` overrides).
    public mutating func replaceLostWorkers(now: SimTime, floor: [HardwareClass: Int]? = nil, slackGPUs: Int = 0) -> [ControlEffect] {
        expireRejoins(now: now)
        guard now >= nextLaunchAllowed else { return [] }
        var effects: [ControlEffect] = []
        let limits = policy.limits
        for hardware in HardwareClass.allCases {
            // `min_workers_*`, when set, is the floor: a class scaled to zero is woken by a query.
            let want = min(config.minWorkers(hardware) ?? floor?[hardware] ?? limits.initial(hardware), limits.maximum(hardware))
            var have = snapshot.liveWorkerCount(hardware)
            var slack = snapshot.workers.count { $0.status != .gone && $0.hardware == .gpu && $0.isSlack }
            while have < want {
                let asSlack = hardware == .gpu && slack < slackGPUs
                effects.append(launch(hardware, slack: asSlack, now: now))
                if asSlack { slack += 1 }
                have += 1
            }
        }
        return journaled(effects, now: now)
    }
}
