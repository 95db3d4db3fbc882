/// The serving path's CPU on one host, as the machine model's contention sees it: the CPU the
/// client, master and worker spent on the queries that arrived in the last ``length`` (encoding,
/// copying and decoding their inputs), over that length — the cores' worth the serving path kept
/// busy lately. A replica's run starting now counts it as thread demand beside the running
/// replicas' threads (``Simulation/run(_:unit:)``), on the assumption that the recent rate of
/// serving work goes on through the run; it is fractional, and so slows a run in proportion to
/// the share of the cores it takes.
///
/// Why a window rather than the hops' own intervals: the simulator does not place a query's hops
/// in time (it adds their cost to the client's latency), and a run's slowdown is fixed when it
/// starts, so a short burst of serving work counted at full weight would slow a whole run that
/// only briefly overlapped it. Simulated time only: deterministic for a run.
struct ServingCPUWindow {
    /// How far back the window reaches, ns (1 s).
    static let length: Int64 = 1_000_000_000

    private var times: [Int64] = []
    private var cpuMs: [Double] = []
    private var head = 0
    private var sumMs = 0.0

    /// A query arrived at `time` (ns) whose serving path takes `ms` of CPU.
    mutating func record(at time: Int64, ms: Double) {
        guard ms > 0 else { return }
        times.append(time)
        cpuMs.append(ms)
        sumMs += ms
    }

    /// The cores' worth of serving CPU at `time` (ns): what arrived in (time − length, time],
    /// over the length. Drops what fell out of the window.
    mutating func cores(at time: Int64) -> Double {
        while head < times.count, times[head] <= time - Self.length {
            sumMs -= cpuMs[head]
            head += 1
        }
        if head == times.count {
            sumMs = 0  // no rounding residue once empty
        }
        if head > 1024, head * 2 > times.count {
            times.removeFirst(head)
            cpuMs.removeFirst(head)
            head = 0
        }
        return max(0, sumMs) / (Double(Self.length) / 1e6)
    }
}
