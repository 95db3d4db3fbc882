import Foundation
import InfaasCore
public import InfaasPolicies

/// The numbers of a run, as written to `summary.json` (keys sorted, so the file is
/// byte-identical for the same experiment and seed).
public struct ExperimentSummary: Codable, Sendable, Equatable {
    public struct Latency: Codable, Sendable, Equatable {
        public var p50: Double, p95: Double, p99: Double, mean: Double
    }
    public struct PerApplication: Codable, Sendable, Equatable {
        public var name: String
        public var target: String
        public var queries: Int
        public var served: Int
        public var metSLO: Int
        public var rejected: Int
        /// Its queries by how they ended (``QueryOutcome``).
        public var outcomes: OutcomeCounts
        public var sloViolationPercent: Double
        public var meanLatencyMs: Double
        public var meanAccuracy: Double?
    }
    /// The run against the trace's clairvoyant bound (``OracleBound``), with `oracle: true`.
    public struct Oracle: Codable, Sendable, Equatable {
        public var intervalS: Double
        public var costUSD: Double
        public var workerHours: [String: Double]
        /// Percent of queries no plan within `max_workers` serves within its objectives.
        public var sloViolationPercent: Double
        /// This run's cost over the bound's (nil when the bound costs nothing).
        public var costRatio: Double?
        /// This run's violation percent less the bound's (percentage points).
        public var violationGapPoints: Double
        /// Intervals whose plan GLPK did not prove optimal (0 on every bundled experiment).
        public var nonOptimalIntervals: Int
    }
    public struct VariantCount: Codable, Sendable, Equatable {
        public var variant: String
        public var queries: Int
    }

    public var experiment: String
    public var policy: String
    public var seed: UInt64
    public var queries: Int
    public var served: Int
    public var rejected: Int
    public var rejectedByReason: [String: Int]
    /// The queries by how they ended: `met`, `late`, `expired_in_queue`, `shed`, `rejected`
    /// (refused before any queue); `rejected` above counts the last three.
    public var outcomes: OutcomeCounts
    public var sloViolations: Int
    public var sloViolationPercent: Double
    /// Served queries per second of the arrival window (first to last arrival): the same
    /// window and definition for a simulation and a live replay, so the two compare.
    public var throughputQPS: Double
    /// That window, in seconds (``SimulationMetrics/arrivalSpanSeconds``).
    public var arrivalSpanSeconds: Double
    public var latencyMs: Latency
    public var meanAccuracy: Double?
    public var workerHours: [String: Double]
    public var costUSD: [String: Double]
    public var totalCostUSD: Double
    public var variantLoads: Int
    public var replicasAdded: Int
    public var replicasRemoved: Int
    public var workersLaunched: [String: Int]
    public var workersRetired: [String: Int]
    /// Scale to zero: cold starts (query-started loads + woken workers) and the queries' waits.
    public struct ColdStarts: Codable, Sendable, Equatable {
        public var count: Int
        public var loads: Int
        public var workersWoken: Int
        public var heldQueries: Int
        public var waitingQueries: Int
        public var waitMsMean: Double
        public var waitMsMax: Double
    }
    public var coldStarts: ColdStarts
    public var simulatedSeconds: Double
    public var events: Int
    public var unknownTargetRows: [Int]
    public var applications: [PerApplication]
    public var topVariants: [VariantCount]
    public var oracle: Oracle?

