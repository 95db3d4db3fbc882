public import InfaasCore
public import InfaasPolicies

extension ClusterController {
    /// How the loop answered a query live (``routeOrHold(_:token:deadline:now:)``).
    public enum Routing: Sendable {
        /// Send it there now.
        case ticket(Ticket)
        /// Held while a worker boots; the master waits for ``takeReleased()`` to hand back
        /// `token`. The actions start what the hold needs (a worker woken from zero).
        case held(actions: [ProviderAction])
        case rejected(RejectReason)
    }

    /// ``route(_:now:)``, but a query that finds no worker ready for it while one boots, or its
    /// class scaled to zero, is held (``ControlLoop/routeOrHold(_:token:deadline:now:)``: the
    /// loop's rule, the simulator's too) instead of refused.
    public mutating func routeOrHold(_ query: PolicyQuery, token: UInt64, deadline: SimTime?, now: SimTime) -> Routing {
        var query = query
        let (application, placement) = control.application(for: query, now: now)
        query.application = application
        let (outcome, effects) = control.routeOrHold(query, token: token, deadline: deadline, now: now)
        let actions = providerActions(placement + effects)
        switch outcome {
        case .routed(let routed): return .ticket(ticket(for: query, routed, actions: actions))
        case .held: return .held(actions: actions)
        case .rejected(let reason): return .rejected(reason)
        }
    }

    /// Lets the loop decide its held queries now (a worker became ready; a VM tick).
    mutating func releaseHeld(now: SimTime) {
        let (done, effects) = control.releaseHeld(now: now)
        releaseActions += providerActions(effects)
        for r in done {
            switch r.outcome {
            case .routed(let routed): released.append((r.held.token, .success(ticket(for: r.held.query, routed))))
            case .rejected(let reason): released.append((r.held.token, .failure(reason)))
            case .held: break
            }
        }
    }

    /// The held queries let go since the last call, with the provider actions their release
    /// needs (the master resumes their waiters and runs the actions).
    public mutating func takeReleased() -> (released: [(token: UInt64, result: Result<Ticket, RejectReason>)], actions: [ProviderAction]) {
        defer {
            released = []
            releaseActions = []
        }
        return (released, releaseActions)
    }
}
