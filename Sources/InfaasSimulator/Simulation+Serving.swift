import Foundation
import InfaasCore
import InfaasPolicies
import InfaasTraces
import GSLKit

extension Simulation {
    // MARK: Arrivals

    mutating func handleArrival(_ arrival: Arrival) {
        lastActivity = now
        let appIndex = arrival.application
        guard appIndex >= 0, appIndex < applications.count else {
            rejectUnknown(row: arrival.row, application: 0)
            return
        }
        var query = PolicyQuery(target: applications[appIndex].target, batch: applications[appIndex].batch,
                                sloMs: applications[appIndex].sloMs, minAccuracy: applications[appIndex].minAccuracy, application: appIndex)
        if let text = arrival.target {
            let resolved: PolicyTarget?
            if let cached = targetCache[text] { resolved = cached } else {
                resolved = Application.resolve(text, in: catalogue)
                targetCache[text] = resolved
            }
            guard let target = resolved else {
                rejectUnknown(row: arrival.row, application: appIndex)
                return
            }
            query.target = target
            query.batch = arrival.batch
            if let slo = arrival.sloMs { query.sloMs = slo }
            if let accuracy = arrival.minAccuracy { query.minAccuracy = accuracy }
        }
        metrics.applications[appIndex].arrivals += 1
        sample.arrivals += 1
        switch policy.route(query, snapshot: snapshot, now: SimTime(nanoseconds: now), state: &master) {
        case .reject(let reason, let want):
            if let want { snapshot.capacityShortage.insert(want) }
            reject(reason, application: appIndex, query: query)
        case .route(let decision):
            apply(decision)
            admit(query, decision: decision)
        }
    }

    mutating func rejectUnknown(row: Int, application: Int) {
        metrics.unknownTargets += 1
        if metrics.unknownTargetRows.count < 10 { metrics.unknownTargetRows.append(row) }
        metrics.applications[application].arrivals += 1
        sample.arrivals += 1
        reject(.unknownTarget, application: application, query: nil)
    }

    mutating func reject(_ reason: RejectReason, application: Int, query: PolicyQuery?) {
        metrics.applications[application].rejected += 1
        metrics.rejectedByReason[reason, default: 0] += 1
        sample.rejected += 1
        sample.violations += 1
        if options.recordQueries {
            let t = Double(now) / 1e9
            metrics.queries.append(QueryRecord(arrival: t, finish: t, application: Int32(application), variant: -1, worker: -1,
                                               batch: Int32(query?.batch ?? 0), sloMs: query?.sloMs ?? 0, met: -1))
        }
    }

    mutating func apply(_ d: RouteDecision) {
        snapshot.applySideEffects(of: d, now: SimTime(nanoseconds: now), config: policy.config)
    }

    mutating func admit(_ query: PolicyQuery, decision d: RouteDecision) {
        let g = snapshot.ensureGroup(variant: d.variant, worker: d.worker)
        growGroupArrays(g)
        if snapshot.groups[g].replicas == 0 && snapshot.groups[g].loading == 0 {
            startLoading(group: g)
            metrics.variantLoads += 1
        }
        let slot = allocateSlot(InFlight(arrival: now, application: Int32(query.application), variant: Int32(d.variant),
                                         worker: Int32(d.worker), group: Int32(g), batch: Int32(query.batch), sloMs: query.sloMs))
        counters[g].requests += 1
        counters[g].batchSum += query.batch
        counters[g].sloSumMs += query.sloMs
        snapshot.groups[g].outstanding += 1
        workerOutstanding[d.worker] += 1
        if snapshot.groups[g].replicas > 0 {
            enqueue(slot, group: g)
        } else {
            pendingLoad[g].push(slot)
        }
    }

    mutating func allocateSlot(_ query: InFlight) -> Int32 {
        inFlightCount += 1
        if let slot = freeSlots.popLast() {
            inFlight[Int(slot)] = query
            return slot
        }
        inFlight.append(query)
        return Int32(inFlight.count - 1)
    }

    mutating func growGroupArrays(_ g: Int) {
        while groupUnits.count <= g {
            groupUnits.append([])
            groupCursor.append(0)
            pendingLoad.append(RingQueue())
            counters.append(GroupCounters())
        }
    }

    // MARK: Execution

    mutating func enqueue(_ slot: Int32, group g: Int) {
        let list = groupUnits[g]
        let u = list[groupCursor[g] % list.count]
        groupCursor[g] &+= 1
        if units[u].busy {
            units[u].queue.push(slot)
        } else {
            start(slot, unit: u)
        }
    }

