public import InfaasCore

/// The master's own memory between queries (the reference keeps these in `QueryServiceImpl`):
/// the use-case LRU cache, popularity and overload trackers, round-robin cursors, the random
/// stream for shuffles. A value: policies take it `inout`, so the same state and snapshot give
/// the same decision.
public struct MasterState: Sendable {
    public var rng: SplitMix64
    /// Per use-case: up to `useCaseCacheSize` recently chosen variants, most recent first.
    /// (Fix of reference §8 item 8: the original shared one cache across all use-cases and
    /// could answer a query with a variant of another use-case.)
    public var useCaseCache: [[Int]]
    /// With ``UseCaseCacheScope/accuracyBin``: the caches per (use-case, accuracy bin), keyed
    /// ``binCacheKey(useCase:bin:)``.
    public var useCaseBinCache: [Int: [Int]] = [:]
    /// Mode 5's CPU variants seen blacklisted.
    public var cpuBlacklist: Set<Int> = []
    public var lastWorkerPicked: Int? = nil
    public var roundRobinCursor = 0
    public var roundRobinCursorByHardware: [HardwareClass: Int] = [:]
    public var stickyWorker: [Int: Int] = [:]
    /// §3.6 per variant: last query time and count of consecutive queries under the gap.
    public var popularityLast: [SimTime?]
    public var popularityCount: [Int]
    /// §3.6 per variant: its exclusive worker, or −1.
    public var exclusiveWorker: [Int]
    /// §3.7 per worker: window start and count.
    public var guardWindowStart: [SimTime?] = []
    public var guardCount: [Int] = []
    /// For the `fixed` selection: each application's variant.
    public var fixedVariant: [Int] = []
    /// For static placement: the worker (index among the hosts) the next replica tries first.
    public var placementCursor = 0

    public init(variantCount: Int, useCaseCount: Int, seed: UInt64) {
        rng = SplitMix64(seed: seed)
        useCaseCache = Array(repeating: [], count: useCaseCount)
        popularityLast = Array(repeating: nil, count: variantCount)
        popularityCount = Array(repeating: 0, count: variantCount)
        exclusiveWorker = Array(repeating: -1, count: variantCount)
    }

    mutating func ensureWorkers(_ count: Int) {
        while guardWindowStart.count < count {
            guardWindowStart.append(nil)
            guardCount.append(0)
        }
    }

    /// The key of a (use-case, accuracy bin) cache.
    static func binCacheKey(useCase u: Int, bin: Int) -> Int { u &* 1024 &+ bin }

    /// The recently chosen variants a query of use-case `u` may reuse: the use-case's cache, or
    /// with `bin` the cache of that accuracy bin.
    func cachedVariants(useCase u: Int, bin: Int?) -> [Int] {
        guard let bin else { return useCaseCache[u] }
        return useCaseBinCache[Self.binCacheKey(useCase: u, bin: bin)] ?? []
    }

    mutating func touchCache(useCase u: Int, bin: Int?, variant v: Int, size: Int) {
        guard let bin else { return touchCache(useCase: u, variant: v, size: size) }
        let key = Self.binCacheKey(useCase: u, bin: bin)
        var list = useCaseBinCache[key] ?? []
        if list.first == v { return }
        list.removeAll { $0 == v }
        list.insert(v, at: 0)
        if list.count > size { list.removeLast(list.count - size) }
        useCaseBinCache[key] = list
    }

    mutating func touchCache(useCase u: Int, variant v: Int, size: Int) {
        if useCaseCache[u].first == v { return }  // the common case: already most recent
        useCaseCache[u].removeAll { $0 == v }
        useCaseCache[u].insert(v, at: 0)
        if useCaseCache[u].count > size { useCaseCache[u].removeLast(useCaseCache[u].count - size) }
    }
}

extension MasterState {
    /// Grows the per-variant and per-use-case memory after variants were appended to the
    /// catalogue (live mode registrations); what was learnt about existing ids is kept.
    public mutating func grow(variantCount: Int, useCaseCount: Int) {
        while useCaseCache.count < useCaseCount { useCaseCache.append([]) }
        while popularityLast.count < variantCount {
            popularityLast.append(nil)
            popularityCount.append(0)
            exclusiveWorker.append(-1)
        }
    }
}
