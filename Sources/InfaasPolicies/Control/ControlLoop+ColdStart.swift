public import InfaasCore

extension ControlLoop {
    // MARK: Scale to zero: queries held while a worker boots (both faces)

    /// Routes a query, holding it (up to `cold_start_buffer`) instead of refusing it when no
    /// worker that could serve it is ready but one is booting, or its class was scaled to zero
    /// (`min_workers_* = 0`): then a worker of that class is launched (woken). The face keeps
    /// `token` and, when ``releaseHeld(now:)`` hands it back, sends the query on or answers it.
    /// With `cold_start_buffer` 0 this is ``route(_:now:)``.
    public mutating func routeOrHold(_ query: PolicyQuery, token: UInt64, deadline: SimTime?, now: SimTime)
        -> (outcome: HoldOutcome, effects: [ControlEffect]) {
        let (result, want) = decide(query, now: now)
        switch result {
        case .success(let routed): return (.routed(routed), [])
        case .failure(let reason):
            guard config.coldStartBuffer > 0, let wake = wakePlan(for: reason, want: want) else {
                journal?.append(.rejected(time: now, reason: reason))
                return (.rejected(reason), [])
            }
            guard held.count < config.coldStartBuffer else {
                journal?.append(.rejected(time: now, reason: .queueFull))
                return (.rejected(.queueFull), [])
            }
            held.append(HeldQuery(token: token, query: query, arrival: now, deadline: deadline))
            journal?.append(.held(time: now))
            return (.held, wake(&self, now))
        }
    }

    /// Hands back every held query that can be decided now, in arrival order: past its deadline
    /// (`deadline-exceeded`), routed to a worker that became ready, or refused for a reason
    /// booting cannot cure. Queries still waiting for a booting worker stay held; a wake-up
    /// whose launch failed is retried (after the launch back-off). Both faces call it when a
    /// worker becomes ready and at each VM tick.
    public mutating func releaseHeld(now: SimTime) -> (released: [(held: HeldQuery, outcome: HoldOutcome)], effects: [ControlEffect]) {
        guard !held.isEmpty else { return ([], []) }
        let waiting = held
        held = []
        var released: [(held: HeldQuery, outcome: HoldOutcome)] = []
        var effects: [ControlEffect] = []
        for h in waiting {
            if let deadline = h.deadline, now > deadline {
                released.append((h, .rejected(.deadlineExceeded)))
                continue
            }
            let (result, want) = decide(h.query, now: now)
            switch result {
            case .success(let routed): released.append((h, .routed(routed)))
            case .failure(let reason):
                if let wake = wakePlan(for: reason, want: want) {
                    held.append(h)
                    effects += wake(&self, now)
                } else {
                    journal?.append(.rejected(time: now, reason: reason))
                    released.append((h, .rejected(reason)))
                }
            }
        }
        return (released, effects)
    }

    /// The earliest deadline among the held queries (the simulator schedules a release there).
    public var earliestHeldDeadline: SimTime? { held.compactMap(\.deadline).min() }

    /// Whether a refusal for `reason` may wait for a worker, and what to do meanwhile: nothing
    /// when a worker that could serve is booting, a launch of the class when it was scaled to
    /// zero, nil when booting cannot help (refuse now).
    func wakePlan(for reason: RejectReason, want: HardwareClass?) -> ((inout ControlLoop, SimTime) -> [ControlEffect])? {
        let limits = policy.limits
        let candidates: [HardwareClass]
        switch reason {
        case .noWorkers: candidates = HardwareClass.allCases
        case .needsAccelerator, .noCapacity:
            guard let want else { return nil }
            candidates = [want]
        default: return nil
        }
        if candidates.contains(where: { h in snapshot.workers.contains { $0.status == .booting && $0.hardware == h } }) {
            return { _, _ in [] }
        }
        // Only a class at zero may be woken: a full class is the VM autoscaler's to grow.
        guard let wake = candidates.first(where: { config.minWorkers($0) == 0 && snapshot.liveWorkerCount($0) == 0 && limits.maximum($0) > 0 })
        else { return nil }
        return { loop, now in
            guard now >= loop.nextLaunchAllowed else { return [] }
            loop.workersWoken += 1
            return loop.journaled([loop.launch(wake, slack: false, now: now)], now: now)
        }
    }
}
