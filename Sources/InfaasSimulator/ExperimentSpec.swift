import Foundation
public import InfaasCore
public import InfaasPolicies
public import InfaasTraces
import Yams

/// An error in an experiment file, naming the line and key.
public struct ExperimentError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    /// `file:line` (or the file alone).
    public var location: String
    public var hint: String?

    public init(_ message: String, at location: String, hint: String? = nil) {
        self.message = message
        self.location = location
        self.hint = hint
    }

    public var description: String { "\(location): \(message)" + (hint.map { " (\($0))" } ?? "") }
}

/// Where an application's arrivals come from.
public enum ArrivalSpec: Equatable, Sendable {
    /// A trace file: `azure-llm`, `queries` (our CSV) or `azure-functions` (detected from the header
    /// when `format` is nil).
    case trace(path: String, format: String?)
    /// A synthetic process.
    case process(ArrivalProcess)
}

/// One application of an experiment.
public struct ApplicationSpec: Equatable, Sendable {
    public var name: String
    public var target: String
    public var batch: Int = 1
    public var sloMs: Double = 0
    public var minAccuracy: Double = 0
    public var arrivals: ArrivalSpec
    public var speedup: Double = 1
    public var rateScale: Double = 1
    /// Its queries' class in the replicas' queues: `high` (default) or `low`.
    public var priority: QueryPriority = .high
    /// An explicit queue deadline in ms after arrival (0 = the `queue_deadline` rule's).
    public var deadlineMs: Double = 0
    /// Seconds into a trace its slice starts (`start_s`): earlier rows are skipped, later ones
    /// shifted to start at 0 (before `speedup`).
    public var traceStartSeconds: Double = 0
    /// Line of the application in the experiment file, for later errors.
    public var line: Int = 0

    public init(name: String, target: String, batch: Int = 1, sloMs: Double = 0, minAccuracy: Double = 0, arrivals: ArrivalSpec,
                speedup: Double = 1, rateScale: Double = 1) {
        self.name = name
        self.target = target
        self.batch = batch
        self.sloMs = sloMs
        self.minAccuracy = minAccuracy
        self.arrivals = arrivals
        self.speedup = speedup
        self.rateScale = rateScale
    }
}

