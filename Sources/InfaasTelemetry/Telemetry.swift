public import Logging
import Metrics
public import Prometheus
import Foundation
import Synchronization

/// Process-wide logging and metrics set-up for the live daemons.
public enum Telemetry {
    /// Bootstraps swift-log (stderr, level from `INFAAS_LOG_LEVEL` or `level`) and swift-metrics
    /// (Prometheus), once per process, and returns the registry `/metrics` serves.
    public static func bootstrap(label: String, level: Logger.Level = .info) -> PrometheusCollectorRegistry {
        state.withLock { state in
            if let registry = state { return registry }
            let env = ProcessInfo.processInfo.environment["INFAAS_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:))
            LoggingSystem.bootstrap { name in
                var handler = StreamLogHandler.standardError(label: name)
                handler.logLevel = env ?? level
                return handler
            }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = latencyBuckets
            MetricsSystem.bootstrap(factory)
            state = registry
            return registry
        }
    }

    /// Latency buckets from 100 µs to 10 s (the default query deadline).
    public static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    private static let state = Mutex<PrometheusCollectorRegistry?>(nil)
}
