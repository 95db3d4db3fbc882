/// A minimisation problem over real and integer variables with linear constraints — a linear
/// program (LP) or, once a variable is integer, a mixed-integer program (MILP) — built in Swift
/// and solved by GLPK (``solve(_:)``).
///
/// Value type: build it with ``addVariable(lower:upper:cost:integer:)`` and
/// ``addConstraint(_:lower:upper:)``, then solve; the problem is checked before GLPK sees it
/// (GLPK aborts the process on a malformed problem rather than returning an error).
public struct LinearProgram: Sendable, Equatable {
    /// One decision variable: `lower ≤ x ≤ upper` (`upper` nil: unbounded above).
    public struct Variable: Sendable, Equatable {
        public var lower: Double
        public var upper: Double?
        /// Its coefficient in the objective (minimised).
        public var cost: Double
        public var integer: Bool
    }

    /// One linear constraint `lower ≤ Σ coefficient × x[variable] ≤ upper` (a nil side is open).
    public struct Constraint: Sendable, Equatable {
        public var terms: [Term]
        public var lower: Double?
        public var upper: Double?
    }

    /// A variable's coefficient in a constraint.
    public struct Term: Sendable, Equatable {
        public var variable: Int
        public var coefficient: Double
        public init(_ variable: Int, _ coefficient: Double) {
            self.variable = variable
            self.coefficient = coefficient
        }
    }

    public private(set) var variables: [Variable] = []
    public private(set) var constraints: [Constraint] = []
    /// A constant added to the objective (GLPK's "shift").
    public var constantCost = 0.0

    public init() {}

    /// Adds a variable and returns its index.
    @discardableResult
    public mutating func addVariable(lower: Double = 0, upper: Double? = nil, cost: Double = 0, integer: Bool = false) -> Int {
        variables.append(Variable(lower: lower, upper: upper, cost: cost, integer: integer))
        return variables.count - 1
    }

    /// Adds `lower ≤ Σ terms ≤ upper`. Terms naming the same variable add up.
    public mutating func addConstraint(_ terms: [Term], lower: Double? = nil, upper: Double? = nil) {
        constraints.append(Constraint(terms: terms, lower: lower, upper: upper))
    }

    /// Whether any variable must take an integer value.
    public var isMixedInteger: Bool { variables.contains(where: \.integer) }

    /// The objective's value at `values` (one per variable).
    public func cost(at values: [Double]) -> Double {
        zip(variables, values).reduce(constantCost) { $0 + $1.0.cost * $1.1 }
    }

    /// Checks what GLPK would otherwise abort on: finite numbers, `lower ≤ upper`, terms naming
    /// existing variables.
    public func validate() throws(GLPKError) {
        for (j, v) in variables.enumerated() {
            guard v.lower.isFinite, v.cost.isFinite, v.upper.map(\.isFinite) ?? true else {
                throw GLPKError(.invalidProblem, "variable \(j) has a non-finite bound or cost (lower \(v.lower), upper \(v.upper.map { "\($0)" } ?? "none"), cost \(v.cost))")
            }
            if let upper = v.upper, upper < v.lower {
                throw GLPKError(.invalidProblem, "variable \(j) has upper bound \(upper) below its lower bound \(v.lower)")
            }
        }
        for (i, c) in constraints.enumerated() {
            if let lower = c.lower, let upper = c.upper, upper < lower {
                throw GLPKError(.invalidProblem, "constraint \(i) has upper side \(upper) below its lower side \(lower)")
            }
            guard c.lower.map(\.isFinite) ?? true, c.upper.map(\.isFinite) ?? true else {
                throw GLPKError(.invalidProblem, "constraint \(i) has a non-finite side")
            }
            for t in c.terms {
                guard t.variable >= 0, t.variable < variables.count else {
                    throw GLPKError(.invalidProblem, "constraint \(i) names variable \(t.variable); there are \(variables.count)")
                }
                guard t.coefficient.isFinite else {
                    throw GLPKError(.invalidProblem, "constraint \(i) has a non-finite coefficient for variable \(t.variable)")
                }
            }
        }
    }
}
