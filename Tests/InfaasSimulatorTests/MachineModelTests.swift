import InfaasCore
import InfaasPolicies
import InfaasSimulator
import InfaasTraces
import Testing

/// The measured machine in the simulator (``MachineModel``): RPC hops, contention between
/// co-located replicas, the background factor and measured load times. Simulated time only.
@Suite struct MachineModelSimulationTests {
    /// A model of a 2-core host: 2-thread replicas run 1.8× slower two at a time.
    static func machine(hopMs: [Double] = [4, 4], background: Double = 1, loads: [String: Double] = [:],
                        servingCPUMs: Double = 0, workerCPUMs: Double = 0) -> MachineModel {
        let levels = hopMs.count == 1 ? [0.0] : (0..<hopMs.count).map { Double($0) / Double(hopMs.count - 1) }
        return MachineModel(machine: "test", cores: 2, sharedHost: true, background: background,
                            hops: [MachineModel.Hop(payloadBytes: 3 * 224 * 224 * 4, costMs: .init(levels: levels, valuesMs: hopMs),
                                                    servingCPUMs: servingCPUMs, workerCPUMs: workerCPUMs)],
                            loadTimes: loads.mapValues { .init(levels: [0, 1], valuesMs: [$0, $0]) },
                            contention: [MachineModel.ContentionPoint(threads: 2, replicas: 2, slowdown: 1.8)])
    }

    /// Two variants of 10 ms (2 threads each), one replica each; `arrivals` as (ms, application).
    func run(_ machine: MachineModel?, arrivals: [(ms: Double, application: Int)], seed: UInt64 = 1) throws -> SimulationMetrics {
        try runRecording(machine, arrivals: arrivals, seed: seed).metrics
    }

