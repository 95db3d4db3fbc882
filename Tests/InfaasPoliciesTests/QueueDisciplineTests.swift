import InfaasCore
import InfaasPolicies
import Testing

/// The queueing rules both faces apply (``QueueDiscipline``, ``ServingQueue``), case by case.
@Suite struct QueueDisciplineTests {
    let t0 = SimTime.seconds(5)

    // MARK: Deadlines

    @Test func anExplicitDeadlineBeatsTheSLOWhichBeatsTheFixedOne() {
        let slo = QueueDiscipline(deadlineRule: .slo)
        #expect(slo.deadline(arrival: t0, sloMs: 200, explicitMs: 50, fixedMs: 10_000) == t0 + .milliseconds(50))
        #expect(slo.deadline(arrival: t0, sloMs: 200, fixedMs: 10_000) == t0 + .milliseconds(200))
        // No SLO: the fixed deadline, or none.
        #expect(slo.deadline(arrival: t0, sloMs: 0, fixedMs: 10_000) == t0 + .milliseconds(10_000))
        #expect(slo.deadline(arrival: t0, sloMs: 0, fixedMs: nil) == nil)
        // The default rule ignores the SLO: today's fixed deadline.
        let fixed = QueueDiscipline()
        #expect(fixed.deadline(arrival: t0, sloMs: 200, fixedMs: 10_000) == t0 + .milliseconds(10_000))
        #expect(fixed.deadline(arrival: t0, sloMs: 200, explicitMs: 30, fixedMs: 10_000) == t0 + .milliseconds(30))
    }

    @Test func theDefaultsAreTheReferenceBehaviour() {
        let d = QueueDiscipline(config: PolicyConfig())
        #expect(d.admission == .always)
        #expect(d.maxQueueLength == 0)
        #expect(d.deadlineRule == .fixed)
        #expect(d.admit(priority: .high, sloMs: 10, queued: 1_000, ahead: 1_000, serviceMs: 100) == .admit(.high))
    }

    // MARK: Admission

