import ArgumentParser
import InfaasCore
import InfaasRegistry

struct ModArchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modarch",
        abstract: "List the model architectures registered for a task and dataset.",
        discussion: "Example:\n  infaas modarch classification imagenet"
    )

    @Argument(help: "Task, e.g. classification.") var task: String
    @Argument(help: "Dataset, e.g. imagenet.") var dataset: String
    @Flag(help: "Print JSON instead of a table.") var json = false
    @OptionGroup var master: MasterOptions
    var home: HomeOptions { master.home }

    struct Output: Encodable {
        var task: String
        var dataset: String
        var architectures: [Architecture]
        struct Architecture: Encodable {
            var name: String
            var variants: Int
            var bestAccuracy: Double?
            var fastestBatch1Ms: Double
        }
    }

    func run() async throws {
        if try master.address() != nil {
            let names = try await architectureNames(task: task, dataset: dataset, master: master)
            if json { print(try jsonString(names)); return }
            print("Architectures for \(task) on \(dataset) on the live master: \(names.count)")
            for name in names { print("  \(name)") }
            return
        }
        let registry = try home.openRegistry()
        let names = try registry.architectures(task: InferenceTask(task), dataset: Dataset(dataset))
        var output = Output(task: task, dataset: dataset, architectures: [])
        for name in names {
            let variants = try registry.variants(ofArchitecture: name).map(\.variant)
            output.architectures.append(.init(
                name: name, variants: variants.count, bestAccuracy: variants.compactMap(\.accuracy).max(),
                fastestBatch1Ms: variants.map(\.batch1LatencyMs).min() ?? .nan))
        }
        if json { print(try jsonString(output)); return }
        print("Architectures for \(task) on \(dataset): \(names.count)")
        var table = TextTable([("ARCHITECTURE", .left), ("VARIANTS", .right), ("BEST ACCURACY %", .right), ("FASTEST BATCH-1 MS", .right)])
        for a in output.architectures {
            table.append([a.name, String(a.variants), cell(a.bestAccuracy), cell(a.fastestBatch1Ms)])
        }
        print(table.render())
    }
}

struct ModInfoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modinfo",
        abstract: "Show an architecture's variants: framework, hardware, accuracy, max batch, batch-1 latency.",
        discussion: "Example:\n  infaas modinfo resnet50\n\nVariants are listed fastest batch-1 latency first, as the original did."
    )

    @Argument(help: "Architecture, e.g. resnet50.") var architecture: String
    @Flag(help: "Print JSON instead of a table.") var json = false
    @OptionGroup var master: MasterOptions
    var home: HomeOptions { master.home }

    struct Output: Encodable {
        var architecture: String
        var useCase: String
        var inputDimension: Int
        var variants: [Variant]
        struct Variant: Encodable {
            var name: String
            var framework: String
            var hardware: String
            var accuracy: Double?
            var maxBatch: Int
            var batch1Ms: Double
            var loadMs: Double?
            var kind: String
            var modelURL: String
        }
    }

    func run() async throws {
        if try master.address() != nil {
            let info = try await architectureInfo(architecture, master: master)
            if json { print(try jsonString(info.variants)); return }
            print("Architecture \(architecture) on the live master: input \(info.inputDimension), accuracy \(info.accuracy.map { String($0) } ?? "unknown"), variants fastest first:")
            for v in info.variants { print("  \(v)") }
            return
        }
        let registered = try home.openRegistry().variants(ofArchitecture: architecture)
        let first = registered[0].variant
        if json {
            let output = Output(
                architecture: architecture, useCase: first.useCase.name, inputDimension: first.useCase.inputDimension,
                variants: registered.map {
                    .init(name: $0.variant.name, framework: $0.variant.framework.rawValue, hardware: $0.variant.hardware.rawValue,
                          accuracy: $0.variant.accuracy, maxBatch: $0.variant.maxBatch, batch1Ms: $0.variant.batch1LatencyMs,
                          loadMs: $0.variant.loadLatencyMs, kind: $0.variant.kind.rawValue, modelURL: $0.location.description)
                })
            print(try jsonString(output))
            return
        }
        print("Architecture \(architecture): \(registered.count) variant\(registered.count == 1 ? "" : "s") for \(first.useCase.name), fastest first")
        print(VariantTable.render(registered.map(\.variant)))
    }
}