/// An experiment: profiles, policy, cluster limits and applications (DESIGN.md §3).
public struct ExperimentSpec: Sendable {
    public var name: String
    public var path: String
    public var seed: UInt64 = 1
    public var durationSeconds: Double? = nil
    public var profiles: String = "profiles/catalogue.csv"
    /// A measured machine (`calibration.h5` from `infaas calibrate`, ``MachineModel``): nil
    /// simulates the idealised machine.
    public var machineModel: String? = nil
    public var policy: String = "infaas"
    public var policyConfig = PolicyConfig()
    public var initialWorkers: [HardwareClass: Int] = [.cpu: 1]
    public var maxWorkers: [HardwareClass: Int] = [.cpu: 4]
    public var machines = MachineCatalogue()
    public var options = SimulationOptions()
    /// `oracle`: also compute the clairvoyant cost bound of the trace (``OracleBound``) and
    /// report each run's gap to it.
    public var oracle = false
    /// `oracle_interval_s`: the bound's provisioning interval.
    public var oracleIntervalSeconds = 60.0
    public var applications: [ApplicationSpec] = []
    /// The `sweep:` section: keys to vary and their values, in file order (see ``ExperimentOverride``).
    public var sweep: [SweepAxis] = []

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }

    /// Most applications an experiment may list (a 550,000-application file once ran for minutes).
    public static let maxApplications = 1_000

    /// Reads and checks an experiment file.
    public static func load(path: String) throws(ExperimentError) -> ExperimentSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExperimentError(FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file", at: path)
        }
        return try parse(yaml: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses experiment YAML; every error names the line and the key.
    public static func parse(yaml: String, path: String) throws(ExperimentError) -> ExperimentSpec {
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: yaml) else { throw ExperimentError("the file is empty", at: path) }
            root = node
        } catch let error as ExperimentError {
            throw error
        } catch {
            throw ExperimentError("malformed YAML: \(error)", at: path)
        }
        let reader = YAMLReader(path: path)
        let top = try reader.mapping(root, "experiment")
        var spec = ExperimentSpec(name: ((path as NSString).lastPathComponent as NSString).deletingPathExtension, path: path)
        let known = ["name", "description", "seed", "duration_s", "profiles", "policy", "policy_config", "workers", "max_workers",
                     "machines", "machine_model", "deadline_ms", "latency_noise", "static_replicas", "timeseries_interval_s", "record_queries", "applications",
                     "sweep", "oracle", "oracle_interval_s"]
        try reader.checkKeys(top, known: known, in: "experiment")
        var sweepNode: Node? = nil
        for (key, value) in top {
            let k = key.string ?? ""
            switch k {
            case "name": spec.name = try reader.string(value, k)
            case "description": _ = try reader.string(value, k)
            case "seed": spec.seed = UInt64(try reader.int(value, k, min: 0))
            case "duration_s": spec.durationSeconds = try reader.double(value, k, in: InputLimits.durationSeconds)
            case "profiles": spec.profiles = try reader.string(value, k)
            case "machine_model": spec.machineModel = try reader.string(value, k)
            case "policy":
                spec.policy = try reader.string(value, k)
                guard PolicyRegistry.names.contains(spec.policy) else {
                    throw reader.error("unknown policy \"\(spec.policy)\"", value, hint: PolicyRegistry.unknownHint(spec.policy))
                }
            case "policy_config": try PolicyConfigKeys.apply(try reader.mapping(value, k), to: &spec.policyConfig, reader: reader)
            case "workers": spec.initialWorkers = try reader.workerCounts(value, k)
            case "max_workers": spec.maxWorkers = try reader.workerCounts(value, k)
            case "machines": try reader.machines(value, into: &spec.machines)
            case "deadline_ms": spec.options.deadlineMs = try reader.double(value, k, min: 1, max: InputLimits.maxLatencyMs)
            case "latency_noise": spec.options.latencyNoise = try reader.bool(value, k)
            case "static_replicas": spec.policyConfig.staticReplicas = try reader.int(value, k, min: 1, max: 10_000)
            case "timeseries_interval_s": spec.options.timeseriesIntervalSeconds = try reader.double(value, k, in: InputLimits.durationSeconds)
            case "record_queries": spec.options.recordQueries = try reader.bool(value, k)
            case "oracle": spec.oracle = try reader.bool(value, k)
            case "oracle_interval_s": spec.oracleIntervalSeconds = try reader.double(value, k, min: 1, max: 86_400)
            case "sweep": sweepNode = value
            case "applications":
                guard case .sequence(let items) = value, !items.isEmpty else {
                    throw reader.error("applications must be a non-empty list", value)
                }
                guard items.count <= ExperimentSpec.maxApplications else {
                    throw reader.error("applications lists \(items.count) applications; at most \(ExperimentSpec.maxApplications) share one simulated cluster", value)
                }
                for item in items { spec.applications.append(try reader.application(item, index: spec.applications.count)) }
            default: break
            }
        }
        guard !spec.applications.isEmpty else { throw ExperimentError("no applications: add an `applications:` list", at: path) }
        try spec.checkTimeseriesIntervals(at: path)
        spec.options.seed = spec.seed
        spec.options.durationSeconds = spec.durationSeconds
        for hardware in HardwareClass.allCases where spec.maxWorkers[hardware] == nil {
            spec.maxWorkers[hardware] = spec.initialWorkers[hardware] ?? 0
        }
        do { try ClusterLimits(initial: spec.initialWorkers, maximum: spec.maxWorkers).validate() } catch {
            throw ExperimentError(error.description, at: path)
        }
        if let sweepNode { spec.sweep = try spec.sweepAxes(sweepNode, reader: reader) }
        return spec
    }

    /// A run records one time-series row per interval: `duration_s / timeseries_interval_s` is
    /// bounded (``InputLimits/maxTimeseriesIntervals``) so a tiny interval cannot exhaust memory.
    public func checkTimeseriesIntervals(at location: String) throws(ExperimentError) {
        guard let duration = durationSeconds else { return }
        let intervals = duration / options.timeseriesIntervalSeconds
        guard intervals <= Double(InputLimits.maxTimeseriesIntervals) else {
            throw ExperimentError("duration_s \(CheckedNumber.format(duration)) / timeseries_interval_s \(CheckedNumber.format(options.timeseriesIntervalSeconds)) is \(CheckedNumber.format(intervals.rounded())) intervals; at most \(InputLimits.maxTimeseriesIntervals) are recorded",
                                  at: location, hint: "raise timeseries_interval_s or shorten duration_s")
        }
    }

    /// Resolves a path written in the experiment: as given (relative to the current directory),
    /// else relative to the experiment file's folder, else to that folder's parent.
    public func resolve(_ file: String) -> String? {
        if file.hasPrefix("/") { return FileManager.default.fileExists(atPath: file) ? file : nil }
        let folder = (path as NSString).deletingLastPathComponent
        for candidate in [file, (folder as NSString).appendingPathComponent(file),
                          ((folder as NSString).deletingLastPathComponent as NSString).appendingPathComponent(file)]
        where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        return nil
    }
}

