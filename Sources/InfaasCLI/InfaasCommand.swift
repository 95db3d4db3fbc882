public import ArgumentParser

/// The one `infaas` binary: discovery, registration, profiles and benchmarks.
public struct InfaasCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "infaas",
        abstract: "Model-less inference serving (INFaaS) — simulate it, then run it.",
        discussion: """
            Quick start (from the repository root):
              infaas profiles import profiles/model_variant_profiles.csv -o profiles.h5
              infaas register --profiles profiles.h5 --all --model-url file://$PWD/models/
              infaas modarch classification imagenet
              infaas modinfo resnet50

            The original's commands work too, by the name the binary is called with
            (scripts/setup links them): infaas_modarch, infaas_modinfo, infaas_modelregistration,
            infaas_online_query, infaas_offline_query.
            """,
        subcommands: [
            SimulateCommand.self, SweepCommand.self, ProfileCommand.self, ProfilesCommand.self, RegisterCommand.self, UnregisterCommand.self, ModArchCommand.self,
            ModInfoCommand.self, UpCommand.self, DownCommand.self, StatusCommand.self, QueryCommand.self, ReplayCommand.self, MasterCommand.self,
            WorkerCommand.self, BenchCommand.self,
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
        case "infaas_modarch": await LegacyModArch.main(rest)
        case "infaas_modinfo": await LegacyModInfo.main(rest)
        case "infaas_modelregistration": await LegacyModelRegistration.main(rest)
        case "infaas_online_query": await LegacyOnlineQuery.main(rest)
        case "infaas_offline_query": await LegacyOfflineQuery.main(rest)
        default: await InfaasCommand.main(rest)
        }
    }
}
