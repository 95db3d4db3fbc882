public import InfaasCore

/// Chooses the variant for a query (reference §3.2–3.4, plus the baselines' rules).
///
/// Fixes of the reference, each noted where it applies:
/// * §8.5: the load/unload flag was one per variant across all workers; here a worker whose
///   replicas are loading or unloading simply has no running group, so other workers still count.
/// * §3.3 `min_valid_batch` was updated before the latency check and could return a variant
///   predicted to miss the SLO; here it is taken among variants that pass it.
/// * §3.3 the loose-SLO fallback `cand[0]` was not checked against the query's batch; it is.
/// * §8.8: the use-case cache is per use-case.
/// * §3.3 the fast path checked only batch-1 latency: `-a resnet50 -l 150` with two inputs got
///   a running variant predicted at 205 ms for batch 2; it now also checks the query's batch.
/// * §3.3 `pred(v)` judged accelerator variants at `min(32, max_batch)`, below the query's batch
///   when both exceed 32; it is never judged below the query's batch.
/// * §3.4 a loose SLO skipped every variant faster than the loose threshold and failed when the
///   accuracy bin held only such variants (a looser SLO served nothing); it now retries without.
public struct VariantSelector: Sendable {
    public let catalogue: PolicyCatalogue
    public let config: PolicyConfig
    public let machines: MachineCatalogue

    public init(catalogue: PolicyCatalogue, config: PolicyConfig, machines: MachineCatalogue = MachineCatalogue()) {
        self.catalogue = catalogue
        self.config = config
        self.machines = machines
    }

    /// Chooses a variant, or says why none qualifies.
    public func select(_ query: PolicyQuery, snapshot: ClusterSnapshot, state: inout MasterState) -> Result<VariantChoice, RejectReason> {
        switch config.variantSelection {
        case .infaas:
            switch query.target {
            case .variant(let v):
                guard catalogue.maxBatch[v] >= query.batch else { return .failure(.batchAboveMaxBatch) }
                let running = !config.decisionMode.isRoundRobin && snapshot.isRunning(v)
                return .success(VariantChoice(variant: v, running: running, requestVMScale: false))
            case .architecture(let a):
                return architectureSearch(a, sloMs: query.sloMs, batch: query.batch, snapshot: snapshot, state: &state)
            case .useCase(let u):
                return useCaseSearch(u, minAccuracy: query.minAccuracy, sloMs: query.sloMs, batch: query.batch,
                                     snapshot: snapshot, state: &state)
            }
        case .fixed:
            let v: Int
            if case .variant(let named) = query.target {
                v = named
            } else {
                guard query.application < state.fixedVariant.count else { return .failure(.noVariantMeetsObjectives) }
                v = state.fixedVariant[query.application]
                guard v >= 0 else { return .failure(.noVariantMeetsObjectives) }
            }
            guard catalogue.maxBatch[v] >= query.batch else { return .failure(.batchAboveMaxBatch) }
            return .success(VariantChoice(variant: v, running: snapshot.isRunning(v), requestVMScale: false))
        case .maxAccuracy, .cheapest:
            // Without the VM autoscaler a baseline can only use hardware the cluster has: choosing
            // an Inferentia variant for a cluster with no Inferentia worker would reject every query.
            let allowed = config.vmAutoscaling ? Set(HardwareClass.allCases) : Self.hostableHardware(snapshot)
            guard let v = bestByRule(query, hardware: allowed) else { return .failure(.noVariantMeetsObjectives) }
            return .success(VariantChoice(variant: v, running: snapshot.isRunning(v), requestVMScale: false))
        }
    }

    /// Hardware classes some live worker can run (every worker runs CPU variants).
    static func hostableHardware(_ snapshot: ClusterSnapshot) -> Set<HardwareClass> {
        var classes: Set<HardwareClass> = []
        for w in snapshot.workers where w.status != .gone {
            classes.insert(.cpu)
            classes.insert(w.hardware)
        }
        return classes
    }

