import Foundation
import Testing

/// Runs the built `infaas` binary (it sits beside the test bundle) as a user would.
struct CLI {
    let home: URL
    static let binary: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("infaas")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        return root.appendingPathComponent(".build/debug/infaas")
    }()
    static let root: URL = {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        return root
    }()

    init() {
        home = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    }

    struct Result { var status: Int32; var out: String; var err: String }

    /// Runs `infaas ARGS` (or the binary under another name, for the original's commands).
    @discardableResult
    func run(_ arguments: [String], as name: String? = nil, environment extra: [String: String] = [:]) throws -> Result {
        var executable = CLI.binary
        if let name {
            executable = home.appendingPathComponent(name)
            if !FileManager.default.fileExists(atPath: executable.path) {
                try FileManager.default.createSymbolicLink(at: executable, withDestinationURL: CLI.binary)
            }
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = CLI.root
        var environment = ProcessInfo.processInfo.environment
        environment["INFAAS_HOME"] = home.appendingPathComponent("state").path
        environment.merge(extra) { _, new in new }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
    }

    func path(_ name: String) -> String { home.appendingPathComponent(name).path }

    /// Imports the bundled table and registers every variant.
    func setUpBundledRegistry() throws {
        let imported = try run(["profiles", "import", "profiles/model_variant_profiles.csv", "-o", path("profiles.h5")])
        #expect(imported.status == 0, "\(imported.err)")
        let registered = try run(["register", "--profiles", path("profiles.h5"), "--all", "--model-url", "file:///srv/models/"])
        #expect(registered.status == 0, "\(registered.err)")
    }
}

