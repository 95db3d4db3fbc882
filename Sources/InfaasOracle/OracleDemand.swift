public import InfaasPolicies

/// What a clairvoyant provisioner knows: every query of the trace, counted per interval and per
/// query class (the same target, batch, SLO, accuracy floor and application).
public struct OracleDemand: Sendable, Equatable {
    /// The length of one provisioning interval.
    public let intervalSeconds: Double
    /// The query classes, in the order first seen.
    public private(set) var classes: [PolicyQuery] = []
    /// `counts[t][c]`: queries of class `c` arriving in interval `t`.
    public private(set) var counts: [[Int]] = []
    /// Queries whose target named nothing in the catalogue, per interval: no variant can serve
    /// them, so they count as violations for every policy and for the bound.
    public private(set) var unknown: [Int] = []
    /// The last arrival's time in seconds (the bound provisions up to it).
    public private(set) var lastArrivalSeconds = 0.0
    private var index: [PolicyQuery: Int] = [:]

    /// - Parameter intervalSeconds: at least 1 ms (smaller values are raised to it).
    public init(intervalSeconds: Double) {
        self.intervalSeconds = max(0.001, intervalSeconds)
    }

    /// All queries counted.
    public var queries: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } + unknown.reduce(0, +) }

    /// Counts one query arriving at `nanoseconds`.
    public mutating func record(_ query: PolicyQuery, nanoseconds: Int64) {
        let t = interval(of: nanoseconds)
        let c: Int
        if let known = index[query] { c = known } else {
            c = classes.count
            classes.append(query)
            index[query] = c
            for i in counts.indices { counts[i].append(0) }
        }
        counts[t][c] += 1
    }

    /// Counts one query whose target is unknown, arriving at `nanoseconds`.
    public mutating func recordUnknown(nanoseconds: Int64) {
        unknown[interval(of: nanoseconds)] += 1
    }

    private mutating func interval(of nanoseconds: Int64) -> Int {
        let seconds = Double(max(0, nanoseconds)) / 1e9
        lastArrivalSeconds = max(lastArrivalSeconds, seconds)
        let t = Int(seconds / intervalSeconds)
        while counts.count <= t {
            counts.append(Array(repeating: 0, count: classes.count))
            unknown.append(0)
        }
        return t
    }
}