    /// The variants a query may use, before objectives.
    public func candidates(_ target: PolicyTarget) -> [Int] {
        switch target {
        case .variant(let v): [v]
        case .architecture(let a): catalogue.byBatch1[a]
        case .useCase(let u): catalogue.byUseCase[u]
        }
    }

    /// Whether `v` meets a query's batch, latency and accuracy objectives.
    @inlinable
    public func meets(_ v: Int, batch: Int, sloMs: Double, minAccuracy: Double) -> Bool {
        guard catalogue.maxBatch[v] >= batch else { return false }
        if sloMs > 0, catalogue.predictedMs(v, queryBatch: batch, maxOnlineBatch: config.maxOnlineBatch) > sloMs { return false }
        if minAccuracy > 0, (catalogue.accuracy[v] ?? -1) < minAccuracy { return false }
        return true
    }

    /// The `max-accuracy` and `cheapest` baselines: among the variants that meet the objectives,
    /// the most accurate (ties: faster) or the cheapest per query (ties: faster).
    public func bestByRule(_ query: PolicyQuery, hardware allowed: Set<HardwareClass> = Set(HardwareClass.allCases)) -> Int? {
        var best: Int? = nil
        var bestKey = (Double.infinity, Double.infinity)
        for v in candidates(query.target) where allowed.contains(catalogue.hardware[v])
            && meets(v, batch: query.batch, sloMs: query.sloMs, minAccuracy: query.minAccuracy) {
            let latency = catalogue.predictedMs(v, queryBatch: query.batch, maxOnlineBatch: config.maxOnlineBatch)
            let key = config.variantSelection == .maxAccuracy
                ? (-(catalogue.accuracy[v] ?? -1), latency)
                : (catalogue.costPerQueryUSD(v, batch: query.batch, machines: machines), latency)
            if key < bestKey { bestKey = key; best = v }
        }
        return best
    }

    // MARK: §3.3 architecture + latency SLO

