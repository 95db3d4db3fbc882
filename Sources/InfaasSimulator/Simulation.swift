import Foundation
public import InfaasCore
public import InfaasPolicies
public import InfaasTraces
internal import GSLKit

/// A serving unit: one CPU or Inferentia replica, or a GPU worker's GPU (shared, one batch at a
/// time, by every GPU replica on that worker).
struct Unit {
    var worker: Int
    /// Cores it holds busy while running (CPU replicas), for the CPU utilisation.
    var cores: Int
    var busy = false
    var current: Int32 = -1
    /// The queries waiting for it, under the shared queueing rules.
    var queue = ServingQueue<Int32>()
    /// When its next expiry check is due (an `.expiryCheck` event at that time); `.max`: none.
    var checkAt: Int64 = .max
    var active = true
    /// When the running query started (for its recorded model-run time).
    var startedAt: Int64 = 0
}

/// A query in flight.
struct InFlight {
    var arrival: Int64
    var application: Int32
    var variant: Int32
    var worker: Int32
    var group: Int32
    var batch: Int32
    var sloMs: Double
    /// Its queue deadline in nanoseconds (``QueueDiscipline/deadline(arrival:sloMs:explicitMs:fixedMs:)``); `.max`: none.
    var deadline: Int64
    var priority: QueryPriority
    /// How long its worker's host had run nothing when it was routed (ms; 0 while a replica
    /// ran): the machine model's extra hop cost after idle (``MachineModel/idleHopExtraMs(idleMs:)``).
    var hostIdleMs: Float = 0
    /// How many other queries' hops overlapped its own on its worker's host (routed within a
    /// median hop of it, before or after): the machine model's concurrent-hop factor.
    var hopOverlap: Int16 = 0
}

/// The discrete-event simulator (DESIGN.md §1, §6): replays arrivals against profiled latencies
/// and runs the shared ``ControlLoop`` — the one the live master and workers run — over the
/// whole cluster in virtual time. It owns only the world: queues and replicas as servers, load
/// and boot times, service times, billing and metrics; every decision and its bookkeeping is the
/// loop's (``perform(_:now:)`` carries out the loop's effects). Deterministic for a seed.
///
/// Model, in brief: each CPU or Inferentia replica is a FIFO server; a GPU worker's GPU is one
/// FIFO server shared by its GPU replicas. A query runs as one batch (no cross-query batching,
/// reference §5.1) for a time drawn from the variant's profile. Loading a replica takes the
/// profiled load latency; queries for it wait. Workers boot in the machine type's boot time and
/// are billed from launch until retired (or their last query ends). Periodic ticks: monitor 1 s,
/// arbiter 1 s, resource monitor 2.5 s, VM autoscaler 2 s (reference §4; ``TickKind``).
public struct Simulation {
    public let applications: [Application]
    public let options: SimulationOptions
    public let limits: ClusterLimits
    public let machines: MachineCatalogue
    let catalogue: PolicyCatalogue

    /// The control loop (snapshot, policy state, autoscalers) — shared with the live faces.
    public internal(set) var control: ControlLoop
    var events = EventQueue()
    var now: Int64 = 0
    public internal(set) var metrics: SimulationMetrics

    /// The policy the loop runs.
    public var policy: any PolicySet { control.policy }
    /// The cluster as the policies see it.
    public var snapshot: ClusterSnapshot { control.snapshot }

    // Serving state.
    var units: [Unit] = []
    var freeUnits: [Int] = []
    var groupUnits: [[Int]] = []
    var groupCursor: [Int] = []
    var pendingLoad: [RingQueue] = []
    var gpuUnit: [Int] = []
    var inFlight: [InFlight] = []
    var freeSlots: [Int32] = []
    var inFlightCount = 0
    // Per worker accounting.
    var busyCoreNanos: [Double] = []
    var busyGPUNanos: [Double] = []
    var lastBusyCore: [Double] = []
    var lastBusyGPU: [Double] = []
    var lastResourceTick: Int64 = 0
    var billingStart: [Int64] = []
    var billingEnd: [Int64?] = []
    var workerOutstanding: [Int] = []
    // Sampling.
    let rng: RandomGenerator
    /// Draws for the machine model (hops, load times), apart from the service-time draws so an
    /// idealised run's stream is the same with or without it.
    let machineRNG: RandomGenerator
    /// Intra-op threads of the CPU replicas running now, per worker (``Unit/cores``): the demand
    /// the machine model's contention compares with the host's cores.
    var runningThreads: [Int] = []
    /// Their sum over all workers (the demand on a shared host), kept with them: every run asks.
    var hostRunningThreads = 0
    /// Per host (``servingHost(worker:_:)``): when its CPU replicas last all stopped running
    /// (ns; 0 at the start), for the machine model's runs and hops after idle.
    var hostIdleSince: [Int64] = []
    /// Per host: the queries routed within the last median hop (slot, when routed, arrival),
    /// whose hops a query routed now overlaps. Used only when the machine model measured
    /// concurrent hops.
    var recentHops: [[(slot: Int32, routed: Int64, arrival: Int64)]] = []
    /// Whether the machine model has concurrent-hop factors (false: hops are independent draws).
    let countsConcurrentHops: Bool
    /// Per worker: whether it has started a load yet (its first pays the machine model's
    /// ``MachineModel/firstLoadExtraMs``: a fresh worker process).
    var workerHasLoaded: [Bool] = []
    /// The serving path's recent CPU per host (``ServingCPUWindow``): one per worker, or only
    /// the first when the workers share one host. Used only when the machine model measured it.
    var servingCPU: [ServingCPUWindow] = []
    /// Whether the machine model has serving-path CPU to count (false: runs exactly as before).
    let countsServingCPU: Bool
    /// Per variant: its slowdown after idle over the gap (``MachineModel/idleCurve(variant:)``;
    /// empty: not measured); empty altogether when no variant's was.
    let idleCurves: [[(Double, Double)]]
    var sigma: [Double]
    /// The queueing rules of the policy's configuration (deadlines, admission, priorities).
    let discipline: QueueDiscipline
    // Run control.
    var arrivalsDone = false
    var lastActivity: Int64 = 0
    var sample = SampleAccumulator()
    var targetCache: [String: PolicyTarget?] = [:]
    public var progress: ((SimulationProgress) -> Void)? = nil
    /// The world as the loop saw it (``TapeEntry``), when recording decisions.
    public internal(set) var tape: [TapeEntry]? = nil

