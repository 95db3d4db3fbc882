public import InfaasCore

/// Something the control loop decided that the world must now do. The loop has already done
/// the bookkeeping (room reserved, a replica counted as loading, a worker counted as booting);
/// the face carries the effect out and reports back through the loop's `replicaLoaded`,
/// `loadFailed`, `replicaRemoved`, `removalFailed`, `workerReady` and `launchFailed`.
public enum ControlEffect: Hashable, Sendable {
    /// Load one more replica of group `group` (variant `variant` on worker `worker`).
    /// `placement`: part of a static deployment placed before queries.
    case startReplica(group: Int, variant: Int, worker: Int, placement: Bool)
    /// Stop one replica of the group; the last one unloads the variant from the worker.
    case stopReplica(group: Int, variant: Int, worker: Int)
    /// Start a worker machine (already in the snapshot as booting, index `worker`).
    case launchWorker(worker: Int, name: String, hardware: HardwareClass, slack: Bool)
    /// Stop a worker machine (already marked gone in the snapshot).
    case retireWorker(worker: Int, name: String, reason: String)
}

/// How a face acts on the world: the simulator on its event queue and virtual time, the live
/// master through its `WorkerProvider`, the live worker through its model runtime. The loop
/// never performs an effect itself; see ``ControlLoop/perform(_:on:now:)``.
public protocol ClusterActuator {
    /// Carries out one effect. Returns false when it cannot be done now (for example every
    /// replica of a group is busy): the loop then applies its retry rule.
    mutating func perform(_ effect: ControlEffect, now: SimTime) -> Bool
}

/// The periodic jobs of the control loop (reference §4) and their periods.
public enum TickKind: Int, Hashable, Sendable, CaseIterable {
    /// §4.1 QPS monitor (worker side).
    case monitor
    /// §4.2 model autoscaler (worker side).
    case arbiter
    /// §4.1 resource monitor (utilisation).
    case resource
    /// §4.3 VM autoscaler (master side).
    case vm

    /// The period in milliseconds under `config`.
    public func periodMs(_ config: PolicyConfig) -> Double {
        switch self {
        case .monitor: config.monitorIntervalMs
        case .arbiter: config.arbiterIntervalMs
        case .resource: config.resourceMonitorIntervalMs
        case .vm: config.vmIntervalMs
        }
    }
}

/// When each periodic job runs next. Both faces use it: the simulator turns the due times into
/// events on its queue, the live daemons poll it from their loops with the wall clock, so the
/// ticks fall at the same multiples of their periods in both (the first at one period).
public struct TickSchedule: Hashable, Sendable {
    public private(set) var next: [SimTime]
    let periods: [Int64]

    public init(config: PolicyConfig, start: SimTime = .zero) {
        periods = TickKind.allCases.map { Int64($0.periodMs(config) * 1e6) }
        next = periods.map { SimTime(nanoseconds: start.nanoseconds + $0) }
    }

    /// The next time `kind` is due.
    public func nextTime(_ kind: TickKind) -> SimTime { next[kind.rawValue] }

    /// The period of `kind` in nanoseconds.
    public func period(_ kind: TickKind) -> Int64 { periods[kind.rawValue] }

    /// The jobs due at `now` among `kinds`, in `TickKind` order; each is moved to its next period
    /// (a late poll runs a job once, not once per missed period).
    public mutating func due(at now: SimTime, among kinds: [TickKind] = TickKind.allCases) -> [TickKind] {
        var due: [TickKind] = []
        for kind in kinds where next[kind.rawValue] <= now {
            due.append(kind)
            var t = next[kind.rawValue].nanoseconds + periods[kind.rawValue]
            if t <= now.nanoseconds { t = now.nanoseconds + periods[kind.rawValue] }
            next[kind.rawValue] = SimTime(nanoseconds: t)
        }
        return due
    }
}

/// One decision of the control loop, as its journal keeps it (``ControlLoop/journal``).
public enum ControlDecision: Hashable, Sendable, CustomStringConvertible {
    /// A query went to `variant` on `worker`.
    case routed(time: SimTime, variant: Int, worker: Int, coldStart: Bool)
    /// A query was refused.
    case rejected(time: SimTime, reason: RejectReason)
    /// A plan the loop executed: a replica or a worker started or stopped.
    case effect(time: SimTime, ControlEffect)
    /// A query was held while a worker boots for it (scale to zero).
    case held(time: SimTime)

    public var description: String {
        switch self {
        case .routed(let t, let v, let w, let cold): "\(t.nanoseconds) route v\(v) → w\(w)\(cold ? " cold" : "")"
        case .rejected(let t, let reason): "\(t.nanoseconds) reject \(reason.rawValue)"
        case .effect(let t, let e): "\(t.nanoseconds) \(e)"
        case .held(let t): "\(t.nanoseconds) hold"
        }
    }
}
