import Foundation
public import InfaasCore
public import InfaasPolicies
import InfaasTraces
import GSLKit

extension Simulation {
    // MARK: Arrivals

    mutating func handleArrival(_ arrival: Arrival) {
        lastActivity = now
        metrics.recordArrival(atSeconds: Double(now) / 1e9)
        let appIndex = arrival.application
        guard appIndex >= 0, appIndex < applications.count else {
            rejectUnknown(row: arrival.row, application: 0)
            return
        }
        let app = applications[appIndex]
        let declared = PolicyQuery(target: app.target, batch: app.batch, sloMs: app.sloMs, minAccuracy: app.minAccuracy, application: appIndex)
        let catalogue = self.catalogue
        guard let query = PolicyQuery.arrival(of: declared, target: arrival.target, batch: arrival.batch, sloMs: arrival.sloMs,
                                              minAccuracy: arrival.minAccuracy, resolve: { text in
            if let cached = targetCache[text] { return cached }
            let resolved = catalogue.resolve(text)
            targetCache[text] = resolved
            return resolved
        }) else {
            rejectUnknown(row: arrival.row, application: appIndex)
            return
        }
        metrics.applications[appIndex].arrivals += 1
        sample.arrivals += 1
        let deadline = discipline.deadline(arrival: SimTime(nanoseconds: now), sloMs: query.sloMs, explicitMs: app.deadlineMs,
                                           fixedMs: options.deadlineMs)
        tape?.append(.route(SimTime(nanoseconds: now), query, deadline: deadline))
        let (outcome, effects) = control.routeOrHold(query, token: UInt64(metrics.arrivals), deadline: deadline, now: SimTime(nanoseconds: now))
        act(effects)
        settle(query, outcome, arrival: now)
    }

    /// What the loop made of a query (on arrival, or when it released a held one).
    mutating func settle(_ query: PolicyQuery, _ outcome: HoldOutcome, arrival: Int64) {
        switch outcome {
        case .routed(let routed): admit(query, routed: routed, arrival: arrival)
        case .held: metrics.coldStarts.held += 1
        case .rejected(let reason): reject(reason, application: query.application, query: query, arrival: arrival)
        }
    }

    /// Hands the queries the loop held while a worker booted to their fate (a worker became
    /// ready, or a VM tick expired some).
    mutating func releaseHeld() {
        let (released, effects) = control.releaseHeld(now: SimTime(nanoseconds: now))
        act(effects)
        for r in released { settle(r.held.query, r.outcome, arrival: r.held.arrival.nanoseconds) }
    }

    mutating func rejectUnknown(row: Int, application: Int) {
        metrics.unknownTargets += 1
        if metrics.unknownTargetRows.count < 10 { metrics.unknownTargetRows.append(row) }
        metrics.applications[application].arrivals += 1
        sample.arrivals += 1
        reject(.unknownTarget, application: application, query: nil)
    }

    /// A query refused before any replica's queue. A held query the loop let go is answered as
    /// a queue would: `expired-in-queue` past its deadline, `shed` when the buffer was full.
    mutating func reject(_ reason: RejectReason, application: Int, query: PolicyQuery?, arrival: Int64? = nil) {
        let arrival = arrival ?? now
        let outcome: QueryOutcome = reason == .deadlineExceeded ? .expiredInQueue : reason == .queueFull ? .shed : .rejected
        metrics.applications[application].rejected += 1
        if outcome == .expiredInQueue { metrics.applications[application].expiredInQueue += 1 }
        if outcome == .shed { metrics.applications[application].shed += 1 }
        metrics.rejectedByReason[reason, default: 0] += 1
        countMiss(arrivedAt: arrival, outcome)
        if options.recordQueries {
            metrics.queries.append(QueryRecord(arrival: Double(arrival) / 1e9, finish: Double(now) / 1e9, application: Int32(application), variant: -1,
                                               worker: -1, batch: Int32(query?.batch ?? 0), sloMs: query?.sloMs ?? 0, met: -1, outcome: outcome))
        }
    }

