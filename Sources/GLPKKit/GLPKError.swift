/// What went wrong building or solving a ``LinearProgram``.
public struct GLPKError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The problem is malformed (a bound, side or coefficient that is not finite, an
        /// upper bound below the lower one, a term naming no variable).
        case invalidProblem = "invalid-problem"
        /// GLPK's solver failed for a reason other than the problem's (numerical trouble).
        case solverFailed = "solver-failed"
    }
    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "GLPK: \(message)" }
}
