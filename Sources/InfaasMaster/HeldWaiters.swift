import InfaasPolicies

/// The live master's waiters for queries the control loop holds while a worker boots, by the
/// token the loop hands back. A release may come before its waiter is registered (the query's
/// task is between the lock and the wait): it is kept until the waiter comes.
struct HeldWaiters {
    typealias Outcome = Result<ClusterController.Ticket, RejectReason>
    private var last: UInt64 = 0
    private var waiting: [UInt64: CheckedContinuation<Outcome, Never>] = [:]
    private var early: [UInt64: Outcome] = [:]

    /// A token no other query has.
    mutating func nextToken() -> UInt64 {
        last += 1
        return last
    }

    /// Waits for `token`'s outcome (at once if it was released already).
    mutating func wait(_ token: UInt64, _ waiter: CheckedContinuation<Outcome, Never>) {
        if let outcome = early.removeValue(forKey: token) { waiter.resume(returning: outcome) } else { waiting[token] = waiter }
    }

    /// The loop let `token` go with `outcome`.
    mutating func release(_ token: UInt64, _ outcome: Outcome) {
        if let waiter = waiting.removeValue(forKey: token) { waiter.resume(returning: outcome) } else { early[token] = outcome }
    }
}
