public import InfaasCore

/// What a worker says about one of its replica groups (live: a line of its report).
public struct GroupObservation: Hashable, Sendable {
    public var variant: Int
    public var replicas: Int
    public var loading: Int
    public var unloading: Bool
    public var qps: Double
    public var averageLatencyMs: Double
    public var averageBatch: Int
    public var averageSLOMs: Double
    public var blacklisted: Bool

    public init(variant: Int, replicas: Int, loading: Int, unloading: Bool = false, qps: Double = 0, averageLatencyMs: Double = 0,
                averageBatch: Int = 1, averageSLOMs: Double = 0, blacklisted: Bool = false) {
        self.variant = variant
        self.replicas = replicas
        self.loading = loading
        self.unloading = unloading
        self.qps = qps
        self.averageLatencyMs = averageLatencyMs
        self.averageBatch = averageBatch
        self.averageSLOMs = averageSLOMs
        self.blacklisted = blacklisted
    }

    /// What `group` of a snapshot would report.
    public init(_ group: ReplicaGroup) {
        self.init(variant: group.variant, replicas: group.replicas, loading: group.loading, unloading: group.unloading, qps: group.qps,
                  averageLatencyMs: group.averageLatencyMs, averageBatch: group.averageBatch, averageSLOMs: group.averageSLOMs,
                  blacklisted: group.blacklisted)
    }
}

extension ControlLoop {
    /// How long a load the loop started counts as loading without the worker confirming it.
    public static let pendingLoadGrace = SimTime.seconds(5)

    /// Folds what worker `w` reports about its groups into the snapshot. A load the loop
    /// started and the worker has not shown yet keeps counting as loading for
    /// ``pendingLoadGrace``; groups the worker no longer has are dropped (or emptied while
    /// queries routed to them are outstanding).
    public mutating func observe(worker w: Int, groups reports: [GroupObservation], now: SimTime) {
        var seen = Set<Int>()
        for r in reports where r.variant >= 0 && r.variant < catalogue.count {
            let g = snapshot.ensureGroup(variant: r.variant, worker: w)
            seen.insert(g)
            var group = snapshot.groups[g]
            group.replicas = r.replicas
            group.loading = r.loading
            group.unloading = r.unloading
            group.qps = r.qps
            group.averageLatencyMs = r.averageLatencyMs
            group.averageBatch = max(1, r.averageBatch)
            group.averageSLOMs = r.averageSLOMs
            group.blacklisted = r.blacklisted
            if group.replicas > 0 || group.loading > 0 { pendingLoads[g] = nil }
            if let asked = pendingLoads[g], group.replicas == 0, group.loading == 0 {
                // The worker has not seen the load we asked for yet.
                if now.nanoseconds - asked.nanoseconds < Self.pendingLoadGrace.nanoseconds { group.loading = 1 } else { pendingLoads[g] = nil }
            }
            snapshot.groups[g] = group
        }
        for g in snapshot.workers[w].groups where !seen.contains(g) {
            if let asked = pendingLoads[g], now.nanoseconds - asked.nanoseconds < Self.pendingLoadGrace.nanoseconds { continue }
            pendingLoads[g] = nil
            if snapshot.groups[g].outstanding == 0 { snapshot.removeGroup(g) } else {
                snapshot.groups[g].replicas = 0
                snapshot.groups[g].loading = 0
            }
        }
    }
}
