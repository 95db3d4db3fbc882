public import InfaasCore

/// One change the model autoscaler asks a worker to make.
public enum ModelAction: Hashable, Sendable {
    /// Start `count` more replicas of the group's variant.
    case addReplicas(group: Int, count: Int)
    /// Stop one replica; the last one unloads the variant from the worker.
    case removeReplica(group: Int)
    /// Load a variant on the worker (upgrade or downgrade target).
    case load(variant: Int, worker: Int)
}

/// The model autoscaler's plan for one worker at one arbiter tick, and the groups' new
/// pending scale-down counts (a short list: a worker runs a handful of groups).
public struct ModelScalingPlan: Hashable, Sendable {
    public var actions: [ModelAction] = []
    public var pendingScaleDown: [PendingScaleDown] = []
    /// The groups' new pending scale-up counts (autoscalers with scale-up hysteresis).
    public var pendingScaleUp: [PendingScaleDown] = []

    public init(actions: [ModelAction] = [], pendingScaleDown: [PendingScaleDown] = [], pendingScaleUp: [PendingScaleDown] = []) {
        self.actions = actions
        self.pendingScaleDown = pendingScaleDown
        self.pendingScaleUp = pendingScaleUp
    }

    public struct PendingScaleDown: Hashable, Sendable {
        public var group: Int
        public var count: Int

        public init(group: Int, count: Int) {
            self.group = group
            self.count = count
        }
    }

    /// The new pending count of group `g`, if the plan sets one.
    public func pending(_ g: Int) -> Int? { pendingScaleDown.first { $0.group == g }?.count }

    public mutating func setPending(_ g: Int, _ count: Int) {
        if let i = pendingScaleDown.firstIndex(where: { $0.group == g }) { pendingScaleDown[i].count = count }
        else { pendingScaleDown.append(PendingScaleDown(group: g, count: count)) }
    }
}

/// The worker-side model-level autoscaler (reference §4.2), run every arbiter period per worker.
///
/// * `static`: keep `static*Replicas` replicas of every running variant; never scale down.
/// * `individual`: replicate each variant by its own demand (`checkModvar`), scale down idle ones.
/// * `infaas`: CPU variants replicate individually; an accelerator variant that needs more
///   replicas than its class allows is **upgraded** to the architecture's next larger-batch
///   variant of the same class; one whose demand a smaller variant (or a CPU variant) can carry
///   is **downgraded**; smaller-batch siblings of the largest running accelerator variant are
///   unloaded at once (the reference's −2000 count); idle variants unload after the delay.
///
/// Scale-downs are delayed as the reference's daemons do: a group's pending count must exceed
/// the class's delay (CPU 10, GPU 20, Inferentia 15 ticks); any executed request resets it. The
/// daemons' 500 ms queue is not modelled: actions apply at the tick.
public struct ModelAutoscaler: Sendable {
    public let catalogue: PolicyCatalogue
    public let config: PolicyConfig

    public init(catalogue: PolicyCatalogue, config: PolicyConfig) {
        self.catalogue = catalogue
        self.config = config
    }

    /// `checkModvar` (§4.2): how many replicas to add (> 0), whether that is feasible on the
    /// worker, or −1 to scale down, or 0.
    public func check(group g: Int, snapshot: ClusterSnapshot) -> (count: Int, feasible: Bool, demand: Double, perReplica: Double) {
        let group = snapshot.groups[g]
        let v = group.variant
        let worker = snapshot.workers[group.worker]
        let hardware = catalogue.hardware[v]
        let batch = hardware == .gpu ? min(catalogue.maxBatch[v], config.maxOnlineBatch) : max(1, group.averageBatch)
        let inf = max(1e-6, catalogue.model[v].predictMs(batch: batch))
        let perReplica = 1000 / inf * Double(batch)
        let demand = group.qps * Double(max(1, group.averageBatch))
        let current = Double(group.replicas) * perReplica
        let delta = hardware == .cpu
            ? demand - (1 - config.cpuHeuristic) * current
            : demand - current + config.loadHeuristic * current * catalogue.loadMs[v]
        let up = Int((delta / perReplica).rounded(.up))
        if up > 0 {
            var feasible = group.replicas + up <= config.maxReplicas(hardware)
            switch hardware {
            case .cpu: feasible = feasible && worker.usedCores + up * catalogue.cpus[v] <= worker.cores
            case .gpu: feasible = feasible && worker.usedAcceleratorMemoryMB + Double(up) * catalogue.memoryMB[v] <= worker.acceleratorMemoryMB
            case .inferentia: feasible = feasible && worker.usedNeuronCores + up * catalogue.neuronCores[v] <= worker.neuronCores
            }
            return (up, feasible, demand, perReplica)
        }
        let down = demand <= max(0, Double(group.replicas - 1) * perReplica) ? -1 : 0
        return (down, true, demand, perReplica)
    }

