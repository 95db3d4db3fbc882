public import InfaasCore
import InfaasPolicies

extension Simulation {
    /// §4.1 QPS monitor on every worker.
    mutating func monitorTick() {
        let interval = policy.config.monitorIntervalMs / 1000
        for g in snapshot.groups.indices where snapshot.groups[g].active {
            growGroupArrays(g)
            snapshot.groups[g] = policy.monitor(snapshot.groups[g], counters: counters[g], intervalSeconds: interval)
            counters[g] = GroupCounters()
        }
        for w in snapshot.workers.indices where snapshot.workers[w].status == .ready {
            snapshot.workers[w].parentScaleDown = policy.parentScaleDown(worker: w, snapshot: snapshot)
        }
    }

    /// §4.1 resource monitor: CPU utilisation (busy core time over the interval), GPU
    /// utilisation (busy time of the GPU — fix of reference §8 item 6, which reported memory
    /// occupancy), Inferentia utilisation (NeuronCores in use, as the reference).
    mutating func resourceTick() {
        let elapsed = Double(now - lastResourceTick)
        lastResourceTick = now
        guard elapsed > 0 else { return }
        for w in snapshot.workers.indices {
            let worker = snapshot.workers[w]
            let busyCores = busyCoreNanos[w] - lastBusyCore[w]
            let busyGPU = busyGPUNanos[w] - lastBusyGPU[w]
            lastBusyCore[w] = busyCoreNanos[w]
            lastBusyGPU[w] = busyGPUNanos[w]
            snapshot.workers[w].cpuUtilization = min(100, busyCores / (elapsed * Double(max(1, worker.cores))) * 100)
            if worker.hardware == .gpu { snapshot.workers[w].gpuUtilization = min(99.9, busyGPU / elapsed * 100) }
            if worker.hardware == .inferentia {
                snapshot.workers[w].inferentiaUtilization = min(99.9, Double(worker.usedNeuronCores) * 100 / Double(max(1, worker.neuronCores)))
            }
        }
        snapshot.refreshUtilizationOrder()
    }

    /// §4.2 arbiter on every ready worker.
    mutating func arbiterTick() {
        for w in snapshot.workers.indices where snapshot.workers[w].status == .ready {
            let plan = policy.modelPlan(worker: w, snapshot: snapshot)
            for p in plan.pendingScaleDown where snapshot.groups[p.group].active { snapshot.groups[p.group].pendingScaleDown = p.count }
            for action in plan.actions { apply(action) }
        }
    }

    mutating func apply(_ action: ModelAction) {
        switch action {
        case .addReplicas(let g, let count):
            guard snapshot.groups[g].active else { return }
            for _ in 0..<count { startLoading(group: g) }
            metrics.replicasAdded += count
        case .removeReplica(let g):
            if !removeReplica(group: g), snapshot.groups[g].active {
                snapshot.groups[g].pendingScaleDown = policy.config.scaleDownDelay(catalogue.hardware[snapshot.groups[g].variant]) + 1
            }
        case .load(let v, let w):
            guard snapshot.workers[w].status == .ready else { return }
            let g = snapshot.ensureGroup(variant: v, worker: w)
            growGroupArrays(g)
            guard snapshot.groups[g].replicas == 0, snapshot.groups[g].loading == 0 else { return }
            startLoading(group: g)
            metrics.variantLoads += 1
        }
    }

    /// §4.3 VM autoscaler.
    mutating func vmTick() {
        let decision = policy.workerDecision(snapshot: snapshot, state: &vmState)
        snapshot.applyBookkeeping(of: decision, now: SimTime(nanoseconds: now), config: policy.config)
        if let launch = decision.launch { launchWorker(launch.hardware, ready: false, slack: launch.slack) }
        if let w = decision.retire { retireWorker(w) }
    }

    /// Dollars spent on workers up to `time`.
    func cost(upTo time: Int64) -> (total: Double, hours: [HardwareClass: Double], dollars: [HardwareClass: Double]) {
        var hours: [HardwareClass: Double] = [:], dollars: [HardwareClass: Double] = [:]
        var total = 0.0
        for w in snapshot.workers.indices {
            let hardware = snapshot.workers[w].hardware
            let end = min(billingEnd[w] ?? time, time)
            let h = Double(max(0, end - billingStart[w])) / 3.6e12
            hours[hardware, default: 0] += h
            let usd = h * machines[hardware].hourlyUSD
            dollars[hardware, default: 0] += usd
            total += usd
        }
        return (total, hours, dollars)
    }

    mutating func sampleTick() {
        var workers: [HardwareClass: Int] = [:]
        for w in snapshot.workers where w.status == .ready { workers[w.hardware, default: 0] += 1 }
        var replicas = 0
        var running = Set<Int>()
        for g in snapshot.groups where g.active && g.replicas > 0 {
            replicas += g.replicas
            running.insert(g.variant)
        }
        metrics.timeseries.append(TimeseriesRow(
            time: Double(now) / 1e9, arrivals: sample.arrivals, completions: sample.completions, violations: sample.violations,
            rejected: sample.rejected, meanLatencyMs: sample.completions > 0 ? sample.latencySumMs / Double(sample.completions) : 0,
            workers: workers, costUSD: cost(upTo: now).total, replicas: replicas, runningVariants: running.count))
        sample = SampleAccumulator()
    }

    /// The run's cost summary.
    public var costSummary: (total: Double, hours: [HardwareClass: Double], dollars: [HardwareClass: Double]) { cost(upTo: now) }

    /// Simulated seconds from the first event to the last query's end.
    public var simulatedSeconds: Double { Double(now) / 1e9 }
}
