import Foundation
import InfaasCore
import InfaasPolicies
import InfaasSimulator
import Testing

/// One brain, two faces: the same queries, worker reports and ticks, fed to the simulator's
/// control loop and to the live master's and workers' (in process, manual clock), give the same
/// decisions in the same order — variant and worker per query, replica and worker scaling.
@Suite struct ParityTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The quickstart experiment (two applications on the bundled Azure traces and the bundled
    /// catalogue, CPU and GPU workers with the VM autoscaler) for its first `seconds`.
    static func run(policy: String, seconds: Int, overrides: [(String, String)] = []) throws -> ExperimentResult {
        var spec = try ExperimentSpec.load(path: root.appendingPathComponent("experiments/quickstart.yaml").path)
        var all = [ExperimentOverride(key: "policy", value: policy, location: "parity test"),
                   ExperimentOverride(key: "duration_s", value: String(seconds), location: "parity test")]
        all += overrides.map { ExperimentOverride(key: $0.0, value: $0.1, location: "parity test") }
        try spec.apply(all)
        spec.options.recordDecisions = true
        return try ExperimentRunner(spec: spec).run()
    }

    @Test(arguments: ["infaas", "static", "round-robin-dynamic", "slo-autoscaler"])
    func liveFacesDecideAsTheSimulatorDoes(policy: String) throws {
        try Self.checkParity(policy: policy)
    }

    /// The replicas' queueing rules (deadlines at the SLO, shedding, bounded queues) change what
    /// the loops see — queries that expire in a queue, queries shed on arrival — and the live
    /// faces must still decide as the simulator does.
    @Test(arguments: ["infaas", "static"])
    func liveFacesDecideAsTheSimulatorDoesWithQueueRules(policy: String) throws {
        let result = try Self.checkParity(policy: policy, overrides: [("policy_config.queue_deadline", "slo"),
                                                                      ("policy_config.admission", "shed-if-late"),
                                                                      ("policy_config.max_queue_length", "50")])
        let outcomes = result.metrics.outcomes
        print("parity \(policy) with queue rules: \(outcomes)")
        #expect(outcomes.expiredInQueue > 0, "no query expired in a queue: the run does not exercise the deadline rule")
        #expect(outcomes.shed > 0, "no query was shed: the run does not exercise admission")
        #expect(result.tape?.contains { if case .shed = $0 { true } else { false } } == true)
    }

    /// Scale to zero (the last GPU worker goes when idle and a query wakes one, held meanwhile;
    /// variants' last replicas unload after 3 idle periods; bounded cold-start buffers): the
    /// holds, releases and wake-ups are the loop's in both faces, and they must decide alike.
    @Test(arguments: ["infaas"])
    func liveFacesDecideAsTheSimulatorDoesWithScaleToZero(policy: String) throws {
        let result = try Self.checkParity(policy: policy, overrides: [("policy_config.min_workers_gpu", "0"),
                                                                      ("policy_config.cold_start_buffer", "50"),
                                                                      ("policy_config.scale_to_zero_delay", "3"),
                                                                      ("policy_config.last_worker_idle_iterations", "3")])
        let cold = result.metrics.coldStarts
        print("parity \(policy) with scale to zero: \(cold)")
        #expect(cold.loads > 0, "no query waited for a load: the run does not exercise scale to zero of replicas")
        #expect(result.metrics.workersRetired[.gpu, default: 0] > 0, "no GPU worker went: the run does not exercise the last-worker rule")
    }

    @discardableResult
    static func checkParity(policy: String, overrides: [(String, String)] = []) throws -> ExperimentResult {
        let result = try Self.run(policy: policy, seconds: 780, overrides: overrides)
        #expect(result.metrics.arrivals >= 10_000, "the parity run needs at least 10,000 queries")
        let spec = result.spec
        var live = try LiveReplay(catalogue: result.catalogue, policy: policy, config: spec.policyConfig,
                                  limits: ClusterLimits(initial: spec.initialWorkers, maximum: spec.maxWorkers), machines: spec.machines, seed: spec.seed)
        try live.run(try #require(result.tape))
        let simulated = try #require(result.journal).map { LiveReplay.canonical($0, worker: nil) }
        if let i = zip(simulated, live.decisions).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            Issue.record("decision \(i) differs: simulator \"\(simulated[i])\", live \"\(live.decisions[i])\"; before it: \(simulated[max(0, i - 3)..<i])")
        }
        #expect(simulated.count == live.decisions.count)
        func count(_ word: String) -> Int { simulated.filter { $0.contains(word) }.count }
        print("parity \(policy): \(result.metrics.arrivals) queries, \(simulated.count) decisions (\(count(" route ")) routes, "
              + "\(count(" reject ")) rejections, \(count(" start ")) replica starts, \(count(" stop ")) stops, \(count(" launch ")) launches, "
              + "\(count(" retire ")) retirements), \(result.tape?.count ?? 0) tape entries")
        // The run exercises what it claims to: queries routed, and scaling of both kinds (static scales nothing).
        // Queries decided: routed, or held while a worker booted (scale to zero).
        let routes = simulated.filter { $0.contains(" route ") || $0.hasSuffix(" hold") }.count
        #expect(routes >= 10_000)
        if policy != "static" {
            #expect(simulated.contains { $0.contains(" start ") }, "no replica was started by the autoscalers")
        } else {
            #expect(simulated.contains { $0.hasSuffix(" placed") }, "the static deployment placed nothing")
        }
        if policy == "infaas" || policy == "slo-autoscaler" {
            #expect(simulated.contains { $0.contains(" launch ") }, "the VM autoscaler launched no worker")
        }
        return result
    }
}
