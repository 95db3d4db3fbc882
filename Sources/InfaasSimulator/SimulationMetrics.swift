import Histogram
public import InfaasCore
public import InfaasPolicies

/// Per-application counts.
public struct ApplicationCounts: Hashable, Sendable, Codable {
    public var arrivals = 0
    public var served = 0
    public var metSLO = 0
    /// Queries not served, for any reason (routing rejections, expired in a queue, shed).
    public var rejected = 0
    /// Of `rejected`: queries whose deadline passed in a replica's queue.
    public var expiredInQueue = 0
    /// Of `rejected`: queries a replica's queue shed on arrival.
    public var shed = 0
    public var latencySumMs = 0.0
    public var accuracySum = 0.0
    public var accuracyCount = 0

    /// The queries by how they ended (``QueryOutcome``).
    public var outcomes: OutcomeCounts {
        var counts = OutcomeCounts()
        counts.met = metSLO
        counts.late = served - metSLO
        counts.expiredInQueue = expiredInQueue
        counts.shed = shed
        counts.rejected = rejected - expiredInQueue - shed
        return counts
    }
}

/// One time-series sample (per interval, `time` is the interval's end).
///
/// `arrivals`, `violations`, `rejected`, `expiredInQueue` and `shed` count the queries that
/// *arrived* in the interval (how many of them missed their SLO, how many of those were rejected
/// or abandoned, and how many of those expired in a queue or were shed), so
/// `shed + expiredInQueue ≤ rejected ≤ violations ≤ arrivals` in every row; `completions` and `meanLatencyMs` count the queries
/// that *finished* in it. The simulator and `infaas replay` use the same definitions.
public struct TimeseriesRow: Hashable, Sendable {
    public var time: Double
    public var arrivals: Int
    public var completions: Int
    /// Arrivals of this interval that missed the SLO: served late, rejected or abandoned.
    public var violations: Int
    /// Arrivals of this interval that were rejected or abandoned (a subset of `violations`).
    public var rejected: Int
    /// Arrivals of this interval answered `expired-in-queue` (a subset of `rejected`).
    public var expiredInQueue: Int
    /// Arrivals of this interval answered `shed` (a subset of `rejected`).
    public var shed: Int
    public var meanLatencyMs: Double
    public var workers: [HardwareClass: Int]
    public var costUSD: Double
    public var replicas: Int
    public var runningVariants: Int

    public init(time: Double, arrivals: Int, completions: Int, violations: Int, rejected: Int, meanLatencyMs: Double,
                workers: [HardwareClass: Int], costUSD: Double, replicas: Int, runningVariants: Int, expiredInQueue: Int = 0, shed: Int = 0) {
        self.time = time
        self.expiredInQueue = expiredInQueue
        self.shed = shed
        self.arrivals = arrivals
        self.completions = completions
        self.violations = violations
        self.rejected = rejected
        self.meanLatencyMs = meanLatencyMs
        self.workers = workers
        self.costUSD = costUSD
        self.replicas = replicas
        self.runningVariants = runningVariants
    }
}

extension TimeseriesRow {
    /// Sets the columns that count the interval's arrivals by how they ended (both faces: the
    /// simulator's run and `infaas replay`): `violations` (late, or not served), `rejected` (not
    /// served), `expiredInQueue` and `shed`. `outcomes` counts the interval's arrivals.
    public mutating func setArrivalOutcomes(_ outcomes: OutcomeCounts) {
        rejected = outcomes.expiredInQueue + outcomes.shed + outcomes.rejected
        violations = outcomes.late + rejected
        expiredInQueue = outcomes.expiredInQueue
        shed = outcomes.shed
    }
}

/// Per-query record (with `--record-queries`).
public struct QueryRecord: Hashable, Sendable {
    public var arrival: Double
    public var finish: Double
    public var application: Int32
    public var variant: Int32
    public var worker: Int32
    public var batch: Int32
    public var sloMs: Double
    /// 1 = served within SLO, 0 = served late, −1 = not served (rejected, expired or shed).
    public var met: Int8
    /// How it ended; by default the one `met` implies (−1: `rejected`).
    public var outcome: QueryOutcome
    /// Its time on the worker (queue, load if cold, the model run), in ms; −1 when it never
    /// reached one or the run does not know. End-to-end latency less this is the serving path
    /// outside the worker (hops, master, client).
    public var workerMs: Double
    /// The model run alone (its batch's service time, contention included), in ms; −1 when
    /// it never ran.
    public var inferenceMs: Double
    /// Live only: how late the replay client sent it against the trace's timestamp, ms (its
    /// latency, `finish − arrival`, counts from the send). 0 simulated.
    public var clientLagMs: Double
    /// Live only: where its time outside the model run went, as the master and worker reported
    /// it (nil simulated, or from an older master).
    public var servingPath: ServingPathTimes?

    public init(arrival: Double, finish: Double, application: Int32, variant: Int32, worker: Int32, batch: Int32, sloMs: Double, met: Int8,
                outcome: QueryOutcome? = nil, workerMs: Double = -1, inferenceMs: Double = -1,
                clientLagMs: Double = 0, servingPath: ServingPathTimes? = nil) {
        self.arrival = arrival
        self.finish = finish
        self.application = application
        self.variant = variant
        self.worker = worker
        self.batch = batch
        self.sloMs = sloMs
        self.met = met
        self.outcome = outcome ?? (met > 0 ? .met : met == 0 ? .late : .rejected)
        self.workerMs = workerMs
        self.inferenceMs = inferenceMs
        self.clientLagMs = clientLagMs
        self.servingPath = servingPath
    }
}

