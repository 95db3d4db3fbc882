public import InfaasCore
public import InfaasPolicies
public import InfaasRPC

extension Infaas_V1_WorkerReport {
    /// What a worker in `worker` state with `groups` reports to the master (the daemon's report;
    /// the parity test builds the simulator's reports with it too). Variant and architecture
    /// names come from `catalogue`.
    public init(name: String, address: String, worker: WorkerState, groups: [ReplicaGroup], catalogue: PolicyCatalogue) {
        self.init()
        self.name = name
        self.address = address
        hardware = worker.hardware.rawValue
        cores = UInt32(max(0, worker.cores))
        acceleratorMemoryMb = worker.acceleratorMemoryMB
        neuronCores = UInt32(max(0, worker.neuronCores))
        slack = worker.isSlack
        cpuUtilization = worker.cpuUtilization
        gpuUtilization = worker.hardware == .gpu ? worker.gpuUtilization : 0
        inferentiaUtilization = worker.hardware == .inferentia ? worker.inferentiaUtilization : 0
        usedCores = UInt32(max(0, worker.usedCores))
        usedAcceleratorMemoryMb = worker.usedAcceleratorMemoryMB
        usedNeuronCores = UInt32(max(0, worker.usedNeuronCores))
        parentScaleDown = worker.parentScaleDown.map { catalogue.architectureNames[$0] }.sorted()
        variants = groups.map { group in
            var vr = Infaas_V1_VariantReport()
            vr.variant = catalogue.variants[group.variant].name
            vr.replicas = UInt32(max(0, group.replicas))
            vr.loading = UInt32(max(0, group.loading))
            vr.unloading = group.unloading
            vr.qps = group.qps
            vr.averageLatencyMs = group.averageLatencyMs
            vr.averageBatch = UInt32(max(1, group.averageBatch))
            vr.averageSloMs = group.averageSLOMs
            vr.outstanding = UInt32(max(0, group.outstanding))
            vr.blacklisted = group.blacklisted
            return vr
        }
    }
}
