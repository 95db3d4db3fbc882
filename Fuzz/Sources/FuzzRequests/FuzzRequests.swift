import Foundation
import CFuzzDriver
import InfaasRPC

/// The request validators (``RequestLimits``) a daemon runs on every request before it converts,
/// allocates or routes on it: the bytes are decoded as each request message, binary protobuf as
/// gRPC delivers it (a decoding error is fine), and every message that decodes is checked. An
/// error is fine; a trap, an allocation beyond the RSS limit or a hang is a finding.
func fuzzRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Data(bytes: data, count: size)
    if let request = try? Infaas_V1_OnlineQueryRequest(serializedBytes: bytes) { try? RequestLimits.check(request) }
    if let request = try? Infaas_V1_WorkerQueryRequest(serializedBytes: bytes) { try? RequestLimits.check(request) }
    if let request = try? Infaas_V1_OfflineQueryRequest(serializedBytes: bytes) { try? RequestLimits.check(request) }
    if let request = try? Infaas_V1_UnregisterModelRequest(serializedBytes: bytes) { try? RequestLimits.check(request) }
    return 0
}

/// Seeds: one request of each kind, as the CLI sends them for the bundled sample image
/// (`samples/mug_224.png`) and the bundled `.config` example's variant (`INFAAS_FUZZ_WRITE_SEEDS=DIR`).
func writeSeeds(to directory: String, root: String) throws {
    let image = (try? Data(contentsOf: URL(fileURLWithPath: root + "/samples/mug_224.png"))) ?? Data()
    var online = Infaas_V1_OnlineQueryRequest()
    online.architecture = "resnet50"
    online.sloMs = 200
    online.minAccuracy = 70
    online.topK = 5
    online.input.images.data = [image.prefix(2048)]
    online.input.images.height = 224
    online.input.images.width = 224
    var useCase = online
    useCase.useCase.task = "classification"
    useCase.useCase.dataset = "imagenet"
    var tensor = Infaas_V1_OnlineQueryRequest()
    tensor.variant = "resnet50_tensorflow-cpu_4"
    tensor.input.tensor = Infaas_V1_Tensor(shape: [1, 3, 8, 8], values: (0..<192).map { Float($0) / 192 })
    tensor.includeOutputs = true
    var worker = Infaas_V1_WorkerQueryRequest()
    worker.variant.name = "resnet50_tensorflow-cpu_4"
    worker.variant.maxBatch = 4
    worker.input = tensor.input
    worker.sloMs = 100
    worker.topK = 3
    var offline = Infaas_V1_OfflineQueryRequest()
    offline.inputURL = "file:///data/in/"
    offline.outputURL = "file:///data/out/"
    offline.variant = "resnet50_tensorflow-cpu_4"
    offline.inputHeight = 224
    offline.inputWidth = 224
    var unregister = Infaas_V1_UnregisterModelRequest()
    unregister.variant = "resnet50_tensorflow-cpu_4"
    let seeds: [(String, Data)] = [
        ("online-architecture.pb", try online.serializedData()), ("online-use-case.pb", try useCase.serializedData()),
        ("online-tensor.pb", try tensor.serializedData()), ("worker-query.pb", try worker.serializedData()),
        ("offline.pb", try offline.serializedData()), ("unregister.pb", try unregister.serializedData()),
    ]
    for (name, bytes) in seeds { try bytes.write(to: URL(fileURLWithPath: directory + "/" + name)) }
}

/// The entry point SwiftPM gives this executable: libFuzzer's driver with the callback above.
@_cdecl("FuzzRequests_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    if let directory = ProcessInfo.processInfo.environment["INFAAS_FUZZ_WRITE_SEEDS"] {
        do { try writeSeeds(to: directory, root: FileManager.default.currentDirectoryPath); return 0 } catch {
            FileHandle.standardError.write(Data("FuzzRequests: cannot write seeds to \(directory): \(error)\n".utf8))
            return 1
        }
    }
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzRequests(data, size) }
}