/// Reads YAML nodes with errors that carry the line.
struct YAMLReader {
    let path: String
    /// Where errors point when the nodes were not read from the file (a `--set` flag).
    var location: String? = nil

    func error(_ message: String, _ node: Node, hint: String? = nil) -> ExperimentError {
        ExperimentError(message, at: location ?? node.mark.map { "\(path):\($0.line)" } ?? path, hint: hint)
    }

    func mapping(_ node: Node, _ key: String) throws(ExperimentError) -> Node.Mapping {
        guard case .mapping(let m) = node else { throw error("\(key) must be a mapping (key: value lines)", node) }
        return m
    }

    func checkKeys(_ mapping: Node.Mapping, known: [String], in context: String) throws(ExperimentError) {
        for (key, _) in mapping {
            let k = key.string ?? ""
            if !known.contains(k) {
                throw error("unknown key \"\(k)\" in \(context)", key, hint: NameSuggestion.hint(for: k, known: known))
            }
        }
    }

    func string(_ node: Node, _ key: String) throws(ExperimentError) -> String {
        guard case .scalar = node, let s = node.string, !s.isEmpty else { throw error("\(key) must be a non-empty string", node) }
        return s
    }

    /// A number in `min…max` (checked before anything converts it: a duration of 1e300 s would
    /// trap when it becomes nanoseconds).
    func double(_ node: Node, _ key: String, min: Double, max: Double = .greatestFiniteMagnitude) throws(ExperimentError) -> Double {
        guard let value = node.float ?? node.int.map(Double.init), value.isFinite, value >= min, value <= max else {
            let bound = max == .greatestFiniteMagnitude ? "≥ \(min)" : "in \(CheckedNumber.describe(min...max))"
            throw error("\(key) must be a number \(bound), got \"\(ValidationError.excerpt(node.string ?? "?"))\"", node)
        }
        return value
    }

    /// A number in `range`, for keys with bounds in ``InputLimits``.
    func double(_ node: Node, _ key: String, in range: ClosedRange<Double>) throws(ExperimentError) -> Double {
        try double(node, key, min: range.lowerBound, max: range.upperBound)
    }

    func int(_ node: Node, _ key: String, min: Int, max: Int = .max) throws(ExperimentError) -> Int {
        guard let value = node.int, value >= min, value <= max else {
            let bound = max == .max ? "≥ \(min)" : "in \(min)…\(max)"
            throw error("\(key) must be an integer \(bound), got \"\(ValidationError.excerpt(node.string ?? "?"))\"", node)
        }
        return value
    }

    func bool(_ node: Node, _ key: String) throws(ExperimentError) -> Bool {
        guard let value = node.bool else { throw error("\(key) must be true or false, got \"\(node.string ?? "?")\"", node) }
        return value
    }