    mutating func admit(_ query: PolicyQuery, routed: ControlLoop.Routed, arrival: Int64) {
        let g = routed.group, d = routed.decision
        growGroupArrays(g)
        if routed.startedLoad {
            scheduleLoad(group: g)
            metrics.variantLoads += 1
            metrics.coldStarts.loads += 1
        }
        let app = applications[query.application]
        let deadline = discipline.deadline(arrival: SimTime(nanoseconds: arrival), sloMs: query.sloMs, explicitMs: app.deadlineMs,
                                           fixedMs: options.deadlineMs)
        let slot = allocateSlot(InFlight(arrival: arrival, application: Int32(query.application), variant: Int32(d.variant),
                                         worker: Int32(d.worker), group: Int32(g), batch: Int32(query.batch), sloMs: query.sloMs,
                                         deadline: deadline?.nanoseconds ?? .max, priority: app.priority,
                                         hostIdleMs: Float(hostIdleMs(worker: d.worker, hops: true))))
        control.recordArrival(group: g, batch: query.batch, sloMs: query.sloMs)
        if countsConcurrentHops { overlapHops(slot, worker: d.worker) }
        workerOutstanding[d.worker] += 1
        if countsServingCPU { recordServingCPU(variant: d.variant, batch: query.batch, worker: d.worker) }
        if control.snapshot.groups[g].replicas > 0 {
            if arrival < now { metrics.coldStarts.recordWait(nanoseconds: now - arrival) }  // held while a worker booted
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
        }
    }

    // MARK: Execution

    /// Sends a query to the group's next replica (round-robin): it runs at once on an idle one;
    /// otherwise the replica's queue admits it (``QueueDiscipline/admit``) or sheds it.
    mutating func enqueue(_ slot: Int32, group g: Int) {
        let list = groupUnits[g]
        let u = list[groupCursor[g] % list.count]
        groupCursor[g] &+= 1
        guard units[u].busy else {
            start(slot, unit: u)
            return
        }
        let q = inFlight[Int(slot)]
        var priority = q.priority
        if discipline.admission != .always || discipline.maxQueueLength > 0 {
            let serviceMs = catalogue.model[Int(q.variant)].predictMs(batch: Int(q.batch))
            let queue = units[u].queue
            switch discipline.admit(priority: q.priority, sloMs: q.sloMs, queued: queue.count, ahead: queue.ahead(of: q.priority) + 1,
                                    serviceMs: serviceMs) {
            case .shed(let reason):
                shed(slot, reason: reason)
                return
            case .admit(let p):
                priority = p
            }
        }
        units[u].queue.push(.init(item: slot, arrival: SimTime(nanoseconds: q.arrival),
                                  deadline: q.deadline == .max ? nil : SimTime(nanoseconds: q.deadline), priority: priority))
        // The replica's expiry check: at the earliest deadline among its queued queries.
        if q.deadline != .max, q.deadline + 1 < units[u].checkAt {
            units[u].checkAt = q.deadline + 1
            events.schedule(at: q.deadline + 1, .expiryCheck, Int32(u))
        }
    }

    /// Starts `slot` on idle unit `u`, unless its deadline has passed (then the next queued one).
    mutating func start(_ slot: Int32, unit u: Int) {
        if now > inFlight[Int(slot)].deadline {
            expire(slot)
            startNext(unit: u)
        } else {
            run(slot, unit: u)
        }
    }

    /// Starts the query the unit's queue hands out next (``ServingQueue/popNext``), answering the
    /// expired ones it meets; the unit goes idle when none is left.
    mutating func startNext(unit u: Int) {
        let (next, expired) = units[u].queue.popNext(now: SimTime(nanoseconds: now), lowPriorityMaxWait: discipline.lowPriorityMaxWait)
        for entry in expired { expire(entry.item) }
        if let next {
            run(next.item, unit: u)
        } else {
            units[u].busy = false
            units[u].current = -1
        }
    }

