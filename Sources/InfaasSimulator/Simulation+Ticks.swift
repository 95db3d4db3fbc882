public import InfaasCore
import InfaasPolicies

extension Simulation {
    /// §4.1 QPS monitor on every worker (the loop's).
    mutating func monitorTick() {
        control.monitorTick(intervalSeconds: policy.config.monitorIntervalMs / 1000)
    }

    /// §4.1 resource monitor: CPU utilisation (busy core time over the interval), GPU
    /// utilisation (busy time of the GPU — fix of reference §8 item 6, which reported memory
    /// occupancy), Inferentia utilisation (NeuronCores in use, as the reference).
    mutating func resourceTick() {
        let elapsed = Double(now - lastResourceTick)
        lastResourceTick = now
        guard elapsed > 0 else { return }
        for w in control.snapshot.workers.indices {
            let worker = control.snapshot.workers[w]
            let busyCores = busyCoreNanos[w] - lastBusyCore[w]
            let busyGPU = busyGPUNanos[w] - lastBusyGPU[w]
            lastBusyCore[w] = busyCoreNanos[w]
            lastBusyGPU[w] = busyGPUNanos[w]
            control.snapshot.workers[w].cpuUtilization = min(100, busyCores / (elapsed * Double(max(1, worker.cores))) * 100)
            if worker.hardware == .gpu { control.snapshot.workers[w].gpuUtilization = min(99.9, busyGPU / elapsed * 100) }
            if worker.hardware == .inferentia {
                control.snapshot.workers[w].inferentiaUtilization = min(99.9, Double(worker.usedNeuronCores) * 100 / Double(max(1, worker.neuronCores)))
            }
        }
        control.resourceTick()
    }

    /// §4.2 arbiter on every ready worker (the loop's plans, carried out here).
    mutating func arbiterTick() {
        let t = SimTime(nanoseconds: now)
        let effects = control.arbiterTick(now: t)
        var stops: [TapeEntry.StopOutcome] = []
        for effect in effects {
            let done = perform(effect, now: t)
            if !done { control.couldNotPerform(effect, now: t) }
            if tape != nil, case .stopReplica(_, let v, let w) = effect { stops.append(.init(variant: v, worker: w, stopped: done)) }
        }
        tape?.append(.arbiter(t, stops: stops))
    }

    /// §4.3 VM autoscaler (the loop's), and the loop's replacement of lost workers (none are
    /// lost in a simulation, so it only keeps the floor).
    mutating func vmTick() {
        let t = SimTime(nanoseconds: now)
        act(control.vmTick(now: t))
        releaseHeld()
        act(control.replaceLostWorkers(now: t))
    }

    /// Dollars spent on workers up to `time`.
    func cost(upTo time: Int64) -> (total: Double, hours: [HardwareClass: Double], dollars: [HardwareClass: Double]) {
        var hours: [HardwareClass: Double] = [:], dollars: [HardwareClass: Double] = [:]
        var total = 0.0
        for w in control.snapshot.workers.indices {
            let hardware = control.snapshot.workers[w].hardware
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
        for w in control.snapshot.workers where w.status == .ready { workers[w.hardware, default: 0] += 1 }
        var replicas = 0
        var running = Set<Int>()
        // Groups on a retired or vanished worker keep their counts in the snapshot (nothing routes
        // to them); counting them made replicas look as if they never scaled in.
        for g in control.snapshot.groups where g.active && g.replicas > 0 && control.snapshot.workers[g.worker].status != .gone {
            replicas += g.replicas
            running.insert(g.variant)
        }
        metrics.timeseries.append(TimeseriesRow(
            time: Double(now) / 1e9, arrivals: sample.arrivals, completions: sample.completions, violations: 0,
            rejected: 0, meanLatencyMs: sample.completions > 0 ? sample.latencySumMs / Double(sample.completions) : 0,
            workers: workers, costUSD: cost(upTo: now).total, replicas: replicas, runningVariants: running.count))
        sample = SampleAccumulator()
    }

    /// The run's cost summary.
    public var costSummary: (total: Double, hours: [HardwareClass: Double], dollars: [HardwareClass: Double]) { cost(upTo: now) }

    /// Simulated seconds from the first event to the last query's end.
    public var simulatedSeconds: Double { Double(now) / 1e9 }
}