    @Test func shedIfLateShedsOnlyWhenTheQueueAheadAlreadyExceedsTheSLO() {
        let d = QueueDiscipline(admission: .shedIfLate)
        // 4 ahead × 20 ms = 80 ms ≤ 100 ms: admitted; 6 × 20 = 120 ms > 100: shed.
        #expect(d.admit(priority: .high, sloMs: 100, queued: 3, ahead: 4, serviceMs: 20) == .admit(.high))
        #expect(d.admit(priority: .high, sloMs: 100, queued: 5, ahead: 6, serviceMs: 20) == .shed(.predictedLate(waitMs: 120, sloMs: 100)))
        // Two servers halve the wait.
        #expect(d.admit(priority: .high, sloMs: 100, queued: 5, ahead: 6, servers: 2, serviceMs: 20) == .admit(.high))
        // No SLO: nothing to be late for.
        #expect(d.admit(priority: .low, sloMs: 0, queued: 50, ahead: 50, serviceMs: 20) == .admit(.low))
        #expect(QueueDiscipline.ShedReason.predictedLate(waitMs: 120, sloMs: 100).message
                == "shed: predicted wait 120 ms already exceeds the SLO of 100 ms")
    }

    @Test func demoteAdmitsAPredictedLateQueryAsLow() {
        let d = QueueDiscipline(admission: .demote)
        #expect(d.admit(priority: .high, sloMs: 100, queued: 5, ahead: 6, serviceMs: 20) == .admit(.low))
        #expect(d.admit(priority: .high, sloMs: 100, queued: 1, ahead: 2, serviceMs: 20) == .admit(.high))
    }

    @Test func aFullQueueShedsInEveryMode() {
        for mode in AdmissionMode.allCases {
            let d = QueueDiscipline(admission: mode, maxQueueLength: 3)
            #expect(d.admit(priority: .high, sloMs: 0, queued: 2, ahead: 3, serviceMs: 1) == .admit(.high))
            #expect(d.admit(priority: .high, sloMs: 0, queued: 3, ahead: 4, serviceMs: 1) == .shed(.queueFull(queued: 3, limit: 3)))
        }
        #expect(QueueDiscipline.ShedReason.queueFull(queued: 3, limit: 3).rejectReason == .queueFull)
    }

    // MARK: The queue

    func entry(_ id: Int, at ms: Double, deadlineMs: Double? = nil, _ priority: QueryPriority = .high) -> ServingQueue<Int>.Entry {
        .init(item: id, arrival: .milliseconds(ms), deadline: deadlineMs.map { .milliseconds($0) }, priority: priority)
    }

    @Test func highGoesFirstAndEachClassIsFirstInFirstOut() {
        var q = ServingQueue<Int>()
        q.push(entry(1, at: 0, .low))
        q.push(entry(2, at: 1))
        q.push(entry(3, at: 2, .low))
        q.push(entry(4, at: 3))
        #expect(q.ahead(of: .high) == 2)
        #expect(q.ahead(of: .low) == 4)
        var order: [Int] = []
        while let next = q.popNext(now: .milliseconds(10), lowPriorityMaxWait: .seconds(1)).next { order.append(next.item) }
        #expect(order == [2, 4, 1, 3])
    }

    @Test func aLowQueryThatWaitedTheBoundGoesAheadOfHighOnes() {
        var q = ServingQueue<Int>()
        q.push(entry(1, at: 0, .low))
        for i in 2...5 { q.push(entry(i, at: Double(i))) }
        let bound = SimDuration.milliseconds(100)
        #expect(q.popNext(now: .milliseconds(99), lowPriorityMaxWait: bound).next?.item == 2)
        #expect(q.popNext(now: .milliseconds(100), lowPriorityMaxWait: bound).next?.item == 1)
        #expect(q.popNext(now: .milliseconds(101), lowPriorityMaxWait: bound).next?.item == 3)
    }

    @Test func anExpiredQueryIsNeverHandedOutToRun() {
        var q = ServingQueue<Int>()
        q.push(entry(1, at: 0, deadlineMs: 50))
        q.push(entry(2, at: 1, deadlineMs: 500))
        q.push(entry(3, at: 2, deadlineMs: 60, .low))
        let (next, expired) = q.popNext(now: .milliseconds(70), lowPriorityMaxWait: .seconds(1))
        #expect(next?.item == 2)
        #expect(expired.map(\.item) == [1, 3])
        #expect(q.isEmpty)
        // At the deadline itself it is still on time.
        q.push(entry(4, at: 0, deadlineMs: 50))
        #expect(q.popNext(now: .milliseconds(50), lowPriorityMaxWait: .seconds(1)).next?.item == 4)
    }

    @Test func theExpiryCheckRemovesQueriesFromTheMiddleOfTheQueue() {
        var q = ServingQueue<Int>()
        q.push(entry(1, at: 0, deadlineMs: 1_000))
        q.push(entry(2, at: 1, deadlineMs: 40))
        q.push(entry(3, at: 2))
        q.push(entry(4, at: 3, deadlineMs: 45, .low))
        #expect(q.earliestDeadline == .milliseconds(40))
        #expect(q.removeExpired(now: .milliseconds(46)).map(\.item) == [2, 4])
        #expect(q.count == 2)
        #expect(q.earliestDeadline == .milliseconds(1_000))
        #expect(q.popNext(now: .milliseconds(46), lowPriorityMaxWait: .seconds(1)).next?.item == 1)
        #expect(q.popNext(now: .milliseconds(46), lowPriorityMaxWait: .seconds(1)).next?.item == 3)
    }

    @Test func aBatchTakesQueriesInQueueOrderUpToItsRowsAndSkipsExpiredOnes() {
        var q = ServingQueue<Int>()
        q.push(entry(1, at: 0, .low))
        q.push(entry(2, at: 1, deadlineMs: 5))
        q.push(entry(3, at: 2))
        q.push(entry(4, at: 3))  // 2 rows
        q.push(entry(5, at: 4))
        let rows = { (id: Int) in id == 4 ? 2 : 1 }
        // 3 rows: high first (2 expired, never batched), 4 does not fit after 3 and stays first.
        let first = q.popBatch(now: .milliseconds(10), lowPriorityMaxWait: .seconds(1), capacity: 2, rows: rows)
        #expect(first.batch.map(\.item) == [3])
        #expect(first.expired.map(\.item) == [2])
        let second = q.popBatch(now: .milliseconds(10), lowPriorityMaxWait: .seconds(1), capacity: 4, rows: rows)
        #expect(second.batch.map(\.item) == [4, 5, 1])
        #expect(q.isEmpty)
        // The starvation bound holds inside a batch too.
        q.push(entry(6, at: 0, .low))
        q.push(entry(7, at: 1))
        #expect(q.popBatch(now: .milliseconds(200), lowPriorityMaxWait: .milliseconds(100), capacity: 1, rows: rows).batch.map(\.item) == [6])
        #expect(q.popBatch(now: .milliseconds(200), lowPriorityMaxWait: .milliseconds(100), capacity: 0, rows: rows).batch.isEmpty)
    }

    @Test func aLongQueueStaysFirstInFirstOutAcrossCompaction() {
        var q = ServingQueue<Int>()
        var popped: [Int] = []
        for i in 0..<1_000 {
            q.push(entry(i, at: Double(i)))
            if i % 3 == 2, let next = q.popNext(now: .zero, lowPriorityMaxWait: .seconds(1)).next { popped.append(next.item) }
        }
        while let next = q.popNext(now: .zero, lowPriorityMaxWait: .seconds(1)).next { popped.append(next.item) }
        #expect(popped == Array(0..<1_000))
    }

    @Test func outcomesHaveStableCodesAndStatusTexts() {
        #expect(QueryOutcome.allCases.map(\.code) == [0, 1, 2, 3, 4])
        let message = QueryOutcome.expiredMessage(waited: .milliseconds(123.4))
        #expect(message == "deadline exceeded in queue after 123 ms")
        #expect(QueryOutcome.queueOutcome(ofMessage: "Query failed: " + message) == .expiredInQueue)
        #expect(QueryOutcome.queueOutcome(ofMessage: QueueDiscipline.ShedReason.queueFull(queued: 1, limit: 1).message) == .shed)
        #expect(QueryOutcome.queueOutcome(ofMessage: "no workers") == nil)
    }
}

