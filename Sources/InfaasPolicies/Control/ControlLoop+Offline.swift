import InfaasCore

extension ControlLoop {
    // MARK: Offline queries (reference §5.2)

    /// Where an offline job runs: the variant it names, or its architecture's fastest CPU
    /// variant, on the least CPU-utilised ready worker.
    public func routeOffline(_ target: PolicyTarget) -> Result<(variant: Int, worker: Int), RejectReason> {
        let v: Int
        switch target {
        case .variant(let named): v = named
        case .architecture(let a):
            guard let cpu = catalogue.byBatch1[a].first(where: { catalogue.hardware[$0] == .cpu }) else { return .failure(.noVariantMeetsObjectives) }
            v = cpu
        case .useCase:
            return .failure(.unknownTarget)
        }
        guard let w = snapshot.cpuOrder.first else { return .failure(.noWorkers) }
        return .success((v, w))
    }

    /// Whether offline work may run on worker `w` now: it yields to online load while the worker's
    /// CPU is above `offline_cpu_threshold` or any of its variants is blacklisted (the
    /// reference's OFFLINE_CONTROL).
    public func offlineMayRun(worker w: Int) -> Bool {
        let worker = snapshot.workers[w]
        return worker.cpuUtilization <= config.offlineCPUThreshold && !worker.groups.contains { snapshot.groups[$0].blacklisted }
    }
}