    /// Runs one query as one batch for a time drawn from its variant's profile.
    mutating func run(_ slot: Int32, unit u: Int) {
        let q = inFlight[Int(slot)]
        let v = Int(q.variant)
        let medianMs = max(0.001, catalogue.model[v].predictMs(batch: Int(q.batch)))
        let workMs = options.latencyNoise && sigma[v] > 0 ? rng.logNormal(mu: log(medianMs), sigma: sigma[v]) : medianMs
        var ms = workMs
        let w = units[u].worker
        if let machine = options.machine, units[u].cores > 0 {
            let idle = idleCurves.isEmpty || idleCurves[v].isEmpty ? 1
                : max(1, MachineModel.interpolate(idleCurves[v], at: hostIdleMs(worker: w, hops: false)))
            runningThreads[w] += units[u].cores
            hostRunningThreads += units[u].cores
            let serving = countsServingCPU ? servingCPU[servingHost(worker: w, machine)].cores(at: now) : 0
            ms *= machine.background * idle * machine.slowdown(threads: units[u].cores, demand: Double(hostThreads(worker: w, machine)) + serving)
        }
        let nanos = max(1, Int64(ms * 1e6))
        units[u].busy = true
        units[u].current = slot
        units[u].startedAt = now
        // The CPU a run gets is its work, however long contention stretches it, at the share of
        // its cores it keeps busy (measured): a worker whose replicas wait for cores, or whose
        // threads idle between operators, is less utilised, as a live worker's process CPU shows.
        if units[u].cores > 0 {
            let share = options.machine?.cpuShare(threads: units[u].cores) ?? 1
            busyCoreNanos[w] += Double(max(1, Int64(workMs * 1e6))) * Double(units[u].cores) * share
        } else {
            busyGPUNanos[w] += Double(nanos)
        }
        events.schedule(at: now + nanos, .completion, Int32(u))
    }

    /// The unit's expiry check (while its batch runs): answers every queued query whose deadline
    /// has passed and schedules the next check. Returns whether it answered any.
    mutating func expireQueued(unit u: Int) -> Bool {
        units[u].checkAt = .max
        let expired = units[u].queue.removeExpired(now: SimTime(nanoseconds: now))
        for entry in expired { expire(entry.item) }
        if let next = units[u].queue.earliestDeadline {
            units[u].checkAt = next.nanoseconds + 1
            events.schedule(at: next.nanoseconds + 1, .expiryCheck, Int32(u))
        }
        return !expired.isEmpty
    }

    mutating func complete(unit u: Int) {
        let slot = units[u].current
        let q = inFlight[Int(slot)]
        if let machine = options.machine, units[u].cores > 0 {
            let w = units[u].worker
            runningThreads[w] -= units[u].cores
            hostRunningThreads -= units[u].cores
            if hostThreads(worker: w, machine) == 0 { hostIdleSince[servingHost(worker: w, machine)] = now }
        }
        // The worker's own view (what its monitor counts), and the client's: plus the RPC hops.
        let workerMs = Double(now - q.arrival) / 1e6
        var hop = hopNanos(variant: Int(q.variant), batch: Int(q.batch))
        if let machine = options.machine {
            // Shared with the hops that overlapped it, and longer after the host sat idle.
            if q.hopOverlap > 0 { hop = Int64(Double(hop) * machine.concurrentHopFactor(queries: 1 + Int(q.hopOverlap))) }
            if q.hostIdleMs > 0 { hop += Int64(machine.idleHopExtraMs(idleMs: Double(q.hostIdleMs)) * 1e6) }
        }
        let latency = now - q.arrival + hop
        let latencyMs = Double(latency) / 1e6
        let app = Int(q.application), g = Int(q.group), v = Int(q.variant)
        let met = q.sloMs <= 0 || latencyMs <= q.sloMs
        metrics.applications[app].served += 1
        metrics.applications[app].latencySumMs += latencyMs
        if met { metrics.applications[app].metSLO += 1 } else { countMiss(arrivedAt: q.arrival, .late) }
        if let accuracy = catalogue.accuracy[v] {
            metrics.applications[app].accuracySum += accuracy
            metrics.applications[app].accuracyCount += 1
        }
        metrics.servedByVariant[v] += 1
        _ = metrics.latencyMicros.record(UInt64(max(0, latency / 1000)))
        sample.completions += 1
        sample.latencySumMs += latencyMs
        let workerMet = q.sloMs <= 0 || workerMs <= q.sloMs
        control.recordCompletion(group: g, latencyMs: workerMs, met: workerMet)
        tape?.append(.finished(SimTime(nanoseconds: now), variant: v, worker: Int(q.worker), latencyMs: workerMs, met: workerMet))
        if options.recordQueries {
            metrics.queries.append(QueryRecord(arrival: Double(q.arrival) / 1e9, finish: Double(q.arrival + latency) / 1e9, application: q.application,
                                               variant: q.variant, worker: q.worker, batch: q.batch, sloMs: q.sloMs, met: met ? 1 : 0,
                                               workerMs: workerMs, inferenceMs: Double(now - units[u].startedAt) / 1e6))
        }
        release(slot, group: g, worker: Int(q.worker))
        lastActivity = now
        startNext(unit: u)
    }

