import Foundation
public import InfaasCore
public import InfaasPolicies
import InfaasProfiles
public import InfaasTraces
public import InfaasOracle

/// Sets every arrival's application index.
struct Relabelled<Base: ArrivalStream>: ArrivalStream {
    var base: Base
    let application: Int
    mutating func next() throws(TraceError) -> Arrival? {
        guard var arrival = try base.next() else { return nil }
        arrival.application = application
        return arrival
    }
}

/// A finished run: what was simulated and what it measured.
public struct ExperimentResult: Sendable {
    public var spec: ExperimentSpec
    public var policyName: String
    public var catalogue: PolicyCatalogue
    public var applications: [Application]
    public var metrics: SimulationMetrics
    public var simulatedSeconds: Double
    public var workerHours: [HardwareClass: Double]
    public var dollars: [HardwareClass: Double]
    public var totalDollars: Double
    /// Wall-clock seconds spent loading the catalogue and building the run, and simulating.
    /// Not part of `summary.json` (which must not depend on the machine).
    public var setupSeconds: Double = 0
    /// With `options.recordDecisions`: the loop's decisions and what the world showed it.
    public var journal: [ControlDecision]? = nil
    public var tape: [TapeEntry]? = nil
    public var runSeconds: Double = 0
    /// With `oracle: true`: the trace's clairvoyant cost bound.
    public var oracle: OracleBound.Result? = nil

    public init(spec: ExperimentSpec, policyName: String, catalogue: PolicyCatalogue, applications: [Application], metrics: SimulationMetrics,
                simulatedSeconds: Double, workerHours: [HardwareClass: Double], dollars: [HardwareClass: Double], totalDollars: Double) {
        self.spec = spec
        self.policyName = policyName
        self.catalogue = catalogue
        self.applications = applications
        self.metrics = metrics
        self.simulatedSeconds = simulatedSeconds
        self.workerHours = workerHours
        self.dollars = dollars
        self.totalDollars = totalDollars
    }
}

/// Builds a simulation from an ``ExperimentSpec`` and runs it.
public struct ExperimentRunner {
    public var spec: ExperimentSpec
    /// Read trace files whole and sort them by time (for files whose rows are out of order).
    public var sortTraces = false
    public var progress: ((SimulationProgress) -> Void)? = nil

    public init(spec: ExperimentSpec) { self.spec = spec }

    /// Loads the catalogue named by the experiment (`.csv`, `.config` or `.h5`).
    public func loadCatalogue() throws(ExperimentError) -> PolicyCatalogue {
        guard let path = spec.resolve(spec.profiles) else {
            throw ExperimentError("profiles \"\(spec.profiles)\" not found (looked beside the current directory and the experiment)", at: spec.path)
        }
        let variants: [ModelVariant]
        do {
            variants = path.hasSuffix(".h5") ? try ProfileStore.read(from: path) : try ProfileImporter.importFiles([path]).variants
        } catch {
            throw ExperimentError(error.description, at: spec.path)
        }
        do { return try PolicyCatalogue(variants, binEdges: spec.policyConfig.accuracyBinEdges) } catch {
            throw ExperimentError(error.description, at: path)
        }
    }

    /// The experiment's measured machine (`machine_model:`), nil for the idealised one.
    public func loadMachineModel() throws(ExperimentError) -> MachineModel? {
        guard let file = spec.machineModel else { return nil }
        guard let path = spec.resolve(file) else {
            throw ExperimentError("machine_model \"\(file)\" not found (looked beside the current directory and the experiment)", at: spec.path,
                                  hint: "measure one with `infaas calibrate -o \(file)`")
        }
        do { return try CalibrationStore.read(from: path) } catch { throw ExperimentError(error.description, at: spec.path) }
    }

    /// Resolves each application's target and checks that some variant can meet its objectives.
    public func applications(in catalogue: PolicyCatalogue) throws(ExperimentError) -> [Application] {
        let selector = VariantSelector(catalogue: catalogue, config: { var c = spec.policyConfig; c.variantSelection = .cheapest; return c }())
        var apps: [Application] = []
        for app in spec.applications {
            let at = "\(spec.path):\(app.line)"
            let objectives = Objectives(latencySLOMs: app.sloMs > 0 ? app.sloMs : nil, minAccuracy: app.minAccuracy > 0 ? app.minAccuracy : nil,
                                        batch: app.batch)
            let query: PolicyQuery
            do { query = try catalogue.query(catalogue.queryTarget(app.target), objectives: objectives) } catch {
                throw ExperimentError(error.kind == .unknownTarget ? "application \"\(app.name)\": unknown target \"\(app.target)\" — \(error.message)"
                                                                   : "application \"\(app.name)\": \(error.message)", at: at,
                                      hint: error.kind == .unknownTarget ? "name a variant, an architecture or task/dataset" : nil)
            }
            let target = query.target
            if selector.bestByRule(query) == nil {
                let fastest = selector.candidates(target).min { catalogue.predictedMs($0, queryBatch: app.batch, maxOnlineBatch: 32) < catalogue.predictedMs($1, queryBatch: app.batch, maxOnlineBatch: 32) }
                let detail = fastest.map { "the fastest candidate, \(catalogue.variants[$0].name), is predicted at \(String(format: "%.1f", catalogue.predictedMs($0, queryBatch: app.batch, maxOnlineBatch: 32))) ms" } ?? "no candidate variants"
                throw ExperimentError("application \"\(app.name)\": no variant meets batch \(app.batch), SLO \(app.sloMs) ms and accuracy ≥ \(app.minAccuracy) %", at: at,
                                      hint: detail + "; loosen the SLO or the accuracy floor")
            }
            apps.append(Application(name: app.name, targetText: app.target, target: target, batch: app.batch, sloMs: app.sloMs, minAccuracy: app.minAccuracy,
                                    priority: app.priority, deadlineMs: app.deadlineMs))
        }
        return apps
    }

