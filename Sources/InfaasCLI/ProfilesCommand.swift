import ArgumentParser
import Foundation
import InfaasCore
import InfaasProfiles

struct ProfilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "Import, show and export variant latency profiles (profiles.h5).",
        subcommands: [ProfilesImport.self, ProfilesShow.self, ProfilesExportConfig.self]
    )
}

struct ProfilesImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Build a profiles.h5 from profile tables (.csv) and original profiler outputs (.config).",
        discussion: reflow("""
            Example:
              infaas profiles import profiles/model_variant_profiles.csv \\
                  resnet50_tensorflow-cpu_4.config -o profiles.h5

            CSV columns are described in profiles/README.md. Rows without a batch or latency
            (accuracy/size metadata) are counted and listed as skipped. The output is written
            atomically: on any error the previous file is left as it was.
            """)
    )

    @Argument(help: ArgumentHelp("Profile tables (.csv) and profiler outputs (.config).", valueName: "FILE"))
    var files: [String]

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Profile store to write.", valueName: "profiles.h5"))
    var output: String

    @Option(help: "Task for CSV rows without a task column.")
    var task: String = "classification"

    @Option(help: "Dataset for CSV rows without a dataset column.")
    var dataset: String = "imagenet"

    @Option(name: .customLong("input-dim"), help: "Input side for CSV rows without an input_shape.")
    var inputDimension: Int = 224

    @Option(name: .customLong("use-case"), help: ArgumentHelp("Task and dataset of one architecture's rows (repeatable).", valueName: "ARCH=TASK/DATASET"))
    var useCases: [String] = []

    func run() async throws {
        var overrides: [String: (task: InferenceTask, dataset: Dataset)] = [:]
        for entry in useCases {
            let parts = entry.split(separator: "=", maxSplits: 1)
            let useCase = parts.count == 2 ? parts[1].split(separator: "/") : []
            guard parts.count == 2, useCase.count == 2 else {
                throw ValidationError("--use-case \"\(entry)\" must look like ARCH=TASK/DATASET, e.g. ppocr_mobilenetv3_cls=classification/text-direction")
            }
            overrides[String(parts[0])] = (InferenceTask(String(useCase[0])), Dataset(String(useCase[1])))
        }
        guard inputDimension > 0 else { throw ValidationError("--input-dim must be positive, got \(inputDimension)") }
        let options = ImportOptions(defaultTask: InferenceTask(task), defaultDataset: Dataset(dataset),
                                    defaultInputDimension: inputDimension, useCaseOverrides: overrides)
        let report = try ProfileImporter.importFiles(files, options: options)
        try ProfileStore.write(report.variants, to: output)
        let kinds = Dictionary(grouping: report.variants, by: \.kind).mapValues(\.count)
        let breakdown = ProfileKind.allCases.compactMap { kind in kinds[kind].map { "\($0) \(kind.rawValue)" } }.joined(separator: ", ")
        print("Imported \(report.variants.count) variants (\(breakdown)) from \(files.count) file\(files.count == 1 ? "" : "s") into \(output)")
        if !report.skipped.isEmpty {
            let reasons = Dictionary(grouping: report.skipped, by: \.reason)
            for (reason, rows) in reasons.sorted(by: { $0.key < $1.key }) {
                let shown = rows.prefix(3).map(\.location).joined(separator: ", ")
                print("Skipped \(rows.count) row\(rows.count == 1 ? "" : "s"): \(reason) (\(shown)\(rows.count > 3 ? ", …" : ""))")
            }
        }
    }
}

