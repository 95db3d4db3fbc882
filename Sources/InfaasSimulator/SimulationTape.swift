public import InfaasCore
public import InfaasPolicies

/// What the simulated world showed the control loop, in order, when
/// ``SimulationOptions/recordDecisions`` is set: the inputs a live master and live workers
/// would have received (queries, completions, worker reports, ticks). The parity test replays
/// a tape through the live faces and compares their decisions with the simulator's journal.
public enum TapeEntry: Sendable {
    /// The experiment's applications were declared (a static deployment is placed).
    case declared(SimTime, [PolicyQuery])
    /// A query was routed or held (its outcome is in the journal), with its queue deadline.
    case route(SimTime, PolicyQuery, deadline: SimTime?)
    /// A query of `variant` on `worker` left the system (served, failed or abandoned);
    /// `latencyMs` and `met` as the worker's monitor counts it.
    case finished(SimTime, variant: Int, worker: Int, latencyMs: Double, met: Bool)
    /// A query of `variant` on `worker` was shed by its replica's queue: it left the system
    /// without a completion for the monitor.
    case shed(SimTime, variant: Int, worker: Int)
    /// A replica of `variant` on `worker` finished loading.
    case loaded(SimTime, variant: Int, worker: Int)
    /// An arbiter tick ran; each replica it asked to stop was stopped (`true`) or was busy.
    case arbiter(SimTime, stops: [StopOutcome])
    /// Another periodic job ran (monitor, resource monitor, VM autoscaler).
    case tick(SimTime, TickKind)
    /// What worker `worker` would report now: its state and its groups.
    case report(SimTime, worker: Int, WorkerState, [ReplicaGroup])

    public struct StopOutcome: Hashable, Sendable {
        public var variant: Int
        public var worker: Int
        public var stopped: Bool
    }
}

extension Simulation {
    /// Appends the reports of every worker (after a tick, a load, a worker becoming ready).
    mutating func tapeReports() {
        guard tape != nil else { return }
        let t = SimTime(nanoseconds: now)
        for w in control.snapshot.workers.indices where control.snapshot.workers[w].status != .gone {
            let worker = control.snapshot.workers[w]
            tape!.append(.report(t, worker: w, worker, worker.groups.map { control.snapshot.groups[$0] }))
        }
    }
}