    public init(_ r: ExperimentResult) {
        let m = r.metrics
        func round(_ x: Double, _ digits: Double = 1e6) -> Double { (x * digits).rounded() / digits }
        func byClass<T>(_ values: [HardwareClass: T]) -> [String: T] {
            Dictionary(uniqueKeysWithValues: values.map { ($0.key.shortName, $0.value) })
        }
        experiment = r.spec.name
        policy = r.policyName
        seed = r.spec.seed
        queries = m.arrivals
        served = m.served
        rejected = m.rejected
        rejectedByReason = Dictionary(uniqueKeysWithValues: m.rejectedByReason.map { ($0.key.rawValue, $0.value) })
        outcomes = m.outcomes
        sloViolations = m.arrivals - m.metSLO
        sloViolationPercent = m.arrivals > 0 ? round(Double(sloViolations) * 100 / Double(m.arrivals), 1e4) : 0
        arrivalSpanSeconds = round(m.arrivalSpanSeconds, 1e3)
        throughputQPS = m.arrivalSpanSeconds > 0 ? round(Double(m.served) / m.arrivalSpanSeconds, 1e3) : 0
        let latencySum = m.applications.reduce(0) { $0 + $1.latencySumMs }
        latencyMs = Latency(p50: round(m.latencyPercentileMs(50), 1e3), p95: round(m.latencyPercentileMs(95), 1e3),
                            p99: round(m.latencyPercentileMs(99), 1e3), mean: m.served > 0 ? round(latencySum / Double(m.served), 1e3) : 0)
        let accuracyCount = m.applications.reduce(0) { $0 + $1.accuracyCount }
        meanAccuracy = accuracyCount > 0 ? round(m.applications.reduce(0) { $0 + $1.accuracySum } / Double(accuracyCount), 1e4) : nil
        workerHours = byClass(r.workerHours.mapValues { round($0) })
        costUSD = byClass(r.dollars.mapValues { round($0) })
        totalCostUSD = round(r.totalDollars)
        variantLoads = m.variantLoads
        replicasAdded = m.replicasAdded
        replicasRemoved = m.replicasRemoved
        workersLaunched = byClass(m.workersLaunched)
        workersRetired = byClass(m.workersRetired)
        let c = m.coldStarts
        coldStarts = ColdStarts(count: c.count, loads: c.loads, workersWoken: c.workersWoken, heldQueries: c.held, waitingQueries: c.queries,
                                waitMsMean: round(c.meanWaitMs, 1e3), waitMsMax: round(c.waitMaxMs, 1e3))
        simulatedSeconds = round(r.simulatedSeconds, 1e3)
        events = m.events
        unknownTargetRows = m.unknownTargetRows
        applications = zip(r.applications, m.applications).map { app, c in
            PerApplication(name: app.name, target: app.targetText, queries: c.arrivals, served: c.served, metSLO: c.metSLO, rejected: c.rejected, outcomes: c.outcomes,
                           sloViolationPercent: c.arrivals > 0 ? round(Double(c.arrivals - c.metSLO) * 100 / Double(c.arrivals), 1e4) : 0,
                           meanLatencyMs: c.served > 0 ? round(c.latencySumMs / Double(c.served), 1e3) : 0,
                           meanAccuracy: c.accuracyCount > 0 ? round(c.accuracySum / Double(c.accuracyCount), 1e4) : nil)
        }
        topVariants = m.servedByVariant.enumerated().filter { $0.element > 0 }
            .sorted { ($1.element, $0.offset) < ($0.element, $1.offset) }
            .prefix(10).map { VariantCount(variant: r.catalogue.variants[$0.offset].name, queries: $0.element) }
        oracle = r.oracle.map { bound in
            let percent = round(bound.violationPercent, 1e4)
            return Oracle(intervalS: bound.intervalSeconds, costUSD: round(bound.costUSD), workerHours: byClass(bound.workerHours.mapValues { round($0) }),
                          sloViolationPercent: percent, costRatio: bound.costUSD > 0 ? round(r.totalDollars / bound.costUSD, 1e4) : nil,
                          violationGapPoints: round(sloViolationPercent - percent, 1e4), nonOptimalIntervals: bound.nonOptimalIntervals)
        }
    }

