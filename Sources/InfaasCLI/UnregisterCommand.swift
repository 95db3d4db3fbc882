import ArgumentParser
import Foundation
import InfaasCore
import InfaasRegistry
import InfaasRPC

/// `infaas unregister VARIANT`: removes a variant from the registry (its architecture and
/// use-case too when nothing else needs them), so its name can be registered again.
struct UnregisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unregister",
        abstract: "Remove a registered variant from the registry.",
        discussion: """
            Example:
              infaas unregister resnet50_tensorflow-cpu_4

            With a cluster up (or --master), the master removes it (its UnregisterModel call): from
            its registry, from routing (queries naming it get "not registered", architecture and
            use-case queries no longer choose it) and from the workers running it. Without one,
            it is removed from the local registry (--home).
            """
    )

    @Argument(help: ArgumentHelp("The variant to remove.", valueName: "VARIANT"))
    var variant: String

    @OptionGroup var master: MasterOptions
    var home: HomeOptions { master.home }

    func run() async throws {
        if let address = try master.address() {
            let request = Infaas_V1_UnregisterModelRequest.with { $0.variant = variant }
            let removed: Infaas_V1_UnregisterModelResponse
            do { removed = try await withMasterClient(address) { try await $0.unregisterModel(request) } } catch {
                throw CommandFailure("unregister failed: \(describe(error, master: address))")
            }
            print("Unregistered \(removed.variant) (\(removed.architecture)), registered at \(removed.modelURL), from the master at \(address)"
                  + (removed.unloadedReplicas > 0 ? "; unloaded \(removed.unloadedReplicas) replica(s) from its workers" : ""))
            return
        }
        let registry = try home.openRegistry()
        let removed = try registry.unregister(variant: variant)
        print("Unregistered \(removed.variant.name) (\(removed.variant.architecture), \(removed.variant.useCase.name)), registered at \(removed.location), from \(home.registryPath)")
    }
}
