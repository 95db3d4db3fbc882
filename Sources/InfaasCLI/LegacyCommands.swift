import ArgumentParser
import Foundation
import InfaasCore
import InfaasProfiles
import InfaasRegistry

/// `infaas_modarch <task> <dataset>`, printing what the original printed (reference §3.1).
struct LegacyModArch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infaas_modarch", abstract: "List architectures for a task and dataset (original INFaaS CLI).",
        discussion: "Example:\n  infaas_modarch classification imagenet")

    @Argument var task: String
    @Argument var dataset: String
    @OptionGroup var home: HomeOptions

    func run() async throws {
        do {
            let names = try home.openRegistry().architectures(task: InferenceTask(task), dataset: Dataset(dataset))
            print("Model architecture query for \(task) and \(dataset) SUCCEEDED")
            print("Options:")
            for name in names { print("\t\(name)") }
        } catch {
            print("Model architecture query for \(task) and \(dataset) FAILED: \(error)")
        }
    }
}

/// `infaas_modinfo <architecture>`, printing what the original printed (reference §3.1).
struct LegacyModInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infaas_modinfo", abstract: "Show an architecture's variants (original INFaaS CLI).",
        discussion: "Example:\n  infaas_modinfo resnet50")

    @Argument var architecture: String
    @OptionGroup var home: HomeOptions

    func run() async throws {
        do {
            let variants = try home.openRegistry().variants(ofArchitecture: architecture).map(\.variant)
            let fastest = variants[0]
            print("Info query for model architecture: \(architecture) SUCCEEDED")
            print("Input dimensions (if classification): \(fastest.useCase.inputDimension)")
            print("Accuracy (% if classification, BLEU if translation): \(fastest.accuracy.map { formatted($0, digits: 2) } ?? "unknown")")
            print("Variants:")
            for v in variants { print("\t\(v.name)") }
        } catch {
            print("Info query for model architecture: \(architecture) FAILED: \(error)")
        }
    }
}

/// `infaas_modelregistration <config> <model-dir-url>` (reference §2.4). CONFIG is a path, or
/// a name looked up in `<home>/configs/`. Prints `... SUCCEEDED` or `... FAILED: why` and, as the
/// original did, exits 0 either way (1 only for a usage error).
struct LegacyModelRegistration: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infaas_modelregistration", abstract: "Register a variant from its .config (original INFaaS CLI).",
        discussion: "Example:\n  infaas_modelregistration resnet50_tensorflow-cpu_4.config my-bucket/resnet50_tensorflow-cpu_4/")

    @Argument var config: String
    @Argument var modelURL: String
    @OptionGroup var home: HomeOptions

    func run() async throws {
        let firstVariant = String((config as NSString).lastPathComponent.split(separator: ".", maxSplits: 1).first ?? "")
        do {
            let path = FileManager.default.fileExists(atPath: config) ? config : home.directory + "/configs/" + config
            let variant = try ConfigFile.parse(text: try ProfileImporter.readText(path), path: path)
            try home.openRegistry().register(variant, at: try ModelLocation(parsing: modelURL))
            print("Model registration for \(firstVariant)... SUCCEEDED")
        } catch {
            print("Model registration for \(firstVariant)... FAILED: \(error)")
        }
    }
}
