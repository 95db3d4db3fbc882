public import InfaasCore
public import InfaasPolicies
public import GLPKKit

/// A clairvoyant bound on what serving a trace must cost: for each interval, the cheapest set of
/// workers and replicas (by variant) that can serve every query of that interval within its
/// objectives, found as a mixed-integer program by GLPK.
///
/// The model — the simulator's serving model with everything a policy must guess removed:
/// - each query runs alone for its variant's predicted (median) latency at its batch, and a
///   variant qualifies for a query when that latency is within the SLO, its accuracy meets the
///   floor and its max batch holds the batch (no reference selection rule applies);
/// - work is fluid within an interval: a replica carries up to the interval's length of
///   execution (no queueing, no burst inside the interval);
/// - a CPU replica holds its vCPUs of the worker's, an Inferentia replica its NeuronCores, and a
///   GPU worker is one server for all the GPU replicas on it (whose memory it must hold);
///   capacity is pooled per hardware class (replicas are not packed onto single workers);
/// - workers appear and go at interval boundaries at no cost, never above the experiment's
///   `max_workers`, with at least one CPU worker; they are billed for whole intervals.
///
/// First it serves as many queries as the cluster's limits allow (an unservable query costs more
/// than any interval's workers), then it minimises dollars. Queries no variant can serve within
/// their objectives, and those beyond the limits, are the bound's violations.
///
/// What it bounds: no policy meets every query's objectives at lower cost *in this fluid model*.
/// A real run also pays for queueing, bursts within an interval, boot and load times, and
/// per-worker packing, so the gap to the bound is an upper estimate of what better decisions
/// could save.
public struct OracleBound: Sendable {
    public let catalogue: PolicyCatalogue
    public let machines: MachineCatalogue
    /// Most workers per hardware class (a class with 0 is not used; CPU is always allowed).
    public let maxWorkers: [HardwareClass: Int]
    public var options = SolveOptions()

    public init(catalogue: PolicyCatalogue, machines: MachineCatalogue, maxWorkers: [HardwareClass: Int]) {
        self.catalogue = catalogue
        self.machines = machines
        self.maxWorkers = maxWorkers
    }

    /// One interval's plan.
    public struct Interval: Sendable, Equatable {
        public var startSeconds: Double
        public var seconds: Double
        public var queries: Int
        /// Queries the plan leaves unserved (fractional: the work is fluid).
        public var unmet: Double
        public var workers: [HardwareClass: Int]
        public var costUSD: Double
        /// Whether GLPK proved the plan optimal (false: the node limit stopped the search).
        public var optimal: Bool
    }

    /// The plan over the whole trace.
    public struct Result: Sendable, Equatable {
        public var intervalSeconds: Double
        public var intervals: [Interval]
        public var queries: Int
        public var unmet: Double
        public var costUSD: Double
        public var workerHours: [HardwareClass: Double]
        /// Intervals whose plan is not proven optimal.
        public var nonOptimalIntervals: Int
        /// Percent of queries the plan leaves unserved: the least violations any policy has in
        /// this model.
        public var violationPercent: Double { queries > 0 ? unmet * 100 / Double(queries) : 0 }
    }

    /// Whether `v` can serve `query` within its objectives on hardware the cluster may have.
    public func qualifies(_ v: Int, for query: PolicyQuery) -> Bool {
        guard !catalogue.withdrawn.contains(v), allowed(catalogue.hardware[v]), catalogue.maxBatch[v] >= query.batch else { return false }
        if query.minAccuracy > 0, (catalogue.accuracy[v] ?? -1) < query.minAccuracy { return false }
        if query.sloMs > 0, catalogue.model[v].predictMs(batch: query.batch) > query.sloMs { return false }
        return true
    }

    func allowed(_ h: HardwareClass) -> Bool { h == .cpu || (maxWorkers[h] ?? 0) > 0 }
    func limit(_ h: HardwareClass) -> Int { h == .cpu ? max(1, maxWorkers[.cpu] ?? 1) : max(0, maxWorkers[h] ?? 0) }

    /// Plans every interval of `demand`.
    public func solve(_ demand: OracleDemand) throws(GLPKError) -> Result {
        let selector = VariantSelector(catalogue: catalogue, config: PolicyConfig(), machines: machines)
        let feasible = demand.classes.map { q in selector.candidates(q.target).filter { qualifies($0, for: q) } }
        var memo: [[Int]: Interval] = [:]
        var intervals: [Interval] = []
        var hours: [HardwareClass: Double] = [:]
        for t in demand.counts.indices {
            let start = Double(t) * demand.intervalSeconds
            let seconds = min(demand.intervalSeconds, max(0.001, demand.lastArrivalSeconds - start))
            let key = demand.counts[t] + [demand.unknown[t], Int((seconds * 1e6).rounded())]
            var plan: Interval
            if let known = memo[key] { plan = known } else {
                plan = try solveInterval(counts: demand.counts[t], unknown: demand.unknown[t], feasible: feasible, classes: demand.classes, seconds: seconds)
                memo[key] = plan
            }
            plan.startSeconds = start
            for (h, n) in plan.workers { hours[h, default: 0] += Double(n) * seconds / 3600 }
            intervals.append(plan)
        }
        return Result(intervalSeconds: demand.intervalSeconds, intervals: intervals, queries: demand.queries,
                      unmet: intervals.reduce(0) { $0 + $1.unmet }, costUSD: intervals.reduce(0) { $0 + $1.costUSD }, workerHours: hours,
                      nonOptimalIntervals: intervals.filter { !$0.optimal }.count)
    }

