import Foundation
public import GRPCCore
import InfaasCore
import InfaasPolicies
public import InfaasRPC

/// What a front door (Open Inference v2, the original INFaaS API) asks the master besides
/// routing: what a model name means, and whether the cluster can serve. Read-only views of the
/// controller; queries themselves go through ``MasterService`` as native ones do.
extension Master {
    /// A model name as a front door resolved it: one variant, an architecture (INFaaS's parent
    /// model) or a task and dataset (a use-case, the grandparent), with its variants.
    public struct NamedModel: Sendable {
        public enum Kind: String, Sendable { case variant, architecture, useCase = "task/dataset" }
        public var kind: Kind
        /// The name as asked (`task/dataset` for a use-case).
        public var name: String
        /// Its variants, fastest at batch 1 first (one for a variant).
        public var variants: [Infaas_V1_VariantSpec]
        /// The native query's target for this name.
        public var target: Infaas_V1_OnlineQueryRequest.OneOf_Target

        /// The largest batch any of its variants takes.
        public var maxBatch: Int { variants.map { Int($0.maxBatch) }.max() ?? 0 }
    }

    /// Resolves `name` as a variant, then an architecture, then `task/dataset`; nil when it is
    /// none of them.
    public func namedModel(_ name: String) -> NamedModel? {
        controller.withLock { c in
            let catalogue = c.catalogue
            if let v = catalogue.variantID(name) {
                return NamedModel(kind: .variant, name: name, variants: [c.spec(v)], target: .variant(name))
            }
            if let a = catalogue.architectureID(name) {
                return NamedModel(kind: .architecture, name: name, variants: catalogue.byBatch1[a].map { c.spec($0) }, target: .architecture(name))
            }
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2, let u = catalogue.useCaseID(task: InferenceTask(String(parts[0])), dataset: Dataset(String(parts[1]))) {
                var useCase = Infaas_V1_UseCase()
                useCase.task = String(parts[0])
                useCase.dataset = String(parts[1])
                let ordered = catalogue.byUseCase[u].sorted { catalogue.batch1Ms[$0] < catalogue.batch1Ms[$1] }
                return NamedModel(kind: .useCase, name: name, variants: ordered.map { c.spec($0) }, target: .useCase(useCase))
            }
            return nil
        }
    }

    /// The `notFound` error for a name that is no model, with the closest known names.
    public func unknownModel(_ name: String) -> RPCError {
        let known: [String] = controller.withLock { c in
            c.catalogue.variants.map(\.name) + c.catalogue.architectureNames
                + c.catalogue.useCases.map { "\($0.task.rawValue)/\($0.dataset.rawValue)" }
        }
        return RPCError(code: .notFound, message: "unknown model \"\(name)\": no variant, architecture or task/dataset of that name is registered"
                        + Self.hint(name, known))
    }

    /// Every registered variant, architecture and task/dataset (for statistics and indexes).
    public func modelNames() -> [String] {
        controller.withLock { c in
            c.catalogue.variants.map(\.name) + c.catalogue.architectureNames
                + c.catalogue.useCases.map { "\($0.task.rawValue)/\($0.dataset.rawValue)" }
        }
    }

    /// Whether some worker is ready to take queries.
    public var hasReadyWorker: Bool {
        controller.withLock { c in c.snapshot.workers.contains { $0.status == .ready } }
    }

    /// A server context for a query that did not arrive over gRPC (the REST front door).
    public static func localContext(method: String, peer: String) -> ServerContext {
        ServerContext(descriptor: MethodDescriptor(fullyQualifiedService: "inference.http", method: method),
                      remotePeer: peer, localPeer: "master", cancellation: ServerContext.RPCCancellationHandle())
    }
}

extension MasterService {
    /// Runs one online query through the native handler: the same routing, forwarding, retry,
    /// counters and metrics as `infaas.v1.Master/QueryOnline`.
    public func serveOnline(_ request: Infaas_V1_OnlineQueryRequest, context: ServerContext) async throws(RPCError) -> Infaas_V1_OnlineQueryResponse {
        do {
            return try await queryOnline(request: request, context: context)
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .internalError, message: "\(error)")
        }
    }
}