    /// The merged arrival stream of all applications.
    public func arrivals() throws(ExperimentError) -> MergedArrivals {
        var streams: [any ArrivalStream] = []
        for (index, app) in spec.applications.enumerated() {
            let at = "\(spec.path):\(app.line)"
            do {
                var stream: AnyArrivalStream
                switch app.arrivals {
                case .process(let process):
                    let duration = spec.durationSeconds ?? 3600
                    stream = AnyArrivalStream(try SyntheticArrivals(process, durationSeconds: duration * app.speedup, application: index,
                                                                    seed: spec.seed &* 1_000_003 &+ UInt64(index)))
                case .trace(let file, let format):
                    guard let path = spec.resolve(file) else { throw ExperimentError("trace \"\(file)\" not found", at: at) }
                    stream = AnyArrivalStream(try Self.openTrace(path, format: format, application: index, sort: sortTraces, seed: spec.seed))
                    if app.traceStartSeconds > 0 { stream = AnyArrivalStream(TraceStart(stream, startSeconds: app.traceStartSeconds)) }
                }
                if app.speedup != 1 { stream = AnyArrivalStream(try SpeedUp(stream, factor: app.speedup)) }
                if app.rateScale != 1 { stream = AnyArrivalStream(try RateScale(stream, factor: app.rateScale, seed: spec.seed &+ UInt64(index))) }
                if case .process = app.arrivals, app.speedup == 1, app.rateScale == 1 {
                    streams.append(stream)  // already carries the application index
                } else {
                    streams.append(Relabelled(base: stream, application: index))
                }
            } catch let error as ExperimentError {
                throw error
            } catch let error as TraceError {
                throw ExperimentError("application \"\(app.name)\": \(error.description)", at: at)
            } catch {
                throw ExperimentError("application \"\(app.name)\": \(error)", at: at)
            }
        }
        do { return try MergedArrivals(streams) } catch { throw ExperimentError(error.description, at: spec.path) }
    }

    /// Opens a trace file, detecting its format from the header when not given.
    public static func openTrace(_ path: String, format: String?, application: Int, sort: Bool, seed: UInt64) throws(TraceError) -> any ArrivalStream {
        var kind = format
        if kind == nil {
            let head = (try? String(contentsOfFile: path, encoding: .utf8).prefix(400)) ?? ""
            let header = head.split(separator: "\n").first.map(String.init) ?? ""
            if header.contains("TIMESTAMP") { kind = "azure-llm" }
            else if header.contains("time_s") { kind = "queries" }
            else if header.contains("HashFunction") { kind = "azure-functions" }
            else {
                throw TraceError(.badHeader, "cannot tell the trace format from the header \"\(header.prefix(80))\"", at: "\(path):1",
                                 hint: "set `format:` to azure-llm, queries or azure-functions")
            }
        }
        let stream: any ArrivalStream
        switch kind {
        case "azure-llm": stream = try AzureLLMTrace(path: path, application: application, checkOrder: !sort)
        case "queries": stream = try QueryTraceCSV(path: path, checkOrder: !sort)
        default: stream = try AzureFunctionsTrace(path: path, applications: 1, seed: seed)
        }
        return sort ? try SortedArrivals(stream) : stream
    }

    /// Reads the arrivals the run will replay (up to `duration_s`), one pass before it.
    func forEachArrival(_ body: (Arrival) -> Void) throws(ExperimentError) {
        var stream = try arrivals()
        let end = spec.options.durationSeconds.map { Int64($0 * 1e9) } ?? .max
        do {
            while let arrival = try stream.next(), arrival.time.nanoseconds < end { body(arrival) }
        } catch { throw ExperimentError(error.description, at: spec.path) }
    }

    /// `static-peak`'s deployment: each application's peak rate measured over the arrivals the
    /// run will replay (one pass before it), then sized by ``PeakProvisioning`` on the hardware
    /// classes the experiment allows (those with a maximum above 0, and CPU).
    public func peakProvisioning(catalogue: PolicyCatalogue, applications apps: [Application], limits: ClusterLimits) throws(ExperimentError) -> PeakProvisioning {
        var meter = PeakProvisioning.PeakMeter(applications: apps.count, windowSeconds: spec.policyConfig.staticPeakWindowSeconds)
        try forEachArrival { meter.record(application: $0.application, nanoseconds: $0.time.nanoseconds) }
        var hardware: Set<HardwareClass> = [.cpu]
        for h in HardwareClass.allCases where limits.maximum(h) > 0 || limits.initial(h) > 0 { hardware.insert(h) }
        do {
            return try PeakProvisioning.plan(queries: apps.map(\.query), peakRates: meter.rates, catalogue: catalogue, config: spec.policyConfig,
                                             machines: spec.machines, hardware: hardware)
        } catch { throw ExperimentError(error.description, at: spec.path) }
    }

