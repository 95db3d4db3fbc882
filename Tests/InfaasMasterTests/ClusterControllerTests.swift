import Testing
import InfaasCore
import InfaasPolicies
import InfaasRPC
@testable import InfaasMaster
@testable import InfaasRegistry

// The controller is a value that takes the time explicitly: every test drives it with SimTime
// values, never a clock.
@Suite("Cluster controller")
struct ClusterControllerTests {
    // MARK: Reports

    @Test func firstReportRegistersAnUnknownWorkerAsReady() throws {
        var c = try makeController(workers: 0)
        #expect(c.ingest(report("w0", sequence: 1, cores: 4), now: .zero) == false)
        let w = try #require(c.worker(named: "w0"))
        #expect(c.snapshot.workers[w].status == .ready)
        #expect(c.snapshot.workers[w].cores == 4)
        #expect(c.handles[w].address == "127.0.0.1:6000")
        #expect(c.handles[w].instanceID == "pid-w0")
        #expect(c.ingest(report("w0", sequence: 2, cores: 4), now: .milliseconds(500)) == true)
        #expect(c.snapshot.workers.count == 1)
        #expect(c.handles[w].lastReport == .milliseconds(500))
        #expect(c.handles[w].sequence == 2)
    }

    @Test func reportedReplicasBecomeRunningGroups() throws {
        var c = try makeController(workers: 0)
        c.ingest(report("w0", variants: [(fast.variant.name, 2, 0), ("not_registered", 1, 0)]), now: .zero)
        let g = try #require(c.group(fast, on: 0))
        #expect(g.replicas == 2 && g.isRunning)
        #expect(c.snapshot.workers[0].groups.count == 1)  // the unknown variant is ignored
        // A named query now goes to the running replica, not a cold load.
        let ticket = try c.route(variant: fast).get()
        #expect(ticket.coldStart == false)
        #expect(ticket.worker == 0)
    }

    @Test func anOlderReportOfTheSameProcessIsIgnored() throws {
        var c = try makeController(workers: 0)
        c.ingest(report("w0", sequence: 5, variants: [(fast.variant.name, 1, 0)]), now: .zero)
        #expect(c.ingest(report("w0", sequence: 3), now: .milliseconds(100)) == true)
        #expect(c.group(fast, on: 0)?.replicas == 1)
        #expect(c.handles[0].sequence == 5)
    }

    // MARK: Routing

    @Test func namedVariantRoutesToAWorkerWithItsSpec() throws {
        var c = try makeController()
        let ticket = try c.route(variant: fast, batch: 3).get()
        #expect(ticket.variant == c.id(fast))
        #expect(ticket.workerName == "w0")
        #expect(ticket.address == "127.0.0.1:6000")
        #expect(ticket.spec.name == fast.variant.name)
        #expect(ticket.spec.modelURL == "file:///models/tinynet_fast/")
        #expect(ticket.spec.maxBatch == 8)
        #expect(ticket.coldStart)
        #expect(ticket.predictedMs == 2 * 3 + 18)
        #expect(ticket.reason.hasPrefix("tinynet_fast: named by the query"))
    }

    @Test func looseArchitectureSLOPicksAVariantMeetingIt() throws {
        var c = try makeController()
        // SLO 300 ms > the 100 ms loose threshold: the reference prefers variants with batch-1
        // latency in [100, 300] (the slow, cheaper CPU one), still within the SLO.
        let loose = try c.route(architecture: "tinynet", sloMs: 300).get()
        #expect(loose.variant == c.id(slow))
        #expect(loose.predictedMs <= 300)
        #expect(loose.reason.contains("≤ SLO 300 ms"))
        // SLO 60 ms: only the fast variant (20 ms) meets it.
        var d = try makeController()
        let tight = try d.route(architecture: "tinynet", sloMs: 60).get()
        #expect(tight.variant == d.id(fast))
        #expect(tight.predictedMs <= 60)
    }