    /// One interval's mixed-integer program (see the type's documentation for the model).
    func solveInterval(counts: [Int], unknown: Int, feasible: [[Int]], classes: [PolicyQuery], seconds W: Double) throws(GLPKError) -> Interval {
        var lp = LinearProgram()
        let hoursInInterval = W / 3600
        let classesUsed = HardwareClass.allCases.filter(allowed)
        var workers: [HardwareClass: Int] = [:]
        var maxIntervalCost = 0.0
        for h in classesUsed {
            let price = machines[h].hourlyUSD * hoursInInterval
            workers[h] = lp.addVariable(lower: h == .cpu ? 1 : 0, upper: Double(limit(h)), cost: price, integer: true)
            maxIntervalCost += price * Double(limit(h))
        }
        // Leaving a query unserved costs more than every worker the interval may have.
        let unservedCost = (maxIntervalCost + 1) * 10
        var work: [Int: [LinearProgram.Term]] = [:]  // variant → its execution seconds
        var served: [Int: [(flow: Int, queries: Double)]] = [:]  // GPU variant → the flows it carries
        var unserved: [Int] = []
        for (c, query) in classes.enumerated() where counts[c] > 0 {
            let n = Double(counts[c])
            unserved.append(lp.addVariable(upper: n, cost: unservedCost))
            var demand: [LinearProgram.Term] = [.init(unserved[unserved.count - 1], 1)]
            for v in feasible[c] {
                let x = lp.addVariable(upper: n)
                demand.append(.init(x, 1))
                work[v, default: []].append(.init(x, max(1e-9, catalogue.model[v].predictMs(batch: query.batch) / 1000)))
                if catalogue.hardware[v] == .gpu { served[v, default: []].append((x, n)) }
            }
            lp.addConstraint(demand, lower: n, upper: n)
        }
        var packing: [HardwareClass: [LinearProgram.Term]] = [:]
        var gpuWork: [LinearProgram.Term] = []
        for (v, terms) in work.sorted(by: { $0.key < $1.key }) {
            switch catalogue.hardware[v] {
            case .gpu:
                gpuWork += terms
                let present = lp.addVariable(upper: 1, integer: true)
                for flow in served[v] ?? [] { lp.addConstraint([.init(flow.flow, 1), .init(present, -flow.queries)], upper: 0) }
                packing[.gpu, default: []].append(.init(present, catalogue.memoryMB[v]))
            case .cpu, .inferentia:
                let replicas = lp.addVariable(integer: true)
                lp.addConstraint(terms + [.init(replicas, -W)], upper: 0)
                let size = catalogue.hardware[v] == .cpu ? catalogue.cpus[v] : catalogue.neuronCores[v]
                packing[catalogue.hardware[v], default: []].append(.init(replicas, Double(max(1, size))))
            }
        }
        for (h, terms) in packing {
            guard let n = workers[h] else { continue }
            let room: Double = switch h {
            case .cpu: Double(max(1, machines[h].vcpus))
            case .gpu: machines[h].acceleratorMemoryMB
            case .inferentia: Double(max(1, machines[h].neuronCores))
            }
            lp.addConstraint(terms + [.init(n, -room)], upper: 0)
        }
        if !gpuWork.isEmpty, let n = workers[.gpu] { lp.addConstraint(gpuWork + [.init(n, -W)], upper: 0) }

        let solution = try lp.solve(options)
        guard solution.status == .optimal || solution.status == .feasible else {
            throw GLPKError(.solverFailed, "the interval's program ended \(solution.status.rawValue) (it always has a solution: serve nothing on one CPU worker)")
        }
        var chosen: [HardwareClass: Int] = [:]
        var cost = 0.0
        for (h, j) in workers {
            chosen[h] = Int(solution.values[j].rounded())
            cost += machines[h].hourlyUSD * hoursInInterval * Double(chosen[h]!)
        }
        let unmet = unserved.reduce(0.0) { $0 + max(0, solution.values[$1]) }
        return Interval(startSeconds: 0, seconds: W, queries: counts.reduce(0, +) + unknown, unmet: unmet + Double(unknown),
                        workers: chosen, costUSD: cost, optimal: solution.status == .optimal)
    }
}
