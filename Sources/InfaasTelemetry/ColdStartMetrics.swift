import Metrics

/// The scale-to-zero metrics both live daemons publish (Prometheus, through swift-metrics): the
/// simulator's `summary.json` `cold_starts` counts the same things.
///
/// * `infaas_cold_starts_total{kind}`: queries that waited for a cold start — `load` (their
///   variant had no replica on the worker) or `boot` (held while a worker booted, woken from zero).
/// * `infaas_cold_start_wait_seconds{kind}`: how long each waited, from its arrival until a replica served it.
/// * `infaas_held_queries`: queries the master holds now while a worker boots.
public enum ColdStartMetrics {
    /// What a query waited for.
    public enum Kind: String, Sendable {
        case load
        case boot
    }

    /// One query waited `wait` for a cold start of `kind`.
    public static func record(_ kind: Kind, wait: Duration) {
        Counter(label: "infaas_cold_starts_total", dimensions: [("kind", kind.rawValue)]).increment()
        Timer(label: "infaas_cold_start_wait_seconds", dimensions: [("kind", kind.rawValue)]).recordNanoseconds(max(0, wait.components.seconds * 1_000_000_000 + wait.components.attoseconds / 1_000_000_000))
    }

    /// The number of queries held now.
    public static func held(_ count: Int) {
        Gauge(label: "infaas_held_queries").record(count)
    }
}
