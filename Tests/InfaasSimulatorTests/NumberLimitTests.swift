import Foundation
import Testing
import InfaasCore
import InfaasSimulator
import InfaasTraces

/// Every example of issue 13 that trapped or hung the simulator is a clean error naming the key.
@Suite("Numbers from experiment files are bounded")
struct NumberLimitTests {
    static func app(_ extra: String = "", arrivals: String = "{process: poisson, rate: 5}") -> String {
        """
        applications:
          - target: resnet50
            slo_ms: 300
        \(extra.isEmpty ? "" : "    " + extra + "\n")    arrivals: \(arrivals)
        """
    }

    static func refused(_ body: String, naming key: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let path = experiment(body)
        let error = #expect(throws: ExperimentError.self, sourceLocation: sourceLocation) { try ExperimentSpec.load(path: path) }
        #expect(error?.description.contains(key) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.location.hasPrefix(path) == true, sourceLocation: sourceLocation)
    }

    @Test func durationsAndIntervalsTooLargeToConvertAreRefused() {
        Self.refused("duration_s: 1e10\n" + Self.app(), naming: "duration_s must be a number in 0.001…100000000")
        Self.refused("timeseries_interval_s: 1e300\n" + Self.app(), naming: "timeseries_interval_s")
        Self.refused("duration_s: 100000\ntimeseries_interval_s: 0.001\n" + Self.app(), naming: "intervals")
    }

    @Test func slosBatchesAndRatesAreBounded() {
        Self.refused("""
            applications:
              - target: resnet50
                slo_ms: 1e300
                arrivals: {process: poisson, rate: 5}
            """, naming: "slo_ms")
        Self.refused(Self.app("batch: 4294967296"), naming: "batch")
        Self.refused(Self.app(arrivals: "{process: poisson, rate: 1e12}"), naming: "rate")
        Self.refused(Self.app(arrivals: "{trace: x.csv, rate_scale: 1e9}"), naming: "rate_scale")
        Self.refused(Self.app(arrivals: "{trace: x.csv, speedup: 1e-9}"), naming: "speedup")
        Self.refused(Self.app(arrivals: "{process: onoff, on_rate: 5, off_rate: 1, mean_on_s: 1e-9, mean_off_s: 1}"), naming: "mean_on_s")
        Self.refused(Self.app(arrivals: "{process: steps, steps: [[0, 1e12]]}"), naming: "step rate")
    }

    @Test func workerCountsAreBounded() {
        let path = writeFile("w.yaml", """
            name: t
            profiles: \(catalogueCSV)
            workers: {cpu: 100000}
            \(Self.app())
            """)
        let error = #expect(throws: ExperimentError.self) { try ExperimentSpec.load(path: path) }
        #expect(error?.description.contains("workers.cpu must be an integer in 0…10000") == true, "\(String(describing: error))")
    }

    @Test func aSweepRateScaleOf1e19IsRefusedWhenTheFileIsRead() throws {
        Self.refused(Self.app() + "\nsweep:\n  rate_scale: [1, 1e19]\n", naming: "rate_scale must be a number in 1e-06…10000")
        var spec = try ExperimentSpec.load(path: experiment(Self.app()))
        let flag = #expect(throws: ExperimentError.self) { try spec.apply([try ExperimentOverride(flag: "rate_scale=1e19")]) }
        #expect(flag?.description.contains("rate_scale") == true, "\(String(describing: flag))")
    }

    @Test func processesAndTransformsRefuseValuesThatWouldHang() {
        #expect(throws: TraceError.self) { try ArrivalProcess.poisson(rate: 1e12).validate() }
        #expect(throws: TraceError.self) { try ArrivalProcess.onOff(onRate: 1, offRate: 1, meanOnSeconds: 1e-9, meanOffSeconds: 1).validate() }
        #expect(throws: TraceError.self) { try SyntheticArrivals(.poisson(rate: 1), durationSeconds: 1e300, seed: 1) }
        let stream = AnyArrivalStream(try! SyntheticArrivals(.poisson(rate: 1), durationSeconds: 10, seed: 1))
        #expect(throws: TraceError.self) { try SpeedUp(stream, factor: 1e-9) }
        let scale = #expect(throws: TraceError.self) { try RateScale(stream, factor: 1e19, seed: 1) }
        #expect(scale?.message.contains("1e-06…10000") == true, "\(String(describing: scale))")
    }
}
