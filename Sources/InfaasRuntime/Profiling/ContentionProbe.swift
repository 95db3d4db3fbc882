import Foundation
public import InfaasCore

/// Measures how a replica slows down when other replicas run beside it on this host
/// (`infaas calibrate`, ``MachineModel/contention``): for each intra-op thread count, loads
/// 1 … n sessions of one model, runs them all at once (each on its own thread, as a worker's
/// replicas run) and compares the median time per run with one session alone. Blocking: run it
/// off Swift's cooperative pool.
public struct ContentionProbe: Sendable {
    public let backend: any InferenceBackend
    public init(backend: any InferenceBackend) { self.backend = backend }

    /// What one configuration measured.
    public struct Measurement: Sendable, Equatable {
        public var threads: Int
        public var replicas: Int
        /// Median ms per run, over every replica's runs.
        public var medianMs: Double
        /// The CPU the runs got, as a share of `threads × replicas` cores over their wall time
        /// (1: every intra-op thread computing throughout; less: threads waiting between
        /// operators, or for cores other processes hold).
        public var cpuShare: Double
    }

    /// Runs `runs` timed runs (after `warmup` untimed ones) on each of `replicas` sessions of
    /// `threads` intra-op threads at once; one measurement per (threads, replicas) pair.
    public func measure(modelAt path: String, threads: [Int], replicas: [Int], runs: Int, warmup: Int = 2, batch: Int = 1,
                        symbolicDimensions: [Int: Int] = [:], progress: (Measurement) -> Void = { _ in }) throws(RuntimeError) -> [Measurement] {
        var results: [Measurement] = []
        for t in threads {
            let most = replicas.max() ?? 1
            var sessions: [any LoadedModel] = []
            defer { for s in sessions { s.unload() } }
            for _ in 0..<most { sessions.append(try backend.load(modelAt: path, options: SessionOptions(intraOpThreads: t))) }
            guard let shape = sessions[0].signature.concreteInputShape(batch: batch, fill: symbolicDimensions) else {
                throw RuntimeError(.inputMismatch, "input \(sessions[0].signature.inputShape) has symbolic dimensions besides the batch",
                                   hint: "give their sizes (--input-shape)")
            }
            let input = Profiler.syntheticInput(shape: shape, seed: 1)
            for k in replicas.sorted() where k >= 1 {
                let (samples, cpuShare) = try Self.runTogether(Array(sessions.prefix(k)), input: input, runs: runs, warmup: warmup, threads: t)
                let m = Measurement(threads: t, replicas: k, medianMs: Profiler.quantile(samples.sorted(), 0.5), cpuShare: cpuShare)
                results.append(m)
                progress(m)
            }
        }
        return results
    }

