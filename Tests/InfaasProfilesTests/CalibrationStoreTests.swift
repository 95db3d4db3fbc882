import Foundation
import Testing
import InfaasCore
import HDF5Kit
import InfaasProfiles

@Suite("calibration.h5")
struct CalibrationStoreTests {
    static let model: MachineModel = {
        var model = MachineModel(
        machine: "dev VM: AMD EPYC, 2 cores", cores: 2, sharedHost: true, background: 1.37, loadAverage: 1.02,
        hops: [.init(payloadBytes: 602_112, costMs: MachineModel.Quantiles(samples: [3.1, 3.4, 4.0, 5.2, 9.9])!, servingCPUMs: 4.2, workerCPUMs: 1.9),
               .init(payloadBytes: 4_816_896, costMs: MachineModel.Quantiles(samples: [19, 21, 22, 30])!, servingCPUMs: 30.5, workerCPUMs: 12)],
        loadTimes: ["resnet18_onnxruntime-cpu_t1_b1": MachineModel.Quantiles(samples: [120, 131, 140])!],
        contention: [.init(threads: 1, replicas: 2, slowdown: 1.05), .init(threads: 2, replicas: 2, slowdown: 1.93)],
        lone: [.init(threads: 1, medianMs: 40.5, cpuShare: 0.97), .init(threads: 2, medianMs: 22.1, cpuShare: 0.71)])
        model.firstLoadExtraMs = 84.5
        model.idleRuns = [.init(variant: "resnet18_onnxruntime-cpu_t1_b1", threads: 1, gapMs: 20, slowdown: 1.02),
                          .init(variant: "resnet18_onnxruntime-int8static-cpu_t2_b8", threads: 2, gapMs: 20, slowdown: 1.38),
                          .init(variant: "resnet18_onnxruntime-int8static-cpu_t2_b8", threads: 2, gapMs: 150, slowdown: 1.55)]
        model.idleHops = [.init(gapMs: 20, extraMs: 3.5), .init(gapMs: 150, extraMs: 6.1)]
        model.concurrentHops = [.init(queries: 2, factor: 1.8), .init(queries: 6, factor: 4.9)]
        return model
    }()

    @Test func writesAndReadsBackEveryField() throws {
        let path = temporaryDirectory().appendingPathComponent("calibration.h5").path
        try CalibrationStore.write(Self.model, to: path)
        #expect(try CalibrationStore.read(from: path) == Self.model)
        // An empty model (nothing measured) round-trips too.
        let empty = MachineModel(machine: "x", cores: 1, sharedHost: false)
        try CalibrationStore.write(empty, to: path)
        #expect(try CalibrationStore.read(from: path) == empty)
    }

    /// Writes ``model`` in the layout `infaas calibrate` wrote before it measured the serving
    /// path's CPU (and the lone runs' CPU share); `hops` may add datasets to `/hops`.
    static func writeOlderLayout(to path: String, hops extra: (HDF5Group) throws -> Void = { _ in }) throws {
        let m = Self.model
        let file = try HDF5File.create(at: path)
        defer { file.close() }
        let root = try file.root()
        let meta = try root.createGroup("meta")
        try meta.setAttribute("format", CalibrationStore.format)
        try meta.setAttribute("format_version", Int64(1))
        try meta.setAttribute("generator", "infaas-swift")
        try meta.setAttribute("machine", m.machine)
        try meta.setAttribute("cores", Int64(m.cores))
        try meta.setAttribute("shared_host", Int64(1))
        try meta.setAttribute("background", m.background)
        try meta.setAttribute("load_average", m.loadAverage)
        let hops = try root.createGroup("hops")
        try hops.write(m.hops.map { Int64($0.payloadBytes) }, to: "payload_bytes")
        try hops.write(MachineModel.Quantiles.standardLevels, to: "levels")
        try hops.write(m.hops.flatMap(\.costMs.valuesMs), to: "cost_ms", shape: [m.hops.count, MachineModel.Quantiles.standardLevels.count])
        try extra(hops)
        let loads = try root.createGroup("load_times")
        for (name, q) in m.loadTimes {
            let g = try loads.createGroup(name)
            try g.write(q.levels, to: "levels")
            try g.write(q.valuesMs, to: "load_ms")
        }
        let contention = try root.createGroup("contention")
        try contention.write(m.contention.map { Int32($0.threads) }, to: "threads")
        try contention.write(m.contention.map { Int32($0.replicas) }, to: "replicas")
        try contention.write(m.contention.map(\.slowdown), to: "slowdown")
        try contention.write(m.lone.map { Int32($0.threads) }, to: "lone_threads")
        try contention.write(m.lone.map(\.medianMs), to: "lone_ms")
        try file.flush()
    }

