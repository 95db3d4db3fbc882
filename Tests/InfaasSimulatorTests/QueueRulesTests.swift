import InfaasCore
import InfaasPolicies
import InfaasSimulator
import InfaasTraces
import Testing

/// Arrivals at given times (ms) for given applications.
struct ListedArrivals: ArrivalStream {
    var items: [(ms: Double, application: Int)]
    var index = 0

    init(_ items: [(ms: Double, application: Int)]) { self.items = items.sorted { $0.ms < $1.ms } }

    mutating func next() throws(TraceError) -> Arrival? {
        guard index < items.count else { return nil }
        defer { index += 1 }
        return Arrival(time: .milliseconds(items[index].ms), application: items[index].application)
    }
}

/// The replicas' queueing rules in the simulator (deadlines, admission, priorities), on one CPU
/// worker with one replica and exact service times; every time below is simulated.
@Suite struct QueueRulesTests {
    struct App {
        var slo: Double = 0
        var priority: QueryPriority = .high
        var deadlineMs: Double = 0
    }

    /// Runs `arrivals` against one replica of a variant taking `serviceMs` per query.
    func run(serviceMs: Double, apps: [App], arrivals: [(ms: Double, application: Int)], intervalSeconds: Double = 10,
             configure: (inout PolicyConfig) -> Void = { _ in }) throws -> SimulationMetrics {
        let catalogue = try PolicyCatalogue([variant("v", intercept: serviceMs)])
        let limits = ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 1])
        var config = PolicyConfig()
        config.modelAutoscaler = .none
        config.ignoreBlacklists = true
        config.workerGuardEnabled = false
        configure(&config)
        let policy = try PolicyRegistry.make("infaas-no-vm-scaling", PolicyContext(catalogue: catalogue, limits: limits, config: config))
        let applications = apps.enumerated().map { i, a in
            Application(name: "app\(i)", targetText: "v", target: .variant(0), batch: 1, sloMs: a.slo, minAccuracy: 0,
                        priority: a.priority, deadlineMs: a.deadlineMs)
        }
        var options = SimulationOptions()
        options.latencyNoise = false
        options.recordQueries = true
        options.timeseriesIntervalSeconds = intervalSeconds
        var sim = try Simulation(policy: policy, applications: applications, limits: limits, options: options)
        var stream = ListedArrivals(arrivals)
        return try sim.run(&stream)
    }

    /// Records by arrival time (ms, rounded), for readable expectations.
    func byArrival(_ m: SimulationMetrics) -> [Int: QueryRecord] {
        Dictionary(uniqueKeysWithValues: m.queries.map { (Int(($0.arrival * 1000).rounded()), $0) })
    }

    @Test func aQueueDrainsPastItsDeadlinesWhileALongBatchRuns() throws {
        // A 1 s batch starts at once; three queries queue behind it with a 100 ms deadline.
        let m = try run(serviceMs: 1000, apps: [App(deadlineMs: 100)], arrivals: [(0, 0), (10, 0), (20, 0), (30, 0)])
        let r = byArrival(m)
        #expect(r[0]?.outcome == .met)
        #expect(r[0]!.finish > 1.0)
        for arrival in [10, 20, 30] {
            let record = try #require(r[arrival])
            #expect(record.outcome == .expiredInQueue)
            #expect(record.met == -1)
            // Answered at its deadline — while the batch still ran, not when it ended.
            #expect(abs(record.finish - (Double(arrival) + 100) / 1000) < 1e-6, "answered at \(record.finish) s")
        }
        #expect(m.applications[0].served == 1)
        #expect(m.applications[0].expiredInQueue == 3)
        #expect(m.applications[0].outcomes.expiredInQueue == 3)
        #expect(m.applications[0].outcomes.rejected == 0)
        #expect(m.rejectedByReason[.deadlineExceeded] == 3)
    }

    @Test func theDefaultFixedDeadlineServesTheSameQueriesLate() throws {
        // The same load with today's rule (10 s): every query runs, one after the other.
        let m = try run(serviceMs: 1000, apps: [App(slo: 1500)], arrivals: [(0, 0), (10, 0), (20, 0), (30, 0)])
        #expect(m.applications[0].served == 4)
        #expect(m.outcomes.met == 1)
        #expect(m.outcomes.late == 3)
        #expect(m.outcomes.expiredInQueue == 0)
    }

    @Test func underTheSLORuleAQueryStillQueuedAtItsSLOExpires() throws {
        // 100 ms each, SLO 150 ms: the second starts at 100 ms (in time to start, late to finish);
        // the third and fourth are still queued at 152 and 153 ms.
        let m = try run(serviceMs: 100, apps: [App(slo: 150)], arrivals: [(0, 0), (1, 0), (2, 0), (3, 0)],
                        configure: { $0.queueDeadline = .slo })
        let r = byArrival(m)
        #expect(r[0]?.outcome == .met)
        #expect(r[1]?.outcome == .late)
        #expect(r[2]?.outcome == .expiredInQueue)
        #expect(r[3]?.outcome == .expiredInQueue)
        #expect(abs(r[3]!.finish - 0.153) < 1e-6)
        #expect(m.outcomes.total == 4)
    }

    @Test func shedIfLateAnswersAtOnceWhenTheQueueAheadExceedsTheSLO() throws {
        // 100 ms each, SLO 250: 1 and 2 ahead (100, 200 ms) are admitted (the second of them
        // finishes late: the rule looks at the wait alone); 3 and 4 ahead are shed.
        let m = try run(serviceMs: 100, apps: [App(slo: 250)], arrivals: [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)],
                        configure: { $0.admission = .shedIfLate })
        let r = byArrival(m)
        #expect([0, 1, 2].map { r[$0]?.outcome } == [.met, .met, .late])
        for arrival in [3, 4] {
            #expect(r[arrival]?.outcome == .shed)
            #expect(r[arrival]!.finish == r[arrival]!.arrival)
        }
        #expect(m.applications[0].shed == 2)
        #expect(m.rejectedByReason[.predictedLate] == 2)
        #expect(m.applications[0].served == 3)
    }

    @Test func aBoundedQueueShedsWhatDoesNotFit() throws {
        let m = try run(serviceMs: 100, apps: [App()], arrivals: [(0, 0), (1, 0), (2, 0), (3, 0)],
                        configure: { $0.maxQueueLength = 1 })
        #expect(m.applications[0].served == 2)
        #expect(m.outcomes.shed == 2)
        #expect(m.rejectedByReason[.queueFull] == 2)
    }

    @Test func theTimeseriesCountsExpiredAndShedQueriesInTheIntervalTheyArrivedIn() throws {
        // 1 s intervals. At 0: one runs for 1 s, two queue (max_queue_length 2) and expire after
        // 100 ms, the fourth is shed. At 2.1 s the same without the shed one.
        let m = try run(serviceMs: 1000, apps: [App(deadlineMs: 100)],
                        arrivals: [(0, 0), (10, 0), (20, 0), (30, 0), (2100, 0), (2110, 0), (2120, 0)], intervalSeconds: 1,
                        configure: { $0.maxQueueLength = 2 })
        #expect(m.outcomes.expiredInQueue == 4)
        #expect(m.outcomes.shed == 1)
        let rows = m.timeseries
        try #require(rows.count >= 3)
        #expect(rows.map(\.arrivals).prefix(3) == [4, 0, 3])
        #expect(rows.map(\.expiredInQueue).prefix(3) == [2, 0, 2])
        #expect(rows.map(\.shed).prefix(3) == [1, 0, 0])
        #expect(rows.map(\.rejected).prefix(3) == [3, 0, 2])
        #expect(rows.dropFirst(3).allSatisfy { $0.expiredInQueue == 0 && $0.shed == 0 })
    }

    /// The one definition of the per-arrival columns (`infaas replay` fills its rows with it too).
    @Test func arrivalOutcomesSetTheViolationColumns() {
        var counts = OutcomeCounts()
        for outcome: QueryOutcome in [.met, .met, .late, .expiredInQueue, .shed, .shed, .rejected] { counts.record(outcome) }
        var row = TimeseriesRow(time: 1, arrivals: 7, completions: 3, violations: 0, rejected: 0, meanLatencyMs: 0, workers: [:],
                                costUSD: 0, replicas: 0, runningVariants: 0)
        row.setArrivalOutcomes(counts)
        #expect(row.violations == 5)
        #expect(row.rejected == 4)
        #expect(row.expiredInQueue == 1)
        #expect(row.shed == 2)
    }

    @Test func highPriorityRunsFirstAndLowWaitsAtMostTheStarvationBound() throws {
        // A high query every 5 ms for 0.5 s on a 10 ms server: highs alone would keep the low
        // query at t = 1 ms waiting until their backlog drains (about 0.5 s later).
        let highs = stride(from: 2.0, to: 500, by: 5).map { (ms: $0, application: 0) }
        let arrivals = [(ms: 0.0, application: 0), (ms: 1.0, application: 1)] + highs
        let apps = [App(priority: .high), App(priority: .low)]
        let bounded = try run(serviceMs: 10, apps: apps, arrivals: arrivals, configure: { $0.lowPriorityMaxWaitMs = 100 })
        let low = try #require(bounded.queries.first { $0.application == 1 })
        let waitedMs = (low.finish - low.arrival) * 1000 - 10
        // It waited behind later high queries (priority), but no more than the bound plus one service time.
        #expect(waitedMs >= 100)
        #expect(waitedMs <= 100 + 10 + 1e-6, "the low query waited \(waitedMs) ms")
        let unbounded = try run(serviceMs: 10, apps: apps, arrivals: arrivals, configure: { $0.lowPriorityMaxWaitMs = 3_600_000 })
        let starved = try #require(unbounded.queries.first { $0.application == 1 })
        #expect((starved.finish - starved.arrival) * 1000 > 500, "without the bound it waits for every high query")
        // Every high query that arrived before it was served ran before it.
        #expect(unbounded.queries.filter { $0.application == 0 }.allSatisfy { $0.finish <= starved.finish })
    }

    @Test func demoteLetsAQueryThatCanStillMakeItGoFirst() throws {
        // SLO 250 ms, 100 ms each: the fourth tight query is predicted 300 ms late and demoted;
        // a looser query arriving after it (SLO 1 s) is admitted high and runs before it.
        let apps = [App(slo: 250), App(slo: 1000)]
        let m = try run(serviceMs: 100, apps: apps, arrivals: [(0, 0), (1, 0), (2, 0), (3, 0), (4, 1)],
                        configure: { $0.admission = .demote })
        let r = byArrival(m)
        #expect(m.applications.map(\.served).reduce(0, +) == 5)
        #expect(r[4]!.finish < r[3]!.finish)
        #expect(abs(r[4]!.finish - 0.4) < 1e-5)
        #expect(abs(r[3]!.finish - 0.5) < 1e-5)
    }

    @Test func eachServedQueryRecordsItsRunAndItsTimeOnTheWorker() throws {
        // 100 ms runs; the second and third queue behind the first; the fourth expires queued.
        let m = try run(serviceMs: 100, apps: [App(), App(deadlineMs: 50)], arrivals: [(0, 0), (10, 0), (20, 0), (30, 1)])
        let r = byArrival(m)
        let first = try #require(r[0]), second = try #require(r[10]), third = try #require(r[20]), expired = try #require(r[30])
        for q in [first, second, third] {
            #expect(abs(q.inferenceMs - 100) < 1e-6, "the run is the profile's 100 ms: \(q.inferenceMs)")
            #expect(q.workerMs >= q.inferenceMs)
            #expect((q.finish - q.arrival) * 1000 >= q.workerMs - 1e-6, "the client's latency includes the worker's time")
        }
        // Each waits for the runs ahead of it: its queue time is the others' 100 ms, less its later arrival.
        #expect(abs(second.workerMs - (first.workerMs + 100 - 10)) < 1e-6)
        #expect(abs(third.workerMs - (first.workerMs + 200 - 20)) < 1e-6)
        #expect(expired.outcome == .expiredInQueue)
        #expect(expired.workerMs == -1 && expired.inferenceMs == -1)
    }
}