    /// A queued query whose deadline has passed: answered at once, `expired-in-queue`, never run.
    /// The monitor counts it as a completion that missed its SLO after the time it waited.
    mutating func expire(_ slot: Int32) {
        let q = inFlight[Int(slot)]
        let app = Int(q.application)
        metrics.applications[app].rejected += 1
        metrics.applications[app].expiredInQueue += 1
        metrics.rejectedByReason[.deadlineExceeded, default: 0] += 1
        countMiss(arrivedAt: q.arrival, .expiredInQueue)
        control.recordCompletion(group: Int(q.group), latencyMs: Double(now - q.arrival) / 1e6, met: false)
        tape?.append(.finished(SimTime(nanoseconds: now), variant: Int(q.variant), worker: Int(q.worker), latencyMs: Double(now - q.arrival) / 1e6, met: false))
        if options.recordQueries {
            metrics.queries.append(QueryRecord(arrival: Double(q.arrival) / 1e9, finish: Double(now) / 1e9, application: q.application,
                                               variant: q.variant, worker: q.worker, batch: q.batch, sloMs: q.sloMs, met: -1,
                                               outcome: .expiredInQueue))
        }
        release(slot, group: Int(q.group), worker: Int(q.worker))
    }

    /// A query its replica's queue refused on arrival: answered at once, `shed`. It left the
    /// group (no longer outstanding) without a completion for the monitor: it never waited.
    mutating func shed(_ slot: Int32, reason: QueueDiscipline.ShedReason) {
        let q = inFlight[Int(slot)]
        let app = Int(q.application)
        metrics.applications[app].rejected += 1
        metrics.applications[app].shed += 1
        metrics.rejectedByReason[reason.rejectReason, default: 0] += 1
        countMiss(arrivedAt: q.arrival, .shed)
        tape?.append(.shed(SimTime(nanoseconds: now), variant: Int(q.variant), worker: Int(q.worker)))
        if options.recordQueries {
            metrics.queries.append(QueryRecord(arrival: Double(q.arrival) / 1e9, finish: Double(now) / 1e9, application: q.application,
                                               variant: q.variant, worker: q.worker, batch: q.batch, sloMs: q.sloMs, met: -1, outcome: .shed))
        }
        release(slot, group: Int(q.group), worker: Int(q.worker))
    }

    mutating func release(_ slot: Int32, group g: Int, worker w: Int) {
        control.finished(group: g, variant: Int(inFlight[Int(slot)].variant))
        workerOutstanding[w] -= 1
        freeSlots.append(slot)
        inFlightCount -= 1
        if control.snapshot.workers[w].status == .gone, workerOutstanding[w] == 0, billingEnd[w] == nil { billingEnd[w] = now }
    }

    // MARK: Loading and unloading (the world's side; the loop did the bookkeeping)