    /// The plan for worker `w`.
    public func plan(worker w: Int, snapshot: ClusterSnapshot) -> ModelScalingPlan {
        var plan = ModelScalingPlan()
        guard snapshot.workers[w].status == .ready else { return plan }
        guard config.modelAutoscaler != .none, snapshot.workers[w].groups.contains(where: { snapshot.groups[$0].isRunning }) else { return plan }
        let running = snapshot.workers[w].groups.filter { snapshot.groups[$0].isRunning }
        switch config.modelAutoscaler {
        case .none:
            return plan
        case .static:
            for g in running {
                let target = staticTarget(catalogue.hardware[snapshot.groups[g].variant])
                if snapshot.groups[g].replicas < target {
                    plan.actions.append(.addReplicas(group: g, count: target - snapshot.groups[g].replicas))
                }
            }
            return plan
        case .individual:
            for g in running { individually(g, snapshot: snapshot, plan: &plan) }
            return plan
        case .infaas:
            infaas(worker: w, running: running, snapshot: snapshot, plan: &plan)
            return plan
        }
    }

    func staticTarget(_ hardware: HardwareClass) -> Int {
        switch hardware {
        case .cpu: config.staticReplicasCPU
        case .gpu: config.staticReplicasGPU
        case .inferentia: config.staticReplicasInferentia
        }
    }

    func individually(_ g: Int, snapshot: ClusterSnapshot, plan: inout ModelScalingPlan) {
        let r = check(group: g, snapshot: snapshot)
        if r.count > 0 {
            let room = config.maxReplicas(catalogue.hardware[snapshot.groups[g].variant]) - snapshot.groups[g].replicas
            let add = r.feasible ? r.count : min(r.count, room)
            if add > 0, r.feasible || fits(add, g, snapshot) {
                plan.actions.append(.addReplicas(group: g, count: add))
                plan.setPending(g, 0)
            }
        } else if r.count < 0 {
            scaleDown(g, by: 1, snapshot: snapshot, plan: &plan)
        }
    }

    func fits(_ count: Int, _ g: Int, _ snapshot: ClusterSnapshot) -> Bool {
        let v = snapshot.groups[g].variant
        let worker = snapshot.workers[snapshot.groups[g].worker]
        switch catalogue.hardware[v] {
        case .cpu: return worker.usedCores + count * catalogue.cpus[v] <= worker.cores
        case .gpu: return worker.usedAcceleratorMemoryMB + Double(count) * catalogue.memoryMB[v] <= worker.acceleratorMemoryMB
        case .inferentia: return worker.usedNeuronCores + count * catalogue.neuronCores[v] <= worker.neuronCores
        }
    }

    /// Adds to the pending count and removes a replica once it exceeds the delay.
    /// A group at its floor (``PolicyConfig/minReplicas(variant:catalogue:)``) keeps its replicas;
    /// the last one waits `scale_to_zero_delay` when that is set.
    func scaleDown(_ g: Int, by amount: Int, snapshot: ClusterSnapshot, plan: inout ModelScalingPlan) {
        let group = snapshot.groups[g]
        guard config.mayScaleDown(variant: group.variant, replicas: group.replicas, catalogue: catalogue) else {
            plan.setPending(g, 0)
            return
        }
        let pending = (plan.pending(g) ?? group.pendingScaleDown) + amount
        if pending > config.scaleDownDelay(catalogue.hardware[group.variant], replicas: group.replicas) {
            plan.actions.append(.removeReplica(group: g))
            plan.setPending(g, 0)
        } else {
            plan.setPending(g, pending)
        }
    }

