import Foundation
import Testing
import InfaasCore
@testable import InfaasTraces

func traceFile(_ name: String, _ text: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("traces-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let url = dir.appendingPathComponent(name)
    try! text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

let repository: URL = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}()

@Suite("Trace files")
struct TraceFileTests {
    @Test func timestampsParseToEpochNanoseconds() {
        #expect(AzureLLMTrace.parseTimestamp("2023-11-16 18:17:03.9799600") == 1_700_158_623_979_960_000)
        #expect(AzureLLMTrace.parseTimestamp("1970-01-01 00:00:01") == 1_000_000_000)
        #expect(AzureLLMTrace.parseTimestamp("2023-13-16 18:17:03") == nil)
        #expect(AzureLLMTrace.parseTimestamp("yesterday") == nil)
    }

    @Test func bundledAzureCodeTraceStreamsEveryRequestInOrder() throws {
        var trace = try AzureLLMTrace(path: repository.appendingPathComponent("traces/AzureLLMInferenceTrace_code.csv").path)
        var count = 0
        var last = SimTime.zero
        while let arrival = try trace.next() {
            if count == 0 { #expect(arrival.time == .zero) }
            #expect(arrival.time >= last)
            last = arrival.time
            count += 1
        }
        // 8,819 rows: the file has no final newline, so `wc -l` (and the shared data README) say 8,818.
        #expect(count == 8_819)
        // 18:17:03.97996 → 19:14:19.x: about 57 minutes.
        #expect(last.seconds > 56 * 60 && last.seconds < 58 * 60)
    }

    @Test func azureTraceErrorsNameTheLine() throws {
        let unsorted = traceFile("u.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.5,1,1\n2023-11-16 18:17:02.0,1,1\n")
        var trace = try AzureLLMTrace(path: unsorted)
        let error = #expect(throws: TraceError.self) { _ = try trace.collect() }
        #expect(error?.code == .unsorted)
        #expect(error?.location == "\(unsorted):3")
        let bad = traceFile("b.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n16/11/2023,1,1\n")
        var badTrace = try AzureLLMTrace(path: bad)
        #expect((#expect(throws: TraceError.self) { _ = try badTrace.collect() })?.location == "\(bad):2")
        let header = traceFile("h.csv", "time,tokens\n")
        #expect((#expect(throws: TraceError.self) { try AzureLLMTrace(path: header) })?.code == .badHeader)
        #expect((#expect(throws: TraceError.self) { try AzureLLMTrace(path: "/nonexistent/trace.csv") })?.code == .fileNotFound)
    }

    @Test func ourCSVCarriesTargetsAndObjectives() throws {
        let path = traceFile("q.csv", """
            time_s,target,batch,slo_ms,min_accuracy
            0.0,resnet50,1,300,
            0.5,classification/imagenet,2,100,75
            0.5,resnet50_tensorflow-cpu_4,1,,
            """)
        var trace = try QueryTraceCSV(path: path)
        let arrivals = try trace.collect()
        #expect(arrivals.count == 3)
        #expect(arrivals[1] == Arrival(time: .milliseconds(500), target: "classification/imagenet", batch: 2, sloMs: 100, minAccuracy: 75, row: 3))
        #expect(arrivals[2].sloMs == nil && arrivals[2].minAccuracy == nil)
    }

    @Test(arguments: [
        ("time_s,target,batch,slo_ms,min_accuracy\n-1,resnet50,1,300,\n", "time_s \"-1\""),
        ("time_s,target,batch,slo_ms,min_accuracy\n1,resnet50,0,300,\n", "batch \"0\""),
        ("time_s,target,batch,slo_ms,min_accuracy\n1,,1,300,\n", "empty target"),
        ("time_s,target,batch,slo_ms,min_accuracy\n1,resnet50,1,300,120\n", "min_accuracy \"120\""),
        ("time_s,target,batch,slo_ms,min_accuracy\n2,resnet50,1,300,\n1,resnet50,1,300,\n", "earlier than the row before"),
    ])
    func ourCSVRejectsBadRows(text: String, message: String) throws {
        let path = traceFile("bad.csv", text)
        var trace = try QueryTraceCSV(path: path)
        let error = #expect(throws: TraceError.self) { _ = try trace.collect() }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.location.hasPrefix("\(path):") == true)
    }

    @Test func ourCSVNeedsItsHeaderAndRows() throws {
        let noColumn = traceFile("n.csv", "time_s,target,batch\n1,resnet50,1\n")
        let error = #expect(throws: TraceError.self) { try QueryTraceCSV(path: noColumn) }
        #expect(error?.description.contains("slo_ms, min_accuracy") == true)
        #expect((#expect(throws: TraceError.self) { try QueryTraceCSV(path: traceFile("e.csv", "")) })?.code == .empty)
    }

    @Test func sortedReplayFixesOrder() throws {
        let path = traceFile("s.csv", "time_s,target,batch,slo_ms,min_accuracy\n2,b,1,,\n1,a,1,,\n")
        // The checking reader refuses the file; with the check off, SortedArrivals puts it in order.
        #expect(throws: TraceError.self) { try SortedArrivals(QueryTraceCSV(path: path)) }
        var sorted = try SortedArrivals(QueryTraceCSV(path: path, checkOrder: false))
        #expect(try sorted.collect().map(\.target) == ["a", "b"])
    }

    @Test func azureFunctionsCountsBecomeArrivalsPerMinute() throws {
        let path = traceFile("f.csv", """
            HashOwner,HashApp,HashFunction,Trigger,1,2,3
            o1,a1,f1,http,2,0,1
            o2,a2,f2,timer,0,3,0
            """)
        var trace = try AzureFunctionsTrace(path: path, applications: 2, seed: 5)
        #expect(trace.totalInvocations == 6)
        let arrivals = try trace.collect()
        #expect(arrivals.count == 6)
        #expect(arrivals.map(\.time) == arrivals.map(\.time).sorted())
        #expect(arrivals.filter { $0.time.seconds < 60 }.allSatisfy { $0.application == 0 })
        #expect(arrivals.filter { $0.time.seconds >= 60 && $0.time.seconds < 120 }.map(\.application) == [1, 1, 1])
        var again = try AzureFunctionsTrace(path: path, applications: 2, seed: 5)
        #expect(try again.collect() == arrivals)
        let bad = traceFile("g.csv", "HashOwner,HashApp,HashFunction,Trigger,1,3\n")
        #expect((#expect(throws: TraceError.self) { try AzureFunctionsTrace(path: bad) })?.code == .badHeader)
        let negative = traceFile("h.csv", "HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,http,1,-2\n")
        #expect((#expect(throws: TraceError.self) { try AzureFunctionsTrace(path: negative) })?.location == "\(negative):2")
    }
}

@Suite("Synthetic arrivals")
struct SyntheticTests {
    func rate(_ arrivals: [Arrival], from: Double, to: Double) -> Double {
        Double(arrivals.filter { $0.time.seconds >= from && $0.time.seconds < to }.count) / (to - from)
    }

    @Test func poissonHasItsRateAndIsSeeded() throws {
        var a = try SyntheticArrivals(.poisson(rate: 100), durationSeconds: 600, seed: 3)
        let arrivals = try a.collect()
        #expect(abs(Double(arrivals.count) / 600 - 100) < 3)
        var same = try SyntheticArrivals(.poisson(rate: 100), durationSeconds: 600, seed: 3)
        var other = try SyntheticArrivals(.poisson(rate: 100), durationSeconds: 600, seed: 4)
        #expect(try same.collect() == arrivals)
        #expect(try other.collect(limit: 10) != Array(arrivals.prefix(10)))
        #expect(arrivals.allSatisfy { $0.time.seconds < 600 })
    }

    @Test func onOffBurstsAverageTheirDutyCycle() throws {
        var s = try SyntheticArrivals(.onOff(onRate: 200, offRate: 10, meanOnSeconds: 5, meanOffSeconds: 15), durationSeconds: 20_000, seed: 9)
        let arrivals = try s.collect()
        // Expected mean rate: (200·5 + 10·15) / 20 = 57.5 q/s.
        #expect(abs(Double(arrivals.count) / 20_000 - 57.5) < 57.5 * 0.1)
        // Burstiness: some one-second windows far above the mean.
        let perSecond = Dictionary(grouping: arrivals, by: { Int($0.time.seconds) }).mapValues(\.count)
        #expect((perSecond.values.max() ?? 0) > 150)
    }

    @Test func diurnalPeaksAndTroughs() throws {
        var s = try SyntheticArrivals(.diurnal(meanRate: 50, amplitude: 0.8, periodSeconds: 400), durationSeconds: 4000, seed: 2)
        let arrivals = try s.collect()
        #expect(abs(Double(arrivals.count) / 4000 - 50) < 2.5)
        // Peak near t = 100 s (sin = 1) of each period, trough near t = 300 s.
        let peak = (0..<10).map { rate(arrivals, from: Double($0) * 400 + 80, to: Double($0) * 400 + 120) }.reduce(0, +) / 10
        let trough = (0..<10).map { rate(arrivals, from: Double($0) * 400 + 280, to: Double($0) * 400 + 320) }.reduce(0, +) / 10
        #expect(peak > 80 && trough < 20)
    }

    @Test func diurnalPhaseShiftsTheCycle() throws {
        // A quarter-period phase starts at the peak: the peak moves from t = 100 s to t = 0 s.
        var s = try SyntheticArrivals(.diurnal(meanRate: 50, amplitude: 0.8, periodSeconds: 400, phaseSeconds: 100),
                                      durationSeconds: 4000, seed: 2)
        let arrivals = try s.collect()
        #expect(abs(Double(arrivals.count) / 4000 - 50) < 2.5)
        let peak = (1..<10).map { rate(arrivals, from: Double($0) * 400 - 20, to: Double($0) * 400 + 20) }.reduce(0, +) / 9
        let trough = (0..<10).map { rate(arrivals, from: Double($0) * 400 + 180, to: Double($0) * 400 + 220) }.reduce(0, +) / 10
        #expect(peak > 80 && trough < 20)
    }

    @Test func stepsChangeTheRate() throws {
        var s = try SyntheticArrivals(.steps([.init(atSeconds: 0, rate: 10), .init(atSeconds: 100, rate: 100), .init(atSeconds: 200, rate: 0)]),
                                      durationSeconds: 300, seed: 1)
        let arrivals = try s.collect()
        #expect(abs(rate(arrivals, from: 0, to: 100) - 10) < 2)
        #expect(abs(rate(arrivals, from: 100, to: 200) - 100) < 6)
        #expect(rate(arrivals, from: 200, to: 300) == 0)
    }

    @Test(arguments: [
        ArrivalProcess.poisson(rate: 0), .onOff(onRate: 0, offRate: 0, meanOnSeconds: 1, meanOffSeconds: 1),
        .diurnal(meanRate: 1, amplitude: 2, periodSeconds: 1), .diurnal(meanRate: 1, amplitude: 0.5, periodSeconds: 1, phaseSeconds: .infinity),
        .steps([]),
        .steps([.init(atSeconds: 5, rate: 1), .init(atSeconds: 1, rate: 1)]),
    ])
    func badParametersAreRejected(process: ArrivalProcess) {
        #expect(throws: TraceError.self) { try SyntheticArrivals(process, durationSeconds: 10, seed: 1) }
    }
}

@Suite("Trace transforms")
struct TransformTests {
    @Test func speedUpDividesTimes() throws {
        var s = try SpeedUp(SyntheticArrivals(.poisson(rate: 10), durationSeconds: 100, seed: 1), factor: 4)
        var base = try SyntheticArrivals(.poisson(rate: 10), durationSeconds: 100, seed: 1)
        let fast = try s.collect(), slow = try base.collect()
        #expect(fast.count == slow.count)
        #expect(zip(fast, slow).allSatisfy { abs($0.time.seconds * 4 - $1.time.seconds) < 1e-6 })
        #expect(throws: TraceError.self) { try SpeedUp(base, factor: 0) }
    }

    @Test func rateScaleMultipliesTheCount() throws {
        var base = try SyntheticArrivals(.poisson(rate: 50), durationSeconds: 200, seed: 1)
        let n = try base.collect().count
        var double = try RateScale(SyntheticArrivals(.poisson(rate: 50), durationSeconds: 200, seed: 1), factor: 2, seed: 7)
        #expect(try double.collect().count == 2 * n)
        var half = try RateScale(SyntheticArrivals(.poisson(rate: 50), durationSeconds: 200, seed: 1), factor: 0.5, seed: 7)
        let halved = try half.collect()
        #expect(abs(Double(halved.count) - Double(n) / 2) < Double(n) * 0.05)
        #expect(halved.map(\.time) == halved.map(\.time).sorted())
    }

    @Test func mergeInterleavesApplicationsInTimeOrder() throws {
        let a = try SyntheticArrivals(.poisson(rate: 20), durationSeconds: 50, application: 0, seed: 1)
        let b = try SyntheticArrivals(.poisson(rate: 5), durationSeconds: 50, application: 1, seed: 2)
        var merged = try MergedArrivals([a, b])
        let all = try merged.collect()
        #expect(all.map(\.time) == all.map(\.time).sorted())
        #expect(Set(all.map(\.application)) == [0, 1])
    }
}
