import Foundation
public import InfaasCloud
import InfaasCore
public import InfaasRuntime

/// How a variant's files are laid out and how to run them, read from the repository's
/// `<variant>/variant.yaml` when present (written by `models/build_models.py` and `infaas profile`).
public struct VariantSettings: Sendable, Equatable {
    public var modelPath: String
    public var graphOptimization: GraphOptimization
    public var inputHeight: Int
    public var inputWidth: Int
    public var mean: [Float]
    public var std: [Float]
    public var layout: ImageInput.Layout

    /// Reads the flat `key: value` lines of a variant.yaml (nested keys and comments ignored).
    static func parseYAML(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            guard !line.hasPrefix(" "), !line.hasPrefix("\t"), let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
            }
            if !key.isEmpty { values[key] = value }
        }
        return values
    }

    static func floats(_ text: String?) -> [Float]? {
        guard let text else { return nil }
        let parts = text.trimmingCharacters(in: CharacterSet(charactersIn: "[] ")).split(separator: ",")
        let values = parts.compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        return values.count == parts.count && !values.isEmpty ? values : nil
    }
}

/// Where variants come from (`file://` directories or `s3://` prefixes) and the worker's local
/// copy of them (reference §1.2: `/tmp/models/<variant>/`).
public struct ModelRepository: Sendable {
    /// The worker's cache directory.
    public let cacheDirectory: String
    /// The object store `s3://` variants are downloaded from (nil: the worker has no AWS settings).
    public let objectStore: (any ObjectStore)?

    public init(cacheDirectory: String, objectStore: (any ObjectStore)? = nil) {
        self.cacheDirectory = cacheDirectory
        self.objectStore = objectStore
    }

    /// The hint for a worker asked for `s3://` without AWS settings.
    static let noAWSHint = "give the worker AWS settings: --region, --endpoint-url, --aws-profile, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_REGION"