    func infaas(worker w: Int, running: [Int], snapshot: ClusterSnapshot, plan: inout ModelScalingPlan) {
        // Runs of groups of one architecture, in (architecture, variant) order: a worker has one
        // group per variant, and group numbers differ between a worker's own loop and the
        // simulator's, so they must not order anything.
        let architecture = catalogue.architecture
        let ordered = running.count < 2 ? running
            : running.sorted { (architecture[snapshot.groups[$0].variant], snapshot.groups[$0].variant) < (architecture[snapshot.groups[$1].variant], snapshot.groups[$1].variant) }
        var start = 0
        while start < ordered.count {
            let a = catalogue.architecture[snapshot.groups[ordered[start]].variant]
            var end = start + 1
            while end < ordered.count, catalogue.architecture[snapshot.groups[ordered[end]].variant] == a { end += 1 }
            let groups = ordered[start..<end]
            start = end
            // The largest-batch running accelerator variant of this architecture on this worker.
            let accelerators = groups.filter { catalogue.hardware[snapshot.groups[$0].variant] != .cpu }
            let largest = accelerators.max { (catalogue.maxBatch[snapshot.groups[$0].variant], snapshot.groups[$0].variant) < (catalogue.maxBatch[snapshot.groups[$1].variant], snapshot.groups[$1].variant) }
            // Is the largest one carrying so little that a smaller variant (or a CPU one) would do?
            var downgradeTo: Int? = nil
            if let largest, snapshot.groups[largest].replicas == 1 {
                let r = check(group: largest, snapshot: snapshot)
                if r.count <= 0 { downgradeTo = downgradeTarget(of: snapshot.groups[largest].variant, demand: r.demand, on: w, snapshot: snapshot) }
            }
            for g in groups {
                let v = snapshot.groups[g].variant
                let hardware = catalogue.hardware[v]
                if hardware == .cpu {
                    individually(g, snapshot: snapshot, plan: &plan)
                    continue
                }
                if let largest, g != largest, catalogue.hardware[snapshot.groups[largest].variant] == hardware,
                   catalogue.maxBatch[v] < catalogue.maxBatch[snapshot.groups[largest].variant] {
                    // A smaller sibling of the largest is unloaded at once (the reference's −2000),
                    // unless it is the variant the largest is downgrading to.
                    if v != downgradeTo { scaleDown(g, by: 2000, snapshot: snapshot, plan: &plan) }
                    continue
                }
                let r = check(group: g, snapshot: snapshot)
                if r.count > 0 {
                    if r.feasible {
                        plan.actions.append(.addReplicas(group: g, count: r.count))
                        plan.setPending(g, 0)
                    } else if let target = upgradeTarget(of: v, on: w, snapshot: snapshot) {
                        plan.actions.append(.load(variant: target, worker: w))
                        plan.setPending(g, 0)
                    }
                } else if g == largest, let target = downgradeTo {
                    if snapshot.group(variant: target, worker: w) == nil, room(for: target, on: w, snapshot) {
                        plan.actions.append(.load(variant: target, worker: w))
                    }
                    scaleDown(g, by: 1, snapshot: snapshot, plan: &plan)
                } else if r.count < 0 {
                    scaleDown(g, by: 1, snapshot: snapshot, plan: &plan)
                }
            }
        }
    }

    /// The same architecture and class, the smallest max batch above this one's (≤ 32).
    func upgradeTarget(of v: Int, on w: Int, snapshot: ClusterSnapshot) -> Int? {
        let a = catalogue.architecture[v], hardware = catalogue.hardware[v], batch = catalogue.maxBatch[v]
        return catalogue.byBatch1[a]
            .filter { catalogue.hardware[$0] == hardware && catalogue.maxBatch[$0] > batch && catalogue.maxBatch[$0] <= config.maxOnlineBatch }
            .filter { snapshot.group(variant: $0, worker: w) == nil && room(for: $0, on: w, snapshot) }
            .min { (catalogue.maxBatch[$0], $0) < (catalogue.maxBatch[$1], $1) }
    }

    /// The next smaller max batch of the same class, else a CPU variant of the architecture —
    /// if one replica of it carries `demand`.
    func downgradeTarget(of v: Int, demand: Double, on w: Int, snapshot: ClusterSnapshot) -> Int? {
        let a = catalogue.architecture[v], hardware = catalogue.hardware[v], batch = catalogue.maxBatch[v]
        let smaller = catalogue.byBatch1[a]
            .filter { catalogue.hardware[$0] == hardware && catalogue.maxBatch[$0] < batch }
            .max { (catalogue.maxBatch[$0], -$0) < (catalogue.maxBatch[$1], -$1) }
        let target = smaller ?? catalogue.byTotal[a].first { catalogue.hardware[$0] == .cpu }
        guard let target else { return nil }
        let targetBatch = catalogue.hardware[target] == .cpu ? 1 : min(catalogue.maxBatch[target], config.maxOnlineBatch)
        let capacity = 1000 / max(1e-6, catalogue.model[target].predictMs(batch: targetBatch)) * Double(targetBatch)
        return demand <= capacity ? target : nil
    }

    func room(for v: Int, on w: Int, _ snapshot: ClusterSnapshot) -> Bool {
        let worker = snapshot.workers[w]
        guard worker.canHost(catalogue.hardware[v]) else { return false }
        switch catalogue.hardware[v] {
        case .cpu: return worker.usedCores + catalogue.cpus[v] <= worker.cores
        case .gpu: return worker.usedAcceleratorMemoryMB + catalogue.memoryMB[v] <= worker.acceleratorMemoryMB
        case .inferentia: return worker.usedNeuronCores + catalogue.neuronCores[v] <= worker.neuronCores
        }
    }
}
