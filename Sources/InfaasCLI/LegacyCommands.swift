import ArgumentParser
import Foundation
import GRPCCore
import InfaasCore
import InfaasProfiles
import InfaasRegistry
import InfaasRPC

/// `infaas_modarch <task> <dataset>`, printing what the original printed (reference §3.1).
struct LegacyModArch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infaas_modarch", abstract: "List architectures for a task and dataset (original INFaaS CLI).",
        discussion: "Example:\n  infaas_modarch classification imagenet")

    @Argument var task: String
    @Argument var dataset: String
    @OptionGroup var master: MasterOptions

    func run() async throws {
        do {
            let names = try await architectureNames(task: task, dataset: dataset, master: master)
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
    @OptionGroup var master: MasterOptions

    func run() async throws {
        do {
            let info = try await architectureInfo(architecture, master: master)
            print("Info query for model architecture: \(architecture) SUCCEEDED")
            print("Input dimensions (if classification): \(info.inputDimension)")
            print("Accuracy (% if classification, BLEU if translation): \(info.accuracy.map { formatted($0, digits: 2) } ?? "unknown")")
            print("Variants:")
            for v in info.variants { print("\t\(v)") }
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
    @OptionGroup var master: MasterOptions
    var home: HomeOptions { master.home }

    func run() async throws {
        let firstVariant = String((config as NSString).lastPathComponent.split(separator: ".", maxSplits: 1).first ?? "")
        do {
            let path = FileManager.default.fileExists(atPath: config) ? config : home.directory + "/configs/" + config
            let location = try ModelLocation(parsing: modelURL)
            let address = try master.address()
            // As the original: a config name that is no local file is the master's to fetch from its config bucket.
            let fromBucket = address != nil && RegisterCommand.isConfigBucketName(config) && !FileManager.default.fileExists(atPath: path)
            let text = fromBucket ? "" : try ProfileImporter.readText(path)
            if let address {
                var request = Infaas_V1_RegisterModelRequest()
                request.configName = (path as NSString).lastPathComponent
                request.configText = text
                request.modelURL = location.description
                let r = request
                do {
                    _ = try await withMasterClient(address) { try await $0.registerModel(r) }
                } catch {
                    throw CommandFailure(describe(error, master: address))
                }
            } else {
                try home.openRegistry().register(try ConfigFile.parse(text: text, path: path), at: location)
            }
            print("Model registration for \(firstVariant)... SUCCEEDED")
        } catch {
            print("Model registration for \(firstVariant)... FAILED: \(error)")
        }
    }
}

/// `infaas_online_query`: the original's flags (reference §3.1), served by the live master.
/// Prints what the original printed: the reply count and size, then `Prediction k:` and every
/// float32 output value of input k. As the original, a query the master refuses is printed
/// and exits 0 (the original got the server's error back as its one "output"); usage errors
/// and a missing input file exit 1.
struct LegacyOnlineQuery: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infaas_online_query", abstract: "Send an online query (original INFaaS CLI).",
        discussion: reflow("""
            Example:
              infaas_online_query -d 224 -i cat.jpg -a resnet18 -l 300

            Prints every output value of each input, as the original did; `infaas query online`
            prints the top classes instead (and the whole output with --raw).
            """))

    @OptionGroup var query: OnlineQueryOptions
    @OptionGroup var master: MasterOptions

    func validate() throws {
        if query.inputDim == nil || query.inputs.isEmpty { throw ValidationError("Must specify both input_dim (-d) and input (-i)") }
    }

    func run() async throws {
        print("Preparing inputs...")
        var built = try query.request()
        built.topK = 0
        built.includeOutputs = true
        let request = built
        print("Inputs ready for INFaaS")
        let address = try master.requireAddress()
        let response: Infaas_V1_OnlineQueryResponse
        do {
            response = try await withMasterClient(address) { try await $0.queryOnline(request, options: .defaults.with(timeoutMs: 10_000)) }
        } catch {
            let message = describe(error, master: address)
            // The master refused the query (no such model, no variant meets the SLO, no worker):
            // the original printed what came back and exited 0. Not reaching the master, a wrong
            // token or the deadline are failures.
            let failures: [RPCError.Code] = [.deadlineExceeded, .unauthenticated, .cancelled]
            if let rpc = error as? RPCError, !failures.contains(rpc.code),
               !message.hasPrefix("cannot reach the master") {
                print(message)
                return
            }
            throw CommandFailure(message)
        }
        let rows = try rawRows(response.outputs, batch: request.input.batchSize)
        let bytes = (rows.first?.count ?? 0) * MemoryLayout<Float>.size
        print("\(rows.count) \(rows.count == 1 ? "reply" : "replies"), reply[0] size: \(bytes)")
        print("Served by \(response.variant) on \(response.worker)")
        var text = ""
        for (k, row) in rows.enumerated() {
            text += "Prediction \(k): " + row.map { "\($0)" }.joined(separator: " ") + "\n"
        }
        if let path = query.outputFile { try text.write(toFile: path, atomically: true, encoding: .utf8) } else { print(text, terminator: "") }
    }
}

/// `infaas_offline_query INPUT_URL OUTPUT_URL ARCH` (original INFaaS CLI). As the original, a
/// URL without a scheme is an S3 `bucket/prefix`, and the command prints SUCCEEDED or FAILED
/// and exits 0 either way (1 only for a usage error).
struct LegacyOfflineQuery: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infaas_offline_query", abstract: "Submit an offline job (original INFaaS CLI).",
        discussion: reflow("""
            Examples:
              infaas_offline_query my-bucket/in/ my-bucket/out/ resnet18    # S3
              infaas_offline_query file:///data/in/ file:///data/out/ resnet18

            A URL without a scheme is an S3 bucket/prefix, as in the original; give local folders
            as file:///path/.
            """))

    @Argument(help: ArgumentHelp("Input: bucket/prefix/ (S3), or file:///dir/.", valueName: "INPUT_URL")) var inputURL: String
    @Argument(help: ArgumentHelp("Output: bucket/prefix/ (S3), or file:///dir/.", valueName: "OUTPUT_URL")) var outputURL: String
    @Argument(help: ArgumentHelp("Architecture (its fastest CPU variant runs).", valueName: "ARCH")) var architecture: String
    @OptionGroup var master: MasterOptions

    /// A URL as the original read it: with a scheme as given, else `bucket/prefix` in S3.
    static func url(_ text: String) -> String {
        if text.contains("://") { return text }
        return "s3://" + text.drop { $0 == "/" }
    }

    /// The hint for arguments that look like local folders given without `file://`.
    static func localFolderHint(_ urls: [String]) -> String {
        let local = urls.filter { u in
            !u.contains("://") && (u.hasPrefix("/") || u.hasPrefix(".") || FileManager.default.fileExists(atPath: u))
        }
        guard !local.isEmpty else { return "" }
        let fixed = local.map { "file://" + (($0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0) as NSString).standardizingPath + "/" }
        return " (\(local.joined(separator: " and ")) \(local.count == 1 ? "was" : "were") read as an S3 bucket path, as the original did;"
            + " for a local folder give \(fixed.joined(separator: " and ")))"
    }

    func run() async throws {
        var request = Infaas_V1_OfflineQueryRequest()
        request.inputURL = Self.url(inputURL)
        request.outputURL = Self.url(outputURL)
        request.architecture = architecture
        let offline = request
        do {
            let address = try master.requireAddress()
            do {
                _ = try await withMasterClient(address) { try await $0.queryOffline(offline) }
            } catch {
                throw CommandFailure(describe(error, master: address))
            }
            print("Offline query job submission SUCCEEDED")
            print("You can now monitor \(outputURL) for job progress")
        } catch {
            print("Offline query job submission FAILED: \(error)\(Self.localFolderHint([inputURL, outputURL]))")
        }
    }
}