struct ProfilesShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "List the variants in a profile store, or one variant's measured points.",
        discussion: reflow("""
            Examples:
              infaas profiles show profiles.h5 --architecture resnet50
              infaas profiles show profiles.h5 --variant light_densenet121
              infaas profiles show profiles.h5 --json
            """)
    )

    @Argument(help: ArgumentHelp("Profile store.", valueName: "profiles.h5"))
    var store: String

    @Option(help: "Only this architecture's variants.")
    var architecture: String?

    @Option(help: "Show this variant's measured points and fitted model.")
    var variant: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() async throws {
        let all = try ProfileStore.read(from: store)
        var variants = all
        if let architecture {
            variants = all.filter { $0.architecture == architecture }
            guard !variants.isEmpty else {
                throw ValidationError("no variant of architecture \"\(architecture)\" in \(store); \(NameSuggestion.hint(for: architecture, known: Array(Set(all.map(\.architecture)))))")
            }
        }
        if let variant {
            guard let found = all.first(where: { $0.name == variant }) else {
                throw ValidationError("no variant \"\(variant)\" in \(store); \(NameSuggestion.hint(for: variant, known: all.map(\.name)))")
            }
            variants = [found]
        }
        variants.sort { ($0.architecture, $0.batch1LatencyMs, $0.name) < ($1.architecture, $1.batch1LatencyMs, $1.name) }
        if json {
            print(try jsonString(variants))
        } else if variant != nil, let v = variants.first {
            print(describe(v))
        } else {
            print(VariantTable.render(variants))
            print("\(variants.count) variant\(variants.count == 1 ? "" : "s")")
        }
    }

    func describe(_ v: ModelVariant) -> String {
        var lines = [
            "\(v.name)  (\(v.architecture), \(v.useCase.name))",
            "framework \(v.framework)  hardware \(v.hardware)\(v.hardwareDescription.isEmpty ? "" : " (\(v.hardwareDescription))")",
            "max batch \(v.maxBatch)  accuracy \(v.accuracy.map { formatted($0, digits: 2) + " %" } ?? "unknown")  load \(cell(v.loadLatencyMs)) ms  memory \(cell(v.memoryMB)) MB  cpus \(v.cpus.map(String.init) ?? "—")",
            "latency model: \(formatted(v.latency.model.slopeMs, digits: 4))·b + \(formatted(v.latency.model.interceptMs, digits: 4)) ms",
            "\(v.kind.rawValue): \(v.source)",
            "",
        ]
        var table = TextTable([("BATCH", .right), ("P50 MS", .right), ("P90 MS", .right), ("P99 MS", .right), ("MEAN MS", .right), ("MODEL MS", .right)])
        for p in v.latency.points {
            table.append([String(p.batch), cell(p.p50Ms), cell(p.p90Ms), cell(p.p99Ms), cell(p.meanMs), cell(v.predictedLatencyMs(batch: p.batch))])
        }
        lines.append(table.render())
        return lines.joined(separator: "\n")
    }
}

struct ProfilesExportConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export-config",
        abstract: "Write one variant as an original INFaaS .config file.",
        discussion: reflow("""
            Example:
              infaas profiles export-config profiles.h5 --variant light_densenet121 \\
                  -o light_densenet121.config
            """)
    )

    @Argument(help: ArgumentHelp("Profile store.", valueName: "profiles.h5"))
    var store: String

    @Option(help: "The variant to export.")
    var variant: String

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output file (default: standard output).", valueName: "FILE"))
    var output: String?

    func run() async throws {
        let all = try ProfileStore.read(from: store)
        guard let found = all.first(where: { $0.name == variant }) else {
            throw ValidationError("no variant \"\(variant)\" in \(store); \(NameSuggestion.hint(for: variant, known: all.map(\.name)))")
        }
        let text = ConfigFile.render(found)
        if let output {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
            print("Wrote \(output)")
        } else {
            print(text, terminator: "")
        }
    }
}

/// The variant table shared by `profiles show` and `modinfo`.
enum VariantTable {
    static func render(_ variants: [ModelVariant], locations: [String: String] = [:]) -> String {
        var columns: [(String, TextTable.Alignment)] = [
            ("VARIANT", .left), ("ARCHITECTURE", .left), ("FRAMEWORK", .left), ("HARDWARE", .left), ("ACCURACY %", .right),
            ("MAX BATCH", .right), ("BATCH-1 MS", .right), ("LOAD MS", .right), ("KIND", .left),
        ]
        if !locations.isEmpty { columns.append(("MODEL", .left)) }
        var table = TextTable(columns)
        for v in variants {
            var row = [v.name, v.architecture, v.framework.rawValue, v.hardware.rawValue, cell(v.accuracy),
                       String(v.maxBatch), batch1Cell(v), cell(v.loadLatencyMs, digits: 0), v.kind.rawValue]
            if !locations.isEmpty { row.append(locations[v.name] ?? "") }
            table.append(row)
        }
        var text = table.render()
        if variants.contains(where: { $0.latency.point(batch: 1)?.centralMs == nil }) {
            text += "\n* batch-1 latency predicted by the latency model (not measured at batch 1)"
        }
        return text
    }

    static func batch1Cell(_ v: ModelVariant) -> String {
        cell(v.batch1LatencyMs) + (v.latency.point(batch: 1)?.centralMs == nil ? "*" : " ")
    }
}