    /// `par_lat_search(parent, L, B)`: prefer a running variant that meets the SLO with the least
    /// slack; for a loose SLO prefer CPU variants; else the smallest-batch variant that fits.
    /// (Allocation-free: it runs on every architecture query.)
    public func architectureSearch(_ a: Int, sloMs L: Double, batch B: Int, snapshot: ClusterSnapshot,
                                   state: inout MasterState) -> Result<VariantChoice, RejectReason> {
        let mode = config.decisionMode
        let loose = config.looseSLORule ? config.looseSLOMs : .infinity
        let minLat = L > loose ? loose : 0
        let variants = catalogue.byBatch1[a]
        var vmScale = false
        // Fast path: the first 5 variants with batch-1 latency in [minLat, L], fastest first.
        var blacklistedFast: Int? = nil
        var skipScaleDown = false
        var fastSeen = 0
        for v in variants where catalogue.batch1Ms[v] >= minLat && catalogue.batch1Ms[v] <= L {
            fastSeen += 1
            if fastSeen > config.fastPathCandidates { break }
            guard catalogue.maxBatch[v] >= B, snapshot.isRunning(v) else { continue }
            // The reference checks only batch-1 latency here, so a batch query got a variant
            // predicted to miss its SLO at the query's batch (fixed: see the type's notes).
            if B > 1, catalogue.model[v].predictMs(batch: B) > L { continue }
            if mode == .noQPSLatency { return .success(VariantChoice(variant: v, running: true, requestVMScale: false)) }
            guard let g = snapshot.lowestQPSGroup(of: v) else { continue }
            if !snapshot.groups[g].blacklisted {
                if mode == .cpuBlacklistCheck, catalogue.hardware[v] == .cpu, state.cpuBlacklist.contains(v) { continue }
                return .success(VariantChoice(variant: v, running: true, requestVMScale: false))
            }
            blacklistedFast = v
            if catalogue.hardware[v] != .cpu {
                let trigger = mode.triggersVMScale && catalogue.hardware[v] == .gpu
                return .success(VariantChoice(variant: v, running: false, requestVMScale: trigger))
            }
            skipScaleDown = true
        }
        // General path: every variant of the architecture, fastest batch-1 first.
        var best: (variant: Int, slack: Double, blacklisted: Bool)? = nil
        var minValidBatch: Int? = nil
        var largestBlacklistedBatch = 0
        var modelExists = false
        var fastCount = 0
        var fitting: Int? = nil            // first fast-path candidate that passes every check
        var firstWithinSLO: Int? = nil     // first passing variant with batch-1 latency ≤ L
        var cheapestCold: (variant: Int, cost: Double)? = nil
        for v in variants {
            let inFast = catalogue.batch1Ms[v] >= minLat && catalogue.batch1Ms[v] <= L && fastCount < config.fastPathCandidates
            if catalogue.batch1Ms[v] >= minLat && catalogue.batch1Ms[v] <= L { fastCount += 1 }
            guard catalogue.maxBatch[v] >= B else { continue }
            if catalogue.hardware[v] == .cpu, L <= config.cpuExcludedAtOrBelowSLOMs { continue }
            let predicted = catalogue.predictedMs(v, queryBatch: B, maxOnlineBatch: config.maxOnlineBatch)
            if L > 0, predicted > L { continue }
            modelExists = true
            if inFast, fitting == nil { fitting = v }
            if firstWithinSLO == nil, catalogue.batch1Ms[v] <= L { firstWithinSLO = v }
            if config.preferCheapest {
                let cost = catalogue.costPerQueryUSD(v, batch: B, machines: machines)
                if cost < (cheapestCold?.cost ?? .infinity) { cheapestCold = (v, cost) }
            }
            if minValidBatch == nil || catalogue.maxBatch[v] < catalogue.maxBatch[minValidBatch!] { minValidBatch = v }
            if snapshot.isRunning(v) {
                if mode == .noQPSLatency { return .success(VariantChoice(variant: v, running: true, requestVMScale: false)) }
                guard let g = snapshot.lowestQPSGroup(of: v) else { continue }
                let w = snapshot.groups[g].worker
                if !skipScaleDown, minLat == loose, !snapshot.workers[w].parentScaleDown.isEmpty, snapshot.workers[w].parentScaleDown.contains(a) { break }
                let slack = L - predicted
                if !snapshot.groups[g].blacklisted {
                    if mode == .cpuBlacklistCheck, catalogue.hardware[v] == .cpu, state.cpuBlacklist.contains(v) { continue }
                    if slack >= 0, slack < (best?.slack ?? 100_000) { best = (v, slack, false) }
                } else {
                    largestBlacklistedBatch = max(largestBlacklistedBatch, catalogue.maxBatch[v])
                    if catalogue.hardware[v] != .cpu {
                        if slack >= 0, slack < (best?.slack ?? 100_000) { best = (v, slack, true) }
                        if mode.triggersVMScale, catalogue.hardware[v] == .gpu { vmScale = true }
                    } else if mode == .cpuBlacklistCheck {
                        state.cpuBlacklist.insert(v)
                    }
                }
            } else if mode == .cpuBlacklistCheck {
                state.cpuBlacklist.remove(v)
            }
        }
        guard modelExists else { return .failure(.noVariantMeetsObjectives) }
        if let best { return .success(VariantChoice(variant: best.variant, running: !best.blacklisted, requestVMScale: vmScale)) }
        // Nothing usable is running: a cold variant.
        if let cheapestCold { return .success(VariantChoice(variant: cheapestCold.variant, running: false, requestVMScale: vmScale)) }
        guard let fitting, fastSeen > 0 else {
            if minLat == loose, let v = firstWithinSLO {
                return .success(VariantChoice(variant: v, running: false, requestVMScale: vmScale))
            }
            guard let v = minValidBatch else { return .failure(.noVariantMeetsObjectives) }
            return .success(VariantChoice(variant: v, running: false, requestVMScale: vmScale))
        }
        if largestBlacklistedBatch == 0 {
            let v = minLat == loose ? fitting : (minValidBatch ?? fitting)
            return .success(VariantChoice(variant: v, running: false, requestVMScale: vmScale))
        }
        if let trickle = blacklistedFast, state.rng.uniform() < config.blacklistTrickleProbability {
            return .success(VariantChoice(variant: trickle, running: false, requestVMScale: vmScale))
        }
        return .success(VariantChoice(variant: minValidBatch ?? fitting, running: false, requestVMScale: vmScale))
    }

