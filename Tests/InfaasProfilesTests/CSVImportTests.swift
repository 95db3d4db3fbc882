import Testing
import InfaasCore
@testable import InfaasProfiles

@Suite("Profile table import")
struct CSVImportTests {
    @Test func importsPointsPerVariantAndFitsTheReferenceLine() throws {
        let rows = [csvHeader] + [(1, "3.5"), (4, "8"), (8, "14"), (16, "40")].map { csvRow(batch: String($0.0), p50: $0.1) }
        let report = try ProfileCSVImporter.parse(text: rows.joined(separator: "\n"), path: "t.csv")
        #expect(report.variants.count == 1)
        let v = try #require(report.variants.first)
        #expect(v.name == "light_resnet50")
        #expect(v.hardware == .cpu)
        #expect(v.framework == .onnxruntimeCPU)
        #expect(v.cpus == 2)
        #expect(v.maxBatch == 16)
        #expect(v.accuracy == 76.1)
        #expect(v.loadLatencyMs == 250)
        #expect(v.latency.points.map(\.batch) == [1, 4, 8, 16])
        // Reference §2.3: only batches 1, 4, 8 enter the fit; the line through them is exact.
        #expect(abs(v.latency.model.slopeMs - 1.5) < 1e-9)
        #expect(abs(v.latency.model.interceptMs - 2.0) < 1e-9)
        #expect(v.useCase.name == "classification-imagenet-224")
    }

    @Test func sameVariantOnCPUAndGPUIsTwoVariants() throws {
        let text = [csvHeader,
                    csvRow(variant: "keras.applications.ResNet50", framework: "keras/tensorflow", hardware: "\"AMD EPYC Processor (with IBPB), 92 cores\"", batch: "32", p50: "", mean: "58.2", kind: "published"),
                    csvRow(variant: "keras.applications.ResNet50", framework: "keras/tensorflow", hardware: "NVIDIA Tesla A100", batch: "32", p50: "", mean: "4.6", kind: "published")]
        let report = try ProfileCSVImporter.parse(text: text.joined(separator: "\n"), path: "t.csv")
        #expect(report.variants.map(\.name) == ["keras.applications.resnet50_cpu", "keras.applications.resnet50_gpu"])
        #expect(report.variants.map(\.framework) == [.tensorflowCPU, .tensorflowGPU])
        // One point at batch 32: the line through the origin.
        #expect(abs(report.variants[1].predictedLatencyMs(batch: 32) - 4.6) < 1e-9)
    }

    @Test func metadataRowsAreReportedAsSkippedNotDropped() throws {
        let text = [csvHeader, csvRow(), "resnet18,torchvision ResNet18,pytorch/torchvision,,,,,,,,,0.69758,0.89078,11689512,1.814,44.7,,published,tv,"]
        let report = try ProfileCSVImporter.parse(text: text.joined(separator: "\n"), path: "t.csv")
        #expect(report.variants.count == 1)
        #expect(report.skipped.count == 1)
        #expect(report.skipped[0].location == "t.csv:3")
    }

    @Test func missingColumnIsNamed() {
        let header = csvHeader.replacingOccurrences(of: "p99_ms,", with: "")
        let error = #expect(throws: ProfileError.self) { try ProfileCSVImporter.parse(text: header + "\n", path: "t.csv") }
        #expect(error?.code == .missingColumn)
        #expect(error?.description.contains("\"p99_ms\"") == true)
        #expect(error?.description.contains("t.csv:1") == true)
    }

    @Test(arguments: [
        (csvRow(p50: "fast"), "p50_ms \"fast\" is not a number", "t.csv:2"),
        (csvRow(p99: "-3"), "p99_ms -3 is negative", "t.csv:2"),
        (csvRow(accuracy: "76.1"), "accuracy_top1 76.1 is outside 0–100 %", "t.csv:2"),
        (csvRow(accuracy: "-0.1"), "accuracy_top1 -0.1 is outside 0–100 %", "t.csv:2"),
        (csvRow(batch: "0"), "batch \"0\" is not an integer ≥ 1", "t.csv:2"),
        (csvRow(kind: "guessed"), "kind \"guessed\" is not one of", "t.csv:2"),
    ])
    func badValuesNameTheValueAndLine(row: String, message: String, location: String) {
        let error = #expect(throws: ProfileError.self) { try ProfileCSVImporter.parse(text: csvHeader + "\n" + row, path: "t.csv") }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.location == location)
    }

    @Test func duplicateVariantAndBatchIsAnErrorNamingBothLines() {
        let text = [csvHeader, csvRow(batch: "1"), csvRow(batch: "2"), csvRow(batch: "1")].joined(separator: "\n")
        let error = #expect(throws: ProfileError.self) { try ProfileCSVImporter.parse(text: text, path: "t.csv") }
        #expect(error?.code == .duplicate)
        #expect(error?.location == "t.csv:4")
        #expect(error?.description.contains("line 2") == true)
        #expect(error?.description.contains("light_resnet50") == true)
    }

    @Test func quotedFieldsWithCommasAndUnclosedQuotes() throws {
        let table = try CSVTable(text: "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n", path: "q.csv")
        #expect(table.records[0].fields == ["x, y", "say \"hi\""])
        let error = #expect(throws: ProfileError.self) { try CSVTable(text: "a,b\n\"open,2\n", path: "q.csv") }
        #expect(error?.location == "q.csv:2")
    }

    @Test func inputSideComesFromEitherLayout() throws {
        #expect(try ProfileCSVImporter.inputSide("1x3x224x224", at: "") == 224)
        #expect(try ProfileCSVImporter.inputSide("1x192x192x3", at: "") == 192)
        #expect(try ProfileCSVImporter.inputSide("1x3x48x192", at: "") == 192)
        #expect(throws: ProfileError.self) { try ProfileCSVImporter.inputSide("224", at: "x") }
    }

    @Test func missingAndNonUTF8FilesAreClearErrors() throws {
        let missing = temporaryDirectory().appendingPathComponent("absent.csv").path
        let error = #expect(throws: ProfileError.self) { try ProfileImporter.importFiles([missing]) }
        #expect(error?.code == .fileNotFound)
        #expect(error?.location == missing)
        let directory = temporaryDirectory().path
        let unreadable = #expect(throws: ProfileError.self) { try ProfileImporter.importFiles([directory]) }
        #expect(unreadable?.code == .unreadable)
        #expect(unreadable?.location == directory)
        let wrongExtension = file("table.txt", csvHeader)
        #expect(throws: ProfileError.self) { try ProfileImporter.importFiles([wrongExtension]) }
    }

    @Test func bundledTableImportsCompletely() throws {
        let path = packageRoot().appendingPathComponent("profiles/model_variant_profiles.csv").path
        let report = try ProfileImporter.importFiles([path])
        // 208 rows: 87 carry latency (27 measured + 52 Keras CPU/GPU + 8 MLPerf), 121 are metadata.
        #expect(report.rowsRead == 208)
        #expect(report.skipped.count + report.variants.reduce(0) { $0 + $1.latency.points.count } == 208)
        #expect(report.variants.contains { $0.name == "light_resnet50" })
        #expect(report.variants.allSatisfy { $0.latency.model.slopeMs.isFinite })
    }
}
