/// What a simulation event does.
enum EventKind: UInt8 {
    case completion      // a: unit
    case loadDone        // a: group, b: generation
    case workerReady     // a: worker
    case monitorTick
    case resourceTick
    case arbiterTick
    case vmTick
    case sampleTick
    case expiryCheck     // a: unit — answer its queued queries whose deadline has passed
}

/// A small value-type event, ordered by (time, sequence): equal times run in the order they
/// were scheduled, so a run is deterministic.
struct Event {
    var time: Int64
    var sequence: UInt64
    var kind: EventKind
    var a: Int32
    var b: Int32

    @inline(__always)
    static func before(_ x: Event, _ y: Event) -> Bool {
        x.time < y.time || (x.time == y.time && x.sequence < y.sequence)
    }
}

/// A 4-ary min-heap of events (shallower than a binary heap: fewer cache misses per pop).
struct EventQueue {
    private var heap: [Event] = []
    private var nextSequence: UInt64 = 0

    init() { heap.reserveCapacity(1024) }

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    var nextTime: Int64? { heap.first?.time }

    mutating func schedule(at time: Int64, _ kind: EventKind, _ a: Int32 = 0, _ b: Int32 = 0) {
        let event = Event(time: time, sequence: nextSequence, kind: kind, a: a, b: b)
        nextSequence &+= 1
        heap.append(event)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) >> 2
            if Event.before(event, heap[parent]) {
                heap[child] = heap[parent]
                child = parent
            } else {
                break
            }
        }
        heap[child] = event
    }

    mutating func pop() -> Event? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if heap.isEmpty { return top }
        var index = 0
        let n = heap.count
        while true {
            let first = 4 * index + 1
            if first >= n { break }
            var best = first
            let end = min(first + 4, n)
            var c = first + 1
            while c < end {
                if Event.before(heap[c], heap[best]) { best = c }
                c += 1
            }
            if Event.before(heap[best], last) {
                heap[index] = heap[best]
                index = best
            } else {
                break
            }
        }
        heap[index] = last
        return top
    }
}

/// A growable FIFO ring buffer of query slots.
struct RingQueue {
    private var storage: [Int32] = Array(repeating: 0, count: 8)
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func push(_ value: Int32) {
        if count == storage.count {
            var grown = [Int32](repeating: 0, count: storage.count * 2)
            for i in 0..<count { grown[i] = storage[(head + i) & (storage.count - 1)] }
            storage = grown
            head = 0
        }
        storage[(head + count) & (storage.count - 1)] = value
        count += 1
    }

    mutating func pop() -> Int32? {
        guard count > 0 else { return nil }
        let value = storage[head]
        head = (head + 1) & (storage.count - 1)
        count -= 1
        return value
    }

    mutating func removeAll() -> [Int32] {
        var out: [Int32] = []
        while let v = pop() { out.append(v) }
        return out
    }
}