    @Test func architectureSLOTooTightForEveryVariantIsRejected() throws {
        var c = try makeController()
        #expect(c.route(architecture: "tinynet", sloMs: 10).failure == .noVariantMeetsObjectives)
        // Batch 9 is above both variants' max batch.
        #expect(c.route(architecture: "tinynet", sloMs: 1000, batch: 9).failure == .noVariantMeetsObjectives)
        #expect(c.snapshot.groups.isEmpty)  // a rejection loads nothing
    }

    @Test func useCaseQueriesRespectAccuracyAndSLO() throws {
        var c = try makeController()
        let u = try #require(c.catalogue.useCaseID(task: .classification, dataset: Dataset("imagenet")))
        // ≥ 75 %: only the slow variant (76 %), and its 150 ms meets a 300 ms SLO.
        let accurate = try c.route(PolicyQuery(target: .useCase(u), sloMs: 300, minAccuracy: 75), now: .zero).get()
        #expect(accurate.variant == c.id(slow))
        // ≥ 60 % within 80 ms: the fast variant.
        let quick = try c.route(PolicyQuery(target: .useCase(u), sloMs: 80, minAccuracy: 60), now: .zero).get()
        #expect(quick.variant == c.id(fast))
        #expect(c.route(PolicyQuery(target: .useCase(u), sloMs: 300, minAccuracy: 90), now: .zero).failure == .noVariantMeetsObjectives)
    }

    @Test func batchAboveANamedVariantsMaxBatchIsRejected() throws {
        var c = try makeController()
        #expect(c.route(variant: slow, batch: 5).failure == .batchAboveMaxBatch)
        #expect((try? c.route(variant: slow, batch: 4).get()) != nil)
    }

    @Test func noWorkersMeansNoWorkers() throws {
        var c = try makeController(workers: 0)
        #expect(c.route(variant: fast).failure == .noWorkers)
        #expect(c.route(architecture: "tinynet", sloMs: 60).failure == .noWorkers)
    }

    @Test func coldRouteMarksTheGroupLoadingAndTheNextQueryFollowsIt() throws {
        var c = try makeController(workers: 2)
        let first = try c.route(variant: fast, now: .zero).get()
        #expect(first.coldStart)
        let g = try #require(c.group(fast, on: first.worker))
        #expect(g.loading == 1 && g.replicas == 0)
        #expect(g.outstanding == 1)
        #expect(c.snapshot.workers[first.worker].usedCores == 1)  // the loading replica's core is reserved
        // Right after, before any report: the same worker, not a second cold load elsewhere.
        let second = try c.route(variant: fast, now: .milliseconds(10)).get()
        #expect(second.worker == first.worker)
        #expect(c.snapshot.variantGroups[c.id(fast)].count == 1)
        #expect(c.group(fast, on: first.worker)?.outstanding == 2)
        // A loading worker that is gone is not followed.
        c.workerUnreachable(first.worker, reason: "connection refused", now: .milliseconds(20))
        #expect(try c.route(variant: fast, now: .milliseconds(30)).get().worker != first.worker)
    }

    @Test func pendingLoadSurvivesReportsWithinTheGraceOnly() throws {
        var c = try makeController()
        let ticket = try c.route(variant: fast, now: .zero).get()
        // The worker's next report does not mention the load yet (it has not started it).
        c.ingest(report("w0", sequence: 2), now: .seconds(1))
        #expect(c.group(fast, on: 0)?.loading == 1)
        // A report that lists the variant without replicas, still within the grace: loading.
        c.ingest(report("w0", sequence: 3, variants: [(fast.variant.name, 0, 0)]), now: .seconds(2))
        #expect(c.group(fast, on: 0)?.loading == 1)
        // After 5 s the load is presumed lost: no longer loading (the query is still outstanding).
        c.ingest(report("w0", sequence: 4), now: .seconds(6))
        let g = try #require(c.group(fast, on: 0))
        #expect(g.loading == 0 && g.replicas == 0)
        #expect(g.outstanding == 1)
        // Once the query finished, the next such report removes the group altogether.
        c.finished(ticket)
        c.ingest(report("w0", sequence: 5), now: .seconds(7))
        #expect(c.group(fast, on: 0) == nil)
    }

