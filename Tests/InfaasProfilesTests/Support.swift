import Foundation
import Testing

func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("profiles-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `text` to a new file named `name` and returns its path.
func file(_ name: String, _ text: String) -> String {
    let url = temporaryDirectory().appendingPathComponent(name)
    try! text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
}

/// The shared data directory (`../shared/data` from the package root), when present.
func sharedData() -> URL? {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    let candidates = [url.appendingPathComponent("../shared/data"), url.appendingPathComponent("profiles/..")]
    return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("profiles/model_variant_profiles.csv").path) }?.standardized
}

/// The package root.
func packageRoot() -> URL {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url
}

let csvHeader = "architecture,variant,framework,hardware,batch,p50_ms,p90_ms,p99_ms,mean_ms,load_ms,memory_mb,accuracy_top1,accuracy_top5,params,gflops,size_mb,input_shape,kind,source,notes"

func csvRow(arch: String = "resnet50", variant: String = "light_resnet50", framework: String = "\"onnxruntime-1.32.0 (CPU EP, intra_op_threads=2)\"",
            hardware: String = "\"AMD EPYC, 2 vCPU dev VM\"", batch: String = "1", p50: String = "10.0", p99: String = "12.0",
            mean: String = "10.5", load: String = "250", accuracy: String = "0.761", shape: String = "1x3x224x224",
            kind: String = "measured") -> String {
    "\(arch),\(variant),\(framework),\(hardware),\(batch),\(p50),,\(p99),\(mean),\(load),,\(accuracy),,,,0.08,\(shape),\(kind),test,"
}
