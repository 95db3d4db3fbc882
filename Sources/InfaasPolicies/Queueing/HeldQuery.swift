public import InfaasCore

/// A query the control loop holds while a worker boots for it: its class was scaled to zero
/// (`min_workers_* = 0`) or no worker is ready yet. Bounded by `cold_start_buffer`.
public struct HeldQuery: Hashable, Sendable {
    /// The face's handle for the query (the simulator's arrival number, the live master's
    /// waiter), handed back when the query is released.
    public var token: UInt64
    public var query: PolicyQuery
    /// When it arrived; its cold-start wait runs from here.
    public var arrival: SimTime
    /// Past this it is answered `expired-in-queue` and never routed (nil: no deadline).
    public var deadline: SimTime?

    public init(token: UInt64, query: PolicyQuery, arrival: SimTime, deadline: SimTime?) {
        self.token = token
        self.query = query
        self.arrival = arrival
        self.deadline = deadline
    }
}

/// What became of a query the loop routed or held.
public enum HoldOutcome: Hashable, Sendable {
    /// Routed now (it may still wait for a model load: ``ControlLoop/Routed/coldStart``).
    case routed(ControlLoop.Routed)
    /// Held until a worker is ready (``ControlLoop/releaseHeld(now:)``).
    case held
    /// Refused: the reason, as ``ControlLoop/route(_:now:)`` gives it; `queue-full` when the
    /// buffer was full, `deadline-exceeded` when it expired while held.
    case rejected(RejectReason)
}