    /// How much slower a lone run of variant `variant` is after the host sat idle
    /// (``MachineModel/idleRuns``): for each thread count, one session runs blocks of `runs`
    /// timed runs, back to back and then after each of `gapsMs` of sleep before every run, and
    /// back to back again; the slowdown is each gap's median against the back-to-back medians'
    /// mean. Blocking (it sleeps): run it off Swift's cooperative pool.
    public func measureIdle(variant: String, modelAt path: String, threads: [Int], gapsMs: [Double], runs: Int, warmup: Int = 3, batch: Int = 1,
                            symbolicDimensions: [Int: Int] = [:],
                            progress: (MachineModel.IdleRun, Double) -> Void = { _, _ in }) throws(RuntimeError) -> [MachineModel.IdleRun] {
        var results: [MachineModel.IdleRun] = []
        for t in threads {
            let session = try backend.load(modelAt: path, options: SessionOptions(intraOpThreads: t))
            defer { session.unload() }
            guard let shape = session.signature.concreteInputShape(batch: batch, fill: symbolicDimensions) else {
                throw RuntimeError(.inputMismatch, "input \(session.signature.inputShape) has symbolic dimensions besides the batch",
                                   hint: "give their sizes (--input-shape)")
            }
            let input = Profiler.syntheticInput(shape: shape, seed: 1)
            func timed() throws(RuntimeError) -> Double {
                let begin = DispatchTime.now().uptimeNanoseconds
                _ = try session.run(input)
                return Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6
            }
            // One block per gap, the runs at that gap in a row (a steady stream of queries that
            // far apart: what a run after idle costs depends on the recent past, not only on the
            // one gap before it), the first `warmup` of each untimed; back-to-back blocks first
            // and last, averaged, so a drift of the machine during the measurement shows.
            let gaps = gapsMs.filter { $0 > 0 }.sorted()
            func block(gapMs: Double) throws(RuntimeError) -> Double {
                var samples: [Double] = []
                for i in 0..<(warmup + runs) {
                    if gapMs > 0 { Thread.sleep(forTimeInterval: gapMs / 1000) }
                    let ms = try timed()
                    if i >= warmup { samples.append(ms) }
                }
                return Profiler.quantile(samples.sorted(), 0.5)
            }
            let first = try block(gapMs: 0)
            let afterGap = try gaps.map { gap throws(RuntimeError) in try block(gapMs: gap) }
            let base = (first + (try block(gapMs: 0))) / 2
            guard base > 0 else { continue }
            for (i, gap) in gaps.enumerated() {
                let run = MachineModel.IdleRun(variant: variant, threads: t, gapMs: gap, slowdown: afterGap[i] / base)
                results.append(run)
                progress(run, base)
            }
        }
        return results
    }

    /// Each session on its own thread, started together; every timed run's ms, and the process
    /// CPU over the whole as a share of `threads` cores per session.
    static func runTogether(_ sessions: [any LoadedModel], input: Tensor, runs: Int, warmup: Int,
                            threads: Int) throws(RuntimeError) -> ([Double], Double) {
        let collected = Collected()
        let start = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        for session in sessions {
            group.enter()
            let thread = Thread {
                start.wait()
                var samples: [Double] = []
                var failure: RuntimeError? = nil
                do throws(RuntimeError) {
                    for i in 0..<(warmup + runs) {
                        let begin = DispatchTime.now().uptimeNanoseconds
                        _ = try session.run(input)
                        if i >= warmup { samples.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1e6) }
                    }
                } catch {
                    failure = error
                }
                collected.add(samples, failure)
                group.leave()
            }
            thread.start()
        }
        let cpuBefore = ProcessCPUTime.seconds(), wallBefore = DispatchTime.now().uptimeNanoseconds
        for _ in sessions { start.signal() }
        group.wait()
        let wall = Double(DispatchTime.now().uptimeNanoseconds - wallBefore) / 1e9
        let share = wall > 0 ? (ProcessCPUTime.seconds() - cpuBefore) / (wall * Double(threads * sessions.count)) : 1
        return (try collected.result(), min(1, max(0.01, share)))
    }

    /// The threads' samples, gathered under a lock.
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var samples: [Double] = []
        private var failure: RuntimeError? = nil

        func add(_ more: [Double], _ error: RuntimeError?) {
            lock.lock()
            samples += more
            if failure == nil { failure = error }
            lock.unlock()
        }

        func result() throws(RuntimeError) -> [Double] {
            lock.lock()
            defer { lock.unlock() }
            if let failure { throw failure }
            return samples
        }
    }
}

extension [ContentionProbe.Measurement] {
    /// Each thread count's lone run, for ``MachineModel/lone``.
    public var loneRuns: [MachineModel.LoneRun] {
        filter { $0.replicas == 1 }.map { MachineModel.LoneRun(threads: $0.threads, medianMs: $0.medianMs, cpuShare: $0.cpuShare) }
    }

    /// Slowdowns against each thread count's lone run, for ``MachineModel/contention``.
    public var contentionPoints: [MachineModel.ContentionPoint] {
        compactMap { m in
            guard let alone = first(where: { $0.threads == m.threads && $0.replicas == 1 }), alone.medianMs > 0, m.replicas > 1 else { return nil }
            return MachineModel.ContentionPoint(threads: m.threads, replicas: m.replicas, slowdown: m.medianMs / alone.medianMs)
        }
    }
}
