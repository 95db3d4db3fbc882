import ArgumentParser
import Foundation
import GSLKit
import InfaasCore
import InfaasProfiles
import InfaasRegistry

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks of the hot paths (run with -c release).",
        subcommands: [BenchProfiles.self, BenchSim.self, BenchSimRun.self, BenchLive.self]
    )
}

struct BenchProfiles: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "Profile import time and variant-search lookups per second.",
        discussion: reflow("""
            Example:
              swift run -c release infaas bench profiles

            Measures (1) importing the bundled CSV into profiles.h5 (parse, fit, write), median of
            --repeat runs; (2) lookups per second of "variants of task T with accuracy ≥ A and
            predicted latency(b) ≤ L" over the bundled variants scaled to --variants (copies with
            accuracy and latency jittered by a seeded generator), in memory (VariantCatalogue) and
            in SQLite (the registry).
            """)
    )

    @Option(help: ArgumentHelp("Profile table to import.", valueName: "CSV"))
    var csv: String = "profiles/model_variant_profiles.csv"

    @Option(help: "Catalogue size for the lookup benchmark.")
    var variants: Int = 5000

    @Option(help: "Lookups to time in memory.")
    var queries: Int = 200_000

    @Option(name: .customLong("sql-queries"), help: "Lookups to time in SQLite.")
    var sqlQueries: Int = 2_000

    @Option(help: "Import runs (the median is reported).")
    var `repeat`: Int = 10

    @Option(help: "Seed for the catalogue jitter and the query mix.")
    var seed: UInt64 = 1

    func validate() throws {
        guard variants > 0, queries > 0, sqlQueries > 0, `repeat` > 0 else {
            throw ValidationError("--variants, --queries, --sql-queries and --repeat must be positive")
        }
    }

    func run() async throws {
        guard FileManager.default.fileExists(atPath: csv) else {
            throw ValidationError("no profile table at \(csv); run from the repository root or pass --csv PATH")
        }
        let clock = ContinuousClock()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-bench-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("profiles.h5").path

        var importTimes: [Double] = []
        var base: [ModelVariant] = []
        for _ in 0..<`repeat` {
            let elapsed = try clock.measure {
                let report = try ProfileImporter.importFiles([csv])
                try ProfileStore.write(report.variants, to: output)
                base = report.variants
            }
            importTimes.append(elapsed.milliseconds)
        }
        importTimes.sort()
        let readTime = try clock.measure { _ = try ProfileStore.read(from: output) }.milliseconds

        let catalogueVariants = scaled(base, to: variants)
        let catalogue = try VariantCatalogue(catalogueVariants)
        let mix = queryMix(count: 10_000)
        var matches = 0
        let memoryTime = clock.measure {
            for i in 0..<queries {
                let q = mix[i % mix.count]
                catalogue.forEachVariant(task: .classification, minAccuracy: q.accuracy, maxLatencyMs: q.slo, batch: q.batch) { _ in
                    matches += 1; return true
                }
            }
        }
        var firstMatches = 0
        let firstTime = clock.measure {
            for i in 0..<queries {
                let q = mix[i % mix.count]
                catalogue.forEachVariant(task: .classification, minAccuracy: q.accuracy, maxLatencyMs: q.slo, batch: q.batch) { _ in
                    firstMatches += 1; return false
                }
            }
        }

        let registry = try ModelRegistry(path: directory.appendingPathComponent("registry.sqlite").path)
        let location = ModelLocation.file(path: "/models/")
        _ = try registry.register(catalogueVariants, location: { _ in location }, skipExisting: false)
        var sqlMatches = 0
        let sqlTime = try clock.measure {
            for i in 0..<sqlQueries {
                let q = mix[i % mix.count]
                sqlMatches += try registry.variantNames(task: .classification, minAccuracy: q.accuracy, maxLatencyMs: q.slo, batch: q.batch).count
            }
        }

        let median = importTimes[importTimes.count / 2]
        print("infaas bench profiles  (\(csv), seed \(seed))")
        var table = TextTable([("MEASURE", .left), ("VALUE", .right), ("DETAIL", .left)])
        table.append(["import CSV → profiles.h5 (median)", "\(formatted(median, digits: 1)) ms",
                      "\(base.count) variants, min \(formatted(importTimes[0], digits: 1)) ms, max \(formatted(importTimes.last!, digits: 1)) ms over \(`repeat`) runs"])
        table.append(["read profiles.h5", "\(formatted(readTime, digits: 1)) ms", "\(base.count) variants"])
        table.append(["lookups/s, in memory, all matches", rate(queries, memoryTime), "\(catalogue.count) variants, mean \(formatted(Double(matches) / Double(queries), digits: 1)) matches/lookup"])
        table.append(["lookups/s, in memory, first match", rate(queries, firstTime), "\(formatted(Double(firstMatches) / Double(queries) * 100, digits: 1)) % of lookups found one"])
        table.append(["lookups/s, SQLite registry", rate(sqlQueries, sqlTime), "\(formatted(Double(sqlMatches) / Double(sqlQueries), digits: 1)) matches/lookup"])
        print(table.render())
    }

    func rate(_ count: Int, _ elapsed: Duration) -> String {
        let seconds = elapsed.milliseconds / 1000
        let perSecond = Double(count) / max(seconds, 1e-9)
        return perSecond >= 1e6 ? "\(formatted(perSecond / 1e6, digits: 2)) M" : perSecond >= 1e3 ? "\(formatted(perSecond / 1e3, digits: 1)) k" : formatted(perSecond, digits: 0)
    }

    /// The bundled variants repeated to `count`, each copy's accuracy moved by up to ±3 points
    /// and latency scaled by 0.5–2×, so the catalogue has the spread of a real search space.
    func scaled(_ base: [ModelVariant], to count: Int) -> [ModelVariant] {
        let rng = RandomGenerator(seed: seed)
        var out: [ModelVariant] = []
        out.reserveCapacity(count)
        var copy = 0
        while out.count < count {
            for var v in base where out.count < count {
                if copy > 0 {
                    v.name += "_x\(copy)"
                    if let accuracy = v.accuracy { v.accuracy = min(100, max(0, accuracy + (rng.uniform() * 6 - 3))) }
                    let factor = 0.5 + rng.uniform() * 1.5
                    v.latency.model = LinearLatencyModel(slopeMs: v.latency.model.slopeMs * factor, interceptMs: v.latency.model.interceptMs * factor)
                }
                out.append(v)
            }
            copy += 1
        }
        return out
    }

    struct Query { var accuracy: Double; var slo: Double; var batch: Int }

    /// Accuracy floors uniform in 55–85 %, SLOs log-uniform in 5 ms–2 s, batch 1–32.
    func queryMix(count: Int) -> [Query] {
        let rng = RandomGenerator(seed: seed &+ 1)
        let batches = [1, 1, 1, 2, 4, 8, 16, 32]
        return (0..<count).map { _ in
            Query(accuracy: 55 + rng.uniform() * 30, slo: 5 * pow(400, rng.uniform()), batch: batches[rng.uniformInt(below: batches.count)])
        }
    }
}