    /// Times one replica's load (the loop counted it as loading and reserved its room).
    mutating func scheduleLoad(group g: Int) {
        let v = control.snapshot.groups[g].variant
        let measured = options.machine?.loadTimes[catalogue.variants[v].name]
        var ms = measured.map { $0.value(at: machineRNG.uniform()) } ?? catalogue.loadMs[v]
        let w = control.snapshot.groups[g].worker
        if let extra = options.machine?.firstLoadExtraMs, !workerHasLoaded[w] { ms += extra }
        workerHasLoaded[w] = true
        events.schedule(at: now + Int64(ms * 1e6), .loadDone, Int32(g))
    }

    // MARK: The machine model

    /// The threads running on worker `w`'s host: the worker's own, or every worker's when the
    /// workers share one host (local workers).
    func hostThreads(worker w: Int, _ machine: MachineModel) -> Int {
        machine.sharedHost ? hostRunningThreads : runningThreads[w]
    }

    /// Counts the overlap of the hop of the query in `slot` (routed now to worker `w`) with the
    /// hops of the queries routed to the same host within a median hop before it, both ways:
    /// theirs grow by one, its own is their number.
    mutating func overlapHops(_ slot: Int32, worker w: Int) {
        guard let machine = options.machine else { return }
        let q = inFlight[Int(slot)]
        let h = servingHost(worker: w, machine)
        let window = Int64(machine.hopMs(payloadBytes: payloadBytes(variant: Int(q.variant), batch: Int(q.batch)), u: 0.5) * 1e6)
        recentHops[h].removeAll { now - $0.routed > window }
        var overlap: Int16 = 0
        for peer in recentHops[h] where inFlight[Int(peer.slot)].arrival == peer.arrival && peer.slot != slot {
            inFlight[Int(peer.slot)].hopOverlap &+= 1
            overlap &+= 1
        }
        inFlight[Int(slot)].hopOverlap = overlap
        recentHops[h].append((slot, now, q.arrival))
    }

    /// How long worker `w`'s host has run no CPU replica (ms; 0 while one runs, and without a
    /// machine model or its idle measurements for runs, or for `hops`).
    func hostIdleMs(worker w: Int, hops: Bool) -> Double {
        guard let machine = options.machine, hops ? !machine.idleHops.isEmpty : !idleCurves.isEmpty,
              hostThreads(worker: w, machine) == 0 else { return 0 }
        return Double(now - hostIdleSince[servingHost(worker: w, machine)]) / 1e6
    }

    /// Which ``servingCPU`` window worker `w`'s serving path counts in: the shared host's (the
    /// first) or its own.
    func servingHost(worker w: Int, _ machine: MachineModel) -> Int { machine.sharedHost ? 0 : w }

    /// The serving path's CPU for a query the loop sent to worker `w`: thread demand on the host
    /// for the window after it (client + master + worker on a shared host; the worker's part on
    /// a host of its own), and the worker's part in its CPU utilisation, as a live worker's
    /// process CPU counts its RPC handling.
    mutating func recordServingCPU(variant v: Int, batch: Int, worker w: Int) {
        guard let machine = options.machine else { return }
        let bytes = payloadBytes(variant: v, batch: batch)
        let workerMs = machine.workerCPUMs(payloadBytes: bytes)
        servingCPU[servingHost(worker: w, machine)].record(at: now, ms: machine.sharedHost ? machine.servingCPUMs(payloadBytes: bytes) : workerMs)
        busyCoreNanos[w] += workerMs * 1e6
    }

    /// A query's input size: batch × 3 × D × D float32.
    func payloadBytes(variant v: Int, batch: Int) -> Int {
        let side = max(1, catalogue.variants[v].useCase.inputDimension)
        return batch * 3 * side * side * MemoryLayout<Float>.size
    }

    /// A query's RPC hops (client → master → worker and back) drawn from the machine model, by
    /// its input's size (batch × 3 × D × D float32); 0 without a model.
    func hopNanos(variant v: Int, batch: Int) -> Int64 {
        guard let machine = options.machine, !machine.hops.isEmpty else { return 0 }
        return Int64(machine.hopMs(payloadBytes: payloadBytes(variant: v, batch: batch), u: machineRNG.uniform()) * 1e6)
    }