    /// Makes the variant's files available locally and reads its settings. A `file://` model
    /// directory is copied into the cache on first use, an `s3://` prefix downloaded into it, as
    /// the original downloaded from S3; a cached copy is reused while its source is unchanged.
    /// `modelExtension`: the model file the variant's runtime loads (``BackendEntry/modelExtension``).
    public func fetch(variant: String, modelURL: String, graphOptimization declared: String, modelExtension: String = "onnx") throws(WorkerError) -> VariantSettings {
        _ = try cacheFolder(of: variant)
        var source: String
        if modelURL.hasPrefix("file://") {
            source = String(modelURL.dropFirst("file://".count))
            while source.count > 1 && source.hasSuffix("/") { source.removeLast() }
        } else if let location = ObjectLocation(url: modelURL) {
            return try fetch(variant: variant, from: location, declared: declared, modelExtension: modelExtension)
        } else if modelURL.hasPrefix("s3://") {
            throw WorkerError(.invalidArgument, "variant \(variant) has model URL \"\(modelURL)\", which names no bucket", hint: "use s3://bucket/prefix/")
        } else {
            throw WorkerError(.invalidArgument, "variant \(variant) has model URL \"\(modelURL)\"", hint: "use file:///path/to/dir")
        }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw WorkerError(.notFound, "model files of variant \(variant) are missing: \(source) does not exist",
                              hint: "check the URL it was registered with (`infaas modinfo`), or rebuild the models (python3 models/build_models.py)")
        }
        if isDirectory.boolValue {
            let local = try cache(variant, stamp: Self.stamp(of: source)) { staging throws(WorkerError) in
                do { try fm.copyItem(atPath: source, toPath: staging) } catch {
                    throw WorkerError(.internalError, "cannot copy \(source) into the model cache \(cacheDirectory): \(error.localizedDescription)",
                                      hint: "check the cache directory is writable (--model-cache)")
                }
            }
            return try settings(directory: local, variant: variant, declared: declared, modelExtension: modelExtension)
        }
        // A single model file.
        return try settings(directory: (source as NSString).deletingLastPathComponent, variant: variant, declared: declared, file: source, modelExtension: modelExtension)
    }

    /// Downloads an `s3://` variant's folder into the cache (when the cached copy's stamp, the
    /// listed keys, sizes and ETags, differs from the store's) and reads its settings.
    func fetch(variant: String, from location: ObjectLocation, declared: String, modelExtension: String = "onnx") throws(WorkerError) -> VariantSettings {
        guard let store = objectStore else {
            throw WorkerError(.failedPrecondition, "variant \(variant) lives in \(location), and this worker has no S3 access", hint: Self.noAWSHint)
        }
        let objects: [ObjectInfo]
        do { objects = try store.listFolder(location) } catch {
            throw WorkerError(Self.code(error), "variant \(variant): cannot list its model files: \(error.message)", hint: error.hint)
        }
        guard !objects.isEmpty else {
            throw WorkerError(.notFound, "model files of variant \(variant) are missing: \(location) holds no objects",
                              hint: "check the URL it was registered with (`infaas modinfo`), and upload the model there")
        }
        let base = location.folderPrefix
        let stamp = objects.map { "\($0.key.dropFirst(base.count)) \($0.size) \($0.etag)" }.sorted().joined(separator: "\n")
        let local = try cache(variant, stamp: stamp) { staging throws(WorkerError) in
            do throws(ObjectStoreError) { _ = try store.download(location, to: staging) } catch {
                throw WorkerError(Self.code(error), "variant \(variant): cannot download it from \(location): \(error.message)", hint: error.hint)
            }
        }
        return try settings(directory: local, variant: variant, declared: declared, modelExtension: modelExtension)
    }

    /// The variant's folder in the cache, (re)filled when its stamp differs from `stamp`: `fill`
    /// writes a staging folder, which is stamped and moved into place, so a half-copied folder is
    /// never taken for a cached one. Returns the folder's path.
    func cache(_ variant: String, stamp: String, fill: (String) throws(WorkerError) -> Void) throws(WorkerError) -> String {
        let fm = FileManager.default
        let local = try cacheFolder(of: variant)
        let cachedStamp = try? String(contentsOfFile: "\(local)/\(Self.stampFile)", encoding: .utf8)
        if fm.fileExists(atPath: local), cachedStamp != stamp {
            try? fm.removeItem(atPath: local)  // incomplete, or the source's files changed: fetch again
        }
        guard !fm.fileExists(atPath: local) else { return local }
        do { try fm.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true) } catch {
            throw WorkerError(.internalError, "cannot create the model cache \(cacheDirectory): \(error.localizedDescription)",
                              hint: "check the cache directory is writable (--model-cache)")
        }
        let staging = "\(local).partial-\(getpid())"
        try? fm.removeItem(atPath: staging)
        defer { try? fm.removeItem(atPath: staging) }
        try fill(staging)
        do {
            try stamp.write(toFile: "\(staging)/\(Self.stampFile)", atomically: true, encoding: .utf8)
            try fm.moveItem(atPath: staging, toPath: local)
        } catch {
            // Another fetch of the same variant may have moved its copy in first; that one stands.
            if !fm.fileExists(atPath: local) {
                throw WorkerError(.internalError, "cannot put variant \(variant) into the model cache \(cacheDirectory): \(error.localizedDescription)",
                                  hint: "check the cache directory is writable (--model-cache)")
            }
        }
        return local
    }

    /// `<cache>/<variant>`, for a variant name of ``SafeName``'s alphabet whose folder resolves
    /// inside the cache (no `..`, no link planted in the cache): the only folder a fetch replaces.
    func cacheFolder(of variant: String) throws(WorkerError) -> String {
        do {
            try SafeName.check(variant, field: "variant name")
            let local = "\(cacheDirectory)/\(variant)"
            try ContainedPath.check(local, under: cacheDirectory, role: "model cache folder of \(variant)")
            return local
        } catch {
            throw WorkerError(.invalidArgument, error.description, hint: "the worker replaces only folders inside its model cache (--model-cache)")
        }
    }

    /// The worker's status for an object-store failure (messages start `variant …`, so the
    /// master does not take an unreachable store for an unreachable worker).
    static func code(_ error: ObjectStoreError) -> WorkerError.Code {
        switch error.kind {
        case .noSuchBucket, .noSuchKey: .notFound
        case .accessDenied: .failedPrecondition
        case .invalidArgument: .invalidArgument
        case .unavailable: .unavailable
        case .other: .internalError
        }
    }

    /// Written into a cached copy: what the source looked like when it was copied.
    static let stampFile = ".infaas-source"

    /// Names, sizes and modification times of a directory's files: a copy whose stamp differs
    /// from its source's is stale (a model rebuilt or replaced under the same variant name).
    static func stamp(of directory: String) -> String {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: directory)) ?? []).filter { $0 != stampFile }.sorted()
        return names.map { name in
            let attributes = (try? fm.attributesOfItem(atPath: "\(directory)/\(name)")) ?? [:]
            let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(name) \(size) \(modified)"
        }.joined(separator: "\n")
    }

    func settings(directory: String, variant: String, declared: String, file: String? = nil, modelExtension ext: String = "onnx") throws(WorkerError) -> VariantSettings {
        let yaml = (try? String(contentsOfFile: "\(directory)/variant.yaml", encoding: .utf8)).map(VariantSettings.parseYAML) ?? [:]
        let model: String
        if let file { model = file } else if FileManager.default.fileExists(atPath: "\(directory)/model.\(ext)") {
            model = "\(directory)/model.\(ext)"
        } else {
            let onnx = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".\(ext)") }.sorted()
            guard onnx.count == 1 else {
                throw WorkerError(.notFound, "variant \(variant): \(directory) holds \(onnx.isEmpty ? "no" : "\(onnx.count)") .\(ext) files",
                                  hint: "put exactly one model, ideally named model.\(ext), in the variant's directory")
            }
            model = "\(directory)/\(onnx[0])"
        }
        let level = GraphOptimization(rawValue: declared) ?? yaml["graph_optimization"].flatMap(GraphOptimization.init(rawValue:)) ?? .all
        let size = yaml["input_size"].flatMap { Int($0) }
        return VariantSettings(
            modelPath: model, graphOptimization: level,
            inputHeight: yaml["input_height"].flatMap { Int($0) } ?? size ?? 224,
            inputWidth: yaml["input_width"].flatMap { Int($0) } ?? size ?? 224,
            mean: VariantSettings.floats(yaml["mean"]) ?? [0.485, 0.456, 0.406],
            std: VariantSettings.floats(yaml["std"]) ?? [0.229, 0.224, 0.225],
            layout: yaml["layout"].flatMap(ImageInput.Layout.init(rawValue:)) ?? .nchw)
    }
}
