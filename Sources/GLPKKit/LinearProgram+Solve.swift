internal import CGLPK
import Synchronization

/// GLPK keeps its environment per thread only when built for it; one solve at a time is safe on
/// any build, and the problems here are small.
private let glpkLock = Mutex(())

/// How a ``LinearProgram`` is solved.
public struct SolveOptions: Sendable, Equatable {
    /// Branch-and-bound stops after this many subproblems (the answer is then the best integer
    /// solution found, ``LinearProgramSolution/Status/feasible``). A node count, not a time, so
    /// the same problem gives the same answer on any machine.
    public var nodeLimit: Int = 20_000
    /// Branch-and-bound stops once the best integer solution is within this relative gap of
    /// the best bound.
    public var relativeGap: Double = 1e-6
    public init() {}
}

/// The answer GLPK gave.
public struct LinearProgramSolution: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Proven optimal (within ``SolveOptions/relativeGap``).
        case optimal
        /// An integer solution, not proven optimal: the node limit stopped the search.
        case feasible
        /// No solution satisfies the constraints.
        case infeasible
        /// The objective has no lower bound.
        case unbounded
        /// The node limit stopped the search before any integer solution was found.
        case noSolutionFound = "no-solution-found"
    }
    public var status: Status
    /// One value per variable (empty unless `optimal` or `feasible`).
    public var values: [Double]
    /// The objective at `values` (with the constant), or nil without a solution.
    public var objective: Double?
    /// The optimum of the problem with integrality dropped (the LP relaxation): no solution of
    /// the integer problem costs less. Nil when the relaxation is infeasible or unbounded.
    public var relaxationObjective: Double?
    /// Branch-and-bound subproblems explored (0 for a pure LP).
    public var nodes: Int
}

/// The node limit, handed to GLPK's branch-and-bound callback.
private struct SearchLimit {
    var nodeLimit: Int
    var nodes: Int = 0
}

private func searchCallback(_ tree: OpaquePointer?, _ info: UnsafeMutableRawPointer?) {
    guard let tree, let info else { return }
    let limit = info.assumingMemoryBound(to: SearchLimit.self)
    var active: Int32 = 0, current: Int32 = 0, total: Int32 = 0
    glp_ios_tree_size(tree, &active, &current, &total)
    limit.pointee.nodes = Int(total)
    if Int(total) > limit.pointee.nodeLimit { glp_ios_terminate(tree) }
}

extension LinearProgram {
    /// Solves the problem with GLPK: the simplex method for the relaxation, then (when a
    /// variable is integer) branch and bound. Deterministic: the same problem and options give
    /// the same solution.
    ///
    /// - Throws: ``GLPKError`` `.invalidProblem` when ``validate()`` finds a malformed
    ///   problem, `.solverFailed` when GLPK reports a numerical failure.
    public func solve(_ options: SolveOptions = SolveOptions()) throws(GLPKError) -> LinearProgramSolution {
        try validate()
        return try glpkLock.withLock { _ throws(GLPKError) in try solveLocked(options) }
    }