    mutating func loadDone(group g: Int) {
        guard control.snapshot.groups[g].active, control.snapshot.groups[g].loading > 0 else { return }
        control.replicaLoaded(group: g)
        let v = control.snapshot.groups[g].variant, w = control.snapshot.groups[g].worker
        if tape != nil {
            tape!.append(.loaded(SimTime(nanoseconds: now), variant: v, worker: w))
            tapeReports()
        }
        growGroupArrays(g)
        if catalogue.hardware[v] == .gpu {
            groupUnits[g].append(gpuUnit[w])
        } else {
            groupUnits[g].append(newUnit(worker: w, cores: catalogue.hardware[v] == .cpu ? catalogue.cpus[v] : 0))
        }
        while let slot = pendingLoad[g].pop() {
            metrics.coldStarts.recordWait(nanoseconds: now - inFlight[Int(slot)].arrival)
            enqueue(slot, group: g)
        }
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

    /// Stops one idle replica of a group (the loop checked it may go). Returns false when every
    /// CPU or Inferentia replica is busy or has a queue: the loop retries at the next tick.
    mutating func stopReplica(group g: Int) -> Bool {
        let v = control.snapshot.groups[g].variant
        if catalogue.hardware[v] == .gpu {
            groupUnits[g].removeLast()
        } else {
            guard let index = groupUnits[g].lastIndex(where: { !units[$0].busy && units[$0].queue.isEmpty }) else { return false }
            let u = groupUnits[g].remove(at: index)
            units[u].active = false
            freeUnits.append(u)
        }
        metrics.replicasRemoved += 1
        if control.replicaRemoved(group: g) { groupUnits[g] = [] }
        return true
    }

    // MARK: Workers

    /// The world's side of a worker the loop added: its GPU as a server, its meters and bill.
    mutating func addWorker(_ w: Int) {
        gpuUnit.append(control.snapshot.workers[w].hardware == .gpu ? newUnit(worker: w, cores: 0) : -1)
        runningThreads.append(0)
        hostIdleSince.append(0)
        recentHops.append([])
        workerHasLoaded.append(false)
        servingCPU.append(ServingCPUWindow())
        busyCoreNanos.append(0)
        busyGPUNanos.append(0)
        lastBusyCore.append(0)
        lastBusyGPU.append(0)
        billingStart.append(now)
        billingEnd.append(nil)
        workerOutstanding.append(0)
    }

    mutating func workerReady(_ w: Int) {
        control.workerReady(w)
        releaseHeld()
        tapeReports()
    }

    // MARK: The actuator

    /// Carries out the loop's effects on the simulated world, handing back what cannot be done now.
    mutating func act(_ effects: [ControlEffect]) {
        let t = SimTime(nanoseconds: now)
        for effect in effects where !perform(effect, now: t) { control.couldNotPerform(effect, now: t) }
    }
}

extension Simulation: ClusterActuator {
    public mutating func perform(_ effect: ControlEffect, now t: SimTime) -> Bool {
        switch effect {
        case .startReplica(let g, _, _, let placement):
            growGroupArrays(g)
            if placement, now == 0 {
                loadDone(group: g)  // a static deployment is up before the first query
            } else {
                if control.snapshot.groups[g].replicas == 0 { metrics.variantLoads += 1 } else { metrics.replicasAdded += 1 }
                scheduleLoad(group: g)
            }
            return true
        case .stopReplica(let g, _, _):
            return stopReplica(group: g)
        case .launchWorker(let w, _, let hardware, _):
            addWorker(w)
            metrics.workersLaunched[hardware, default: 0] += 1
            events.schedule(at: now + Int64(machines[hardware].bootSeconds * 1e9), .workerReady, Int32(w))
            return true
        case .retireWorker(let w, _, _):
            metrics.workersRetired[control.snapshot.workers[w].hardware, default: 0] += 1
            if workerOutstanding[w] == 0 { billingEnd[w] = now }
            return true
        }
    }
}
