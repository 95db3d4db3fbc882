public import InfaasCore

/// The queue in front of one server (a simulated replica, a live worker's variant), holding the
/// rules of ``QueueDiscipline`` that concern order and time: `high` before `low`, first-in
/// first-out within a class, a `low` query that has waited ``QueueDiscipline/lowPriorityMaxWait``
/// goes first, and a query whose deadline has passed is never handed out to run — it comes back
/// as expired, to be answered at once. The simulator and the live worker keep their queued
/// queries in it; `Item` is what each face needs to answer one (a slot, a continuation's id).
public struct ServingQueue<Item: Sendable>: Sendable {
    /// One queued query.
    public struct Entry: Sendable {
        public var item: Item
        public var arrival: SimTime
        /// When it expires; nil = never.
        public var deadline: SimTime?
        public var priority: QueryPriority

        public init(item: Item, arrival: SimTime, deadline: SimTime?, priority: QueryPriority) {
            self.item = item
            self.arrival = arrival
            self.deadline = deadline
            self.priority = priority
        }

        /// True once `now` is past the deadline.
        @inlinable
        public func expired(at now: SimTime) -> Bool {
            guard let deadline else { return false }
            return now > deadline
        }
    }

    @usableFromInline var high = Lane()
    @usableFromInline var low = Lane()

    @inlinable public init() {}

    /// Queries waiting.
    @inlinable
    public var count: Int { high.count + low.count }
    @inlinable
    public var isEmpty: Bool { high.count == 0 && low.count == 0 }
    /// Queries waiting in one class.
    @inlinable
    public func count(_ priority: QueryPriority) -> Int { priority == .high ? high.count : low.count }

    /// Queued queries that would run before a new one of `priority` (ignoring the starvation
    /// bound): every `high` one, and for a `low` one every `low` one too.
    @inlinable
    public func ahead(of priority: QueryPriority) -> Int { priority == .high ? high.count : high.count + low.count }

    /// Queues a query at the end of its class.
    @inlinable
    public mutating func push(_ entry: Entry) {
        if entry.priority == .high { high.push(entry) } else { low.push(entry) }
    }

    /// The query to run next at `now`, and the expired ones met on the way (answer them at once).
    /// A `low` query goes first when no `high` one waits, or when it has waited the starvation
    /// bound `lowPriorityMaxWait`.
    @inlinable
    public mutating func popNext(now: SimTime, lowPriorityMaxWait: SimDuration) -> (next: Entry?, expired: [Entry]) {
        var expired: [Entry] = []
        removeExpiredHeads(now: now, into: &expired)
        return (nextIsLow(now: now, lowPriorityMaxWait: lowPriorityMaxWait) ? low.pop() : high.pop(), expired)
    }

    /// The queries to run next at `now` as one batch of at most `capacity` rows (`rows(item)`
    /// each), taken in the order ``popNext(now:lowPriorityMaxWait:)`` hands them out, and the
    /// expired ones met on the way (answer them at once). It stops at the first query that does
    /// not fit, which stays at the head of its class: a batch never skips a query that would run
    /// before the ones it takes.
    @inlinable
    public mutating func popBatch(now: SimTime, lowPriorityMaxWait: SimDuration, capacity: Int,
                                  rows: (Item) -> Int) -> (batch: [Entry], expired: [Entry]) {
        var batch: [Entry] = [], expired: [Entry] = []
        var used = 0
        while used < capacity {
            removeExpiredHeads(now: now, into: &expired)
            let fromLow = nextIsLow(now: now, lowPriorityMaxWait: lowPriorityMaxWait)
            guard let head = fromLow ? low.first : high.first, used + rows(head.item) <= capacity else { break }
            used += rows(head.item)
            batch.append(fromLow ? low.pop()! : high.pop()!)
        }
        return (batch, expired)
    }

    /// Moves the expired queries at the head of each class into `expired`.
    @inlinable
    mutating func removeExpiredHeads(now: SimTime, into expired: inout [Entry]) {
        while let head = high.first, head.expired(at: now) { expired.append(high.pop()!) }
        while let head = low.first, head.expired(at: now) { expired.append(low.pop()!) }
    }