    /// `summary.json` text.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// The one-screen summary table.
    public func table() -> String {
        func f(_ x: Double, _ d: Int = 2) -> String { String(format: "%.\(d)f", x) }
        var lines: [String] = []
        lines.append("experiment \(experiment)   policy \(policy)   seed \(seed)   simulated \(f(simulatedSeconds, 1)) s")
        lines.append("queries \(queries)   served \(served)   rejected \(rejected)   throughput \(f(throughputQPS, 1)) q/s over \(f(arrivalSpanSeconds, 1)) s of arrivals")
        lines.append("SLO violations \(sloViolations) (\(f(sloViolationPercent)) %)   latency p50 \(f(latencyMs.p50)) ms  p95 \(f(latencyMs.p95)) ms  p99 \(f(latencyMs.p99)) ms")
        lines.append("outcomes: " + QueryOutcome.allCases.map { "\($0.rawValue) \(outcomes[$0])" }.joined(separator: "   "))
        lines.append("mean accuracy served \(meanAccuracy.map { f($0) + " %" } ?? "—")")
        let classes = ["cpu", "gpu", "inf"].filter { workerHours[$0] != nil }
        let hours = classes.map { "\($0) \(f(workerHours[$0]!, 3)) h / $\(f(costUSD[$0] ?? 0))" }.joined(separator: "   ")
        lines.append("worker-hours and cost: \(hours)   total $\(f(totalCostUSD))")
        let launched = workersLaunched.sorted { $0.key < $1.key }.map { "\($0.key) +\($0.value)" }.joined(separator: " ")
        let retired = workersRetired.sorted { $0.key < $1.key }.map { "\($0.key) -\($0.value)" }.joined(separator: " ")
        lines.append("variant loads \(variantLoads)   replicas +\(replicasAdded) -\(replicasRemoved)   workers \(launched.isEmpty ? "+0" : launched) \(retired.isEmpty ? "-0" : retired)")
        if coldStarts.count > 0 || coldStarts.heldQueries > 0 {
            lines.append("cold starts \(coldStarts.count) (loads \(coldStarts.loads), workers woken \(coldStarts.workersWoken))   queries waiting for one \(coldStarts.waitingQueries), wait mean \(f(coldStarts.waitMsMean)) ms  max \(f(coldStarts.waitMsMax)) ms   held while booting \(coldStarts.heldQueries)")
        }
        if let o = oracle {
            lines.append("oracle bound (\(f(o.intervalS, 0)) s intervals): $\(f(o.costUSD)), \(f(o.sloViolationPercent)) % violations;"
                         + " this run costs \(o.costRatio.map { f($0) + "×" } ?? "—") the bound, \(o.violationGapPoints >= 0 ? "+" : "")\(f(o.violationGapPoints)) points of violations")
        }
        if !rejectedByReason.isEmpty {
            lines.append("rejected: " + rejectedByReason.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !unknownTargetRows.isEmpty { lines.append("unknown targets in trace rows: \(unknownTargetRows.map(String.init).joined(separator: ", "))\(rejectedByReason["unknown-target", default: 0] > unknownTargetRows.count ? ", …" : "")") }
        lines.append("")
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let cut = String(text.prefix(width))
            let fill = String(repeating: " ", count: max(0, width - cut.count))
            return right ? fill + cut : cut + fill
        }
        let nameWidth = max(11, applications.map(\.name.count).max() ?? 0)
        let targetWidth = max(6, min(32, applications.map(\.target.count).max() ?? 0))
        lines.append([pad("APPLICATION", nameWidth), pad("TARGET", targetWidth), pad("QUERIES", 9, right: true), pad("VIOL %", 8, right: true),
                      pad("MEAN MS", 10, right: true), pad("ACCURACY %", 11, right: true), pad("REJECTED", 9, right: true)].joined(separator: "  "))
        for a in applications {
            lines.append([pad(a.name, nameWidth), pad(a.target, targetWidth), pad(String(a.queries), 9, right: true),
                          pad(f(a.sloViolationPercent), 8, right: true), pad(f(a.meanLatencyMs), 10, right: true),
                          pad(a.meanAccuracy.map { f($0) } ?? "—", 11, right: true), pad(String(a.rejected), 9, right: true)].joined(separator: "  "))
        }
        if !topVariants.isEmpty {
            lines.append("")
            lines.append("variants chosen: " + topVariants.prefix(5).map { "\($0.variant) \($0.queries)" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
}
