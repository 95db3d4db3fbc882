import InfaasCore
import Testing
@testable import InfaasPolicies

/// A restarted master waits for the workers it knew (issue 13): the shared loop's rule.
@Suite struct RejoinTests {
    static func loop(initialCPU: Int = 1, config: PolicyConfig = PolicyConfig()) throws -> ControlLoop {
        let context = PolicyContext(catalogue: try PolicyCatalogue([]), limits: ClusterLimits(initial: [.cpu: initialCPU], maximum: [.cpu: 4]), config: config)
        return ControlLoop(policy: try PolicyRegistry.make("infaas", context), seed: 1)
    }

    @Test func aKnownWorkerCountsTowardTheFloorUntilItRejoins() throws {
        var loop = try Self.loop()
        let w = loop.expectRejoin(name: "infaas-worker-cpu-0", hardware: .cpu, now: .zero)
        // The reproducer: 2 s after the start, the old worker has not re-joined yet; no duplicate.
        #expect(loop.replaceLostWorkers(now: .seconds(2)).isEmpty)
        #expect(loop.vmTick(now: .seconds(2)).isEmpty)
        loop.workerReady(w)  // it re-joins 3 s later
        #expect(loop.snapshot.workers[w].status == .ready)
        #expect(loop.rejoinDeadlines.isEmpty)
        #expect(loop.replaceLostWorkers(now: .seconds(60)).isEmpty, "a re-joined worker is never expired by the rule")
        #expect(loop.launched == 0)
        // New workers get names the old ones do not have.
        #expect(loop.nextWorkerName(.cpu) == "infaas-worker-cpu-1")
    }

    @Test func aKnownWorkerThatStaysAwayIsReplacedAfterTheGrace() throws {
        var config = PolicyConfig()
        try config.set("rejoin_grace_s", to: "10")
        var loop = try Self.loop(config: config)
        let w = loop.expectRejoin(name: "infaas-worker-cpu-0", hardware: .cpu, now: .zero)
        #expect(loop.replaceLostWorkers(now: .seconds(9.9)).isEmpty)
        let effects = loop.replaceLostWorkers(now: .seconds(10))
        #expect(loop.snapshot.workers[w].status == .gone)
        #expect(effects.count == 1)
        if case .launchWorker(_, let name, let hardware, _)? = effects.first {
            #expect(name == "infaas-worker-cpu-1" && hardware == .cpu)
        } else {
            Issue.record("expected a launch, got \(effects)")
        }
    }

    @Test func expectingAWorkerThatIsAlreadyLiveChangesNothing() throws {
        var loop = try Self.loop()
        let first = loop.expectRejoin(name: "infaas-worker-cpu-0", hardware: .cpu, now: .zero)
        #expect(loop.expectRejoin(name: "infaas-worker-cpu-0", hardware: .cpu, now: .seconds(1)) == first)
        #expect(loop.snapshot.workers.count == 1)
    }

    @Test func theGraceIsAPolicyKeyWithBounds() throws {
        var config = PolicyConfig()
        #expect(config.rejoinGraceS == 20)
        #expect(throws: ValidationError.self) { try config.set("rejoin_grace_s", to: "-1") }
        #expect(throws: ValidationError.self) { try config.set("rejoin_grace_s", to: "1e300") }
    }
}
