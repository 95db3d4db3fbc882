import ArgumentParser
import Foundation
import InfaasCore
import InfaasPolicies
import InfaasSimulator

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay a workload through INFaaS (or a baseline) in the discrete-event simulator.",
        discussion: reflow("""
            Examples:
              infaas simulate --experiment experiments/quickstart.yaml
              infaas simulate --experiment experiments/quickstart.yaml --policy static \\
                  --seed 2
              infaas simulate --experiment experiments/sensitivity.yaml \\
                  --set policy_config.utilization_threshold=60
              infaas simulate --trace traces/AzureLLMInferenceTrace_conv.csv \\
                  --target classification/imagenet --slo-ms 200 --min-accuracy 75 \\
                  --max-workers cpu=8,gpu=2,inf=2 --duration 600

            Writes OUTPUT/results.h5 and OUTPUT/summary.json (OUTPUT defaults to out/<experiment>-<policy>)
            and prints a summary. Flags override the experiment file. Policies: \(PolicyRegistry.names.joined(separator: ", ")).
            An experiment with a `sweep:` section runs its first point here (all of them: `infaas sweep`);
            --set KEY=VALUE takes any sweep key (policy, policy_config.<key>, rate_scale, workers.<class>,
            max_workers.<class>, slo_ms, min_accuracy, batch, duration_s, applications.<name>.slo_ms …).
            Every experiment key, and each arrival process's parameters: docs/experiments.md.
            """)
    )

    @Option(help: ArgumentHelp("Experiment file (YAML).", valueName: "FILE")) var experiment: String?
    @Option(help: ArgumentHelp("Trace file (Azure LLM CSV, our queries CSV, or Azure Functions counts).", valueName: "FILE")) var trace: String?
    @Option(help: ArgumentHelp("Profile catalogue (.csv, .config or profiles.h5).", valueName: "FILE")) var profiles: String?
    @Option(name: .customLong("machine-model"), help: ArgumentHelp("A measured machine (calibration.h5 from `infaas calibrate`): RPC hops, CPU contention, background load, load times. Default: the experiment's `machine_model:`, else the idealised machine.", valueName: "FILE")) var machineModel: String?
    @Option(help: "Policy set (see above).") var policy: String?
    @Option(help: "Random seed.") var seed: UInt64?
    @Option(help: ArgumentHelp("Simulated seconds of arrivals to replay.", valueName: "SECONDS")) var duration: Double?
    @Option(help: ArgumentHelp("Initial workers, e.g. cpu=1,gpu=1.", valueName: "CLASS=N,...")) var workers: String?
    @Option(name: .customLong("max-workers"), help: ArgumentHelp("Worker ceilings, e.g. cpu=8,gpu=2,inf=2.", valueName: "CLASS=N,...")) var maxWorkers: String?
    @Option(help: "With --trace and no experiment: what the queries name (variant, architecture or task/dataset).") var target: String = "classification/imagenet"
    @Option(name: .customLong("slo-ms"), help: "With --trace and no experiment: latency SLO in ms.") var sloMs: Double = 300
    @Option(name: .customLong("min-accuracy"), help: "With --trace and no experiment: minimum accuracy in %.") var minAccuracy: Double = 70
    @Option(help: "With --trace and no experiment: inputs per query.") var batch: Int = 1
    @Option(help: "Replay traces this many times faster.") var speedup: Double?
    @Option(name: .customLong("rate-scale"), help: "Scale the arrival rate (2 = twice the queries).") var rateScale: Double?
    @Option(name: .customLong("set"), help: ArgumentHelp("Change one experiment key (repeatable), e.g. policy_config.backoff_iterations=10.",
                                                         valueName: "KEY=VALUE")) var settings: [String] = []
    @Flag(help: "Sort trace rows by time first (reads the whole trace into memory).") var sort = false
    @Flag(name: .customLong("record-queries"), help: "Write one record per query to results.h5.") var recordQueries = false
    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output folder.", valueName: "DIR")) var output: String?
    @Flag(help: "Print summary.json instead of the table.") var json = false
    @Flag(help: "No progress line.") var quiet = false
    @Flag(name: .customLong("list-policy-keys"), help: "List every policy_config key with its value range and meaning, and exit.") var listPolicyKeys = false
    @Flag(name: .customLong("list-policies"), help: "List the registered policies, and exit.") var listPolicies = false

    func validate() throws {
        if listPolicyKeys || listPolicies { return }
        guard experiment != nil || trace != nil else {
            throw ValidationError("give --experiment FILE, or --trace FILE (see --help for an example)")
        }
        if !settings.isEmpty, experiment == nil { throw ValidationError("--set changes an experiment: give --experiment FILE") }
        // Every number is bounded before it is converted or looped on (InputLimits).
        do throws(InfaasCore.ValidationError) {
            if let speedup { _ = try CheckedNumber.double(speedup, key: "--speedup", range: InputLimits.speedup) }
            if let rateScale { _ = try CheckedNumber.double(rateScale, key: "--rate-scale", range: InputLimits.rateScale) }
            if let duration { _ = try CheckedNumber.double(duration, key: "--duration", range: InputLimits.durationSeconds, unit: " s") }
            _ = try CheckedNumber.double(sloMs, key: "--slo-ms", range: 0.001...InputLimits.sloMs.upperBound, unit: " ms")
            _ = try CheckedNumber.double(minAccuracy, key: "--min-accuracy", range: InputLimits.accuracy, unit: " %")
            _ = try CheckedNumber.int(batch, key: "--batch", range: 1...InputLimits.maxBatch)
        } catch {
            throw ArgumentParser.ValidationError(error.description)
        }
    }

    static func parseCounts(_ text: String, flag: String) throws -> [HardwareClass: Int] {
        var counts: [HardwareClass: Int] = [:]
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=")
            guard kv.count == 2, let hardware = HardwareClass(name: String(kv[0])), let n = Int(kv[1]), n >= 0 else {
                throw ValidationError("\(flag) \"\(text)\": expected CLASS=N pairs with CLASS cpu, gpu or inf, e.g. cpu=4,gpu=1")
            }
            guard n <= InputLimits.maxWorkers else {
                throw ValidationError("\(flag) \(kv[0])=\(n): at most \(InputLimits.maxWorkers) workers of a class")
            }
            counts[hardware] = n
        }
        return counts
    }

    func makeSpec() throws -> ExperimentSpec {
        var spec: ExperimentSpec
        if let experiment {
            spec = try ExperimentSpec.load(path: experiment)
            var overrides = try settings.map { text throws(ExperimentError) in try ExperimentOverride(flag: text) }
            let unset = spec.sweep.filter { axis in !overrides.contains { $0.key == axis.key } }
            if !unset.isEmpty {
                let first = unset.map { $0.values[0] }
                let count = spec.sweep.reduce(1) { $0 * $1.values.count }
                FileHandle.standardError.write(Data(("note: \(experiment) sweeps \(count) configurations; running the first ("
                    + first.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + "); run them all with `infaas sweep \(experiment)`\n").utf8))
                overrides = first + overrides
            }
            try spec.apply(overrides)
        } else {
            spec = ExperimentSpec(name: "trace", path: FileManager.default.currentDirectoryPath + "/(flags)")
            spec.maxWorkers = [.cpu: 4, .gpu: 0, .inferentia: 0]
            spec.applications = [ApplicationSpec(name: "trace", target: target, batch: batch, sloMs: sloMs, minAccuracy: minAccuracy,
                                                 arrivals: .trace(path: trace!, format: nil))]
        }
        if let trace, experiment != nil {
            for i in spec.applications.indices { spec.applications[i].arrivals = .trace(path: trace, format: nil) }
        }
        if let profiles { spec.profiles = profiles }
        if let machineModel { spec.machineModel = machineModel }
        if let policy {
            guard PolicyRegistry.names.contains(policy) else {
                throw ValidationError("unknown policy \"\(policy)\"; \(PolicyRegistry.unknownHint(policy))")
            }
            spec.policy = policy
        }
        if let seed { spec.seed = seed; spec.options.seed = seed }
        if let duration {
            guard duration > 0 else { throw ValidationError("--duration must be > 0, got \(duration)") }
            spec.durationSeconds = duration
            spec.options.durationSeconds = duration
        }
        if let workers { spec.initialWorkers = try Self.parseCounts(workers, flag: "--workers") }
        if let maxWorkers {
            let counts = try Self.parseCounts(maxWorkers, flag: "--max-workers")
            for hardware in HardwareClass.allCases { spec.maxWorkers[hardware] = counts[hardware] ?? 0 }
        }
        for hardware in HardwareClass.allCases where (spec.initialWorkers[hardware] ?? 0) > (spec.maxWorkers[hardware] ?? 0) {
            spec.initialWorkers[hardware] = spec.maxWorkers[hardware] ?? 0
        }
        if let speedup { for i in spec.applications.indices { spec.applications[i].speedup = speedup } }
        if let rateScale { for i in spec.applications.indices { spec.applications[i].rateScale = rateScale } }
        if recordQueries { spec.options.recordQueries = true }
        let limits = ClusterLimits(initial: spec.initialWorkers, maximum: spec.maxWorkers)
        do { try limits.validate() } catch { throw ValidationError(error.description) }
        try spec.checkTimeseriesIntervals(at: spec.path)
        if HardwareClass.allCases.allSatisfy({ limits.initial($0) == 0 }) {
            throw ValidationError("no initial workers: start with at least one (e.g. --workers cpu=1)")
        }
        return spec
    }

    func run() async throws {
        if listPolicies {
            for entry in PolicyRegistry.entries { print("\(entry.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(entry.summary)") }
            return
        }
        if listPolicyKeys {
            let defaults = PolicyConfig()
            for key in PolicyConfig.keys {
                print("\(key.name) = \(key.value(in: defaults))\n    \(key.doc); \(key.takes)")
            }
            return
        }
        let spec = try makeSpec()
        var runner = ExperimentRunner(spec: spec)
        runner.sortTraces = sort
        let clock = ContinuousClock()
        let started = clock.now
        let showProgress = !quiet
        let printed = ProgressState()
        runner.progress = { p in
            guard showProgress else { return }
            let elapsed = clock.now - started
            guard elapsed > .seconds(2) else { return }
            let percent = p.durationSeconds.map { String(format: " (%.0f%%)", min(100, p.simulatedSeconds / $0 * 100)) } ?? ""
            let rate = Double(p.queries) / elapsed.totalSeconds
            FileHandle.standardError.write(Data(String(format: "\r[simulate] simulated %.0f s%@, %d queries, %.2f M queries/s   ",
                                                     p.simulatedSeconds, percent, p.queries, rate / 1e6).utf8))
            printed.value = true
        }
        let result = try runner.run()
        if printed.value { FileHandle.standardError.write(Data("\n".utf8)) }
        let wall = clock.now - started
        let summary = ExperimentSummary(result)
        let directory = output ?? "out/\(spec.name)-\(result.policyName)"
        let files = try ResultWriter.write(result, summary: summary, to: directory)
        if json {
            print(try summary.json(), terminator: "")
        } else {
            print(summary.table())
            print("")
            let seconds = wall.totalSeconds
            print(String(format: "wrote %@ and %@ (%.2f s wall, %.2f M simulated queries/s)", files.h5, files.json, seconds,
                         Double(summary.queries) / max(seconds, 1e-9) / 1e6))
        }
    }
}

/// Whether a progress line was printed (the callback runs on the simulating thread).
final class ProgressState: @unchecked Sendable {
    var value = false
}
