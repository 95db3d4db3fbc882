import ArgumentParser
import Foundation
import InfaasCore
import InfaasProfiles
import InfaasRegistry
import InfaasRPC
import GRPCCore

struct RegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register model variants with their profiles (reference §2.4).",
        discussion: reflow("""
            Examples (the two forms):
              infaas register resnet50_tensorflow-cpu_4.config \\
                  s3://my-models/resnet50_tensorflow-cpu_4/
              infaas register --profiles profiles.h5 --all --model-url file://$PWD/models/

            With --profiles, --model-url is the model repository's root and each variant's files
            are expected under ROOT/<variant>/. Everything named is registered in one transaction:
            if any variant is already registered (and --skip-existing is not given), none is.
            """)
    )

    @Argument(help: ArgumentHelp("An original profiler .config file.", valueName: "CONFIG"))
    var config: String?

    @Argument(help: ArgumentHelp("Where the variant's files are: file:///dir/, s3://bucket/prefix/ or bucket/prefix/.", valueName: "MODEL_URL"))
    var modelURL: String?

    @Option(help: ArgumentHelp("Register variants from this profile store instead of a .config.", valueName: "profiles.h5"))
    var profiles: String?

    @Option(name: .customLong("variant"), help: ArgumentHelp("A variant of the store to register (repeatable).", valueName: "NAME"))
    var variants: [String] = []

    @Flag(help: "Register every variant of the store.")
    var all = false

    @Option(name: .customLong("model-url"), help: ArgumentHelp("Model repository root for --profiles.", valueName: "URL"))
    var repositoryURL: String?

    @Flag(name: .customLong("skip-existing"), help: "Leave variants that are already registered alone instead of failing.")
    var skipExisting = false

    @OptionGroup var master: MasterOptions
    var home: HomeOptions { master.home }

    func validate() throws {
        if profiles == nil {
            guard config != nil, modelURL != nil else {
                throw ValidationError("give CONFIG and MODEL_URL, or --profiles STORE (--variant NAME | --all) --model-url URL")
            }
            if all || !variants.isEmpty || repositoryURL != nil {
                throw ValidationError("--variant, --all and --model-url go with --profiles, not with a CONFIG file")
            }
        } else {
            guard config == nil else { throw ValidationError("give either a CONFIG file or --profiles, not both") }
            guard all != !variants.isEmpty else { throw ValidationError("with --profiles, name variants with --variant NAME, or use --all") }
            guard repositoryURL != nil else { throw ValidationError("--profiles needs --model-url (the model repository root)") }
        }
    }

    func run() async throws {
        if let address = try master.address() {
            try await registerLive(at: address)
            return
        }
        let registry = try home.openRegistry()
        if let config, let modelURL {
            let variant = try ConfigFile.parse(text: try ProfileImporter.readText(config), path: config)
            try registry.register(variant, at: try ModelLocation(parsing: modelURL))
            print("Registered \(variant.name) (\(variant.architecture), \(variant.useCase.name)) at \(modelURL)")
            return
        }
        guard let profiles, let repositoryURL else { return }
        let store = try ProfileStore.read(from: profiles)
        var chosen = store
        if !all {
            chosen = try variants.map { name in
                guard let found = store.first(where: { $0.name == name }) else {
                    throw ValidationError("no variant \"\(name)\" in \(profiles); \(NameSuggestion.hint(for: name, known: store.map(\.name)))")
                }
                return found
            }
        }
        let root = try ModelLocation(parsing: repositoryURL.hasSuffix("/") ? repositoryURL : repositoryURL + "/")
        let summary = try registry.register(chosen, location: { root.appending($0.name) }, skipExisting: skipExisting)
        print("Registered \(summary.registered.count) variant\(summary.registered.count == 1 ? "" : "s") from \(profiles) in \(home.registryPath)")
        if !summary.skippedExisting.isEmpty {
            print("Skipped \(summary.skippedExisting.count) already registered: \(summary.skippedExisting.prefix(5).joined(separator: ", "))\(summary.skippedExisting.count > 5 ? ", …" : "")")
        }
    }
}

extension RegisterCommand {
    /// Registers through a live master (its registry, and its catalogue at once).
    func registerLive(at address: MasterEndpoint) async throws {
        var requests: [Infaas_V1_RegisterModelRequest] = []
        if let config, let modelURL {
            var request = Infaas_V1_RegisterModelRequest()
            request.configName = (config as NSString).lastPathComponent
            // A bare name that is no local file: the master fetches it from its config bucket (CONFIGDB).
            request.configText = Self.isConfigBucketName(config) ? "" : try ProfileImporter.readText(config)
            request.modelURL = modelURL
            requests.append(request)
        } else if let profiles, let repositoryURL {
            let store = try ProfileStore.read(from: profiles)
            let chosen = all ? store : store.filter { variants.contains($0.name) }
            let root = try ModelLocation(parsing: repositoryURL.hasSuffix("/") ? repositoryURL : repositoryURL + "/")
            for variant in chosen {
                var request = Infaas_V1_RegisterModelRequest()
                request.configName = variant.name + ".config"
                request.configText = ConfigFile.render(variant)
                request.modelURL = root.appending(variant.name).description
                requests.append(request)
            }
        }
        var registered = 0, skipped = 0
        for request in requests {
            do {
                _ = try await withMasterClient(address) { try await $0.registerModel(request) }
                registered += 1
                print("Registered \(request.configName.replacingOccurrences(of: ".config", with: "")) with the master at \(address) (\(request.modelURL))")
            } catch let error as RPCError where error.code == .alreadyExists && skipExisting {
                skipped += 1
            } catch {
                throw CommandFailure("registration failed: \(describe(error, master: address))")
            }
        }
        if skipped > 0 { print("Skipped \(skipped) already registered") }
        if requests.count > 1 { print("Registered \(registered) variants with the master at \(address)") }
    }
}

extension ModelLocation {
    /// The location of a variant's directory under a repository root.
    func appending(_ name: String) -> ModelLocation {
        switch self {
        case .file(let path): .file(path: (path.hasSuffix("/") ? path : path + "/") + name + "/")
        case .s3(let bucket, let prefix): .s3(bucket: bucket, prefix: (prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/") + name + "/")
        }
    }
}

extension RegisterCommand {
    /// Whether `config` names an object in the master's config bucket rather than a local file:
    /// a bare `name.config` with no such file here (the original's `infaas_modelregistration`).
    static func isConfigBucketName(_ config: String) -> Bool {
        !config.contains("/") && config.hasSuffix(".config") && !FileManager.default.fileExists(atPath: config)
    }
}
