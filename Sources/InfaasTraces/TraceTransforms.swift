import InfaasCore
internal import GSLKit

/// Replays a stream `factor` times faster (`--speedup`): every time is divided by `factor`.
public struct SpeedUp<Base: ArrivalStream>: ArrivalStream {
    private var base: Base
    public let factor: Double

    public init(_ base: Base, factor: Double) throws(TraceError) {
        guard factor.isFinite, InputLimits.speedup.contains(factor) else {
            throw TraceError(.badParameter, "speedup \(CheckedNumber.format(factor)) is out of range: use \(CheckedNumber.describe(InputLimits.speedup))", at: "--speedup")
        }
        self.base = base
        self.factor = factor
    }

    public mutating func next() throws(TraceError) -> Arrival? {
        guard var arrival = try base.next() else { return nil }
        // A slow-down (factor < 1) may stretch a time past what a trace may hold; clamp, never trap.
        let scaled = (Double(arrival.time.nanoseconds) / factor).rounded()
        arrival.time = SimTime(nanoseconds: scaled < 9.2e18 ? Int64(scaled) : Int64(9.2e18))
        return arrival
    }
}

/// Starts a trace `startSeconds` into it (an experiment's `start_s`): earlier arrivals are
/// skipped and later ones shifted, so the slice begins at time 0.
public struct TraceStart<Base: ArrivalStream>: ArrivalStream {
    private var base: Base
    public let startNanoseconds: Int64

    public init(_ base: Base, startSeconds: Double) {
        self.base = base
        startNanoseconds = Int64(max(0, min(startSeconds, 9e9)) * 1e9)
    }

    public mutating func next() throws(TraceError) -> Arrival? {
        while var arrival = try base.next() {
            guard arrival.time.nanoseconds >= startNanoseconds else { continue }
            arrival.time = SimTime(nanoseconds: arrival.time.nanoseconds - startNanoseconds)
            return arrival
        }
        return nil
    }
}

/// Scales the arrival rate by `factor` (`--rate-scale`) without changing the trace's shape:
/// each arrival is kept `⌊factor⌋` times, plus once more with probability `factor − ⌊factor⌋`
/// (seeded). Copies arrive at the same instant, so the stream stays in time order. A factor
/// below 1 thins the trace.
public struct RateScale<Base: ArrivalStream>: ArrivalStream {
    private var base: Base
    public let factor: Double
    private let rng: RandomGenerator
    private var current: Arrival? = nil
    private var copiesLeft = 0

    public init(_ base: Base, factor: Double, seed: UInt64) throws(TraceError) {
        // Bounded: each arrival is copied ⌊factor⌋ times (1e19 once trapped converting, 1e9 hung).
        guard factor.isFinite, InputLimits.rateScale.contains(factor) else {
            throw TraceError(.badParameter, "rate scale \(CheckedNumber.format(factor)) is out of range: use \(CheckedNumber.describe(InputLimits.rateScale))", at: "--rate-scale")
        }
        self.base = base
        self.factor = factor
        self.rng = RandomGenerator(seed: seed)
    }

    public mutating func next() throws(TraceError) -> Arrival? {
        while copiesLeft == 0 {
            guard let arrival = try base.next() else { return nil }
            let whole = Int(factor.rounded(.down))
            copiesLeft = whole + (rng.uniform() < factor - Double(whole) ? 1 : 0)
            current = arrival
        }
        copiesLeft -= 1
        return current!
    }
}

/// Reads a whole stream and replays it sorted by time (`--sort`). Holds every arrival in
/// memory: for files whose rows are out of order; sorted traces should stream instead.
public struct SortedArrivals: ArrivalStream {
    private var arrivals: [Arrival]
    private var index = 0

    public init(_ base: some ArrivalStream) throws(TraceError) {
        var base = base
        var all: [Arrival] = []
        while let arrival = try base.next() { all.append(arrival) }
        arrivals = all.sorted { ($0.time, $0.row) < ($1.time, $1.row) }
    }

    public mutating func next() throws(TraceError) -> Arrival? {
        guard index < arrivals.count else { return nil }
        defer { index += 1 }
        return arrivals[index]
    }
}

/// Merges several time-ordered streams into one (ties go to the lower stream index), keeping
/// only one pending arrival per stream.
public struct MergedArrivals: ArrivalStream {
    private var streams: [any ArrivalStream]
    private var heads: [Arrival?]

    public init(_ streams: [any ArrivalStream]) throws(TraceError) {
        self.streams = streams
        heads = []
        for i in self.streams.indices { heads.append(try self.streams[i].next()) }
    }

    public mutating func next() throws(TraceError) -> Arrival? {
        var best: Int? = nil
        for (i, head) in heads.enumerated() {
            guard let head else { continue }
            if best == nil || head.time < heads[best!]!.time { best = i }
        }
        guard let chosen = best else { return nil }
        let arrival = heads[chosen]
        heads[chosen] = try streams[chosen].next()
        return arrival
    }
}