    /// Whether the next query comes from the `low` class: none `high` waits, or the `low` head
    /// has waited the starvation bound.
    @inlinable
    func nextIsLow(now: SimTime, lowPriorityMaxWait: SimDuration) -> Bool {
        guard high.count > 0 else { return true }
        if let lowHead = low.first, now - lowHead.arrival >= lowPriorityMaxWait { return true }
        return false
    }

    /// Removes and returns every query whose deadline has passed at `now` (the periodic check
    /// while a batch runs), in queue order, high class first.
    @inlinable
    public mutating func removeExpired(now: SimTime) -> [Entry] {
        high.removeExpired(now: now) + low.removeExpired(now: now)
    }

    /// The earliest deadline of a queued query (when the next expiry check is due).
    @inlinable
    public var earliestDeadline: SimTime? {
        switch (high.earliestDeadline, low.earliestDeadline) {
        case (let a?, let b?): min(a, b)
        case (let a, let b): a ?? b
        }
    }

    /// Removes every queued query (a replica that goes away hands its queue elsewhere).
    @inlinable
    public mutating func removeAll() -> [Entry] {
        let all = Array(high.entries) + Array(low.entries)
        high = Lane()
        low = Lane()
        return all
    }

    /// A first-in first-out run of entries: an array and the index of its head (amortised O(1)).
    ///
    /// While deadlines do not decrease from head to tail (one fixed deadline, or one SLO per
    /// class: the common case), the expired entries are a prefix, so the expiry check and the
    /// earliest deadline cost O(expired) and O(1); otherwise they scan the lane.
    @usableFromInline
    struct Lane: Sendable {
        @inlinable init() {}
        @usableFromInline var storage: [Entry] = []
        @usableFromInline var head = 0
        /// Whether deadlines are non-decreasing from head to tail (no deadline counts as the latest).
        @usableFromInline var sortedByDeadline = true
        /// The last pushed entry's deadline in nanoseconds (`Int64.max` for none).
        @usableFromInline var lastDeadline = Int64.min

        @inlinable static func key(_ entry: Entry) -> Int64 { entry.deadline?.nanoseconds ?? .max }

        @inlinable var count: Int { storage.count - head }
        @inlinable var first: Entry? { head < storage.count ? storage[head] : nil }
        @inlinable var entries: ArraySlice<Entry> { storage[head...] }

        @inlinable mutating func push(_ entry: Entry) {
            let key = Self.key(entry)
            if count > 0, key < lastDeadline { sortedByDeadline = false }
            lastDeadline = key
            storage.append(entry)
        }

        /// Forgets the order bookkeeping once the lane is empty.
        @inlinable mutating func resetIfEmpty() {
            guard head >= storage.count else { return }
            storage.removeAll(keepingCapacity: true)
            head = 0
            sortedByDeadline = true
            lastDeadline = .min
        }

        /// The entries whose deadline has passed at `now`, removed, in queue order.
        @inlinable mutating func removeExpired(now: SimTime) -> [Entry] {
            guard sortedByDeadline else { return removeAll { $0.expired(at: now) } }
            var expired: [Entry] = []
            while let head = first, head.expired(at: now) { expired.append(pop()!) }
            return expired
        }

        @inlinable var earliestDeadline: SimTime? {
            if sortedByDeadline { return first?.deadline }
            var best: SimTime? = nil
            for entry in entries { if let d = entry.deadline, best.map({ d < $0 }) ?? true { best = d } }
            return best
        }

        @inlinable mutating func pop() -> Entry? {
            guard head < storage.count else { return nil }
            let entry = storage[head]
            head += 1
            if head == storage.count {
                resetIfEmpty()
            } else if head >= 64, head * 2 >= storage.count {
                storage.removeFirst(head)
                head = 0
            }
            return entry
        }

        @inlinable mutating func removeAll(where shouldRemove: (Entry) -> Bool) -> [Entry] {
            guard head < storage.count else { return [] }
            var kept: [Entry] = [], removed: [Entry] = []
            kept.reserveCapacity(count)
            for entry in storage[head...] {
                if shouldRemove(entry) { removed.append(entry) } else { kept.append(entry) }
            }
            if !removed.isEmpty {
                storage = kept
                head = 0
                sortedByDeadline = zip(kept, kept.dropFirst()).allSatisfy { Self.key($0) <= Self.key($1) }
                lastDeadline = kept.last.map(Self.key) ?? .min
                resetIfEmpty()
            }
            return removed
        }
    }
}