@Suite("Serving queue: expiry bookkeeping")
struct ServingQueueExpiryTests {
    /// Random pushes, pops and expiry checks, with deadlines in and out of order: the queue's
    /// answers equal a plain list's (the fast path for ordered deadlines changes nothing).
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func expiryMatchesAPlainScan(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var queue = ServingQueue<Int>()
        var model: [ServingQueue<Int>.Entry] = []  // queue order, high before low within the check
        var now: Int64 = 0
        let mixed = seed % 2 == 0  // odd seeds: one fixed deadline (ordered); even: mixed deadlines
        for i in 0..<2_000 {
            now += Int64(rng.next() % 5)
            switch rng.next() % 10 {
            case 0..<6:
                let offset: Int64? = mixed ? (rng.next() % 7 == 0 ? nil : Int64(rng.next() % 40)) : 20
                let entry = ServingQueue<Int>.Entry(item: i, arrival: SimTime(nanoseconds: now),
                                                    deadline: offset.map { SimTime(nanoseconds: now + $0) }, priority: .high)
                queue.push(entry)
                model.append(entry)
            case 6..<8:
                let (next, expired) = queue.popNext(now: SimTime(nanoseconds: now), lowPriorityMaxWait: .seconds(1))
                var expect: [Int] = []
                while let head = model.first, head.expired(at: SimTime(nanoseconds: now)) { expect.append(model.removeFirst().item) }
                #expect(expired.map(\.item) == expect)
                #expect(next?.item == model.first?.item)
                if !model.isEmpty { model.removeFirst() }
            default:
                let t = SimTime(nanoseconds: now)
                #expect(queue.removeExpired(now: t).map(\.item) == model.filter { $0.expired(at: t) }.map(\.item))
                model.removeAll { $0.expired(at: t) }
            }
            #expect(queue.count == model.count)
            #expect(queue.earliestDeadline == model.compactMap(\.deadline).min())
        }
    }
}
