import InfaasPolicies
import InfaasRPC

extension QueryPriority {
    /// The wire value a client sends for this class (the worker maps it back).
    var wire: Infaas_V1_QueryPriority { self == .low ? .low : .high }
}
