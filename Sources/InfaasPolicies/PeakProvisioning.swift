public import InfaasCore

/// The paper's kind of baseline: a static deployment provisioned for the workload's peak
/// (`static-peak`). For each application a hand-tuner fixes the variant the `static` baseline
/// fixes (the cheapest per query that meets its objectives, on any hardware the experiment
/// allows) and gives it enough serving units to carry the application's peak rate at a target
/// utilisation; the workers to hold them are started up front and billed for the whole run.
///
/// Units: a CPU or Inferentia replica serves one query at a time; a GPU worker is one server
/// whatever the replicas on it (the simulator's model), so a GPU application gets one GPU worker
/// per unit. Applications do not share workers (each is sized on its own, as a hand-tuner would).
public struct PeakProvisioning: Hashable, Sendable {
    /// Workers per hardware class to start with (at least one CPU worker, as every cluster has).
    public var workers: [HardwareClass: Int]
    /// Replicas of each application's fixed variant (``PolicyConfig/staticReplicasByApplication``).
    public var replicas: [Int]
    /// Each application's fixed variant.
    public var variants: [Int]

    /// Sizes the deployment for `peakRates` (queries/s per application, at its worst window).
    ///
    /// - Throws: `ValidationError` when an application has no variant meeting its objectives on
    ///   `hardware`, naming the application and what to loosen.
    public static func plan(queries: [PolicyQuery], peakRates: [Double], catalogue: PolicyCatalogue, config: PolicyConfig,
                            machines: MachineCatalogue, hardware: Set<HardwareClass>) throws(ValidationError) -> PeakProvisioning {
        var selection = config
        selection.variantSelection = .cheapest
        let selector = VariantSelector(catalogue: catalogue, config: selection, machines: machines)
        var workers: [HardwareClass: Int] = [.cpu: 0]
        var replicas: [Int] = []
        var variants: [Int] = []
        for (i, query) in queries.enumerated() {
            let v: Int
            if case .variant(let named) = query.target { v = named } else {
                guard let best = selector.bestByRule(query, hardware: hardware) else {
                    throw ValidationError(field: "applications[\(i)]", value: "batch \(query.batch), SLO \(query.sloMs) ms, accuracy ≥ \(query.minAccuracy) %",
                                          reason: "no variant meets these objectives on \(hardware.map(\.shortName).sorted().joined(separator: ", ")); loosen them or allow more hardware in max_workers")
                }
                v = best
            }
            let serviceSeconds = max(1e-6, catalogue.model[v].predictMs(batch: query.batch) / 1000)
            let rate = i < peakRates.count ? max(0, peakRates[i]) : 0
            let units = max(1, Int((rate * serviceSeconds / config.staticPeakUtilization).rounded(.up)))
            let machine = machines[catalogue.hardware[v]]
            let perWorker: Int
            switch catalogue.hardware[v] {
            case .cpu: perWorker = max(1, machine.vcpus / max(1, catalogue.cpus[v]))
            case .gpu: perWorker = 1
            case .inferentia: perWorker = max(1, machine.neuronCores / max(1, catalogue.neuronCores[v]))
            }
            workers[catalogue.hardware[v], default: 0] += (units + perWorker - 1) / perWorker
            replicas.append(units)
            variants.append(v)
        }
        workers[.cpu] = max(1, workers[.cpu] ?? 0)
        return PeakProvisioning(workers: workers, replicas: replicas, variants: variants)
    }

    /// The peak rate of each application's arrivals: the most arrivals in any `windowSeconds`
    /// window (aligned to the start), divided by the window.
    public struct PeakMeter: Sendable {
        public let windowNanos: Int64
        var current: [Int]
        var window: [Int64]
        public private(set) var peak: [Int]

        public init(applications: Int, windowSeconds: Double) {
            windowNanos = max(1, Int64(windowSeconds * 1e9))
            current = Array(repeating: 0, count: applications)
            window = Array(repeating: 0, count: applications)
            peak = Array(repeating: 0, count: applications)
        }

        /// Counts one arrival of `application` at `nanoseconds`.
        public mutating func record(application: Int, nanoseconds: Int64) {
            guard application >= 0, application < current.count else { return }
            let w = nanoseconds / windowNanos
            if w != window[application] {
                window[application] = w
                current[application] = 0
            }
            current[application] += 1
            peak[application] = max(peak[application], current[application])
        }

        /// Peak queries per second of each application.
        public var rates: [Double] { peak.map { Double($0) / (Double(windowNanos) / 1e9) } }
    }
}