    func workerCounts(_ node: Node, _ key: String) throws(ExperimentError) -> [HardwareClass: Int] {
        var counts: [HardwareClass: Int] = [:]
        for (k, v) in try mapping(node, key) {
            guard let name = k.string, let hardware = HardwareClass(name: name) else {
                throw error("unknown hardware class \"\(k.string ?? "")\" in \(key)", k, hint: "use cpu, gpu or inf")
            }
            counts[hardware] = try int(v, "\(key).\(name)", min: 0, max: InputLimits.maxWorkers)
        }
        return counts
    }

    func machines(_ node: Node, into machines: inout MachineCatalogue) throws(ExperimentError) {
        for (k, v) in try mapping(node, "machines") {
            guard let name = k.string, let hardware = HardwareClass(name: name) else {
                throw error("unknown hardware class \"\(k.string ?? "")\" in machines", k, hint: "use cpu, gpu or inf")
            }
            let fields = try mapping(v, "machines.\(name)")
            try checkKeys(fields, known: ["name", "hourly_usd", "boot_s", "vcpus", "accelerator_memory_mb", "neuron_cores"], in: "machines.\(name)")
            for (fk, fv) in fields {
                let f = fk.string ?? ""
                switch f {
                case "name": machines[hardware].name = try string(fv, f)
                case "hourly_usd": machines[hardware].hourlyUSD = try double(fv, f, min: 0, max: 1e6)
                case "boot_s": machines[hardware].bootSeconds = try double(fv, f, min: 0, max: 1e6)
                case "vcpus": machines[hardware].vcpus = try int(fv, f, min: 1, max: 4096)
                case "accelerator_memory_mb": machines[hardware].acceleratorMemoryMB = try double(fv, f, min: 0, max: 1e9)
                case "neuron_cores": machines[hardware].neuronCores = try int(fv, f, min: 0, max: 1024)
                default: break
                }
            }
        }
    }

    func application(_ node: Node, index: Int) throws(ExperimentError) -> ApplicationSpec {
        let m = try mapping(node, "an application")
        try checkKeys(m, known: ["name", "target", "batch", "slo_ms", "min_accuracy", "priority", "deadline_ms", "arrivals"], in: "application \(index + 1)")
        var name = "app\(index)", target: String? = nil, arrivals: ArrivalSpec? = nil
        var batch = 1, slo = 0.0, accuracy = 0.0, speedup = 1.0, rateScale = 1.0, deadline = 0.0, traceStart = 0.0
        var priority = QueryPriority.high
        for (key, value) in m {
            let k = key.string ?? ""
            switch k {
            case "name": name = try string(value, k)
            case "target": target = try string(value, k)
            case "batch": batch = try int(value, k, min: 1, max: InputLimits.maxBatch)
            case "slo_ms": slo = try double(value, k, min: 0.001, max: InputLimits.sloMs.upperBound)
            case "min_accuracy":
                accuracy = try double(value, k, min: 0)
                guard accuracy <= 100 else { throw error("min_accuracy must be a percentage in 0–100, got \(accuracy)", value) }
            case "priority":
                let text = try string(value, k)
                guard let p = QueryPriority(rawValue: text) else {
                    throw error("priority \"\(text)\" is not a priority class", value, hint: "use high or low")
                }
                priority = p
            case "deadline_ms": deadline = try double(value, k, min: 0.001, max: InputLimits.maxLatencyMs)
            case "arrivals": (arrivals, speedup, rateScale, traceStart) = try arrivalSpec(value)
            default: break
            }
        }
        guard let target else { throw error("application \"\(name)\" needs a target (a variant, an architecture or task/dataset)", node) }
        guard let arrivals else { throw error("application \"\(name)\" needs arrivals (a trace or a process)", node) }
        var spec = ApplicationSpec(name: name, target: target, arrivals: arrivals)
        spec.batch = batch
        spec.sloMs = slo
        spec.minAccuracy = accuracy
        spec.speedup = speedup
        spec.rateScale = rateScale
        spec.traceStartSeconds = traceStart
        spec.priority = priority
        spec.deadlineMs = deadline
        spec.line = node.mark?.line ?? 0
        return spec
    }

