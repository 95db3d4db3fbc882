import ArgumentParser
import Foundation
import InfaasCore
import InfaasSimulator

/// `infaas bench sim`: simulated queries and events per wall-clock second, and peak memory.
struct BenchSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulator throughput (queries/s, events/s) and peak memory, per scenario and policy.",
        discussion: reflow("""
            Example:
              swift run -c release infaas bench sim

            Each measurement runs in its own process (so peak RSS is that run's), --repeat times;
            the best loop time is reported (setup — loading the catalogue and trace — is timed
            apart). Scenarios: the quickstart experiment as it is; the same at 10× the arrival
            rate; and a synthetic Poisson load for 1 h and for 10 h at the same rate, to show
            that memory does not grow with trace length.
            """)
    )

    @Option(help: ArgumentHelp("Experiment to measure.", valueName: "FILE")) var experiment = "experiments/quickstart.yaml"
    @Option(help: "Runs per measurement (the fastest is reported).") var `repeat` = 3
    @Option(help: "Policies to measure, comma-separated.") var policies = "infaas,static"

    struct Scenario { var name: String; var arguments: [String] }

    func run() async throws {
        guard FileManager.default.fileExists(atPath: experiment) else {
            throw ValidationError("no experiment at \(experiment); run from the repository root or pass --experiment")
        }
        let scenarios = [
            Scenario(name: "quickstart", arguments: ["--experiment", experiment]),
            Scenario(name: "quickstart ×10 rate", arguments: ["--experiment", experiment, "--rate-scale", "10", "--max-workers", "cpu=40,gpu=20,inf=8"]),
            Scenario(name: "poisson 200 q/s, 1 h", arguments: ["--poisson", "200", "--duration", "3600"]),
            Scenario(name: "poisson 200 q/s, 10 h", arguments: ["--poisson", "200", "--duration", "36000"]),
        ]
        let binary = CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0]
            : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        var table = TextTable([("SCENARIO", .left), ("POLICY", .left), ("QUERIES", .right), ("EVENTS", .right), ("LOOP S", .right),
                               ("M QUERIES/S", .right), ("M EVENTS/S", .right), ("SETUP S", .right), ("MAX RSS MB", .right)])
        for scenario in scenarios {
            for policy in policies.split(separator: ",").map(String.init) {
                var best: BenchSimRun.Measurement? = nil
                for _ in 0..<max(1, `repeat`) {
                    let m = try child(binary, scenario.arguments + ["--policy", policy])
                    if best == nil || m.loopSeconds < best!.loopSeconds { best = m }
                }
                guard let m = best else { continue }
                table.append([scenario.name, policy, String(m.queries), String(m.events), formatted(m.loopSeconds, digits: 3),
                              formatted(Double(m.queries) / m.loopSeconds / 1e6, digits: 2), formatted(Double(m.events) / m.loopSeconds / 1e6, digits: 2),
                              formatted(m.setupSeconds, digits: 3), formatted(Double(m.maxRSSKilobytes) / 1024, digits: 1)])
                FileHandle.standardError.write(Data("[bench] \(scenario.name) / \(policy) done\n".utf8))
            }
        }
        print("infaas bench sim (best of \(`repeat`); one process per run)")
        print(table.render())
    }

    func child(_ binary: String, _ arguments: [String]) throws -> BenchSimRun.Measurement {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["bench", "sim-run"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("bench run \(arguments.joined(separator: " ")) failed with status \(process.terminationStatus)")
        }
        return try JSONDecoder().decode(BenchSimRun.Measurement.self, from: data)
    }
}

/// One measured simulation in this process (used by `bench sim`; prints JSON).
struct BenchSimRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sim-run", abstract: "One measured simulation (internal to bench sim).",
                                                    shouldDisplay: false)

    struct Measurement: Codable {
        var queries: Int
        var events: Int
        var loopSeconds: Double
        var setupSeconds: Double
        var maxRSSKilobytes: Int
    }

    @Option var experiment: String?
    @Option var policy = "infaas"
    @Option(name: .customLong("rate-scale")) var rateScale: Double?
    @Option(name: .customLong("max-workers")) var maxWorkers: String?
    @Option var poisson: Double?
    @Option var duration: Double?

    func run() async throws {
        var spec: ExperimentSpec
        if let experiment {
            spec = try ExperimentSpec.load(path: experiment)
        } else {
            spec = ExperimentSpec(name: "poisson", path: FileManager.default.currentDirectoryPath + "/experiments/(bench)")
            spec.profiles = "profiles/catalogue.csv"
            spec.initialWorkers = [.cpu: 2, .gpu: 1]
            spec.maxWorkers = [.cpu: 16, .gpu: 8, .inferentia: 8]
            spec.applications = [ApplicationSpec(name: "poisson", target: "classification/imagenet", sloMs: 100, minAccuracy: 75,
                                                 arrivals: .process(.poisson(rate: poisson ?? 200)))]
        }
        spec.policy = policy
        if let duration { spec.durationSeconds = duration; spec.options.durationSeconds = duration }
        if let rateScale { for i in spec.applications.indices { spec.applications[i].rateScale = rateScale } }
        if let maxWorkers {
            for (hardware, n) in try SimulateCommand.parseCounts(maxWorkers, flag: "--max-workers") { spec.maxWorkers[hardware] = n }
        }
        let result = try ExperimentRunner(spec: spec).run()
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let m = Measurement(queries: result.metrics.arrivals, events: result.metrics.events, loopSeconds: result.runSeconds,
                            setupSeconds: result.setupSeconds, maxRSSKilobytes: Int(usage.ru_maxrss))
        print(String(decoding: try JSONEncoder().encode(m), as: UTF8.self))
    }
}