    struct SampleAccumulator {
        var arrivals = 0, completions = 0
        var latencySumMs = 0.0
    }
    /// SLO misses (late, rejected or abandoned) and rejections, by the time-series interval the
    /// query *arrived* in: a row then says how many of its own arrivals missed, never more than
    /// arrived (counted when they happen, a backlog's misses landed in later rows and a row could
    /// show more violations than arrivals).
    /// The queries that missed their SLO, by the interval they arrived in and how they ended.
    var missesByArrivalInterval: [OutcomeCounts] = []

    public init(policy: any PolicySet, applications: [Application], limits: ClusterLimits, machines: MachineCatalogue = MachineCatalogue(),
                options: SimulationOptions = SimulationOptions()) throws(ValidationError) {
        guard !applications.isEmpty else {
            throw ValidationError(field: "applications", value: "none", reason: "an experiment needs at least one application")
        }
        try limits.validate()
        self.applications = applications
        self.options = options
        self.limits = limits
        self.machines = machines
        catalogue = policy.catalogue
        control = ControlLoop(policy: policy, seed: options.seed)
        if options.recordDecisions {
            control.journal = []
            tape = []
        }
        metrics = SimulationMetrics(applications: applications.count, variants: catalogue.count)
        rng = RandomGenerator(seed: options.seed &+ 0x5EED)
        machineRNG = RandomGenerator(seed: options.seed &+ 0xCA1B)
        countsServingCPU = options.machine?.hasServingCPU ?? false
        countsConcurrentHops = !(options.machine?.concurrentHops.isEmpty ?? true)
        let curves = catalogue.variants.map { options.machine?.idleCurve(variant: $0.name) ?? [] }
        idleCurves = curves.allSatisfy(\.isEmpty) ? [] : curves
        sigma = catalogue.variants.map { Self.logNormalSigma($0) }
        discipline = QueueDiscipline(config: policy.config)
        for hardware in HardwareClass.allCases {
            for _ in 0..<limits.initial(hardware) {
                let name = control.nextWorkerName(hardware)
                addWorker(control.addWorker(control.machineWorker(hardware, name: name, status: .ready, now: .zero, slack: false)))
            }
        }
        tapeReports()
        // Applications are declared up front; a static deployment's replicas serve from time zero.
        let declared = applications.map(\.query)
        tape?.append(.declared(.zero, declared))
        act(control.declareApplications(declared, now: .zero))
    }

    /// σ of ln(latency): ln(p99/p50)/2.326 over the points that have both (median), else 0.1.
    static func logNormalSigma(_ v: ModelVariant) -> Double {
        let ratios = v.latency.points.compactMap { p -> Double? in
            guard let p50 = p.p50Ms ?? p.meanMs, let p99 = p.p99Ms, p50 > 0, p99 >= p50 else { return nil }
            return log(p99 / p50) / 2.326
        }.sorted()
        return ratios.isEmpty ? 0.1 : ratios[ratios.count / 2]
    }

    // MARK: Running