    /// An older file still loads, with no serving CPU, full CPU shares and no first-load extra.
    @Test func anOlderFileWithoutTheServingCPUStillLoads() throws {
        let path = temporaryDirectory().appendingPathComponent("old.h5").path
        try Self.writeOlderLayout(to: path)
        let read = try CalibrationStore.read(from: path)
        var expected = Self.model
        for i in expected.hops.indices {
            expected.hops[i].servingCPUMs = 0
            expected.hops[i].workerCPUMs = 0
        }
        for i in expected.lone.indices { expected.lone[i].cpuShare = 1 }
        expected.firstLoadExtraMs = 0
        expected.idleRuns = []
        expected.idleHops = []
        expected.concurrentHops = []
        #expect(read == expected)
        #expect(!read.hasServingCPU)
        #expect(!read.hasIdleEffects)
    }

    @Test func aServingCPUOfTheWrongLengthIsRefused() throws {
        let path = temporaryDirectory().appendingPathComponent("bad.h5").path
        try Self.writeOlderLayout(to: path) { hops in try hops.write([1.0, 2.0, 3.0], to: "worker_cpu_ms") }
        let error = try #require(throws: ProfileError.self) { try CalibrationStore.read(from: path) }
        #expect(error.description.contains("/hops/worker_cpu_ms"), "\(error)")
        let negative = temporaryDirectory().appendingPathComponent("negative.h5").path
        try Self.writeOlderLayout(to: negative) { hops in try hops.write([1.0, -2.0], to: "serving_cpu_ms") }
        let refused = try #require(throws: ProfileError.self) { try CalibrationStore.read(from: negative) }
        #expect(refused.description.contains("/hops/serving_cpu_ms"), "\(refused)")
    }

    @Test func aProfileStoreIsNotACalibration() throws {
        let path = temporaryDirectory().appendingPathComponent("profiles.h5").path
        try ProfileStore.write([], to: path)
        #expect(throws: ProfileError.self) { try CalibrationStore.read(from: path) }
    }

    @Test func badNumbersAreRefusedNamingWhere() throws {
        let path = temporaryDirectory().appendingPathComponent("calibration.h5").path
        var bad = Self.model
        bad.contention[0].slowdown = -1
        try CalibrationStore.write(bad, to: path)
        let error = try #require(throws: ProfileError.self) { try CalibrationStore.read(from: path) }
        #expect(error.description.contains("/contention/slowdown"))
        bad = Self.model
        bad.hops[0].costMs.valuesMs.reverse()
        try CalibrationStore.write(bad, to: path)
        let falling = try #require(throws: ProfileError.self) { try CalibrationStore.read(from: path) }
        #expect(falling.description.contains("/hops row 0"))
        bad = Self.model
        bad.idleRuns[1].gapMs = 0
        try CalibrationStore.write(bad, to: path)
        let noGap = try #require(throws: ProfileError.self) { try CalibrationStore.read(from: path) }
        #expect(noGap.description.contains("/idle/run_gap_ms"), "\(noGap)")
        bad = Self.model
        bad.idleHops[0].extraMs = .nan
        try CalibrationStore.write(bad, to: path)
        let nan = try #require(throws: ProfileError.self) { try CalibrationStore.read(from: path) }
        #expect(nan.description.contains("/idle/hop_extra_ms"), "\(nan)")
        bad = Self.model
        bad.concurrentHops[0].factor = 0
        try CalibrationStore.write(bad, to: path)
        let zero = try #require(throws: ProfileError.self) { try CalibrationStore.read(from: path) }
        #expect(zero.description.contains("/concurrency/hop_factor"), "\(zero)")
    }
}