/// Architectures for a task and dataset: from the live master when one is up, else the local registry.
func architectureNames(task: String, dataset: String, master: MasterOptions) async throws -> [String] {
    if let address = try master.address() {
        var request = Infaas_V1_ListArchitecturesRequest()
        request.task = task
        request.dataset = dataset
        let r = request
        do {
            return try await withMasterClient(address) { try await $0.listArchitectures(r).architectures }
        } catch {
            throw CommandFailure(describe(error, master: address))
        }
    }
    return try master.home.openRegistry().architectures(task: InferenceTask(task), dataset: Dataset(dataset))
}

/// An architecture's input size, accuracy and variants (fastest first), from the live master when
/// one is up, else the local registry.
func architectureInfo(_ architecture: String, master: MasterOptions) async throws -> (inputDimension: Int, accuracy: Double?, variants: [String]) {
    if let address = try master.address() {
        var request = Infaas_V1_DescribeArchitectureRequest()
        request.architecture = architecture
        let r = request
        do {
            let reply = try await withMasterClient(address) { try await $0.describeArchitecture(r) }
            return (Int(reply.inputDimension), reply.accuracy > 0 ? reply.accuracy : nil, reply.variants)
        } catch {
            throw CommandFailure(describe(error, master: address))
        }
    }
    let variants = try master.home.openRegistry().variants(ofArchitecture: architecture).map(\.variant)
    return (variants[0].useCase.inputDimension, variants[0].accuracy, variants.map(\.name))
}
