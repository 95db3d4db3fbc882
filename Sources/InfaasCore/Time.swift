/// A point in (simulated or wall-clock-derived) time: integer nanoseconds since the start of
/// a run. Policies never read a clock; they are handed a `SimTime`.
public struct SimTime: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = SimTime(nanoseconds: 0)

    public static func seconds(_ s: Double) -> SimTime { SimTime(nanoseconds: Int64((s * 1e9).rounded())) }
    public static func milliseconds(_ ms: Double) -> SimTime { SimTime(nanoseconds: Int64((ms * 1e6).rounded())) }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var milliseconds: Double { Double(nanoseconds) / 1e6 }

    public static func < (a: SimTime, b: SimTime) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func + (t: SimTime, d: SimDuration) -> SimTime { SimTime(nanoseconds: t.nanoseconds &+ d.nanoseconds) }
    public static func - (a: SimTime, b: SimTime) -> SimDuration { SimDuration(nanoseconds: a.nanoseconds &- b.nanoseconds) }

    public var description: String { "t=\(seconds)s" }
}

/// A length of time in integer nanoseconds.
public struct SimDuration: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static let zero = SimDuration(nanoseconds: 0)

    public static func seconds(_ s: Double) -> SimDuration { SimDuration(nanoseconds: Int64((s * 1e9).rounded())) }
    public static func milliseconds(_ ms: Double) -> SimDuration { SimDuration(nanoseconds: Int64((ms * 1e6).rounded())) }
    public static func microseconds(_ us: Double) -> SimDuration { SimDuration(nanoseconds: Int64((us * 1e3).rounded())) }

    public var seconds: Double { Double(nanoseconds) / 1e9 }
    public var milliseconds: Double { Double(nanoseconds) / 1e6 }

    public static func < (a: SimDuration, b: SimDuration) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func + (a: SimDuration, b: SimDuration) -> SimDuration { SimDuration(nanoseconds: a.nanoseconds &+ b.nanoseconds) }
    public static func - (a: SimDuration, b: SimDuration) -> SimDuration { SimDuration(nanoseconds: a.nanoseconds &- b.nanoseconds) }

    public var description: String { "\(milliseconds)ms" }
}

extension Duration {
    /// The duration in seconds, milliseconds or whole nanoseconds (for timing code that reads a
    /// clock: benchmarks, the live daemons, progress lines).
    public var totalSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    public var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
    public var totalNanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}

extension SimTime {
    /// The time `elapsed` after the start of a run (live daemons measure from their start).
    public init(elapsed: Duration) { self.init(nanoseconds: elapsed.totalNanoseconds) }
}