    func arrivalSpec(_ node: Node) throws(ExperimentError) -> (ArrivalSpec, Double, Double, Double) {
        let m = try mapping(node, "arrivals")
        var values: [String: Node] = [:]
        for (k, v) in m { values[k.string ?? ""] = v }
        let speedup = try values["speedup"].map { v throws(ExperimentError) in try double(v, "speedup", in: InputLimits.speedup) } ?? 1
        let rateScale = try values["rate_scale"].map { v throws(ExperimentError) in try double(v, "rate_scale", in: InputLimits.rateScale) } ?? 1
        if let trace = values["trace"] {
            try checkKeys(m, known: ["trace", "format", "speedup", "rate_scale", "start_s"], in: "arrivals")
            let start = try values["start_s"].map { v throws(ExperimentError) in try double(v, "start_s", min: 0, max: InputLimits.durationSeconds.upperBound) } ?? 0
            let format = try values["format"].map { v throws(ExperimentError) in try string(v, "format") }
            if let format, !["azure-llm", "queries", "azure-functions"].contains(format) {
                throw error("unknown trace format \"\(format)\"", values["format"]!, hint: "use azure-llm, queries or azure-functions")
            }
            return (.trace(path: try string(trace, "trace"), format: format), speedup, rateScale, start)
        }
        guard let processNode = values["process"] else {
            throw error("arrivals need `trace: FILE` or `process: poisson|onoff|diurnal|steps`", node)
        }
        let process = try string(processNode, "process")
        func number(_ key: String, min: Double = 0, max: Double = InputLimits.maxRate) throws(ExperimentError) -> Double {
            guard let v = values[key] else { throw error("a \(process) process needs \(key)", node) }
            return try double(v, key, min: min, max: max)
        }
        let period = InputLimits.periodSeconds
        let spec: ArrivalProcess
        switch process {
        case "poisson":
            try checkKeys(m, known: ["process", "rate", "speedup", "rate_scale"], in: "arrivals")
            spec = .poisson(rate: try number("rate", min: 1e-9))
        case "onoff":
            try checkKeys(m, known: ["process", "on_rate", "off_rate", "mean_on_s", "mean_off_s", "speedup", "rate_scale"], in: "arrivals")
            spec = .onOff(onRate: try number("on_rate"), offRate: try number("off_rate"),
                          meanOnSeconds: try number("mean_on_s", min: period.lowerBound, max: period.upperBound),
                          meanOffSeconds: try number("mean_off_s", min: period.lowerBound, max: period.upperBound))
        case "diurnal":
            try checkKeys(m, known: ["process", "mean_rate", "amplitude", "period_s", "phase_s", "speedup", "rate_scale"], in: "arrivals")
            spec = .diurnal(meanRate: try number("mean_rate", min: 1e-9), amplitude: try number("amplitude", max: 1),
                            periodSeconds: try number("period_s", min: period.lowerBound, max: period.upperBound),
                            phaseSeconds: try values["phase_s"].map { v throws(ExperimentError) in try double(v, "phase_s", min: 0, max: InputLimits.maxTraceSeconds) } ?? 0)
        case "steps":
            try checkKeys(m, known: ["process", "steps", "speedup", "rate_scale"], in: "arrivals")
            guard let stepsNode = values["steps"], case .sequence(let items) = stepsNode else {
                throw error("a steps process needs `steps: [[time_s, rate], ...]`", node)
            }
            var steps: [ArrivalProcess.Step] = []
            for item in items {
                guard case .sequence(let pair) = item, pair.count == 2 else { throw error("each step is [time_s, rate]", item) }
                steps.append(.init(atSeconds: try double(pair[0], "step time", min: 0, max: InputLimits.maxTraceSeconds),
                                   rate: try double(pair[1], "step rate", min: 0, max: InputLimits.maxRate)))
            }
            spec = .steps(steps)
        default:
            throw error("unknown arrival process \"\(process)\"", processNode, hint: "use poisson, onoff, diurnal or steps")
        }
        do { try spec.validate() } catch { throw self.error(error.message, node) }
        return (.process(spec), speedup, rateScale, 0)
    }
}
