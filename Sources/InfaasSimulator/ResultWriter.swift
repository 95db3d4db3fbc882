import Foundation
import HDF5Kit
import InfaasCore
import InfaasPolicies

/// Writes a run's `results.h5` and `summary.json` (DESIGN.md §3):
///
/// ```
/// /meta        @format = "infaas-results" @format_version = 1 @experiment @policy @seed
/// /summary     @queries @served @rejected @slo_violation_pct @throughput_qps (over @arrival_span_s) @p50_ms @p95_ms @p99_ms
///              @mean_latency_ms @mean_accuracy @total_cost_usd @simulated_s
///              @outcome_met @outcome_late @outcome_expired_in_queue @outcome_shed @outcome_rejected
/// /timeseries  time_s, arrivals, completions, violations, rejected, expired_in_queue, shed,
///              mean_latency_ms, workers_cpu, workers_gpu, workers_inf, cost_usd, replicas,
///              running_variants
/// /variants    name (strings), queries
/// /queries     (with record_queries) arrival_s, finish_s, application, variant, worker,
///              batch, slo_ms, met (1 met, 0 late, −1 not served),
///              outcome (0 met, 1 late, 2 expired-in-queue, 3 shed, 4 rejected),
///              worker_ms (on the worker: queue, load, run; −1 unknown), inference_ms (the run
///              alone; −1 never ran): simulated, or as the live worker reported them;
///              client_lag_ms (live: the replay client's send lag behind the trace; 0 simulated),
///              master_ms, worker_call_ms, worker_wall_ms (live: the serving path's wall times,
///              ``ServingPathTimes``; −1 simulated or unknown)
/// ```
public enum ResultWriter {
    /// Writes both files into `directory` (created if needed); returns their paths.
    @discardableResult
    public static func write(_ result: ExperimentResult, summary: ExperimentSummary, to directory: String) throws -> (h5: String, json: String) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let json = (directory as NSString).appendingPathComponent("summary.json")
        let h5 = (directory as NSString).appendingPathComponent("results.h5")
        let temporary = h5 + ".tmp"
        // results.h5 first, summary.json once it stands: a failed write (a full disk) leaves
        // neither a .tmp file nor a summary of a run whose results are missing.
        do {
            try writeH5(result, summary: summary, to: temporary)
            _ = try? FileManager.default.removeItem(atPath: h5)
            try FileManager.default.moveItem(atPath: temporary, toPath: h5)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        try summary.json().write(toFile: json, atomically: true, encoding: .utf8)
        return (h5, json)
    }

    static func writeH5(_ r: ExperimentResult, summary s: ExperimentSummary, to path: String) throws {
        let file = try HDF5File.create(at: path)
        defer { file.close() }  // closed here, also on error: never flushed into a full disk at exit
        let root = try file.root()
        let meta = try root.createGroup("meta")
        try meta.setAttribute("format", "infaas-results")
        try meta.setAttribute("format_version", 1 as Int64)
        try meta.setAttribute("experiment", s.experiment)
        try meta.setAttribute("policy", s.policy)
        try meta.setAttribute("seed", Int64(bitPattern: s.seed))
        let summary = try root.createGroup("summary")
        try summary.setAttribute("queries", Int64(s.queries))
        try summary.setAttribute("served", Int64(s.served))
        try summary.setAttribute("rejected", Int64(s.rejected))
        try summary.setAttribute("slo_violation_pct", s.sloViolationPercent)
        try summary.setAttribute("throughput_qps", s.throughputQPS)
        try summary.setAttribute("p50_ms", s.latencyMs.p50)
        try summary.setAttribute("p95_ms", s.latencyMs.p95)
        try summary.setAttribute("p99_ms", s.latencyMs.p99)
        try summary.setAttribute("mean_latency_ms", s.latencyMs.mean)
        try summary.setAttribute("mean_accuracy", s.meanAccuracy)
        try summary.setAttribute("total_cost_usd", s.totalCostUSD)
        try summary.setAttribute("simulated_s", s.simulatedSeconds)
        try summary.setAttribute("arrival_span_s", s.arrivalSpanSeconds)
        for outcome in QueryOutcome.allCases {
            try summary.setAttribute("outcome_" + outcome.rawValue.replacingOccurrences(of: "-", with: "_"), Int64(s.outcomes[outcome]))
        }
        for (key, value) in s.costUSD { try summary.setAttribute("cost_usd_\(key)", value) }
        for (key, value) in s.workerHours { try summary.setAttribute("worker_hours_\(key)", value) }

        let rows = r.metrics.timeseries
        let series = try root.createGroup("timeseries")
        try series.write(rows.map(\.time), to: "time_s")
        try series.write(rows.map { Int64($0.arrivals) }, to: "arrivals")
        try series.write(rows.map { Int64($0.completions) }, to: "completions")
        try series.write(rows.map { Int64($0.violations) }, to: "violations")
        try series.write(rows.map { Int64($0.rejected) }, to: "rejected")
        try series.write(rows.map { Int64($0.expiredInQueue) }, to: "expired_in_queue")
        try series.write(rows.map { Int64($0.shed) }, to: "shed")
        try series.write(rows.map(\.meanLatencyMs), to: "mean_latency_ms")
        for hardware in HardwareClass.allCases {
            try series.write(rows.map { Int32($0.workers[hardware] ?? 0) }, to: "workers_\(hardware.shortName)")
        }
        try series.write(rows.map(\.costUSD), to: "cost_usd")
        try series.write(rows.map { Int32($0.replicas) }, to: "replicas")
        try series.write(rows.map { Int32($0.runningVariants) }, to: "running_variants")

        let variants = try root.createGroup("variants")
        try variants.write(strings: r.catalogue.variants.map(\.name), to: "name")
        try variants.write(r.metrics.servedByVariant.map { Int64($0) }, to: "queries")

        if r.spec.options.recordQueries {
            let q = r.metrics.queries
            let group = try root.createGroup("queries")
            try group.write(q.map(\.arrival), to: "arrival_s")
            try group.write(q.map(\.finish), to: "finish_s")
            try group.write(q.map(\.application), to: "application")
            try group.write(q.map(\.variant), to: "variant")
            try group.write(q.map(\.worker), to: "worker")
            try group.write(q.map(\.batch), to: "batch")
            try group.write(q.map(\.sloMs), to: "slo_ms")
            try group.write(q.map { Int32($0.met) }, to: "met")
            try group.write(q.map { Int32($0.outcome.code) }, to: "outcome")
            try group.write(q.map(\.workerMs), to: "worker_ms")
            try group.write(q.map(\.inferenceMs), to: "inference_ms")
            try group.write(q.map(\.clientLagMs), to: "client_lag_ms")
            try group.write(q.map { $0.servingPath?.masterMs ?? -1 }, to: "master_ms")
            try group.write(q.map { $0.servingPath?.workerCallMs ?? -1 }, to: "worker_call_ms")
            try group.write(q.map { $0.servingPath?.workerWallMs ?? -1 }, to: "worker_wall_ms")
        }
        try file.flush()
    }
}
