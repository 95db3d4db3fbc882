import ArgumentParser
import Foundation
import InfaasCore
import InfaasRegistry

/// `infaas unregister VARIANT`: removes a variant from the registry (its architecture and
/// use-case too when nothing else needs them), so its name can be registered again.
struct UnregisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unregister",
        abstract: "Remove a registered variant from the registry.",
        discussion: """
            Example:
              infaas unregister resnet50_tensorflow-cpu_4

            Works on the local registry (--home). A running master keeps the catalogue it loaded,
            so with a cluster up this refuses: stop it (`infaas down`), unregister, start it again.
            The master has no unregister call yet (it would need a new RPC in the committed,
            generated gRPC code: scripts/gen-rpc).
            """
    )

    @Argument(help: ArgumentHelp("The variant to remove.", valueName: "VARIANT"))
    var variant: String

    @OptionGroup var master: MasterOptions
    var home: HomeOptions { master.home }

    func run() async throws {
        if let address = try master.address() {
            throw CommandFailure("unregister works on the local registry only, and a master is running at \(address) (it would keep serving \(variant) from the catalogue it loaded): stop it with `infaas down`, run `infaas unregister \(variant)`, then `infaas up` again")
        }
        let registry = try home.openRegistry()
        let removed = try registry.unregister(variant: variant)
        print("Unregistered \(removed.variant.name) (\(removed.variant.architecture), \(removed.variant.useCase.name)), registered at \(removed.location), from \(home.registryPath)")
    }
}