    mutating func start(_ slot: Int32, unit u: Int) {
        var slot = slot
        while true {
            let q = inFlight[Int(slot)]
            if now - q.arrival > deadlineNanos {
                abandon(slot)
                guard let next = units[u].queue.pop() else {
                    units[u].busy = false
                    return
                }
                slot = next
                continue
            }
            let v = Int(q.variant)
            let medianMs = max(0.001, catalogue.model[v].predictMs(batch: Int(q.batch)))
            let ms = options.latencyNoise && sigma[v] > 0 ? rng.logNormal(mu: log(medianMs), sigma: sigma[v]) : medianMs
            let nanos = max(1, Int64(ms * 1e6))
            units[u].busy = true
            units[u].current = slot
            let w = units[u].worker
            if units[u].cores > 0 { busyCoreNanos[w] += Double(nanos) * Double(units[u].cores) } else { busyGPUNanos[w] += Double(nanos) }
            events.schedule(at: now + nanos, .completion, Int32(u))
            return
        }
    }

    mutating func complete(unit u: Int) {
        let slot = units[u].current
        let q = inFlight[Int(slot)]
        let latency = now - q.arrival
        let latencyMs = Double(latency) / 1e6
        let app = Int(q.application), g = Int(q.group), v = Int(q.variant)
        let met = q.sloMs <= 0 || latencyMs <= q.sloMs
        metrics.applications[app].served += 1
        metrics.applications[app].latencySumMs += latencyMs
        if met { metrics.applications[app].metSLO += 1 } else { sample.violations += 1 }
        if let accuracy = catalogue.accuracy[v] {
            metrics.applications[app].accuracySum += accuracy
            metrics.applications[app].accuracyCount += 1
        }
        metrics.servedByVariant[v] += 1
        _ = metrics.latencyMicros.record(UInt64(max(0, latency / 1000)))
        sample.completions += 1
        sample.latencySumMs += latencyMs
        counters[g].completed += 1
        counters[g].latencySumMs += latencyMs
        if options.recordQueries {
            metrics.queries.append(QueryRecord(arrival: Double(q.arrival) / 1e9, finish: Double(now) / 1e9, application: q.application,
                                               variant: q.variant, worker: q.worker, batch: q.batch, sloMs: q.sloMs, met: met ? 1 : 0))
        }
        release(slot, group: g, worker: Int(q.worker))
        lastActivity = now
        if let next = units[u].queue.pop() {
            start(next, unit: u)
        } else {
            units[u].busy = false
            units[u].current = -1
        }
    }

    mutating func abandon(_ slot: Int32) {
        let q = inFlight[Int(slot)]
        let app = Int(q.application)
        metrics.applications[app].rejected += 1
        metrics.rejectedByReason[.deadlineExceeded, default: 0] += 1
        sample.rejected += 1
        sample.violations += 1
        counters[Int(q.group)].completed += 1
        counters[Int(q.group)].latencySumMs += Double(now - q.arrival) / 1e6
        if options.recordQueries {
            metrics.queries.append(QueryRecord(arrival: Double(q.arrival) / 1e9, finish: Double(now) / 1e9, application: q.application,
                                               variant: q.variant, worker: q.worker, batch: q.batch, sloMs: q.sloMs, met: -1))
        }
        release(slot, group: Int(q.group), worker: Int(q.worker))
    }

    mutating func release(_ slot: Int32, group g: Int, worker w: Int) {
        snapshot.groups[g].outstanding -= 1
        workerOutstanding[w] -= 1
        freeSlots.append(slot)
        inFlightCount -= 1
        if snapshot.workers[w].status == .gone, workerOutstanding[w] == 0, billingEnd[w] == nil { billingEnd[w] = now }
    }

    // MARK: Loading and unloading

    /// Reserves room and schedules one replica's load.
    mutating func startLoading(group g: Int) {
        let v = snapshot.groups[g].variant, w = snapshot.groups[g].worker
        reserve(variant: v, worker: w, sign: 1)
        snapshot.groups[g].loading += 1
        events.schedule(at: now + Int64(catalogue.loadMs[v] * 1e6), .loadDone, Int32(g))
    }

    mutating func reserve(variant v: Int, worker w: Int, sign: Int) {
        snapshot.reserve(variant: v, worker: w, sign: sign, catalogue: catalogue)
    }

    mutating func loadDone(group g: Int) {
        guard snapshot.groups[g].active, snapshot.groups[g].loading > 0 else { return }
        snapshot.groups[g].loading -= 1
        snapshot.groups[g].replicas += 1
        snapshot.groups[g].pendingScaleDown = 0
        let v = snapshot.groups[g].variant, w = snapshot.groups[g].worker
        if catalogue.hardware[v] == .gpu {
            groupUnits[g].append(gpuUnit[w])
        } else {
            groupUnits[g].append(newUnit(worker: w, cores: catalogue.hardware[v] == .cpu ? catalogue.cpus[v] : 0))
        }
        if catalogue.hardware[v] == .cpu { snapshot.workers[w].parentScaleDown.remove(catalogue.architecture[v]) }
        while let slot = pendingLoad[g].pop() { enqueue(slot, group: g) }
    }

