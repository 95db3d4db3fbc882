import Foundation
import Testing
import InfaasCore
@testable import InfaasTraces

@Suite("Trace readers never trap on numbers")
struct TraceLimitTests {
    static func file(_ text: String) -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("trace-limits-\(UUID().uuidString).csv").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func azureTimestampsWithManyFractionDigitsParseAndOutOfRangeYearsAreErrors() throws {
        let digits = String(repeating: "7", count: 40)
        var trace = try AzureLLMTrace(path: Self.file("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.\(digits),1,1\n2023-11-16 18:15:47.5,1,1\n"))
        let arrivals = try trace.collect()
        #expect(arrivals.map(\.time.nanoseconds) == [0, 1_000_000_000 - 777_777_777 + 500_000_000])
        for year in ["1500", "2300", "9999"] {
            var bad = try AzureLLMTrace(path: Self.file("TIMESTAMP,ContextTokens,GeneratedTokens\n\(year)-01-01 00:00:00,1,1\n"))
            let error = #expect(throws: TraceError.self) { _ = try bad.collect() }
            #expect(error?.message.contains("1678…2261") == true, "\(String(describing: error))")
        }
        var span = try AzureLLMTrace(path: Self.file("TIMESTAMP,ContextTokens,GeneratedTokens\n1700-01-01 00:00:00,1,1\n2250-01-01 00:00:00,1,1\n"))
        let spanError = #expect(throws: TraceError.self) { _ = try span.collect() }
        #expect(spanError?.message.contains("after the first row") == true)
    }

    @Test func queriesCSVTimesAndBatchesAreBounded() throws {
        var late = try QueryTraceCSV(path: Self.file("time_s,target,batch,slo_ms,min_accuracy\n9.3e9,resnet50,1,,\n"))
        let error = #expect(throws: TraceError.self) { _ = try late.collect() }
        #expect(error?.message.contains("time_s") == true && error?.message.contains("1000000000") == true)
        var big = try QueryTraceCSV(path: Self.file("time_s,target,batch,slo_ms,min_accuracy\n1,resnet50,99999999999,,\n"))
        #expect(throws: TraceError.self) { _ = try big.collect() }
    }

    @Test func errorsQuoteAnExcerptNotAWholeLine() throws {
        let long = String(repeating: "x", count: 1_000_000)
        var trace = try QueryTraceCSV(path: Self.file("time_s,target,batch,slo_ms,min_accuracy\n\(long),resnet50,1,,\n"))
        let error = #expect(throws: TraceError.self) { _ = try trace.collect() }
        #expect((error?.description.count ?? .max) < 300)
    }

    @Test func azureFunctionsCountsThatWouldHangAreRefused() {
        let path = Self.file("HashOwner,HashApp,HashFunction,Trigger,1,2\na,b,c,http,\(Int32.max),0\n")
        let error = #expect(throws: TraceError.self) { try AzureFunctionsTrace(path: path) }
        #expect(error?.message.contains("minute 1") == true && error?.message.contains("6000000") == true, "\(String(describing: error))")
    }
}
