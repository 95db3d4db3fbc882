public import InfaasCore

/// The scale-to-zero rules both autoscalers and both faces read (issue 16 item 4): how many
/// replicas a loaded variant keeps, how long its last replica waits before it unloads, and how
/// long the last worker of a class must be idle before it goes. The defaults reproduce the
/// reference: idle variants unload after the class's delay, and workers never go below the
/// initial count.
extension PolicyConfig {
    /// Replicas variant `v` keeps however idle: its `min_replicas_by_variant` entry, else its
    /// class's `min_replicas_*`.
    public func minReplicas(variant v: Int, catalogue: PolicyCatalogue) -> Int {
        minReplicasByVariant[catalogue.variants[v].name] ?? minReplicas(catalogue.hardware[v])
    }

    /// Whether a group of variant `v` with `replicas` replicas may lose one (it stays at or
    /// above its floor).
    public func mayScaleDown(variant v: Int, replicas: Int, catalogue: PolicyCatalogue) -> Bool {
        replicas > minReplicas(variant: v, catalogue: catalogue)
    }

    /// The pending scale-down count that must be exceeded before a group of `hardware` with
    /// `replicas` replicas loses one: `scale_to_zero_delay` for the last one when set, else
    /// `normal` (the class's `scale_down_delay_*` by default).
    public func scaleDownDelay(_ hardware: HardwareClass, replicas: Int, normal: Int? = nil) -> Int {
        replicas <= 1 && scaleToZeroDelay >= 0 ? scaleToZeroDelay : (normal ?? scaleDownDelay(hardware))
    }

    /// VM-autoscaler iterations the last worker of a class must be idle before it goes.
    public var lastWorkerIdleLimit: Int { lastWorkerIdleIterations >= 0 ? lastWorkerIdleIterations : scaleInIterations }

    /// Whether any class may be scaled to zero workers (`min_workers_* = 0`).
    public var workersScaleToZero: Bool { HardwareClass.allCases.contains { minWorkers($0) == 0 } }

    /// The variant names `min_replicas_by_variant` gives that `catalogue` lacks (an experiment
    /// reports them as an error; live, a variant may be registered later).
    public func unknownMinReplicaVariants(in catalogue: PolicyCatalogue) -> [String] {
        minReplicasByVariant.keys.filter { catalogue.variantID($0) == nil }.sorted()
    }
}