    @Test func confirmedLoadEndsThePendingState() throws {
        var c = try makeController()
        let ticket = try c.route(variant: fast, now: .zero).get()
        c.ingest(report("w0", sequence: 2, variants: [(fast.variant.name, 1, 0)]), now: .milliseconds(300))
        c.finished(ticket)
        // The worker unloaded it later: gone from the report, and not held as pending.
        c.ingest(report("w0", sequence: 3), now: .seconds(1))
        #expect(c.group(fast, on: 0) == nil)
    }

    @Test func finishedDecrementsOutstandingButNotBelowZero() throws {
        var c = try makeController()
        let a = try c.route(variant: fast).get()
        let b = try c.route(variant: fast).get()
        #expect(c.group(fast, on: 0)?.outstanding == 2)
        c.finished(a)
        #expect(c.group(fast, on: 0)?.outstanding == 1)
        c.finished(b)
        c.finished(b)
        #expect(c.group(fast, on: 0)?.outstanding == 0)
    }

    // MARK: Workers leaving and joining

    @Test func staleWorkerIsMarkedGoneAndRetired() throws {
        var c = try makeController(workers: 2)
        c.ingest(report("w1", sequence: 2), now: .milliseconds(900))
        let actions = c.expire(now: .milliseconds(1500), initialWorkers: [.cpu: 2], replace: false)
        #expect(actions == [.retire(name: "w0", instanceID: "pid-w0", reason: "stopped reporting")])
        #expect(c.snapshot.workers[0].status == .gone)
        #expect(c.snapshot.workers[1].status == .ready)
        #expect(c.goneReason(0)?.contains("no report for 1500 ms") == true)
        // Routing only finds w1 now, for any number of queries.
        for i in 0..<4 {
            #expect(try c.route(variant: fast, now: .milliseconds(1500 + Double(i))).get().workerName == "w1")
        }
        // Expiring again does not retire it twice.
        #expect(c.expire(now: .milliseconds(1600), initialWorkers: [.cpu: 2], replace: false).isEmpty)
    }

    @Test func goneWorkerThatReportsAgainRegistersAnew() throws {
        var c = try makeController()
        _ = c.expire(now: .seconds(2), initialWorkers: [:], replace: false)
        #expect(c.snapshot.workers[0].status == .gone)
        #expect(c.ingest(report("w0", sequence: 1), now: .seconds(3)) == false)
        let w = try #require(c.worker(named: "w0"))
        #expect(w != 0)
        #expect(c.snapshot.workers[w].status == .ready)
        #expect(try c.route(variant: fast, now: .seconds(3)).get().worker == w)
    }