/// A live query's wall times along its serving path (ms): in the master (arrival to answer),
/// the master's call to the worker (wire both ways included) and on the worker (its handler's
/// start to its answer). With the client's latency and the worker's queue, load and run they
/// split the time outside the model: client ↔ master, the master's own handling, master ↔
/// worker, the worker's handling.
public struct ServingPathTimes: Hashable, Sendable {
    public var masterMs: Double
    public var workerCallMs: Double
    public var workerWallMs: Double
    public init(masterMs: Double, workerCallMs: Double, workerWallMs: Double) {
        self.masterMs = masterMs
        self.workerCallMs = workerCallMs
        self.workerWallMs = workerWallMs
    }
}

/// Everything a run measured.
public struct SimulationMetrics: Sendable {
    public var applications: [ApplicationCounts]
    public var rejectedByReason: [RejectReason: Int] = [:]
    /// Latencies of served queries in microseconds (HdrHistogram, 3 significant digits).
    var latencyMicros = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    public var servedByVariant: [Int]
    public var variantLoads = 0
    public var replicasAdded = 0
    public var replicasRemoved = 0
    public var workersLaunched: [HardwareClass: Int] = [:]
    public var workersRetired: [HardwareClass: Int] = [:]
    /// Cold starts: loads queries waited for, workers woken, and how long queries waited.
    public var coldStarts = ColdStartCounts()
    public var events = 0
    public var timeseries: [TimeseriesRow] = []
    public var queries: [QueryRecord] = []
    /// Trace rows whose target is not in the catalogue (first few rows, and the count).
    public var unknownTargetRows: [Int] = []
    public var unknownTargets = 0
    /// The first and the last arrival, in seconds (every arrival, rejected ones too): the window
    /// a run's throughput is measured over, the same in the simulator and a live replay
    /// (``ExperimentSummary/throughputQPS``), whatever the run's tail of draining and ticks.
    public private(set) var firstArrivalSeconds: Double? = nil
    public private(set) var lastArrivalSeconds: Double? = nil

    /// Empty counters for `applications` query streams over `variants` variants (the simulator's,
    /// or a live replay's, which fills them from what the cluster answered).
    public init(applications: Int, variants: Int) {
        self.applications = Array(repeating: ApplicationCounts(), count: applications)
        servedByVariant = Array(repeating: 0, count: variants)
    }

    /// Widens the arrival window to an arrival at `seconds`.
    public mutating func recordArrival(atSeconds seconds: Double) {
        firstArrivalSeconds = min(firstArrivalSeconds ?? seconds, seconds)
        lastArrivalSeconds = max(lastArrivalSeconds ?? seconds, seconds)
    }

    /// Seconds from the first arrival to the last (0 with fewer than two arrivals).
    public var arrivalSpanSeconds: Double {
        guard let first = firstArrivalSeconds, let last = lastArrivalSeconds else { return 0 }
        return last - first
    }

    /// Records a served query's latency.
    public mutating func recordLatency(nanoseconds: Int64) {
        _ = latencyMicros.record(UInt64(max(0, nanoseconds / 1000)))
    }

    /// The latency at a percentile (0–100) of served queries, in ms; 0 when none was served.
    public func latencyPercentileMs(_ percentile: Double) -> Double {
        latencyMicros.totalCount == 0 ? 0 : Double(latencyMicros.valueAtPercentile(percentile)) / 1000
    }

    public var arrivals: Int { applications.reduce(0) { $0 + $1.arrivals } }
    public var served: Int { applications.reduce(0) { $0 + $1.served } }
    public var metSLO: Int { applications.reduce(0) { $0 + $1.metSLO } }
    public var rejected: Int { applications.reduce(0) { $0 + $1.rejected } }
    /// Every application's queries by how they ended.
    public var outcomes: OutcomeCounts {
        applications.reduce(into: OutcomeCounts()) { total, app in
            let o = app.outcomes
            for outcome in QueryOutcome.allCases { total[outcome] += o[outcome] }
        }
    }
}

/// What scale to zero cost the queries (both faces count the same things): cold starts, and
/// how long the queries that waited for one waited.
public struct ColdStartCounts: Hashable, Sendable, Codable {
    /// Model loads a query started and waited for (its variant had no replica on the worker).
    public var loads = 0
    /// Workers launched because a query found its class scaled to zero (``ControlLoop/workersWoken``).
    public var workersWoken = 0
    /// Queries the control loop held while a worker booted.
    public var held = 0
    /// Queries that waited for a cold start (a load, a boot, or both), and their waits.
    public var queries = 0
    public var waitSumMs = 0.0
    public var waitMaxMs = 0.0

    public init() {}

    /// Cold starts: query-started loads plus woken workers.
    public var count: Int { loads + workersWoken }

    /// Mean wait of the queries that waited for a cold start, ms (0 when none did).
    public var meanWaitMs: Double { queries > 0 ? waitSumMs / Double(queries) : 0 }

    /// One query got a replica after waiting `nanoseconds` since it arrived.
    public mutating func recordWait(nanoseconds: Int64) {
        let ms = Double(max(0, nanoseconds)) / 1e6
        queries += 1
        waitSumMs += ms
        waitMaxMs = max(waitMaxMs, ms)
    }
}
