import Foundation
public import InfaasRPC

/// Offline jobs waiting on this worker (reference §5.2: one FIFO, one job at a time).
struct OfflineQueue {
    var jobs: [OfflineJob] = []
    var running = false
}

struct OfflineJob: Sendable {
    var id: String
    var spec: Infaas_V1_VariantSpec
    var files: [String]
    var inputDirectory: String
    var outputDirectory: String
    var height: UInt32
    var width: UInt32
}

extension WorkerDaemon {
    /// Files per chunk and the load above which offline work waits (reference `offline_batch`, 40 %).
    static let offlineChunk = 4
    static let offlineCPUThreshold = 40.0

    /// Queues an offline job over every file in the input directory; returns how many.
    public func submitOffline(_ request: Infaas_V1_WorkerOfflineRequest) throws(WorkerError) -> Int {
        let input = try Self.localDirectory(request.inputURL, role: "input")
        let output = try Self.localDirectory(request.outputURL, role: "output")
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WorkerError(.notFound, "offline input \(request.inputURL) is not a directory this worker can read",
                              hint: "give a file:///dir/ of images visible to the worker")
        }
        do { try fm.createDirectory(atPath: output, withIntermediateDirectories: true) } catch {
            throw WorkerError(.failedPrecondition, "cannot create the offline output directory \(output): \(error.localizedDescription)")
        }
        let files = ((try? fm.contentsOfDirectory(atPath: input)) ?? []).filter { name in
            var dir: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: "\(input)/\(name)", isDirectory: &dir) && !dir.boolValue
        }.sorted()
        guard request.variant.maxBatch >= 1 else { throw WorkerError(.invalidArgument, "offline variant has no max batch") }
        offline.jobs.append(OfflineJob(id: request.jobID, spec: request.variant, files: files, inputDirectory: input,
                                       outputDirectory: output, height: request.inputHeight, width: request.inputWidth))
        if !offline.running {
            offline.running = true
            Task { await self.drainOfflineJobs() }
        }
        return files.count
    }

    static func localDirectory(_ url: String, role: String) throws(WorkerError) -> String {
        guard url.hasPrefix("file://"), url.dropFirst(7).hasPrefix("/") else {
            throw WorkerError(.invalidArgument, "offline \(role) \"\(url)\" is not a file:/// URL",
                              hint: "use file:///absolute/dir/ (s3:// needs the cloud provider)")
        }
        var path = String(url.dropFirst(7))
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }

    func drainOfflineJobs() async {
        while !offline.jobs.isEmpty {
            let job = offline.jobs.removeFirst()
            await run(job)
        }
        offline.running = false
    }

    func run(_ job: OfflineJob) async {
        logger.info("offline job \(job.id): \(job.files.count) files with \(job.spec.name)")
        var done = 0, failed = 0
        var start = 0
        while start < job.files.count {
            // Offline work yields to online load (reference OFFLINE_CONTROL).
            var waited = 0
            while (cpuUtilization > Self.offlineCPUThreshold || anyBlacklisted) && waited < 60 {
                try? await Task.sleep(for: .seconds(1))
                waited += 1
            }
            let chunk = Array(job.files[start..<min(job.files.count, start + min(Self.offlineChunk, Int(job.spec.maxBatch)))])
            start += chunk.count
            if await runChunk(chunk, job: job) { done += chunk.count; continue }
            for file in chunk {  // isolate the bad input(s)
                if await runChunk([file], job: job) { done += 1 } else { failed += 1 }
            }
        }
        let summary = "job \(job.id): \(done) outputs, \(failed) failed, variant \(job.spec.name)\n"
        try? summary.write(toFile: "\(job.outputDirectory)/_SUCCESS-\(job.id).txt", atomically: true, encoding: .utf8)
        logger.info("offline \(summary.trimmingCharacters(in: .newlines))")
    }

    /// Runs one chunk; writes `<file>.out` (the flattened float32 output, native byte order, as
    /// the original) per file, or `<file>.error` for a single file that failed.
    func runChunk(_ files: [String], job: OfflineJob) async -> Bool {
        var request = Infaas_V1_WorkerQueryRequest()
        request.variant = job.spec
        request.includeOutputs = true
        var images = Infaas_V1_Images()
        images.height = job.height
        images.width = job.width
        for file in files {
            guard let data = FileManager.default.contents(atPath: "\(job.inputDirectory)/\(file)") else { return false }
            images.data.append(data)
        }
        request.input.images = images
        do {
            let response = try await query(request)
            guard let output = response.outputs.first, let rows = output.shape.first, Int(rows) == files.count else { return false }
            let rowBytes = output.data.count / files.count
            for (i, file) in files.enumerated() {
                let slice = output.data.subdata(in: (output.data.startIndex + i * rowBytes)..<(output.data.startIndex + (i + 1) * rowBytes))
                try slice.write(to: URL(fileURLWithPath: "\(job.outputDirectory)/\(file).out"))
            }
            return true
        } catch {
            if files.count == 1 {
                try? "\(error)\n".write(toFile: "\(job.outputDirectory)/\(files[0]).error", atomically: true, encoding: .utf8)
            }
            return false
        }
    }
}