    /// Runs the arrivals to the end (or `durationSeconds`) and until every query is done.
    public mutating func run<S: ArrivalStream>(_ arrivals: inout S) throws(TraceError) -> SimulationMetrics {
        for kind in TickKind.allCases { events.schedule(at: control.schedule.nextTime(kind).nanoseconds, Self.event(kind)) }
        events.schedule(at: Int64(options.timeseriesIntervalSeconds * 1e9), .sampleTick)
        let durationLimit = options.durationSeconds.map { Int64($0 * 1e9) } ?? .max
        var next = try arrivals.next()
        var lastArrival: Int64 = .min
        while true {
            if let arrival = next, arrival.time.nanoseconds <= (events.nextTime ?? .max) {
                guard arrival.time.nanoseconds < durationLimit else { next = nil; arrivalsDone = true; continue }
                guard arrival.time.nanoseconds >= lastArrival else {
                    throw TraceError(.unsorted, "arrival at \(arrival.time.seconds) s comes after one at \(Double(lastArrival) / 1e9) s",
                                     at: arrival.row > 0 ? "trace row \(arrival.row)" : "arrival stream", hint: "sort the trace, or pass --sort")
                }
                lastArrival = arrival.time.nanoseconds
                now = arrival.time.nanoseconds
                handleArrival(arrival)
                next = try arrivals.next()
                if next == nil { arrivalsDone = true }
                metrics.events += 1
                if metrics.events & 0xFFFF == 0 { reportProgress(lastArrival) }
                continue
            }
            if next == nil { arrivalsDone = true }
            guard let event = events.pop() else { break }
            if arrivalsDone && inFlightCount == 0 && control.held.isEmpty && event.kind != .completion && event.kind != .loadDone && event.kind != .workerReady {
                continue  // drained: let the periodic ticks lapse
            }
            if event.kind == .expiryCheck {
                // Counted as an event only when it answered a query (a check whose queries all ran is a no-op).
                guard units[Int(event.a)].checkAt == event.time else { continue }
                now = event.time
                if expireQueued(unit: Int(event.a)) { metrics.events += 1 }
                continue
            }
            now = event.time
            metrics.events += 1
            dispatch(event)
        }
        finish()
        return metrics
    }

    static func event(_ kind: TickKind) -> EventKind {
        switch kind {
        case .monitor: .monitorTick
        case .arbiter: .arbiterTick
        case .resource: .resourceTick
        case .vm: .vmTick
        }
    }

    /// Runs the tick the loop's schedule says is due now, and schedules its next one.
    mutating func tick(_ kind: TickKind) {
        _ = control.schedule.due(at: SimTime(nanoseconds: now), among: [kind])
        switch kind {
        case .monitor: monitorTick()
        case .arbiter: arbiterTick()
        case .resource: resourceTick()
        case .vm: vmTick()
        }
        if tape != nil {
            // Reports carry what the tick changed; the resource monitor's order refresh follows them.
            tapeReports()
            if kind != .arbiter { tape!.append(.tick(SimTime(nanoseconds: now), kind)) }
        }
        events.schedule(at: control.schedule.nextTime(kind).nanoseconds, Self.event(kind))
    }

    mutating func dispatch(_ event: Event) {
        switch event.kind {
        case .completion: complete(unit: Int(event.a))
        case .loadDone: loadDone(group: Int(event.a))
        case .workerReady: workerReady(Int(event.a))
        case .monitorTick: tick(.monitor)
        case .arbiterTick: tick(.arbiter)
        case .resourceTick: tick(.resource)
        case .vmTick: tick(.vm)
        case .expiryCheck: _ = expireQueued(unit: Int(event.a))
        case .sampleTick:
            sampleTick()
            events.schedule(at: now + Int64(options.timeseriesIntervalSeconds * 1e9), .sampleTick)
        }
    }

    func reportProgress(_ time: Int64) {
        guard let progress else { return }
        progress(SimulationProgress(simulatedSeconds: Double(time) / 1e9, durationSeconds: options.durationSeconds,
                                    queries: metrics.arrivals, events: metrics.events))
    }

    mutating func finish() {
        // Queries still held when the run stops never got a worker.
        for h in control.held { reject(.noWorkers, application: h.query.application, query: h.query, arrival: h.arrival.nanoseconds) }
        metrics.coldStarts.workersWoken = control.workersWoken
        let end = max(lastActivity, now)
        for w in control.snapshot.workers.indices where billingEnd[w] == nil { billingEnd[w] = end }
        now = end
        sampleTick()
        for i in metrics.timeseries.indices {
            metrics.timeseries[i].setArrivalOutcomes(i < missesByArrivalInterval.count ? missesByArrivalInterval[i] : OutcomeCounts())
        }
    }

    /// Counts a query that missed its SLO (`late`, or how it went unserved) against the interval
    /// it arrived in.
    mutating func countMiss(arrivedAt arrival: Int64, _ outcome: QueryOutcome) {
        let i = Int(max(0, arrival) / max(1, Int64(options.timeseriesIntervalSeconds * 1e9)))
        if i >= missesByArrivalInterval.count {
            missesByArrivalInterval.append(contentsOf: repeatElement(OutcomeCounts(), count: i + 1 - missesByArrivalInterval.count))
        }
        missesByArrivalInterval[i].record(outcome)
    }
}

/// Progress of a run, reported every 65,536 events.
public struct SimulationProgress: Sendable {
    public var simulatedSeconds: Double
    public var durationSeconds: Double?
    public var queries: Int
    public var events: Int
}
