import Foundation
import Testing
import InfaasCore
@testable import InfaasProfiles

/// The example `.config` shipped in `profiles/examples/` (modelled on the original's worker test record).
let resnetConfig: String = {
    let path = packageRoot().appendingPathComponent("profiles/examples/resnet50_tensorflow-cpu_4.config").path
    return try! String(contentsOfFile: path, encoding: .utf8)
}()

@Suite("Original .config files")
struct ConfigFileTests {
    @Test func parsesEveryFieldAndFitsOverBatchesOneFourEight() throws {
        let v = try ConfigFile.parse(text: resnetConfig, path: "r.config")
        #expect(v.name == "resnet50_tensorflow-cpu_4")
        #expect(v.architecture == "resnet50")
        #expect(v.useCase.name == "classification-imagenet-224")
        #expect(v.hardware == .cpu)
        #expect(v.cpus == 4)
        #expect(v.maxBatch == 64)
        #expect(v.loadLatencyMs == 1589.348217)
        #expect(v.latency.points.map(\.batch) == [1, 4, 8])
        // OLS over (1,250), (4,800), (8,1550).
        let fit = try LatencyFitter.fit(points: v.latency.points, maxBatch: 64)
        #expect(abs(fit.slopeMs - 185.8108108) < 1e-6)
        #expect(v.latency.model == fit)
    }

    /// A `.config` names a CPU variant's cores only through its name: the reference's `…_4`, or
    /// our `…_t2_b8`; a registered `_t2_b8` variant once ran with 1 thread live.
    @Test func coresComeFromEitherNamingScheme() throws {
        #expect(ConfigFile.cpuSuffix("resnet50_tensorflow-cpu_4") == 4)
        #expect(ConfigFile.cpuSuffix("resnet18_onnxruntime-int8static-cpu_t2_b8") == 2)
        #expect(ConfigFile.cpuSuffix("resnet18_onnxruntime-cpu_t1_b1") == 1)
        #expect(ConfigFile.cpuSuffix("tinycnn_onnxruntime-cpu_b8") == nil)
        #expect(ConfigFile.cpuSuffix("t2") == nil)
        #expect(ConfigFile.cpuSuffix("net_t0_b8") == nil)
        let text = resnetConfig.replacingOccurrences(of: "resnet50_tensorflow-cpu_4", with: "resnet50_tensorflow-cpu_t2_b8")
        #expect(try ConfigFile.parse(text: text, path: "r.config").cpus == 2)
    }

    @Test func renderedConfigParsesBackToTheSameVariant() throws {
        let v = try ConfigFile.parse(text: resnetConfig, path: "r.config")
        let again = try ConfigFile.parse(text: ConfigFile.render(v, filename: "saved_model.pb"), path: "r2.config")
        #expect(again.latency == v.latency)
        #expect(again.name == v.name && again.maxBatch == v.maxBatch && again.accuracy == v.accuracy)
        #expect(abs(again.memoryMB! - v.memoryMB!) < 1e-6)
    }

    @Test func unknownKeyIsNamedWithItsLine() {
        let text = resnetConfig.replacingOccurrences(of: "inflatb64 0", with: "inflatb128 0")
        let error = #expect(throws: ProfileError.self) { try ConfigFile.parse(text: text, path: "r.config") }
        #expect(error?.code == .unknownKey)
        #expect(error?.location == "r.config:15")
        #expect(error?.description.contains("\"inflatb128\"") == true)
    }

    @Test func missingKeyIsNamed() {
        let text = resnetConfig.replacingOccurrences(of: "loadlat 1589.348217\n", with: "")
        let error = #expect(throws: ProfileError.self) { try ConfigFile.parse(text: text, path: "r.config") }
        #expect(error?.code == .missingKey)
        #expect(error?.description.contains("loadlat") == true)
        #expect(error?.location == "r.config")
    }

    @Test func lineOverTheOriginalLimitIsRejected() {
        let long = String(repeating: "x", count: 260)
        let text = resnetConfig.replacingOccurrences(of: "filename saved_model.pb", with: "filename \(long)")
        let error = #expect(throws: ProfileError.self) { try ConfigFile.parse(text: text, path: "r.config") }
        #expect(error?.code == .lineTooLong)
        #expect(error?.location == "r.config:3")
    }

    @Test func badNumbersAndAccuracyAreRejected() {
        let slow = resnetConfig.replacingOccurrences(of: "inflatb4 800", with: "inflatb4 -800")
        #expect((#expect(throws: ProfileError.self) { try ConfigFile.parse(text: slow, path: "r.config") })?.location == "r.config:11")
        let accurate = resnetConfig.replacingOccurrences(of: "accuracy 71.2", with: "accuracy 171.2")
        let error = #expect(throws: ProfileError.self) { try ConfigFile.parse(text: accurate, path: "r.config") }
        #expect(error?.description.contains("171.2") == true)
    }

    @Test func maxBatchOneUsesLatencyAsSlope() throws {
        let text = resnetConfig.replacingOccurrences(of: "maxbatch 64", with: "maxbatch 1")
            .replacingOccurrences(of: "framework tensorflow-cpu", with: "framework inferentia")
        let v = try ConfigFile.parse(text: text, path: "inf.config")
        #expect(v.latency.model == LinearLatencyModel(slopeMs: 250, interceptMs: 0))
        #expect(v.hardware == .inferentia)
    }
}