    /// The clairvoyant cost bound of the arrivals the run will replay (``OracleBound``), within
    /// the experiment's `max_workers`. Each arrival is resolved as the simulation resolves it.
    public func oracleBound(catalogue: PolicyCatalogue, applications apps: [Application]) throws(ExperimentError) -> OracleBound.Result {
        var demand = OracleDemand(intervalSeconds: spec.oracleIntervalSeconds)
        var cache: [String: PolicyTarget?] = [:]
        try forEachArrival { arrival in
            guard arrival.application >= 0, arrival.application < apps.count else {
                demand.recordUnknown(nanoseconds: arrival.time.nanoseconds)
                return
            }
            var declared = apps[arrival.application].query
            declared.application = arrival.application
            let query = PolicyQuery.arrival(of: declared, target: arrival.target, batch: arrival.batch, sloMs: arrival.sloMs,
                                            minAccuracy: arrival.minAccuracy) { text in
                if let known = cache[text] { return known }
                let resolved = catalogue.resolve(text)
                cache[text] = resolved
                return resolved
            }
            if let query { demand.record(query, nanoseconds: arrival.time.nanoseconds) } else { demand.recordUnknown(nanoseconds: arrival.time.nanoseconds) }
        }
        var maximum = spec.maxWorkers
        for h in HardwareClass.allCases { maximum[h] = max(maximum[h] ?? 0, spec.initialWorkers[h] ?? 0) }
        do { return try OracleBound(catalogue: catalogue, machines: spec.machines, maxWorkers: maximum).solve(demand) } catch {
            throw ExperimentError("the oracle bound could not be computed: \(error.description)", at: spec.path,
                                  hint: "set `oracle: false` to run without it")
        }
    }

    /// Runs the experiment.
    public func run() throws(ExperimentError) -> ExperimentResult {
        let clock = ContinuousClock()
        let started = clock.now
        let catalogue = try loadCatalogue()
        let apps = try applications(in: catalogue)
        var limits = ClusterLimits(initial: spec.initialWorkers, maximum: spec.maxWorkers)
        var config = spec.policyConfig
        if let unknown = config.unknownMinReplicaVariants(in: catalogue).first {
            throw ExperimentError("policy_config min_replicas_by_variant names variant \"\(unknown)\", which the catalogue does not have", at: spec.path,
                                  hint: NameSuggestion.hint(for: unknown, known: catalogue.variants.map(\.name)))
        }
        if spec.policy == "static-peak" {
            let sizing = try peakProvisioning(catalogue: catalogue, applications: apps, limits: limits)
            config.staticReplicasByApplication = sizing.replicas
            for hardware in HardwareClass.allCases {
                limits.initial[hardware] = sizing.workers[hardware] ?? 0
                limits.maximum[hardware] = max(limits.maximum(hardware), limits.initial(hardware))
            }
        }
        let oracle = spec.oracle ? try oracleBound(catalogue: catalogue, applications: apps) : nil
        let policy: any PolicySet
        do {
            policy = try PolicyRegistry.make(spec.policy, PolicyContext(catalogue: catalogue, limits: limits, machines: spec.machines, config: config))
        } catch {
            throw ExperimentError(error.description, at: spec.path)
        }
        var options = spec.options
        options.machine = try loadMachineModel()
        var simulation: Simulation
        do {
            simulation = try Simulation(policy: policy, applications: apps, limits: limits, machines: spec.machines, options: options)
        } catch {
            throw ExperimentError(error.description, at: spec.path)
        }
        simulation.progress = progress
        var stream = try arrivals()
        let setupDone = clock.now
        let metrics: SimulationMetrics
        do { metrics = try simulation.run(&stream) } catch { throw ExperimentError(error.description, at: spec.path) }
        let runDone = clock.now
        guard metrics.arrivals > 0 else {
            throw ExperimentError("the trace produced no arrivals (empty trace, or duration_s too short)", at: spec.path)
        }
        let cost = simulation.costSummary
        func seconds(_ d: Duration) -> Double { d.totalSeconds }
        var result = ExperimentResult(spec: spec, policyName: policy.name, catalogue: catalogue, applications: apps, metrics: metrics,
                                      simulatedSeconds: simulation.simulatedSeconds, workerHours: cost.hours, dollars: cost.dollars,
                                      totalDollars: cost.total)
        result.oracle = oracle
        result.journal = simulation.control.journal
        result.tape = simulation.tape
        result.setupSeconds = seconds(setupDone - started)
        result.runSeconds = seconds(runDone - setupDone)
        return result
    }
}