    // MARK: §3.4 use-case + accuracy + latency SLO

    /// `gpar_lat_acc_search(g, A, L, B)`: a cached variant if it still qualifies; else search the
    /// lowest accuracy bin that has variants ≥ A within a lookup budget, preferring running
    /// variants with the least slack, then CPU variants for loose SLOs, then the cold variant with
    /// the lowest `1000 + load + latency` score.
    public func useCaseSearch(_ u: Int, minAccuracy A: Double, sloMs L: Double, batch B: Int, snapshot: ClusterSnapshot,
                              state: inout MasterState) -> Result<VariantChoice, RejectReason> {
        let mode = config.decisionMode
        let loose = config.looseSLORule ? config.looseSLOMs : .infinity
        func skip(_ v: Int) -> Bool {
            if catalogue.maxBatch[v] < B { return true }
            if (catalogue.accuracy[v] ?? -1) < A { return true }
            let predicted = catalogue.predictedMs(v, queryBatch: B, maxOnlineBatch: config.maxOnlineBatch)
            return predicted > L || (L > loose && predicted < loose)
        }
        // Fast path: the cache (the use-case's, or with `accuracy-bin` that of the floor's bin).
        let cacheBin = config.useCaseCacheScope == .accuracyBin
            ? (PolicyCatalogue.bin(of: max(A, catalogue.binEdges[0]), edges: catalogue.binEdges) ?? -1) : nil
        for v in state.cachedVariants(useCase: u, bin: cacheBin) where !skip(v) {
            guard snapshot.isRunning(v) else { continue }
            if mode == .noQPSLatency { return pick(v, running: true, vmScale: false, u, cacheBin, &state) }
            guard let g = snapshot.lowestQPSGroup(of: v) else { continue }
            if !snapshot.groups[g].blacklisted { return pick(v, running: true, vmScale: false, u, cacheBin, &state) }
            if catalogue.hardware[v] != .cpu {
                return pick(v, running: false, vmScale: mode.triggersVMScale && catalogue.hardware[v] == .gpu, u, cacheBin, &state)
            }
        }
        // General path over the accuracy bins: the first bin (from A's upward) holding variants
        // with accuracy ≥ A; up to `budget` of them, lowest accuracy first.
        // Clamped before converting: an SLO of 1e308 ms makes the quotient infinite, and
        // Int(±inf) traps. More lookups than variants change nothing.
        let lookups = (config.useCaseSearchFraction * L / config.useCaseSearchLookupMs).rounded(.down)
        let budget = max(config.useCaseSearchMinimum, lookups.isNaN ? 0 : lookups >= Double(catalogue.count) ? catalogue.count : Int(max(0, lookups)))
        var chosenBin: Int? = nil
        if let startBin = PolicyCatalogue.bin(of: max(A, catalogue.binEdges[0]), edges: catalogue.binEdges) {
            for bin in startBin..<catalogue.accuracyBins[u].count
            where catalogue.accuracyBins[u][bin].contains(where: { (catalogue.accuracy[$0] ?? -1) >= A }) {
                chosenBin = bin
                break
            }
        }
        guard let chosenBin else { return .failure(.noVariantMeetsObjectives) }
        // The reference skips variants faster than the loose threshold for a loose SLO ("no GPU
        // for a CPU-class SLO") and fails when the bin holds only such variants — a looser SLO
        // then served nothing where a tighter one was served. Fix: retry without that floor, as
        // §3.3 retries its fast path from 0.
        for floor in L > loose ? [true, false] : [false] {
            var best: (variant: Int, score: Double, running: Bool)? = nil
            var bestCPU: (variant: Int, score: Double)? = nil
            var cheapestCold: (variant: Int, cost: Double)? = nil
            var smallestBatch = Int.max
            var validRunning = false
            var cpuBlacklisted = false
            var vmScale = false
            var considered = 0
            for v in catalogue.accuracyBins[u][chosenBin] where (catalogue.accuracy[v] ?? -1) >= A {
                considered += 1
                if considered > budget { break }
                guard catalogue.maxBatch[v] >= B else { continue }
                var betterBatch = false
                if catalogue.maxBatch[v] <= smallestBatch {
                    smallestBatch = catalogue.maxBatch[v]
                    betterBatch = true
                }
                let predicted = catalogue.predictedMs(v, queryBatch: B, maxOnlineBatch: config.maxOnlineBatch)
                if predicted > L || (floor && L > loose && predicted < loose) { continue }
                var treatAsCold = true
                if snapshot.isRunning(v) {
                    if mode == .noQPSLatency { return pick(v, running: true, vmScale: false, u, cacheBin, &state) }
                    if let g = snapshot.lowestQPSGroup(of: v) {
                        let w = snapshot.groups[g].worker
                        let scaledDown = catalogue.hardware[v] == .cpu && !snapshot.workers[w].parentScaleDown.isEmpty
                            && snapshot.workers[w].parentScaleDown.contains(catalogue.architecture[v])
                        if !scaledDown {
                            treatAsCold = false
                            let slack = L - predicted
                            if !snapshot.groups[g].blacklisted {
                                if slack < (best?.score ?? 100_000) { best = (v, slack, true) }
                                validRunning = true
                            } else if catalogue.hardware[v] == .cpu {
                                cpuBlacklisted = true
                            } else {
                                if slack < (best?.score ?? 100_000) { best = (v, slack, false) }
                                if mode.triggersVMScale, catalogue.hardware[v] == .gpu { vmScale = true }
                            }
                        }
                    }
                }
                if treatAsCold {
                    let score = config.coldPenaltyMs + catalogue.loadMs[v] + predicted
                    if betterBatch, score < (best?.score ?? 100_000) { best = (v, score, false) }
                    if L > loose, catalogue.hardware[v] == .cpu, score < (bestCPU?.score ?? .infinity) { bestCPU = (v, score) }
                    if config.preferCheapest {
                        let cost = catalogue.costPerQueryUSD(v, batch: B, machines: machines)
                        if cost < (cheapestCold?.cost ?? .infinity) { cheapestCold = (v, cost) }
                    }
                }
            }
            if let bestCPU, !validRunning, !cpuBlacklisted {
                return pick(cheapestCold?.variant ?? bestCPU.variant, running: false, vmScale: vmScale, u, cacheBin, &state)
            }
            if let best {
                if !best.running, !validRunning, let cheapestCold {
                    return pick(cheapestCold.variant, running: false, vmScale: vmScale, u, cacheBin, &state)
                }
                return pick(best.variant, running: best.running, vmScale: vmScale, u, cacheBin, &state)
            }
        }
        return .failure(.noVariantMeetsObjectives)
    }

    private func pick(_ v: Int, running: Bool, vmScale: Bool, _ u: Int, _ bin: Int?, _ state: inout MasterState) -> Result<VariantChoice, RejectReason> {
        state.touchCache(useCase: u, bin: bin, variant: v, size: config.useCaseCacheSize)
        return .success(VariantChoice(variant: v, running: running, requestVMScale: vmScale))
    }
}
