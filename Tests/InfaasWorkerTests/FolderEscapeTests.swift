import Foundation
import GRPCCore
import Testing
import InfaasRPC
@testable import InfaasWorker

/// No request makes a worker write outside its model cache or its operator's offline roots.
@Suite("Worker folder escapes", .enabled(if: ORT.available, "ONNX Runtime not found"))
struct FolderEscapeTests {
    /// A folder beside the cache with a file that must survive.
    static func victim(in box: Sandbox) throws -> URL {
        let victim = box.root.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: victim.appendingPathComponent("precious.txt"))
        return victim
    }

    @Test func aVariantNamedDotDotCannotReplaceAFolderOutsideTheCache() async throws {
        let box = try Sandbox()
        let victim = try Self.victim(in: box)
        let good = try box.variant()
        // The reproducer: ../victim relative to <root>/cache is <root>/victim.
        for name in ["../victim", "../../\(box.root.lastPathComponent)/victim", "a/../../victim", ".victim"] {
            let query = try firstItemQuery(box.spec(name, url: good.modelURL))
            let error = await workerError { () async throws(WorkerError) in _ = try await box.daemon.query(query) }
            #expect(error?.code == .invalidArgument, "\(name): \(String(describing: error))")
            #expect(error?.description.contains("variant name") == true)
        }
        #expect(try String(contentsOf: victim.appendingPathComponent("precious.txt"), encoding: .utf8) == "keep me")
        #expect(!FileManager.default.fileExists(atPath: victim.appendingPathComponent("model.onnx").path))
    }

    @Test func aLinkPlantedInTheCacheIsNotFollowedOut() throws {
        let box = try Sandbox()
        let victim = try Self.victim(in: box)
        let cache = box.root.appendingPathComponent("cache")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: cache.appendingPathComponent("linked"), withDestinationURL: victim)
        let repository = ModelRepository(cacheDirectory: cache.path)
        let spec = try box.variant("linked")
        let error = #expect(throws: WorkerError.self) {
            _ = try repository.fetch(variant: "linked", modelURL: spec.modelURL, graphOptimization: "")
        }
        #expect(error?.description.contains("outside") == true)
        #expect(FileManager.default.fileExists(atPath: victim.appendingPathComponent("precious.txt").path))
    }

    @Test func fileOfflineJobsNeedAnOfflineRootAndStayInsideIt() async throws {
        let open = try Sandbox(offlineRoots: [])
        var request = Infaas_V1_WorkerOfflineRequest()
        request.variant = try open.variant()
        request.inputURL = "file://\(open.root.path)/in/"
        request.outputURL = "file://\(open.root.path)/out/"
        request.jobID = "job1"
        let refused = await workerError { () async throws(WorkerError) in _ = try await open.daemon.submitOffline(request) }
        #expect(refused?.code == .failedPrecondition)
        #expect(refused?.description.contains("--offline-root") == true, "\(String(describing: refused))")

        let box = try Sandbox(offlineRoots: [])
        let allowed = box.root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: allowed.appendingPathComponent("in"), withIntermediateDirectories: true)
        let confined = try Sandbox(offlineRoots: [allowed.path])
        request.variant = try confined.variant()
        request.inputURL = "file://\(allowed.path)/in/"
        for escape in ["file://\(allowed.path)/../outside/", "file:///tmp/", "file://\(allowed.path)/../../"] {
            request.outputURL = escape
            let error = await workerError { () async throws(WorkerError) in _ = try await confined.daemon.submitOffline(request) }
            #expect(error?.code == .failedPrecondition, "\(escape)")
            #expect(error?.description.contains("outside the folders offline jobs may use") == true, "\(String(describing: error))")
        }
        request.outputURL = "file://\(allowed.path)/in/"
        request.jobID = "../../x"
        let badID = await workerError { () async throws(WorkerError) in _ = try await confined.daemon.submitOffline(request) }
        #expect(badID?.code == .invalidArgument)
    }

    @Test func offlineErrorFilesNeverQuoteTheInputsBytes() async throws {
        let box = try Sandbox()
        let input = box.root.appendingPathComponent("in"), output = box.root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        let secret = "token-0123456789abcdef-SECRET"
        try Data(secret.utf8).write(to: input.appendingPathComponent("secret.txt"))
        // A link out of the input folder is never read.
        try FileManager.default.createSymbolicLink(at: input.appendingPathComponent("link.png"), withDestinationURL: URL(fileURLWithPath: "/etc/hostname"))
        var request = Infaas_V1_WorkerOfflineRequest()
        request.variant = try box.variant()
        request.inputURL = "file://\(input.path)/"
        request.outputURL = "file://\(output.path)/"
        request.inputHeight = 8
        request.inputWidth = 8
        request.jobID = "job2"
        #expect(try await box.daemon.submitOffline(request) == 1, "the link is skipped")
        let marker = output.appendingPathComponent("_SUCCESS-job2.txt")
        for _ in 0..<400 where !FileManager.default.fileExists(atPath: marker.path) { try await Task.sleep(for: .milliseconds(50)) }
        let error = try String(contentsOf: output.appendingPathComponent("secret.txt.error"), encoding: .utf8)
        #expect(error.contains("not an image"))
        #expect(!error.contains("token") && !error.contains("SECRET") && !error.contains("0123"), "\(error)")
    }

    @Test func topKOfTwoToTheThirtyTwoIsRefusedAndNeverAllocated() async throws {
        // At the service entry: INVALID_ARGUMENT naming the value and the bound.
        var request = Infaas_V1_WorkerQueryRequest()
        request.topK = UInt32.max
        request.sloMs = 10
        request.variant.name = "tiny"
        request.input.tensor = Infaas_V1_Tensor(shape: [1, 4], values: [1, 2, 3, 4])
        let error = #expect(throws: RPCError.self) { try RequestLimits.check(request) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("4294967295") == true && error?.message.contains("1000") == true)
        // Below it, in the daemon: at most the row's columns are kept, whatever k.
        let top = Infaas_V1_TopK(row: 0, of: [0.1, 0.9, 0.5, 0.2], columns: 4, k: Int(UInt32.max))
        #expect(top.index == [1, 2, 3, 0])
    }
}
