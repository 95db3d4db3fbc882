import ArgumentParser
import Foundation
import InfaasRegistry

/// Where infaas keeps its local state: `--home`, else `$INFAAS_HOME`, else `./.infaas`.
struct HomeOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Directory for the local registry and cluster state (default: $INFAAS_HOME, else ./.infaas).", valueName: "DIR"))
    var home: String?

    var directory: String {
        if let home, !home.isEmpty { return home }
        if let env = ProcessInfo.processInfo.environment["INFAAS_HOME"], !env.isEmpty { return env }
        return FileManager.default.currentDirectoryPath + "/.infaas"
    }

    var registryPath: String { directory + "/registry.sqlite" }

    func openRegistry() throws -> ModelRegistry { try ModelRegistry(path: registryPath) }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Encodes a value as pretty, key-sorted JSON for `--json` output.
func jsonString(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// A command that ran and failed for a reason outside its arguments (printed without usage).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