    private func solveLocked(_ options: SolveOptions) throws(GLPKError) -> LinearProgramSolution {
        _ = glp_term_out(GLP_OFF)
        guard let problem = glp_create_prob() else { throw GLPKError(.solverFailed, "glp_create_prob returned no problem (out of memory)") }
        defer { glp_delete_prob(problem) }
        glp_set_obj_dir(problem, GLP_MIN)
        glp_set_obj_coef(problem, 0, constantCost)
        if !variables.isEmpty { glp_add_cols(problem, Int32(variables.count)) }
        for (j, v) in variables.enumerated() {
            let column = Int32(j + 1)
            if let upper = v.upper {
                glp_set_col_bnds(problem, column, upper == v.lower ? GLP_FX : GLP_DB, v.lower, upper)
            } else {
                glp_set_col_bnds(problem, column, GLP_LO, v.lower, 0)
            }
            glp_set_obj_coef(problem, column, v.cost)
            if v.integer { glp_set_col_kind(problem, column, GLP_IV) }
        }
        // GLPK's sparse matrix: 1-based (row, column, value) triplets, no duplicate cells.
        var rows: [Int32] = [0], columns: [Int32] = [0], values: [Double] = [0]
        if !constraints.isEmpty { glp_add_rows(problem, Int32(constraints.count)) }
        for (i, c) in constraints.enumerated() {
            let row = Int32(i + 1)
            switch (c.lower, c.upper) {
            case (nil, nil): glp_set_row_bnds(problem, row, GLP_FR, 0, 0)
            case (let lower?, nil): glp_set_row_bnds(problem, row, GLP_LO, lower, 0)
            case (nil, let upper?): glp_set_row_bnds(problem, row, GLP_UP, 0, upper)
            case (let lower?, let upper?): glp_set_row_bnds(problem, row, lower == upper ? GLP_FX : GLP_DB, lower, upper)
            }
            var merged: [Int: Double] = [:]
            for t in c.terms { merged[t.variable, default: 0] += t.coefficient }
            for (variable, coefficient) in merged.sorted(by: { $0.key < $1.key }) where coefficient != 0 {
                rows.append(row)
                columns.append(Int32(variable + 1))
                values.append(coefficient)
            }
        }
        glp_load_matrix(problem, Int32(values.count - 1), &rows, &columns, &values)

        var simplex = glp_smcp()
        glp_init_smcp(&simplex)
        simplex.msg_lev = GLP_MSG_OFF
        let simplexCode = glp_simplex(problem, &simplex)
        guard simplexCode == 0 else { throw GLPKError(.solverFailed, "the simplex method failed (GLPK code \(simplexCode))") }
        switch glp_get_status(problem) {
        case GLP_OPT: break
        case GLP_NOFEAS, GLP_INFEAS:
            return LinearProgramSolution(status: .infeasible, values: [], objective: nil, relaxationObjective: nil, nodes: 0)
        case GLP_UNBND:
            return LinearProgramSolution(status: .unbounded, values: [], objective: nil, relaxationObjective: nil, nodes: 0)
        case let status:
            throw GLPKError(.solverFailed, "the simplex method ended with status \(status)")
        }
        let relaxation = glp_get_obj_val(problem)
        guard isMixedInteger else {
            let x = (0..<variables.count).map { glp_get_col_prim(problem, Int32($0 + 1)) }
            return LinearProgramSolution(status: .optimal, values: x, objective: relaxation, relaxationObjective: relaxation, nodes: 0)
        }

        var limit = SearchLimit(nodeLimit: max(1, options.nodeLimit))
        var search = glp_iocp()
        glp_init_iocp(&search)
        search.msg_lev = GLP_MSG_OFF
        search.mip_gap = max(0, options.relativeGap)
        search.cb_func = searchCallback
        let code = withUnsafeMutablePointer(to: &limit) { pointer in
            search.cb_info = UnsafeMutableRawPointer(pointer)
            return glp_intopt(problem, &search)
        }
        guard code == 0 || code == GLP_ESTOP || code == GLP_EMIPGAP || code == GLP_ETMLIM else {
            throw GLPKError(.solverFailed, "branch and bound failed (GLPK code \(code))")
        }
        let status: LinearProgramSolution.Status
        switch glp_mip_status(problem) {
        case GLP_OPT: status = code == 0 || code == GLP_EMIPGAP ? .optimal : .feasible
        case GLP_FEAS: status = .feasible
        case GLP_NOFEAS: status = .infeasible
        default: status = .noSolutionFound
        }
        guard status == .optimal || status == .feasible else {
            return LinearProgramSolution(status: status, values: [], objective: nil, relaxationObjective: relaxation, nodes: limit.nodes)
        }
        let x = (0..<variables.count).map { glp_mip_col_val(problem, Int32($0 + 1)) }
        return LinearProgramSolution(status: status, values: x, objective: glp_mip_obj_val(problem), relaxationObjective: relaxation, nodes: limit.nodes)
    }
}
