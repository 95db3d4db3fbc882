public import ArgumentParser
import Foundation

/// The one `infaas` binary: discovery, registration, profiles and benchmarks.
public struct InfaasCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "infaas",
        abstract: "Model-less inference serving (INFaaS) — simulate it, then run it.",
        discussion: reflow("""
            Quick start (from the repository root):
              infaas profiles import profiles/model_variant_profiles.csv -o profiles.h5
              infaas register --profiles profiles.h5 --all --model-url file://$PWD/models/
              infaas modarch classification imagenet
              infaas modinfo resnet50

            The original's commands work too, by the name the binary is called with
            (scripts/setup links them): infaas_modarch, infaas_modinfo, infaas_modelregistration,
            infaas_online_query, infaas_offline_query.
            """),
        subcommands: [
            SimulateCommand.self, SweepCommand.self, ProfileCommand.self, ProfilesCommand.self, RegisterCommand.self, UnregisterCommand.self, ModArchCommand.self,
            ModInfoCommand.self, UpCommand.self, DownCommand.self, StatusCommand.self, QueryCommand.self, ReplayCommand.self, MasterCommand.self,
            WorkerCommand.self, BenchCommand.self, CalibrateCommand.self,
        ]
    )

    public init() {}
}

/// Runs the command line, dispatching on the name the binary was invoked as, so
/// `infaas_modarch classification imagenet` behaves as the original's CLI did.
public enum InfaasEntry {
    public static func main(arguments: [String] = CommandLine.arguments) async {
        let invokedAs = arguments.first.map { String($0.split(separator: "/").last ?? "") } ?? "infaas"
        let rest = Array(arguments.dropFirst())
        switch invokedAs {
        case "infaas_modarch": await legacyMain(LegacyModArch.self, rest)
        case "infaas_modinfo": await legacyMain(LegacyModInfo.self, rest)
        case "infaas_modelregistration": await legacyMain(LegacyModelRegistration.self, rest)
        case "infaas_online_query": await legacyMain(LegacyOnlineQuery.self, rest)
        case "infaas_offline_query": await legacyMain(LegacyOfflineQuery.self, rest)
        default: await InfaasCommand.main(rest)
        }
    }

    /// Runs one of the original's commands with the original's exit codes: 0 on success (and
    /// for what the original reported and exited 0 on), 1 on any error, usage errors included
    /// (ArgumentParser would exit 64 for those). Help and version still exit 0.
    static func legacyMain<C: AsyncParsableCommand>(_ type: C.Type, _ arguments: [String]) async {
        do {
            var command = try type.parseAsRoot(arguments)
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            if let code = error as? ExitCode { type.exit(withError: code.rawValue == 0 ? nil : ExitCode(1)) }
            if type.exitCode(for: error).isSuccess { type.exit(withError: error) }
            FileHandle.standardError.write(Data((type.fullMessage(for: error) + "\n").utf8))
            type.exit(withError: ExitCode(1))
        }
    }
}
