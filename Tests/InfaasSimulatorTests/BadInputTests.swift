import Foundation
import Testing
import InfaasCore
import InfaasPolicies
import InfaasSimulator
import InfaasTraces

func writeFile(_ name: String, _ text: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

let catalogueCSV = root.appendingPathComponent("profiles/catalogue.csv").path

func experiment(_ body: String) -> String {
    writeFile("e.yaml", """
        name: t
        profiles: \(catalogueCSV)
        workers: {cpu: 1}
        max_workers: {cpu: 2}
        \(body)
        """)
}

@Suite("Bad experiment and trace input")
struct BadInputTests {
    @Test func malformedYAMLIsReportedWithItsPosition() {
        let path = writeFile("m.yaml", "name: t\napplications: [\n  - {target: resnet50\n")
        let error = #expect(throws: ExperimentError.self) { try ExperimentSpec.load(path: path) }
        #expect(error?.description.contains("malformed YAML") == true)
        #expect(error?.description.contains("line") == true || error?.description.contains(":3") == true || error?.description.contains(":4") == true)
    }

    @Test func unknownKeyIsNamedWithItsLine() {
        let path = experiment("""
            applications:
              - target: resnet50
                slo_ms: 300
                arivals: {process: poisson, rate: 5}
            """)
        let error = #expect(throws: ExperimentError.self) { try ExperimentSpec.load(path: path) }
        #expect(error?.description.contains("unknown key \"arivals\"") == true)
        #expect(error?.description.contains("did you mean \"arrivals\"") == true)
        #expect(error?.location == "\(path):8")
    }

    @Test func badValuesNameTheKeyAndLine() {
        let path = experiment("""
            applications:
              - target: resnet50
                slo_ms: fast
                arrivals: {process: poisson, rate: 5}
            """)
        let error = #expect(throws: ExperimentError.self) { try ExperimentSpec.load(path: path) }
        #expect(error?.description.contains("slo_ms must be a number") == true)
        #expect(error?.location == "\(path):7")
    }

    @Test func diurnalArrivalsTakeAPhase() throws {
        let spec = try ExperimentSpec.load(path: experiment("""
            applications:
              - target: resnet50
                slo_ms: 300
                arrivals: {process: diurnal, mean_rate: 5, amplitude: 0.5, period_s: 600, phase_s: 150}
              - target: resnet50
                slo_ms: 300
                arrivals: {process: diurnal, mean_rate: 5, amplitude: 0.5, period_s: 600}
            """))
        #expect(spec.applications[0].arrivals == .process(.diurnal(meanRate: 5, amplitude: 0.5, periodSeconds: 600, phaseSeconds: 150)))
        #expect(spec.applications[1].arrivals == .process(.diurnal(meanRate: 5, amplitude: 0.5, periodSeconds: 600, phaseSeconds: 0)))
        let error = #expect(throws: ExperimentError.self) { try ExperimentSpec.load(path: experiment("""
            applications:
              - target: resnet50
                slo_ms: 300
                arrivals: {process: diurnal, mean_rate: 5, amplitude: 0.5, period_s: 600, phase: 150}
            """)) }
        #expect(error?.description.contains("did you mean \"phase_s\"") == true)
    }

    @Test func maxWorkersOfZeroIsRejected() {
        let path = writeFile("z.yaml", """
            profiles: \(catalogueCSV)
            workers: {cpu: 0}
            max_workers: {cpu: 0, gpu: 0, inf: 0}
            applications:
              - target: resnet50
                slo_ms: 300
                arrivals: {process: poisson, rate: 5}
            """)
        let error = #expect(throws: ExperimentError.self) { try ExperimentSpec.load(path: path) }
        #expect(error?.description.contains("max_workers") == true)
    }

    @Test func unknownApplicationTargetSuggestsNames() throws {
        let spec = try ExperimentSpec.load(path: experiment("""
            applications:
              - target: resnet5
                slo_ms: 300
                arrivals: {process: poisson, rate: 5}
            """))
        let error = #expect(throws: ExperimentError.self) { try ExperimentRunner(spec: spec).run() }
        #expect(error?.description.contains("unknown target \"resnet5\"") == true)
        #expect(error?.description.contains("resnet50") == true)
    }

    @Test func catalogueWithNoVariantMeetingTheObjectivesIsAnError() throws {
        let spec = try ExperimentSpec.load(path: experiment("""
            applications:
              - name: impossible
                target: classification/imagenet
                slo_ms: 0.01
                min_accuracy: 99
                arrivals: {process: poisson, rate: 5}
            """))
        let error = #expect(throws: ExperimentError.self) { try ExperimentRunner(spec: spec).run() }
        #expect(error?.description.contains("no variant meets") == true)
        #expect(error?.description.contains("impossible") == true)
    }

    @Test func unknownTargetsInTraceRowsAreRejectedWithTheirRows() throws {
        let trace = writeFile("q.csv", """
            time_s,target,batch,slo_ms,min_accuracy
            0.0,resnet50,1,300,
            0.5,resnet_fifty,1,300,
            1.0,resnet50,1,300,
            """)
        let spec = try ExperimentSpec.load(path: experiment("""
            applications:
              - target: resnet50
                slo_ms: 300
                arrivals: {trace: \(trace)}
            """))
        let result = try ExperimentRunner(spec: spec).run()
        #expect(result.metrics.arrivals == 3)
        #expect(result.metrics.rejectedByReason[.unknownTarget] == 1)
        #expect(result.metrics.unknownTargetRows == [3])
        #expect(result.metrics.served == 2)
    }

    @Test func unsortedTraceIsAClearErrorUnlessSorted() throws {
        let trace = writeFile("u.csv", "time_s,target,batch,slo_ms,min_accuracy\n2.0,resnet50,1,300,\n1.0,resnet50,1,300,\n")
        let spec = try ExperimentSpec.load(path: experiment("""
            applications:
              - target: resnet50
                slo_ms: 300
                arrivals: {trace: \(trace)}
            """))
        let error = #expect(throws: ExperimentError.self) { try ExperimentRunner(spec: spec).run() }
        #expect(error?.description.contains("earlier than the row before") == true)
        #expect(error?.description.contains("\(trace):3") == true)
        var sorted = ExperimentRunner(spec: spec)
        sorted.sortTraces = true
        #expect(try sorted.run().metrics.arrivals == 2)
    }

    @Test func emptyTraceIsAClearError() throws {
        let trace = writeFile("e.csv", "time_s,target,batch,slo_ms,min_accuracy\n")
        let spec = try ExperimentSpec.load(path: experiment("""
            applications:
              - target: resnet50
                slo_ms: 300
                arrivals: {trace: \(trace)}
            """))
        let error = #expect(throws: ExperimentError.self) { try ExperimentRunner(spec: spec).run() }
        #expect(error?.description.contains("no arrivals") == true)
    }

    @Test func missingProfilesAndTracesAreNamed() throws {
        var spec = try ExperimentSpec.load(path: experiment("""
            applications:
              - target: resnet50
                slo_ms: 300
                arrivals: {trace: /nonexistent/trace.csv}
            """))
        #expect((#expect(throws: ExperimentError.self) { try ExperimentRunner(spec: spec).run() })?.description.contains("/nonexistent/trace.csv") == true)
        spec.profiles = "/nonexistent/profiles.h5"
        #expect((#expect(throws: ExperimentError.self) { try ExperimentRunner(spec: spec).run() })?.description.contains("/nonexistent/profiles.h5") == true)
    }
}