    /// ``run(_:arrivals:seed:)``, with the tape of what the loop saw (the workers' reports).
    func runRecording(_ machine: MachineModel?, arrivals: [(ms: Double, application: Int)], seed: UInt64 = 1,
                      record: Bool = false) throws -> (metrics: SimulationMetrics, tape: [TapeEntry]) {
        let catalogue = try PolicyCatalogue([variant("a", intercept: 10, cpus: 2), variant("b", intercept: 10, cpus: 2)])
        let limits = ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 1])
        var config = PolicyConfig()
        config.modelAutoscaler = .none
        let policy = try PolicyRegistry.make("infaas-no-vm-scaling", PolicyContext(catalogue: catalogue, limits: limits, config: config))
        let applications = (0..<2).map { i in
            Application(name: "app\(i)", targetText: i == 0 ? "a" : "b", target: .variant(i), batch: 1, sloMs: 0, minAccuracy: 0)
        }
        var options = SimulationOptions()
        options.seed = seed
        options.latencyNoise = false
        options.recordQueries = true
        options.machine = machine
        options.recordDecisions = record
        var sim = try Simulation(policy: policy, applications: applications, limits: limits, options: options)
        var stream = ListedArrivals(arrivals)
        let metrics = try sim.run(&stream)
        return (metrics, sim.tape ?? [])
    }

    func latenciesMs(_ m: SimulationMetrics) -> [Double] {
        m.queries.sorted { ($0.arrival, $0.application) < ($1.arrival, $1.application) }.map { ($0.finish - $0.arrival) * 1000 }
    }

    @Test func eachQueryPaysItsHopsOnTopOfTheServiceTime() throws {
        let ideal = latenciesMs(try run(nil, arrivals: [(0, 0), (100, 0)]))
        let measured = latenciesMs(try run(Self.machine(), arrivals: [(0, 0), (100, 0)]))
        #expect(ideal.count == 2 && measured.count == 2)
        for (i, m) in zip(ideal, measured) { #expect(abs(m - i - 4) < 1e-3, "\(m) ms against \(i) ms") }
    }

    @Test func aReplicaStartedBesideAnotherRunsSlowerByTheMeasuredFactor() throws {
        // Both variants get a query at 100 ms (after their loads): the second starts while the
        // first runs, asking for 4 threads on 2 cores.
        let machine = Self.machine(hopMs: [0, 0])
        let m = latenciesMs(try run(machine, arrivals: [(0, 0), (0, 1), (100, 0), (100, 1)]))
        #expect(abs(m[2] - 10) < 1e-3)
        #expect(abs(m[3] - 18) < 1e-3)
        // Apart, neither slows the other.
        let apart = latenciesMs(try run(machine, arrivals: [(0, 0), (0, 1), (100, 0), (150, 1)]))
        #expect(abs(apart[2] - 10) < 1e-3 && abs(apart[3] - 10) < 1e-3)
        // The background factor applies to every run.
        let loaded = latenciesMs(try run(Self.machine(hopMs: [0, 0], background: 1.5), arrivals: [(100, 0)]))
        #expect(abs(loaded[0] - 15 - 0.001) < 1e-2, "\(loaded)")
    }

    @Test func theServingPathsCPUSlowsAReplicaUnderAStreamOfArrivals() throws {
        // A query every 20 ms to one 2-thread replica of 10 ms on 2 cores: with 5 ms of serving
        // CPU a query, the last second's 50 arrivals kept 0.25 cores busy, so a run starting at
        // 1.5 s sees 2.25 threads' demand: 1.125 × the cores, 1 + 0.125 × 0.8 = 1.1 × slower.
        // (3000 arrivals, 60 s: the window drops what left it all along.)
        let arrivals = (0..<3000).map { (ms: Double($0) * 20, application: 0) }
        let plain = latenciesMs(try run(Self.machine(hopMs: [0, 0]), arrivals: arrivals))
        let serving = latenciesMs(try run(Self.machine(hopMs: [0, 0], servingCPUMs: 5, workerCPUMs: 2), arrivals: arrivals))
        #expect(plain.count == 3000 && serving.count == 3000)
        #expect(abs(plain[75] - 10) < 1e-3, "\(plain[75])")
        #expect(abs(serving[75] - 11) < 1e-3, "\(serving[75])")
        #expect(abs(serving[2900] - 11) < 1e-3, "\(serving[2900])")
        #expect(zip(plain, serving).allSatisfy { $1 >= $0 - 1e-9 })
        #expect(serving.reduce(0, +) > plain.reduce(0, +))
        // A lone query counts only its own 5 ms over the window: 0.005 cores, 1.002 × (its load
        // took 0.001 ms).
        let lone = latenciesMs(try run(Self.machine(hopMs: [0, 0], servingCPUMs: 5), arrivals: [(100, 0)]))
        #expect(abs(lone[0] - 10.021) < 1e-6, "\(lone)")
    }

    @Test func theWorkersPartOfTheServingCPUCountsInItsUtilisation() throws {
        // 50 queries a second, 8 ms of the worker's CPU each, on the worker's 8 cores: 5 points
        // more (its one replica's 10 ms runs of 2 threads keep it 12.5 % busy).
        let arrivals = (0...150).map { (ms: Double($0) * 20, application: 0) }
        func peak(_ machine: MachineModel) throws -> Double {
            try runRecording(machine, arrivals: arrivals, record: true).tape.compactMap { entry -> Double? in
                if case .report(_, _, let worker, _) = entry { return worker.cpuUtilization }
                return nil
            }.max() ?? 0
        }
        let plain = try peak(Self.machine(hopMs: [0, 0]))
        let serving = try peak(Self.machine(hopMs: [0, 0], servingCPUMs: 10, workerCPUMs: 8))
        #expect(plain > 12, "\(plain)")
        #expect(serving - plain > 4 && serving - plain < 7, "\(plain) → \(serving)")
    }

    @Test func aModelWithoutServingCPURunsAsBefore() throws {
        // What an older calibration reads as: serving CPU 0 on every hop.
        let old = Self.machine(hopMs: [1, 2, 3, 5, 9])
        #expect(!old.hasServingCPU)
        let arrivals = (0..<200).map { (ms: Double($0) * 7, application: $0 % 2) }
        let a = try run(old, arrivals: arrivals, seed: 5)
        let b = try run(Self.machine(hopMs: [1, 2, 3, 5, 9], servingCPUMs: 3), arrivals: arrivals, seed: 5)
        let c = try run(old, arrivals: arrivals, seed: 5)
        #expect(a.queries == c.queries)
        #expect(a.queries != b.queries)
        // The same hop draws either way: serving CPU draws nothing.
        #expect(a.queries.count == b.queries.count)
    }

    @Test func loadsTakeTheMeasuredTime() throws {
        let m = latenciesMs(try run(Self.machine(hopMs: [0, 0], loads: ["a": 250]), arrivals: [(0, 0)]))
        #expect(abs(m[0] - 260) < 1e-3, "\(m)")
    }

    /// A worker starts as a fresh process: its first load takes the measured extra, later
    /// loads on it (here the second variant's) their own time only.
    @Test func aWorkersFirstLoadTakesTheMeasuredExtraAndOnlyTheFirst() throws {
        var slow = Self.machine(hopMs: [0, 0], loads: ["a": 50, "b": 50])
        slow.firstLoadExtraMs = 120
        let fast = Self.machine(hopMs: [0, 0], loads: ["a": 50, "b": 50])
        let arrivals: [(ms: Double, application: Int)] = [(0, 0), (1000, 1)]
        let first = latenciesMs(try run(slow, arrivals: arrivals)), plain = latenciesMs(try run(fast, arrivals: arrivals))
        #expect(first.count == 2 && plain.count == 2)
        #expect(abs(plain[0] - 60) < 1e-3 && abs(plain[1] - 60) < 1e-3, "\(plain)")
        #expect(abs(first[0] - 180) < 1e-3, "the first load pays 120 ms more: \(first)")
        #expect(abs(first[1] - 60) < 1e-3, "the worker's second load does not: \(first)")
    }

    @Test func idleCurvesInterpolateFromNoPenaltyAndHoldBeyondTheLongestGap() {
        var machine = Self.machine()
        #expect(machine.idleSlowdown(variant: "a", idleMs: 500) == 1 && machine.idleHopExtraMs(idleMs: 500) == 0, "nothing measured: no penalty")
        machine.idleRuns = [.init(variant: "a", threads: 2, gapMs: 100, slowdown: 1.6), .init(variant: "a", threads: 2, gapMs: 20, slowdown: 1.5),
                            .init(variant: "b", threads: 2, gapMs: 20, slowdown: 1.05)]
        machine.idleHops = [.init(gapMs: 20, extraMs: 6)]
        #expect(machine.idleSlowdown(variant: "a", idleMs: 0) == 1)
        #expect(abs(machine.idleSlowdown(variant: "a", idleMs: 10) - 1.25) < 1e-12)
        #expect(abs(machine.idleSlowdown(variant: "a", idleMs: 60) - 1.55) < 1e-12)
        #expect(machine.idleSlowdown(variant: "a", idleMs: 5_000) == 1.6)
        #expect(machine.idleSlowdown(variant: "b", idleMs: 300) == 1.05, "each variant its own curve")
        #expect(machine.idleSlowdown(variant: "c", idleMs: 300) == 1, "a variant not measured pays nothing")
        #expect(abs(machine.idleHopExtraMs(idleMs: 10) - 3) < 1e-12)
        #expect(machine.idleHopExtraMs(idleMs: 1_000) == 6)
        machine.idleRuns = [.init(variant: "a", threads: 2, gapMs: 50, slowdown: 0.9)]
        #expect(machine.idleSlowdown(variant: "a", idleMs: 100) == 1, "a faster run after idle is read as no penalty")
    }

    @Test func aRunAndAHopAfterTheHostSatIdlePayTheMeasuredPenaltyAndBackToBackOnesDoNot() throws {
        var machine = Self.machine(hopMs: [0, 0])
        machine.idleRuns = [.init(variant: "a", threads: 2, gapMs: 20, slowdown: 1.5), .init(variant: "a", threads: 2, gapMs: 100, slowdown: 1.6)]
        machine.idleHops = [.init(gapMs: 20, extraMs: 6)]
        // 0: the load, then a run at once (no idle to speak of). 200: the host idle since ~10 ms,
        // 190 ms: the run takes 1.6 × 10 ms and the hop 6 ms more. 205: arrives while that runs
        // (no hop penalty), and starts the moment it ends (no idle): 11 ms queued + 10 ms.
        let m = try run(machine, arrivals: [(0, 0), (200, 0), (205, 0)])
        let latencies = latenciesMs(m)
        #expect(latencies.count == 3)
        #expect(abs(latencies[0] - 10) < 2e-3, "its load took 0.001 ms: \(latencies)")
        #expect(abs(latencies[1] - 22) < 1e-3, "\(latencies)")
        #expect(abs(latencies[2] - 21) < 1e-3, "\(latencies)")
        let runs = m.queries.sorted { $0.arrival < $1.arrival }.map(\.inferenceMs)
        #expect(abs(runs[1] - 16) < 1e-3 && abs(runs[2] - 10) < 1e-3, "\(runs)")
        // Without the idle measurements the same arrivals run as before.
        let plain = latenciesMs(try run(Self.machine(hopMs: [0, 0]), arrivals: [(0, 0), (200, 0), (205, 0)]))
        #expect(abs(plain[1] - 10) < 1e-3 && abs(plain[2] - 15) < 1e-3, "\(plain)")
    }

    @Test func concurrentHopFactorsInterpolateAndGrowInProportionBeyondTheLargestGroup() {
        var machine = Self.machine()
        #expect(machine.concurrentHopFactor(queries: 5) == 1, "nothing measured: independent hops")
        machine.concurrentHops = [.init(queries: 3, factor: 2.6), .init(queries: 2, factor: 1.9)]
        #expect(machine.concurrentHopFactor(queries: 1) == 1)
        #expect(machine.concurrentHopFactor(queries: 2) == 1.9)
        #expect(machine.concurrentHopFactor(queries: 3) == 2.6)
        #expect(abs(machine.concurrentHopFactor(queries: 6) - 5.2) < 1e-12)
    }

    @Test func queriesRoutedTogetherShareTheServingPathAndALoneOneDoesNot() throws {
        // Hops of 4 ms; two queries at 100 ms pay 2 × 4 ms each (and the second waits for the
        // first's 10 ms run); the lone one at 500 ms pays 4 ms.
        var machine = Self.machine(hopMs: [4, 4])
        machine.concurrentHops = [.init(queries: 2, factor: 2)]
        let together = latenciesMs(try run(machine, arrivals: [(0, 0), (100, 0), (100, 0), (500, 0)]))
        let apart = latenciesMs(try run(Self.machine(hopMs: [4, 4]), arrivals: [(0, 0), (100, 0), (100, 0), (500, 0)]))
        #expect(together.count == 4 && apart.count == 4)
        #expect(abs(apart[1] - 14) < 1e-3 && abs(apart[2] - 24) < 1e-3 && abs(apart[3] - 14) < 1e-3, "\(apart)")
        #expect(abs(together[1] - 18) < 1e-3 && abs(together[2] - 28) < 1e-3, "\(together)")
        #expect(abs(together[3] - 14) < 1e-3, "a lone query's hop is its own: \(together)")
    }

    @Test func hopDrawsAreDeterministicForASeed() throws {
        let machine = Self.machine(hopMs: [1, 2, 3, 5, 9])
        let arrivals = (0..<50).map { (ms: Double($0) * 30, application: $0 % 2) }
        let a = try run(machine, arrivals: arrivals, seed: 3).queries
        let b = try run(machine, arrivals: arrivals, seed: 3).queries
        let c = try run(machine, arrivals: arrivals, seed: 4).queries
        #expect(a == b)
        #expect(a != c)
        // Without a model, the idealised run is untouched by the machine draws.
        #expect(try run(nil, arrivals: arrivals, seed: 3).queries == run(nil, arrivals: arrivals, seed: 4).queries)
    }
}

