import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import InfaasSimulator

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run an experiment's sweep: every (configuration, seed) point as its own simulate process.",
        discussion: reflow("""
            Examples:
              infaas sweep experiments/sensitivity.yaml --seeds 3
              infaas sweep experiments/throughput-slo-cost.yaml --seeds 5 --jobs 8 \\
                  --out out/tsc
              infaas sweep experiments/sensitivity.yaml --shard 1/4     # one slice of four
              sbatch --array=0-3 scripts/sweep-slurm.sbatch experiments/sensitivity.yaml
              infaas sweep experiments/sensitivity.yaml --index-only    # combine slices

            The points are the cartesian product of the experiment's `sweep:` section (first key slowest)
            times the seeds SEED-BASE, SEED-BASE+1, … (SEED-BASE defaults to the file's `seed:`). Each point
            runs `infaas simulate --experiment FILE --set KEY=VALUE … --seed S -o OUT/<id>.partial`, renamed
            to OUT/<id> (results.h5, summary.json, point.json) when it succeeds; points already in OUT are
            skipped, so a stopped sweep resumes where it was. OUT/index.csv gets one row per finished point.
            Point i belongs to shard i mod N. Without --shard the shard comes from a scheduler's array index:
            Slurm (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT or _MIN/_MAX), Kubernetes Indexed Jobs
            (JOB_COMPLETION_INDEX) or AWS Batch (AWS_BATCH_JOB_ARRAY_INDEX), the last two with the count from
            --shard-count or INFAAS_SHARD_COUNT.
            """)
    )

    @Argument(help: ArgumentHelp("Experiment file (YAML).", valueName: "EXPERIMENT")) var experiment: String
    @Option(help: "Seeds per configuration.") var seeds: Int = 3
    @Option(name: .customLong("seed-base"), help: "First seed (default: the experiment's seed).") var seedBase: UInt64?
    @Option(help: "Points run at once (default: the number of cores).") var jobs: Int?
    @Option(name: [.short, .customLong("out")], help: ArgumentHelp("Output folder (default out/<experiment name>).", valueName: "DIR")) var out: String?
    @Option(help: ArgumentHelp("Run only slice I of N.", valueName: "I/N")) var shard: String?
    @Option(name: .customLong("shard-count"), help: "Number of shards, with JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX.") var shardCount: Int?
    @Flag(name: .customLong("dry-run"), help: "List the points (and whether each is done) without running them.") var dryRun = false
    @Flag(name: .customLong("index-only"), help: "Only rebuild OUT/index.csv from the finished points.") var indexOnly = false

    func validate() throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be ≥ 1, got \(seeds)") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be ≥ 1, got \(jobs)") }
        if let shardCount, shardCount < 1 { throw ValidationError("--shard-count must be ≥ 1, got \(shardCount)") }
    }

    func run() async throws {
        let spec = try ExperimentSpec.load(path: experiment)
        let plan = SweepPlan(spec: spec, seeds: seeds, seedBase: seedBase)
        // Every grid point must make a valid experiment (e.g. workers ≤ max_workers) before anything runs.
        for point in plan.points where point.seed == plan.seeds[0] {
            var copy = spec
            try copy.apply(point.overrides)
        }
        let results = SweepResults(directory: out ?? "out/\(spec.name)")
        if indexOnly {
            let rows = try results.writeIndex(keys: plan.keys, only: Set(plan.points.map(\.id)))
            print("wrote \(results.directory)/index.csv (\(rows) of \(plan.points.count) points finished)")
            return
        }
        let slice = try SweepShard.resolve(flag: shard, shardCount: shardCount, environment: ProcessInfo.processInfo.environment)
        let mine = plan.points.filter { slice?.contains($0) ?? true }
        let todo = mine.filter { !results.isFinished($0) }
        let sliceText = slice.map { " (shard \($0))" } ?? ""
        if dryRun {
            print("\(plan.points.count) points (\(plan.points.count / plan.seeds.count) configurations × \(plan.seeds.count) seeds); "
                  + "\(mine.count) in this run\(sliceText), \(mine.count - todo.count) already done, into \(results.directory)")
            for point in mine {
                let status = results.isFinished(point) ? "done   " : "pending"
                print("\(status)  \(point.id)  infaas " + arguments(for: point, output: results.folder(point)).joined(separator: " "))
            }
            return
        }
        let jobs = max(1, min(self.jobs ?? ProcessInfo.processInfo.activeProcessorCount, max(todo.count, 1)))
        FileHandle.standardError.write(Data(("[sweep] \(spec.name): \(mine.count) points\(sliceText), \(mine.count - todo.count) already done, "
            + "\(todo.count) to run on \(jobs) process\(jobs == 1 ? "" : "es") into \(results.directory)\n").utf8))
        try FileManager.default.createDirectory(atPath: results.directory, withIntermediateDirectories: true)

        let runner = PointRunner(binary: Self.binaryPath(), experiment: experiment, experimentName: spec.name, results: results)
        var bar = SweepProgress(total: todo.count)
        var failures: [String] = []
        await withTaskGroup(of: PointRunner.Outcome.self) { group in
            var pending = todo.makeIterator()
            for _ in 0..<jobs {
                guard let point = pending.next() else { break }
                let args = arguments(for: point, output: results.partialFolder(point))
                group.addTask { await runner.run(point, arguments: args) }
            }
            bar.draw()
            for await outcome in group {
                if let tail = outcome.failure {
                    failures.append(outcome.point.id)
                    bar.clear()
                    FileHandle.standardError.write(Data("[sweep] FAILED \(outcome.point.id) (left in \(results.partialFolder(outcome.point))):\n\(tail)\n".utf8))
                }
                bar.finished(failed: outcome.failure != nil)
                if let point = pending.next() {
                    let args = arguments(for: point, output: results.partialFolder(point))
                    group.addTask { await runner.run(point, arguments: args) }
                }
            }
        }
        bar.end()
        let rows = try results.writeIndex(keys: plan.keys, only: Set(plan.points.map(\.id)))
        let minutes = bar.elapsedSeconds / 60
        print(String(format: "sweep %@: ran %d points (%d failed), skipped %d already done, in %.1f s (%.1f points/min); %@/index.csv has %d rows",
                     spec.name, todo.count, failures.count, mine.count - todo.count, bar.elapsedSeconds,
                     minutes > 0 ? Double(todo.count) / minutes : 0, results.directory, rows))
        if !failures.isEmpty {
            FileHandle.standardError.write(Data("[sweep] \(failures.count) point(s) failed: \(failures.joined(separator: ", ")); rerun the same command to retry them\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `infaas` arguments that run one point.
    func arguments(for point: SweepPoint, output: String) -> [String] {
        ["simulate", "--experiment", experiment] + point.setArguments + ["--seed", String(point.seed), "-o", output, "--quiet"]
    }

    /// This executable, to run the points with.
    static func binaryPath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}

/// Runs one point as a child process into its `.partial` folder and renames it when it succeeds.
struct PointRunner: Sendable {
    struct Outcome: Sendable {
        var point: SweepPoint
        /// The end of the child's stderr when it failed.
        var failure: String?
    }

    let binary: String
    let experiment: String
    let experimentName: String
    let results: SweepResults

    func run(_ point: SweepPoint, arguments: [String]) async -> Outcome {
        let manager = FileManager.default
        let partial = results.partialFolder(point)
        let log = (partial as NSString).appendingPathComponent("stderr.log")
        do {
            if manager.fileExists(atPath: partial) { try manager.removeItem(atPath: partial) }  // an interrupted earlier try
            try manager.createDirectory(atPath: partial, withIntermediateDirectories: true)
            let record = SweepPointRecord(experiment: experimentName, experimentFile: experiment, point: point,
                                          command: arguments.map { $0 == partial ? results.folder(point) : $0 })
            try record.json().write(toFile: (partial as NSString).appendingPathComponent("point.json"), atomically: true, encoding: .utf8)
            guard manager.createFile(atPath: log, contents: nil) else { throw CocoaError(.fileWriteUnknown) }
            let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            let status: Int32 = try await withCheckedThrowingContinuation { continuation in
                process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
                do { try process.run() } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
            try? errors.close()
            guard status == 0, manager.fileExists(atPath: (partial as NSString).appendingPathComponent("summary.json")) else {
                return Outcome(point: point, failure: Self.tail(of: log, status: status))
            }
            try manager.removeItem(atPath: log)
            let folder = results.folder(point)
            if manager.fileExists(atPath: folder) { try manager.removeItem(atPath: folder) }
            try manager.moveItem(atPath: partial, toPath: folder)
            return Outcome(point: point, failure: nil)
        } catch {
            return Outcome(point: point, failure: "  \(error)")
        }
    }

    /// The last lines of a child's stderr, indented.
    static func tail(of path: String, status: Int32, lines: Int = 12) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let last = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).map { "  " + $0 }
        return (last.isEmpty ? ["  (no output)"] : last).joined(separator: "\n") + "\n  exit status \(status)"
    }
}

/// The progress bar on stderr: points done of total, failures, elapsed and ETA. Redrawn in place
/// on a terminal; one line per point otherwise.
struct SweepProgress {
    let total: Int
    var done = 0
    var failed = 0
    let clock = ContinuousClock()
    let started: ContinuousClock.Instant
    let terminal = isatty(2) != 0

    init(total: Int) {
        self.total = total
        started = clock.now
    }

    var elapsedSeconds: Double {
        (clock.now - started).totalSeconds
    }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }

    var line: String {
        let width = 30
        let filled = total > 0 ? done * width / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let elapsed = elapsedSeconds
        let eta = done > 0 ? Self.clock(elapsed / Double(done) * Double(total - done)) : "?"
        return "[sweep] [\(bar)] \(done)/\(total) done, \(failed) failed, elapsed \(Self.clock(elapsed)), ETA \(eta)"
    }

    func draw() {
        guard terminal, total > 0 else { return }
        FileHandle.standardError.write(Data("\r\(line)  ".utf8))
    }

    func clear() {
        guard terminal else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    mutating func finished(failed: Bool) {
        done += 1
        if failed { self.failed += 1 }
        if terminal { draw() } else { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
    }

    func end() {
        if terminal, total > 0 { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