@Suite("infaas CLI")
struct CLITests {
    @Test func bundledDataFlowsFromImportToDiscovery() throws {
        let cli = CLI()
        let imported = try cli.run(["profiles", "import", "profiles/model_variant_profiles.csv", "-o", cli.path("profiles.h5")])
        #expect(imported.status == 0)
        #expect(imported.out.contains("Imported 71 variants"))
        #expect(imported.out.contains("Skipped 121 rows"))
        try cli.run(["register", "--profiles", cli.path("profiles.h5"), "--all", "--model-url", "file:///srv/models/"])
        let modarch = try cli.run(["modarch", "classification", "imagenet"])
        #expect(modarch.status == 0)
        for name in ["resnet50", "vgg16", "densenet121", "efficientnetb7"] { #expect(modarch.out.contains(name)) }
        let modinfo = try cli.run(["modinfo", "resnet50"])
        #expect(modinfo.status == 0)
        #expect(modinfo.out.contains("light_resnet50"))
        #expect(modinfo.out.contains("keras.applications.resnet50_gpu"))
        let json = try cli.run(["modinfo", "resnet50", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
        #expect((object?["variants"] as? [Any])?.count == 3)
    }

    @Test func originalCommandNamesPrintTheOriginalsOutput() throws {
        let cli = CLI()
        try cli.setUpBundledRegistry()
        let modarch = try cli.run(["classification", "imagenet"], as: "infaas_modarch")
        #expect(modarch.out.hasPrefix("Model architecture query for classification and imagenet SUCCEEDED\nOptions:\n\talexnet\n"))
        let modinfo = try cli.run(["resnet50"], as: "infaas_modinfo")
        #expect(modinfo.out.contains("Info query for model architecture: resnet50 SUCCEEDED"))
        #expect(modinfo.out.contains("Input dimensions (if classification): 224"))
        #expect(modinfo.out.contains("Variants:\n\tkeras.applications.resnet50_gpu"))
        let unknown = try cli.run(["resnet5"], as: "infaas_modinfo")
        #expect(unknown.out.contains("Info query for model architecture: resnet5 FAILED: Parent model has not been registered"))

        let config = CLI.root.appendingPathComponent("profiles/examples/resnet50_tensorflow-cpu_4.config").path
        let first = try cli.run([config, "my-bucket/resnet50_tensorflow-cpu_4/"], as: "infaas_modelregistration")
        #expect(first.out == "Model registration for resnet50_tensorflow-cpu_4... SUCCEEDED\n")
        // A retry of the same registration succeeds; the same name elsewhere does not.
        let retried = try cli.run([config, "my-bucket/resnet50_tensorflow-cpu_4/"], as: "infaas_modelregistration")
        #expect(retried.out == "Model registration for resnet50_tensorflow-cpu_4... SUCCEEDED\n")
        let again = try cli.run([config, "other-bucket/resnet50_tensorflow-cpu_4/"], as: "infaas_modelregistration")
        #expect(again.out.hasPrefix("Model registration for resnet50_tensorflow-cpu_4... FAILED: Model already exists"))
        #expect(again.status == 0)  // as the original
        let info = try cli.run(["modinfo", "resnet50"])
        #expect(info.out.contains("resnet50_tensorflow-cpu_4"))
    }

    @Test func unknownTaskOrArchitectureFailsWithTheNameAndAFix() throws {
        let cli = CLI()
        try cli.setUpBundledRegistry()
        let task = try cli.run(["modarch", "clasification", "imagenet"])
        #expect(task.status != 0)
        #expect(task.err.contains("unknown task \"clasification\""))
        #expect(task.err.contains("did you mean \"classification\""))
        let arch = try cli.run(["modinfo", "resnet5"])
        #expect(arch.status != 0)
        #expect(arch.err.contains("\"resnet5\"") && arch.err.contains("resnet50"))
    }

    @Test func aRecordedClusterWhoseMasterIsGoneIsSaidSoAndDownClearsIt() throws {
        let cli = CLI()
        let cluster = cli.path("state/cluster")
        try FileManager.default.createDirectory(atPath: cluster, withIntermediateDirectories: true)
        // A pid that is no process: the master was restarted by hand, or killed.
        let record = #"{"master":"127.0.0.1:1","pid":2147483000,"log":"x","startedAt":0,"provider":"local"}"#
        try record.write(toFile: cluster + "/cluster.json", atomically: true, encoding: .utf8)
        try "secret".write(toFile: cluster + "/token", atomically: true, encoding: .utf8)
        // Not silently an empty local registry ("none are registered").
        let modinfo = try cli.run(["modinfo", "resnet50"])
        #expect(modinfo.status != 0)
        #expect(modinfo.err.contains("is not running") && modinfo.err.contains("infaas down"), "\(modinfo.err)")
        #expect(!FileManager.default.fileExists(atPath: cli.path("state/registry.sqlite")))
        let down = try cli.run(["down"])
        #expect(down.status == 0, "\(down.err)")
        #expect(down.err.contains("was not running"))
        #expect(!FileManager.default.fileExists(atPath: cluster + "/cluster.json"))
        #expect(!FileManager.default.fileExists(atPath: cluster + "/token"))
    }

    @Test func unregisterRemovesAVariantFromTheLocalRegistry() throws {
        let cli = CLI()
        try cli.setUpBundledRegistry()
        let removed = try cli.run(["unregister", "keras.applications.resnet50_gpu"])
        #expect(removed.status == 0, "\(removed.err)")
        #expect(removed.out.contains("Unregistered keras.applications.resnet50_gpu"))
        #expect(!(try cli.run(["modinfo", "resnet50"])).out.contains("keras.applications.resnet50_gpu"))
        let again = try cli.run(["unregister", "keras.applications.resnet50_gpu"])
        #expect(again.status != 0 && again.err.contains("has not been registered"))
    }

    @Test func registeringTwiceFailsAndChangesNothing() throws {
        let cli = CLI()
        try cli.setUpBundledRegistry()
        let again = try cli.run(["register", "--profiles", cli.path("profiles.h5"), "--all", "--model-url", "file:///srv/other/"])
        #expect(again.status != 0)
        #expect(again.err.contains("already exists"))
        let retried = try cli.run(["register", "--profiles", cli.path("profiles.h5"), "--all", "--model-url", "file:///srv/models/"])
        #expect(retried.status == 0, "an identical retry succeeds: \(retried.err)")
        let skipping = try cli.run(["register", "--profiles", cli.path("profiles.h5"), "--all", "--model-url", "file:///srv/models/", "--skip-existing"])
        #expect(skipping.status == 0)
        #expect(skipping.out.contains("Registered 0 variants"))
        #expect(skipping.out.contains("Skipped 71 already registered"))
    }

    @Test func badTableFailsWithFileAndLineAndWritesNothing() throws {
        let cli = CLI()
        let csv = cli.path("bad.csv")
        let header = "architecture,variant,framework,hardware,batch,p50_ms,p99_ms,mean_ms,load_ms,memory_mb,accuracy_top1,kind,source"
        try (header + "\nresnet50,r,onnxruntime,cpu,1,-4,5,5,1,,0.7,measured,me\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let result = try cli.run(["profiles", "import", csv, "-o", cli.path("out.h5")])
        #expect(result.status != 0)
        #expect(result.err.contains("\(csv):2"))
        #expect(result.err.contains("p50_ms -4 is negative"))
        #expect(!FileManager.default.fileExists(atPath: cli.path("out.h5")))
        let missing = try cli.run(["profiles", "import", cli.path("absent.csv"), "-o", cli.path("out.h5")])
        #expect(missing.status != 0)
        #expect(missing.err.contains("absent.csv: no such file"))
    }

    @Test func everyCommandsHelpHasAnExample() throws {
        let cli = CLI()
        for command in [["profiles", "import"], ["profiles", "show"], ["profiles", "export-config"], ["register"], ["modarch"], ["modinfo"], ["bench", "profiles"]] {
            let help = try cli.run(command + ["--help"])
            #expect(help.status == 0)
            #expect(help.out.contains("Example"), "no example in `infaas \(command.joined(separator: " ")) --help`")
        }
    }

    @Test func helpShowsDefaultsAsUsersWriteThemAndWrapsParagraphs() throws {
        let cli = CLI()
        let up = try cli.run(["up", "--help"])
        #expect(up.out.contains("(default: cpu=1)"), "\(up.out)")
        for command in [["up"], ["master"], ["simulate"], ["sweep"], ["query", "online"], ["profile"], ["replay"]] {
            let help = try cli.run(command + ["--help"])
            #expect(help.status == 0)
            #expect(!help.out.contains("WorkerCounts(") && !help.out.contains("counts: ["), "infaas \(command) --help shows a Swift value")
            // A paragraph wrapped at 80 columns has no stub line between two long ones (what hard
            // line breaks at another width gave: "…long line / stub / long line / stub").
            let lines = help.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for i in 1..<max(1, lines.count - 1) where !lines[i].hasPrefix("    ") && !lines[i].isEmpty
                && lines[i - 1].count > 70 && lines[i + 1].count > 70 && lines[i].count < 35 && !lines[i].hasSuffix(":") {
                Issue.record("ragged help in infaas \(command.joined(separator: " ")): \(lines[i - 1]) / \(lines[i]) / \(lines[i + 1])")
            }
        }
        let set = try cli.run(["simulate", "--experiment", "experiments/quickstart.yaml", "--set", "utilization_threshold"])
        #expect(set.status != 0)
        #expect(set.err.contains("utilization_threshold=70 (a percentage)") && !set.err.contains("=0.8"), "\(set.err)")
    }

    @Test func exportedConfigReimports() throws {
        let cli = CLI()
        try cli.run(["profiles", "import", "profiles/model_variant_profiles.csv", "-o", cli.path("profiles.h5")])
        let export = try cli.run(["profiles", "export-config", cli.path("profiles.h5"), "--variant", "light_densenet121", "-o", cli.path("d.config")])
        #expect(export.status == 0, "\(export.err)")
        let text = try String(contentsOfFile: cli.path("d.config"), encoding: .utf8)
        #expect(text.contains("varname light_densenet121\n"))
        #expect(text.contains("inflatb8 333.873\n"))
        let reimport = try cli.run(["profiles", "import", cli.path("d.config"), "-o", cli.path("d.h5")])
        #expect(reimport.status == 0, "\(reimport.err)")
    }
}