/// The fidelity scenarios (experiments/fidelity/) and the trace slices they replay.
@Suite struct FidelityScenarioTests {
    @Test func startSSkipsTheTraceBeforeItAndShiftsTheRest() throws {
        var sliced = TraceStart(ListedArrivals([(100, 0), (1500, 0), (2000, 0), (2750, 0)]), startSeconds: 1.5)
        var times: [Double] = []
        while let a = try sliced.next() { times.append(a.time.seconds) }
        #expect(times == [0, 0.5, 1.25])
    }

    @Test(arguments: ["steady", "bursty", "vm-scaling"])
    func eachScenarioParsesAndStartsItsSliceAtZero(_ name: String) throws {
        let spec = try ExperimentSpec.load(path: root.appendingPathComponent("experiments/fidelity/\(name).yaml").path)
        #expect(spec.applications.count == 1)
        #expect(spec.applications[0].traceStartSeconds > 0)
        #expect(spec.options.timeseriesIntervalSeconds == 1)
        var stream = try ExperimentRunner(spec: spec).arrivals()
        let first = try #require(try stream.next())
        #expect(first.time.seconds >= 0 && first.time.seconds < 5, "first arrival at \(first.time.seconds) s")
    }
}

/// Live and simulated summaries measure over the same window (``ExperimentSummary``).
@Suite struct ComparableSummaryTests {
    @Test func throughputIsServedOverTheArrivalSpanNotTheRunsLength() throws {
        // Arrivals from 1 s to 11 s on a 2 s variant: the run drains until 13 s and beyond.
        var sim = try simulation([variant("v", intercept: 2000)], applications: [(target: "v", slo: 0, accuracy: 0)],
                                 options: { var o = SimulationOptions(); o.latencyNoise = false; return o }())
        var arrivals = ListedArrivals((0...5).map { (ms: 1000 + Double($0) * 2000, application: 0) })
        let metrics = try sim.run(&arrivals)
        #expect(metrics.firstArrivalSeconds == 1 && metrics.lastArrivalSeconds == 11)
        #expect(metrics.arrivalSpanSeconds == 10)
        #expect(sim.simulatedSeconds > 12)
        let result = ExperimentResult(spec: ExperimentSpec(name: "span", path: "span.yaml"), policyName: "infaas",
                                      catalogue: try PolicyCatalogue([variant("v", intercept: 2000)]), applications: sim.applications,
                                      metrics: metrics, simulatedSeconds: sim.simulatedSeconds, workerHours: [:], dollars: [:], totalDollars: 0)
        let summary = ExperimentSummary(result)
        #expect(summary.arrivalSpanSeconds == 10)
        #expect(summary.throughputQPS == 0.6)
    }
}