    mutating func newUnit(worker w: Int, cores: Int) -> Int {
        let unit = Unit(worker: w, cores: cores)
        if let u = freeUnits.popLast() {
            units[u] = unit
            return u
        }
        units.append(unit)
        return units.count - 1
    }

    /// Removes one idle replica of a group; the last one unloads the variant from the worker.
    /// Returns false when every replica is busy or has a queue (tried again at the next tick).
    @discardableResult
    mutating func removeReplica(group g: Int) -> Bool {
        guard snapshot.groups[g].active, snapshot.groups[g].replicas > 0 else { return false }
        let v = snapshot.groups[g].variant, w = snapshot.groups[g].worker
        if snapshot.groups[g].replicas == 1 && (snapshot.groups[g].outstanding > 0 || snapshot.groups[g].loading > 0) { return false }
        if catalogue.hardware[v] == .gpu {
            groupUnits[g].removeLast()
        } else {
            guard let index = groupUnits[g].lastIndex(where: { !units[$0].busy && units[$0].queue.isEmpty }) else { return false }
            let u = groupUnits[g].remove(at: index)
            units[u].active = false
            freeUnits.append(u)
        }
        reserve(variant: v, worker: w, sign: -1)
        snapshot.groups[g].replicas -= 1
        metrics.replicasRemoved += 1
        if snapshot.groups[g].replicas == 0 && snapshot.groups[g].loading == 0 {
            snapshot.removeGroup(g)
            groupUnits[g] = []
            counters[g] = GroupCounters()
        }
        return true
    }

    // MARK: Workers

    @discardableResult
    mutating func launchWorker(_ hardware: HardwareClass, ready: Bool, slack: Bool = false) -> Int {
        let machine = machines[hardware]
        let index = workerCounter[hardware, default: 0]
        workerCounter[hardware] = index + 1
        let state = WorkerState(id: 0, name: "infaas-worker-\(hardware.shortName)-\(index)", hardware: hardware,
                                status: ready ? .ready : .booting, startedAt: SimTime(nanoseconds: now), cores: machine.vcpus,
                                acceleratorMemoryMB: machine.acceleratorMemoryMB, neuronCores: machine.neuronCores, isSlack: slack)
        let w = snapshot.addWorker(state)
        gpuUnit.append(hardware == .gpu ? newUnit(worker: w, cores: 0) : -1)
        busyCoreNanos.append(0)
        busyGPUNanos.append(0)
        lastBusyCore.append(0)
        lastBusyGPU.append(0)
        billingStart.append(now)
        billingEnd.append(nil)
        workerOutstanding.append(0)
        if !ready {
            metrics.workersLaunched[hardware, default: 0] += 1
            events.schedule(at: now + Int64(machine.bootSeconds * 1e9), .workerReady, Int32(w))
        }
        return w
    }

    mutating func workerReady(_ w: Int) {
        guard snapshot.workers[w].status == .booting else { return }
        snapshot.workers[w].status = .ready
        snapshot.refreshUtilizationOrder()
    }

    mutating func retireWorker(_ w: Int) {
        guard snapshot.workers[w].status != .gone else { return }
        metrics.workersRetired[snapshot.workers[w].hardware, default: 0] += 1
        snapshot.workers[w].status = .gone
        if workerOutstanding[w] == 0 { billingEnd[w] = now }
        snapshot.refreshUtilizationOrder()
    }

    /// The `static` baseline's deployment: each application's fixed variant, `staticReplicas`
    /// replicas spread over the initial workers that can host it, serving from time zero.
    mutating func placeStaticReplicas() {
        guard let standard = policy as? StandardPolicySet else { return }
        let present = Set(HardwareClass.allCases.filter { limits.initial($0) > 0 }).union([.cpu])
        master.fixedVariant = applications.map { app in
            standard.fixedVariant(for: PolicyQuery(target: app.target, batch: app.batch, sloMs: app.sloMs, minAccuracy: app.minAccuracy),
                                  hardware: present) ?? -1
        }
        let placement = WorkerSelector(catalogue: catalogue, config: policy.config)
        var cursor = 0
        for v in master.fixedVariant where v >= 0 {
            let hosts = snapshot.workers.indices.filter { snapshot.workers[$0].canHost(catalogue.hardware[v]) }
            guard !hosts.isEmpty else { continue }
            for _ in 0..<options.staticReplicas {
                for attempt in 0..<hosts.count {
                    let w = hosts[(cursor + attempt) % hosts.count]
                    if placement.hasRoom(v, on: w, snapshot)
                        || snapshot.group(variant: v, worker: w) != nil && catalogue.hardware[v] == .gpu {
                        let g = snapshot.ensureGroup(variant: v, worker: w)
                        growGroupArrays(g)
                        reserve(variant: v, worker: w, sign: 1)
                        snapshot.groups[g].loading += 1
                        loadDone(group: g)
                        cursor = (cursor + attempt + 1) % hosts.count
                        break
                    }
                }
            }
        }
    }
}
