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

    var high = Lane()
    var low = Lane()

    public init() {}

    /// Queries waiting.
    public var count: Int { high.count + low.count }
    public var isEmpty: Bool { high.count == 0 && low.count == 0 }
    /// Queries waiting in one class.
    public func count(_ priority: QueryPriority) -> Int { priority == .high ? high.count : low.count }

    /// Queued queries that would run before a new one of `priority` (ignoring the starvation
    /// bound): every `high` one, and for a `low` one every `low` one too.
    public func ahead(of priority: QueryPriority) -> Int { priority == .high ? high.count : high.count + low.count }

    /// Queues a query at the end of its class.
    public mutating func push(_ entry: Entry) {
        if entry.priority == .high { high.push(entry) } else { low.push(entry) }
    }

    /// The query to run next at `now`, and the expired ones met on the way (answer them at once).
    /// A `low` query goes first when no `high` one waits, or when it has waited the starvation
    /// bound `lowPriorityMaxWait`.
    public mutating func popNext(now: SimTime, lowPriorityMaxWait: SimDuration) -> (next: Entry?, expired: [Entry]) {
        var expired: [Entry] = []
        while let head = high.first, head.expired(at: now) { expired.append(high.pop()!) }
        while let head = low.first, head.expired(at: now) { expired.append(low.pop()!) }
        guard high.count > 0 else { return (low.pop(), expired) }
        if let lowHead = low.first, now - lowHead.arrival >= lowPriorityMaxWait { return (low.pop(), expired) }
        return (high.pop(), expired)
    }

    /// Removes and returns every query whose deadline has passed at `now` (the periodic check
    /// while a batch runs), in queue order, high class first.
    public mutating func removeExpired(now: SimTime) -> [Entry] {
        high.removeAll { $0.expired(at: now) } + low.removeAll { $0.expired(at: now) }
    }

    /// The earliest deadline of a queued query (when the next expiry check is due).
    public var earliestDeadline: SimTime? {
        var best: SimTime? = nil
        for entry in high.entries { if let d = entry.deadline, best.map({ d < $0 }) ?? true { best = d } }
        for entry in low.entries { if let d = entry.deadline, best.map({ d < $0 }) ?? true { best = d } }
        return best
    }

    /// Removes every queued query (a replica that goes away hands its queue elsewhere).
    public mutating func removeAll() -> [Entry] {
        let all = Array(high.entries) + Array(low.entries)
        high = Lane()
        low = Lane()
        return all
    }

    /// A first-in first-out run of entries: an array and the index of its head (amortised O(1)).
    struct Lane: Sendable {
        var storage: [Entry] = []
        var head = 0

        var count: Int { storage.count - head }
        var first: Entry? { head < storage.count ? storage[head] : nil }
        var entries: ArraySlice<Entry> { storage[head...] }

        mutating func push(_ entry: Entry) { storage.append(entry) }

        mutating func pop() -> Entry? {
            guard head < storage.count else { return nil }
            let entry = storage[head]
            head += 1
            if head == storage.count {
                storage.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64, head * 2 >= storage.count {
                storage.removeFirst(head)
                head = 0
            }
            return entry
        }

        mutating func removeAll(where shouldRemove: (Entry) -> Bool) -> [Entry] {
            guard head < storage.count else { return [] }
            var kept: [Entry] = [], removed: [Entry] = []
            kept.reserveCapacity(count)
            for entry in storage[head...] {
                if shouldRemove(entry) { removed.append(entry) } else { kept.append(entry) }
            }
            if !removed.isEmpty {
                storage = kept
                head = 0
            }
            return removed
        }
    }
}
