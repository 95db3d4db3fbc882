import Foundation
import InfaasCloud
import InfaasCore
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
    /// An `s3://` input: its files are downloaded into `inputDirectory` (a scratch folder) first.
    var inputLocation: ObjectLocation? = nil
    /// An `s3://` output: what lands in `outputDirectory` (a scratch folder) is uploaded there.
    var outputLocation: ObjectLocation? = nil
    /// The scratch folder to remove when the job is done.
    var scratch: String? = nil
}

extension WorkerDaemon {
    /// Files per chunk (reference `offline_batch`).
    static let offlineChunk = 4

    /// Queues an offline job over every file in the input directory (or directly under the
    /// input `s3://` prefix); returns how many.
    public func submitOffline(_ request: Infaas_V1_WorkerOfflineRequest) async throws(WorkerError) -> Int {
        let fm = FileManager.default
        guard request.jobID.isEmpty || SafeName.isValid(request.jobID) else {
            throw WorkerError(.invalidArgument, "offline job id \"\(ValidationError.excerpt(request.jobID))\" is not a name of \(SafeName.alphabet) (it names the job's _SUCCESS file)")
        }
        var inputLocation: ObjectLocation? = nil, outputLocation: ObjectLocation? = nil, scratch: String? = nil
        var input: String, output: String
        var files: [String]
        if ObjectLocation.isObjectURL(request.inputURL) || ObjectLocation.isObjectURL(request.outputURL) {
            guard options.objectStore != nil else {
                throw WorkerError(.failedPrecondition, "offline job \(request.jobID) reads or writes s3:// (\(request.inputURL) → \(request.outputURL)), and this worker has no S3 access",
                                  hint: ModelRepository.noAWSHint)
            }
            let safeID = request.jobID.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
            scratch = NSTemporaryDirectory() + "infaas-offline-\(options.name)-\(safeID)-\(UUID().uuidString.prefix(8))"
        }
        if ObjectLocation.isObjectURL(request.inputURL) {
            guard let location = ObjectLocation(url: request.inputURL), let store = options.objectStore, let scratch else {
                throw WorkerError(.invalidArgument, "offline input \"\(request.inputURL)\" names no bucket", hint: "use s3://bucket/prefix/")
            }
            let listed: Result<[ObjectInfo], ObjectStoreError> = await BlockingIO.run {
                do throws(ObjectStoreError) { return .success(try store.listFolder(location)) } catch { return .failure(error) }
            }
            let objects: [ObjectInfo]
            switch listed {
            case .success(let found): objects = found
            case .failure(let error):
                throw WorkerError(ModelRepository.code(error), "offline input \(location): \(error.message)", hint: error.hint)
            }
            // The files directly under the prefix, as a directory's files.
            // Only names of the one alphabet become file names in the scratch folder.
            files = objects.map { String($0.key.dropFirst(location.folderPrefix.count)) }
                .filter(SafeName.isValid).sorted()
            guard !files.isEmpty else {
                throw WorkerError(.notFound, "offline input \(location) holds no files", hint: "upload the inputs under that prefix, or check its spelling")
            }
            inputLocation = location
            input = scratch + "/in"
        } else {
            input = try Self.localDirectory(request.inputURL, role: "input", roots: options.offlineRoots)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: input, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw WorkerError(.notFound, "offline input \(ValidationError.excerpt(request.inputURL, limit: 200)) is not a directory this worker can read",
                                  hint: "give a file:///dir/ of images visible to the worker, or an s3://bucket/prefix/")
            }
            // Regular files with names of the one alphabet that resolve inside the input folder
            // (a link out of it is skipped, never read).
            files = ((try? fm.contentsOfDirectory(atPath: input)) ?? []).filter { name in
                var dir: ObjCBool = false
                return SafeName.isValid(name) && fm.fileExists(atPath: "\(input)/\(name)", isDirectory: &dir) && !dir.boolValue
                    && ContainedPath.isContained("\(input)/\(name)", in: input)
            }.sorted()
        }
        if ObjectLocation.isObjectURL(request.outputURL) {
            guard let location = ObjectLocation(url: request.outputURL), let scratch else {
                throw WorkerError(.invalidArgument, "offline output \"\(request.outputURL)\" names no bucket", hint: "use s3://bucket/prefix/")
            }
            outputLocation = location
            output = scratch + "/out"
        } else {
            output = try Self.localDirectory(request.outputURL, role: "output", roots: options.offlineRoots)
        }
        do {
            try fm.createDirectory(atPath: output, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: input, withIntermediateDirectories: true)
        } catch {
            throw WorkerError(.failedPrecondition, "cannot create the offline output directory \(output): \(error.localizedDescription)")
        }
        guard request.variant.maxBatch >= 1 else { throw WorkerError(.invalidArgument, "offline variant has no max batch") }
        offline.jobs.append(OfflineJob(id: request.jobID, spec: request.variant, files: files, inputDirectory: input,
                                       outputDirectory: output, height: request.inputHeight, width: request.inputWidth,
                                       inputLocation: inputLocation, outputLocation: outputLocation, scratch: scratch))
        if !offline.running {
            offline.running = true
            Task { await self.drainOfflineJobs() }
        }
        return files.count
    }

    /// The folder a `file://` offline URL names, resolved (`..` removed, links followed) and
    /// checked to lie inside one of the operator's `--offline-root` folders.
    static func localDirectory(_ url: String, role: String, roots: [String]) throws(WorkerError) -> String {
        let shown = ValidationError.excerpt(url, limit: 200)
        guard url.hasPrefix("file://"), url.dropFirst(7).hasPrefix("/") else {
            throw WorkerError(.invalidArgument, "offline \(role) \"\(shown)\" is neither a file:/// nor an s3:// URL",
                              hint: "use file:///absolute/dir/ or s3://bucket/prefix/")
        }
        guard !roots.isEmpty else {
            throw WorkerError(.failedPrecondition, "offline \(role) \(shown) is refused: this worker takes file:// offline jobs only inside folders its operator allows, and none is set",
                              hint: "start the worker with --offline-root DIR (infaas master / infaas up: --offline-root DIR, passed to every worker), or use s3://bucket/prefix/")
        }
        let path = ContainedPath.resolve(String(url.dropFirst(7)))
        guard roots.contains(where: { ContainedPath.isContained(path, in: $0) }) else {
            throw WorkerError(.failedPrecondition, "offline \(role) \(shown) resolves to \(ValidationError.excerpt(path, limit: 200)), outside the folders offline jobs may use (\(roots.joined(separator: ", ")))",
                              hint: "put the data under one of them, or start the worker with another --offline-root DIR")
        }
        return path
    }

    /// Writes `data` to `name` in `directory` only when the path stays inside it (a link
    /// planted in an output folder cannot redirect a write).
    nonisolated static func writeContained(_ data: Data, name: String, in directory: String) throws {
        let path = "\(directory)/\(name)"
        do { try ContainedPath.check(path, under: directory, role: "offline output") } catch { throw WorkerError(.failedPrecondition, error.description) }
        try data.write(to: URL(fileURLWithPath: path))
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
        defer { if let scratch = job.scratch { try? FileManager.default.removeItem(atPath: scratch) } }
        if let location = job.inputLocation, let store = options.objectStore {
            // Download off the actor; a file that cannot be fetched fails on its own below.
            let failures = await BlockingIO.run { Self.download(job.files, from: location, to: job.inputDirectory, store: store) }
            for failure in failures { logger.error("offline job \(job.id): \(failure)") }
        }
        var done = 0, failed = 0
        var start = 0
        while start < job.files.count {
            // Offline work yields to online load when the loop says so (reference OFFLINE_CONTROL).
            var waited = 0
            while !control.offlineMayRun(worker: 0) && waited < 60 {
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
        let marker = "_SUCCESS-\(job.id).txt"
        try? Self.writeContained(Data(summary.utf8), name: marker, in: job.outputDirectory)
        if let location = job.outputLocation, let store = options.objectStore {
            let failures = await BlockingIO.run { Self.upload(job.outputDirectory, to: location, markerLast: marker, store: store) }
            for failure in failures { logger.error("offline job \(job.id): \(failure)") }
        }
        logger.info("offline \(summary.trimmingCharacters(in: .newlines))")
    }

    /// Downloads the named files of an input prefix; returns what failed.
    nonisolated static func download(_ files: [String], from location: ObjectLocation, to directory: String, store: any ObjectStore) -> [String] {
        var failures: [String] = []
        for file in files {
            do throws(ObjectStoreError) {
                let data = try store.getObject(bucket: location.bucket, key: location.folderPrefix + file)
                do { try writeContained(data, name: file, in: directory) } catch {
                    failures.append("cannot write \(directory)/\(file): \(error.localizedDescription)")
                }
            } catch {
                failures.append("cannot download \(file): \(error)")
            }
        }
        return failures
    }

    /// Uploads an output directory's files to the output prefix, the success marker last (so a
    /// reader that sees it finds every output); returns what failed.
    nonisolated static func upload(_ directory: String, to location: ObjectLocation, markerLast marker: String, store: any ObjectStore) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted { a, b in
            a == marker ? false : b == marker ? true : a < b
        }
        var failures: [String] = []
        for name in names {
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)") else { continue }
            do throws(ObjectStoreError) {
                try store.putObject(bucket: location.bucket, key: location.folderPrefix + name, body: data)
            } catch {
                failures.append("cannot upload \(name) to \(location): \(error)")
            }
        }
        return failures
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
            let path = "\(job.inputDirectory)/\(file)"
            guard ContainedPath.isContained(path, in: job.inputDirectory), let data = FileManager.default.contents(atPath: path) else { return false }
            images.data.append(data)
        }
        request.input.images = images
        do {
            let response = try await query(request)
            guard let output = response.outputs.first, let rows = output.shape.first, Int(rows) == files.count else { return false }
            let rowBytes = output.data.count / files.count
            for (i, file) in files.enumerated() {
                let slice = output.data.subdata(in: (output.data.startIndex + i * rowBytes)..<(output.data.startIndex + (i + 1) * rowBytes))
                try Self.writeContained(slice, name: "\(file).out", in: job.outputDirectory)
            }
            return true
        } catch {
            if files.count == 1 {
                // What went wrong, never the input's bytes (decode errors name the format only).
                try? Self.writeContained(Data("\(error)\n".utf8), name: "\(files[0]).error", in: job.outputDirectory)
            }
            return false
        }
    }
}
