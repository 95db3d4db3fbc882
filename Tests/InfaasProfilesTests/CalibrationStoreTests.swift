import Foundation
import Testing
import InfaasCore
import HDF5Kit
import InfaasProfiles

@Suite("calibration.h5")
struct CalibrationStoreTests {
    static let model = MachineModel(
        machine: "dev VM: AMD EPYC, 2 cores", cores: 2, sharedHost: true, background: 1.37, loadAverage: 1.02,
        hops: [.init(payloadBytes: 602_112, costMs: MachineModel.Quantiles(samples: [3.1, 3.4, 4.0, 5.2, 9.9])!),
               .init(payloadBytes: 4_816_896, costMs: MachineModel.Quantiles(samples: [19, 21, 22, 30])!)],
        loadTimes: ["resnet18_onnxruntime-cpu_t1_b1": MachineModel.Quantiles(samples: [120, 131, 140])!],
        contention: [.init(threads: 1, replicas: 2, slowdown: 1.05), .init(threads: 2, replicas: 2, slowdown: 1.93)],
        lone: [.init(threads: 1, medianMs: 40.5, cpuShare: 0.97), .init(threads: 2, medianMs: 22.1, cpuShare: 0.71)])

    @Test func writesAndReadsBackEveryField() throws {
        let path = temporaryDirectory().appendingPathComponent("calibration.h5").path
        try CalibrationStore.write(Self.model, to: path)
        #expect(try CalibrationStore.read(from: path) == Self.model)
        // An empty model (nothing measured) round-trips too.
        let empty = MachineModel(machine: "x", cores: 1, sharedHost: false)
        try CalibrationStore.write(empty, to: path)
        #expect(try CalibrationStore.read(from: path) == empty)
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
    }
}
