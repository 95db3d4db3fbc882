import Foundation
import InfaasCore
internal import GSLKit

/// Synthetic arrival processes, seeded through GSLKit so a seed gives the same trace everywhere.
public enum ArrivalProcess: Sendable, Equatable {
    /// Poisson arrivals at `rate` queries per second.
    case poisson(rate: Double)
    /// On/off bursts (a two-state Markov-modulated Poisson process): `onRate` during on periods,
    /// `offRate` during off periods; period lengths are exponential with the given means (s).
    case onOff(onRate: Double, offRate: Double, meanOnSeconds: Double, meanOffSeconds: Double)
    /// Diurnal: rate `mean·(1 + amplitude·sin(2π·(t + phase)/period))`, by thinning
    /// (0 ≤ amplitude ≤ 1). The phase shifts the cycle: the process starts `phaseSeconds` into
    /// it (0: at the mean rate, rising; `period/4`: at the peak; `period/2`: at the mean, falling).
    case diurnal(meanRate: Double, amplitude: Double, periodSeconds: Double, phaseSeconds: Double = 0)
    /// Step changes: rate `steps[i].rate` from `steps[i].atSeconds` until the next step.
    case steps([Step])

    public struct Step: Sendable, Equatable {
        public var atSeconds: Double
        public var rate: Double
        public init(atSeconds: Double, rate: Double) {
            self.atSeconds = atSeconds
            self.rate = rate
        }
    }

    /// Checks the parameters; a bad one is named.
    public func validate() throws(TraceError) {
        func check(_ ok: Bool, _ what: String) throws(TraceError) {
            if !ok { throw TraceError(.badParameter, what, at: "arrival process") }
        }
        // Bounded so simulated time always advances: a rate of 1e12/s or a mean period of 1e-9 s
        // once made a run loop in place with unbounded memory.
        let maxRate = InputLimits.maxRate, periods = InputLimits.periodSeconds
        func rate(_ r: Double) -> Bool { r.isFinite && r <= maxRate }
        let rates = "≤ \(CheckedNumber.format(maxRate))/s", inPeriods = "in \(CheckedNumber.describe(periods, unit: " s"))"
        switch self {
        case .poisson(let r): try check(r > 0 && rate(r), "poisson rate \(r) must be > 0 and \(rates)")
        case .onOff(let on, let off, let meanOn, let meanOff):
            try check(on >= 0 && off >= 0 && on + off > 0 && rate(on) && rate(off), "on/off rates \(on), \(off) must be ≥ 0, \(rates) and not both 0")
            try check(periods.contains(meanOn) && periods.contains(meanOff), "mean on/off durations \(meanOn), \(meanOff) must be \(inPeriods)")
        case .diurnal(let mean, let amplitude, let period, let phase):
            try check(mean > 0 && rate(mean * (1 + amplitude)), "diurnal mean rate \(mean) must be > 0, its peak \(rates)")
            try check((0...1).contains(amplitude), "diurnal amplitude \(amplitude) must be in 0…1")
            try check(periods.contains(period), "diurnal period \(period) must be \(inPeriods)")
            try check(phase.isFinite, "diurnal phase \(phase) must be a finite number of seconds")
        case .steps(let steps):
            try check(!steps.isEmpty, "steps need at least one (time, rate)")
            try check(steps.allSatisfy { $0.rate >= 0 && rate($0.rate) && $0.atSeconds >= 0 && $0.atSeconds <= InputLimits.maxTraceSeconds },
                      "step times must be in 0…\(CheckedNumber.format(InputLimits.maxTraceSeconds)) s and rates ≥ 0, \(rates)")
            try check(zip(steps, steps.dropFirst()).allSatisfy { $0.atSeconds < $1.atSeconds }, "step times must increase")
        }
    }
}

/// Arrivals of one application from an ``ArrivalProcess`` over `[0, duration)`.
public struct SyntheticArrivals: ArrivalStream {
    public let process: ArrivalProcess
    public let durationSeconds: Double
    public let application: Int
    private let rng: RandomGenerator
    private var now = 0.0
    // On/off state.
    private var isOn = true
    private var stateEnds = 0.0

    public init(_ process: ArrivalProcess, durationSeconds: Double, application: Int = 0, seed: UInt64) throws(TraceError) {
        try process.validate()
        guard durationSeconds.isFinite, InputLimits.durationSeconds.contains(durationSeconds) else {
            throw TraceError(.badParameter, "duration \(CheckedNumber.format(durationSeconds)) s is out of range: use \(CheckedNumber.describe(InputLimits.durationSeconds, unit: " s"))", at: "arrival process")
        }
        self.process = process
        self.durationSeconds = durationSeconds
        self.application = application
        self.rng = RandomGenerator(seed: seed)
        if case .onOff(_, _, let meanOn, _) = process { stateEnds = rng.exponential(mean: meanOn) }
    }

    public mutating func next() throws(TraceError) -> Arrival? {
        guard let t = nextTime(), t < durationSeconds else { now = .infinity; return nil }
        now = t
        return Arrival(time: .seconds(t), application: application)
    }

    private mutating func nextTime() -> Double? {
        switch process {
        case .poisson(let rate):
            return now + rng.exponential(mean: 1 / rate)
        case .onOff(let onRate, let offRate, let meanOn, let meanOff):
            var t = now
            while t < durationSeconds {
                let rate = isOn ? onRate : offRate
                let candidate = rate > 0 ? t + rng.exponential(mean: 1 / rate) : .infinity
                if candidate < stateEnds { return candidate }
                // Memoryless: restart from the switch.
                t = stateEnds
                isOn.toggle()
                stateEnds = t + rng.exponential(mean: isOn ? meanOn : meanOff)
            }
            return nil
        case .diurnal(let mean, let amplitude, let period, let phase):
            let peak = mean * (1 + amplitude)
            var t = now
            while t < durationSeconds {
                t += rng.exponential(mean: 1 / peak)
                let rate = mean * (1 + amplitude * sin(2 * Double.pi * (t + phase) / period))
                if rng.uniform() * peak <= rate { return t }
            }
            return nil
        case .steps(let steps):
            var t = max(now, steps[0].atSeconds)
            while t < durationSeconds {
                let index = steps.lastIndex { $0.atSeconds <= t } ?? 0
                let end = index + 1 < steps.count ? steps[index + 1].atSeconds : .infinity
                let rate = steps[index].rate
                let candidate = rate > 0 ? t + rng.exponential(mean: 1 / rate) : .infinity
                if candidate < end { return candidate }
                t = end
            }
            return nil
        }
    }
}