    @Test func expiryReplacesLostWorkersUpToTheInitialCountWithUniqueNames() throws {
        var c = try makeController(workers: 2, limits: ClusterLimits(initial: [.cpu: 3], maximum: [.cpu: 4]))
        c.ingest(report("w1", sequence: 2), now: .milliseconds(900))
        let actions = c.expire(now: .milliseconds(1500), initialWorkers: [.cpu: 3], replace: true)
        #expect(actions == [
            .retire(name: "w0", instanceID: "pid-w0", reason: "stopped reporting"),
            .launch(name: "infaas-worker-cpu-0", hardware: .cpu, slack: false),
            .launch(name: "infaas-worker-cpu-1", hardware: .cpu, slack: false),
        ])
        #expect(c.launched == 2)
        let booting = try #require(c.worker(named: "infaas-worker-cpu-1"))
        #expect(c.snapshot.workers[booting].status == .booting)
        #expect(c.handles[booting].launchedByUs)
        // Booting workers count as live: no further launches while they boot.
        #expect(c.expire(now: .milliseconds(1600), initialWorkers: [.cpu: 3], replace: true).isEmpty)
        // The next name skips those in use, even ones this master did not pick.
        c.ingest(report("infaas-worker-cpu-2"), now: .milliseconds(1600))
        #expect(c.nextWorkerName(.cpu) == "infaas-worker-cpu-3")
    }

    @Test func replacementsStopAtTheClassMaximum() throws {
        var c = try makeController(workers: 0, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 2]))
        let actions = c.expire(now: .zero, initialWorkers: [.cpu: 5], replace: true)
        #expect(actions.count == 2)
        #expect(Set(actions).count == 2)
    }

    @Test func bootThatNeverReportsIsRetired() throws {
        var c = try makeController(workers: 0)
        c.booting(name: "b0", hardware: .cpu, slack: false, instanceID: "", now: .zero)
        c.launchedInstance(name: "b0", instanceID: "i-123")
        #expect(c.snapshot.workers[0].status == .booting)
        #expect(c.route(variant: fast).failure == .noWorkers)  // booting workers take no queries
        #expect(c.expire(now: .seconds(30), initialWorkers: [:], replace: false).isEmpty)
        let actions = c.expire(now: .seconds(61), initialWorkers: [:], replace: false)
        #expect(actions == [.retire(name: "b0", instanceID: "i-123", reason: "never became ready")])
        #expect(c.snapshot.workers[0].status == .gone)
        #expect(c.goneReason(0)?.contains("60 s") == true)
    }

    @Test func bootingWorkerBecomesReadyOnItsFirstReport() throws {
        var c = try makeController(workers: 0)
        c.booting(name: "b0", hardware: .cpu, slack: false, instanceID: "i-1", now: .zero)
        #expect(c.ingest(report("b0"), now: .seconds(20)) == true)  // known: the master launched it
        #expect(c.snapshot.workers[0].status == .ready)
        #expect(c.expire(now: .seconds(61), initialWorkers: [:], replace: false) == [
            .retire(name: "b0", instanceID: "pid-b0", reason: "stopped reporting"),
        ])
    }

    @Test func launchFailureMarksTheWorkerGone() throws {
        var c = try makeController(workers: 0)
        c.booting(name: "b0", hardware: .cpu, slack: false, instanceID: "", now: .zero)
        c.launchFailed(name: "b0", reason: "quota", now: .zero)
        #expect(c.snapshot.workers[0].status == .gone)
        #expect(c.goneReason(0) == "launch failed: quota")
    }

    @Test func failedLaunchesBackOffInsteadOfRetryingEveryTick() throws {
        var c = try makeController(workers: 0, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 2]))
        let first = c.expire(now: .seconds(1), initialWorkers: [.cpu: 1], replace: true)
        #expect(first == [.launch(name: "infaas-worker-cpu-0", hardware: .cpu, slack: false)])
        c.launchFailed(name: "infaas-worker-cpu-0", reason: "endpoint down", now: .seconds(2))
        #expect(c.expire(now: .seconds(3), initialWorkers: [.cpu: 1], replace: true).isEmpty, "2 s back-off after one failure")
        #expect(c.expire(now: .seconds(4), initialWorkers: [.cpu: 1], replace: true).count == 1)
        c.launchFailed(name: "infaas-worker-cpu-1", reason: "endpoint down", now: .seconds(4))
        #expect(c.expire(now: .seconds(7), initialWorkers: [.cpu: 1], replace: true).isEmpty, "4 s after two")
        #expect(c.expire(now: .seconds(8), initialWorkers: [.cpu: 1], replace: true).count == 1)
        #expect(ClusterController.launchBackoff(afterFailures: 10) == 60)
        // A launched worker's first report clears it.
        c.ingest(report("infaas-worker-cpu-2"), now: .seconds(9))
        #expect(c.launchFailures == 0 && c.nextLaunchAllowed == .zero)
    }

    @Test func unreachableWorkerStopsGettingQueriesAtOnce() throws {
        var c = try makeController(workers: 2)
        c.ingest(report("w0", sequence: 2, variants: [(fast.variant.name, 1, 0)]), now: .zero)
        #expect(try c.route(variant: fast).get().workerName == "w0")
        c.workerUnreachable(0, reason: "connection refused", now: .milliseconds(1))
        #expect(c.snapshot.workers[0].status == .gone)
        #expect(c.goneReason(0) == "connection refused")
        let next = try c.route(variant: fast, now: .milliseconds(2)).get()
        #expect(next.workerName == "w1")
        #expect(next.coldStart)
    }

    // MARK: VM autoscaler

    @Test func hotCPUWorkerTriggersALaunchThenBacksOff() throws {
        var c = try makeController(workers: 0, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 2]))
        c.ingest(report("w0", cpuUtilization: 95), now: .zero)
        #expect(c.autoscale(now: .seconds(1)) == [.launch(name: "infaas-worker-cpu-0", hardware: .cpu, slack: false)])
        #expect(c.snapshot.liveWorkerCount(.cpu) == 2)
        #expect(c.autoscale(now: .seconds(2)).isEmpty)  // backing off (and at the maximum)
    }

    @Test func aScaledInInstanceThatKeepsReportingIsNotTakenBack() throws {
        var c = try makeController(workers: 0, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 2]))
        c.ingest(report("w0"), now: .zero)
        var r = report("w1")
        r.instanceID = "i-left-running"
        c.ingest(r, now: .zero)
        // Idle long enough: the autoscaler scales in one of the two.
        var retired: [String] = []
        for i in 1...40 where retired.isEmpty {
            c.ingest(report("w0", sequence: UInt64(i + 1), cpuUtilization: 3), now: .seconds(Double(i)))  // w1 is the idler
            r.sequence = UInt64(i + 1)
            c.ingest(r, now: .seconds(Double(i)))
            c.resourceTick(now: .seconds(Double(i)))  // the reported utilisations order the workers
            retired = c.autoscale(now: .seconds(Double(i))).compactMap { if case .retire(_, let id, _) = $0 { id } else { nil } }
        }
        try #require(retired == ["i-left-running"])
        r.sequence = 100
        let accepted = c.ingest(r, now: .seconds(50))
        #expect(accepted == false)
        #expect(c.snapshot.workers[1].status == .gone)
        // A launch that reuses the instance makes its reports count again.
        _ = c.launch(.cpu, slack: false, now: .seconds(51))
        c.launchedInstance(name: "infaas-worker-cpu-0", instanceID: "i-left-running")
        var again = report("infaas-worker-cpu-0")
        again.instanceID = "i-left-running"
        let known = c.ingest(again, now: .seconds(52))
        #expect(known)
        #expect(c.snapshot.workers.last?.status == .ready)
    }

    @Test func adoptedInstancesBootInsteadOfBeingLaunchedAgain() throws {
        var c = try makeController(workers: 0, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 2]))
        c.adopt([(name: "infaas-worker-cpu-0", hardware: .cpu, instanceID: "i-1")], now: .zero)
        #expect(c.expire(now: .seconds(5), initialWorkers: [.cpu: 1], replace: true).isEmpty, "an adopted, booting worker counts")
        #expect(c.nextWorkerName(.cpu) == "infaas-worker-cpu-1")
    }

    @Test func initialGPUsStartAsSlackUpToSLACK_GPU() throws {
        var c = try makeController(workers: 0, limits: ClusterLimits(initial: [.gpu: 3], maximum: [.gpu: 3]))
        c.initialSlackGPUs = 1
        let actions = c.expire(now: .seconds(5), initialWorkers: [.gpu: 3], replace: true)
        #expect(actions == [.launch(name: "infaas-worker-gpu-0", hardware: .gpu, slack: true),
                            .launch(name: "infaas-worker-gpu-1", hardware: .gpu, slack: false),
                            .launch(name: "infaas-worker-gpu-2", hardware: .gpu, slack: false)])
    }

    // MARK: Catalogue

    @Test func setVariantsKeepsIdsWhenVariantsAreAppended() throws {
        var c = try makeController()
        let fastID = c.id(fast), slowID = c.id(slow)
        _ = try c.route(variant: slow).get()
        let extra = registered("other_net", architecture: "othernet", accuracy: 80, slopeMs: 1, interceptMs: 5, maxBatch: 2)
        try c.setVariants([extra, slow, fast])
        #expect(c.id(fast) == fastID)
        #expect(c.id(slow) == slowID)
        #expect(c.id(extra) == 2)
        #expect(c.spec(2).name == "other_net")
        #expect(c.registered.map(\.variant.name) == [fast.variant.name, slow.variant.name, "other_net"])
        #expect(c.group(slow, on: 0)?.loading == 1)  // routing state survives
        // The new variant routes.
        #expect(try c.route(variant: extra).get().spec.name == "other_net")
    }

    @Test func anUnregisteredVariantIsWithdrawnAndItsNameCanBeRegisteredAgain() throws {
        var c = try makeController()
        let slowID = c.id(slow)
        let version = c.catalogueVersion
        _ = try c.route(variant: slow).get()
        try c.setVariants([fast])  // slow was unregistered
        #expect(c.catalogue.variantID(slow.variant.name) == nil)
        #expect(c.catalogue.withdrawn == [slowID])
        #expect(c.catalogue.count == 2, "ids stay: replica groups and policy memory remain valid")
        #expect(c.liveSpecs.map(\.name) == [fast.variant.name])
        #expect(c.catalogueVersion > version, "workers are sent the new catalogue")
        // No query chooses it: a loose SLO's fast path looks at variants of ≥ 100 ms first (slow
        // alone, and it is loading), so before the withdrawal this query got slow.
        #expect(try c.route(architecture: "tinynet", sloMs: 1000).get().spec.name == fast.variant.name)
        #expect(c.workersRunning(slowID).isEmpty == false, "the master knows where to unload it")
        // The same name registered again is a new variant.
        try c.setVariants([fast, slow])
        #expect(c.id(slow) == 2)
        #expect(c.catalogue.withdrawn == [slowID])
        #expect(try c.route(variant: slow).get().spec.name == slow.variant.name)
        // Nothing changed: the version stays (a retried identical registration reloads).
        let settled = c.catalogueVersion
        try c.setVariants([fast, slow])
        #expect(c.catalogueVersion == settled)
    }

    @Test func anArchitectureWhoseVariantsAreAllUnregisteredIsUnknown() throws {
        var c = try makeController([fast])
        try c.setVariants([])
        #expect(c.catalogue.architectureID("tinynet") == nil)
        #expect(c.liveSpecs.isEmpty)
    }

    // MARK: Workers known before a restart

    @Test func knownWorkersOfAPreviousMasterAreWaitedForThenReplaced() throws {
        var c = try makeController(workers: 0, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 2]))
        c.expectRejoin([(name: "infaas-worker-cpu-0", hardware: .cpu, instanceID: "4242")], now: .zero)
        #expect(c.expire(now: .seconds(2), initialWorkers: [.cpu: 1], replace: true).isEmpty, "no duplicate 2 s after the start")
        #expect(c.handles[0].instanceID == "4242")
        // It re-joins: known, ready, never launched.
        var r = report("infaas-worker-cpu-0")
        r.instanceID = "4242"
        let known = c.ingest(r, now: .seconds(5))
        #expect(known)
        #expect(c.snapshot.workers[0].status == .ready)
        #expect(c.launched == 0)
    }

    @Test func aKnownWorkerThatNeverRejoinsIsReplacedAfterTheGrace() throws {
        var c = try makeController(workers: 0, limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 2]))
        c.expectRejoin([(name: "infaas-worker-cpu-0", hardware: .cpu, instanceID: "4242")], now: .zero)
        #expect(c.expire(now: .seconds(19), initialWorkers: [.cpu: 1], replace: true).isEmpty)
        #expect(c.expire(now: .seconds(20), initialWorkers: [.cpu: 1], replace: true) == [.launch(name: "infaas-worker-cpu-1", hardware: .cpu, slack: false)])
    }
}
