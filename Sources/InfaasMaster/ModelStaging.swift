import Foundation
public import GRPCCore
public import InfaasCloud
public import InfaasCore
import InfaasRegistry

/// Why the master cannot start with the settings it was given.
public struct MasterConfigurationError: Error, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var message: String
    /// How to fix it.
    public var hint: String

    /// An error saying what was wrong and how to fix it.
    public init(_ message: String, hint: String) {
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(message) (\(hint))" }
}

extension Master {
    /// Registration step 3 (reference §2.4) for an `s3://` model: checks the user's folder holds
    /// objects, and with a model bucket copies them to `<modelBucket>/<variant>/`. Returns where
    /// the variant is to be registered. Without an object store the location is taken as given.
    /// With `profile`, a variant already registered with exactly that profile (a retried
    /// registration) gets its registered location back, and nothing is copied again.
    public func stageModel(_ variant: String, from source: ObjectLocation, profile: ModelVariant? = nil) async throws(RPCError) -> ObjectLocation {
        guard let store = objectStore else {
            logger.warning("registering \(variant) at \(source) unchecked: this master has no AWS settings")
            return source
        }
        if let existing = try? registry.variant(named: variant) {
            if let profile, existing.variant == profile, case .s3(let bucket, let prefix) = existing.location {
                return ObjectLocation(bucket: bucket, prefix: prefix)
            }
            throw RPCError(code: .alreadyExists, message: "variant \(variant) is already registered (registration copies nothing and changes nothing)")
        }
        let folder = ObjectLocation(bucket: source.bucket, prefix: source.folderPrefix)
        // Already where the model bucket would put it: nothing to copy (S3 refuses a copy onto itself).
        let destination = options.modelBucket.map { ObjectLocation(bucket: $0.bucket, prefix: $0.folderPrefix + variant + "/") }
            .flatMap { $0 == folder ? nil : $0 }
        let counter = AWSCallCounter()
        defer { logger.info("registration of \(variant): AWS calls \(counter.summary)") }
        let outcome: Result<[ObjectInfo], ObjectStoreError> = await AWSCallCounter.$current.withValue(counter) { await BlockingIO.run {
            do throws(ObjectStoreError) {
                if let destination { return .success(try store.copyFolder(source, to: destination)) }
                return .success(try store.listFolder(source))
            } catch { return .failure(error) }
        } }
        switch outcome {
        case .success(let objects):
            guard !objects.isEmpty else {
                throw RPCError(code: .notFound, message: "cannot register \(variant): \(folder) holds no objects (upload the model's files there first, e.g. aws s3 cp --recursive DIR \(source))")
            }
            if let destination {
                logger.info("registration of \(variant): copied \(objects.count) objects from \(source) to \(destination)")
                return destination
            }
            return folder
        case .failure(let error):
            let code: RPCError.Code = switch error.kind {
            case .noSuchBucket, .noSuchKey: .notFound
            case .accessDenied: .permissionDenied
            case .invalidArgument: .invalidArgument
            case .unavailable: .unavailable
            case .other: .internalError
            }
            throw RPCError(code: code, message: "cannot register \(variant) from \(source)\(destination.map { " into the model bucket \($0)" } ?? ""): \(error)")
        }
    }

    /// Registration step 1 (reference §2.4) for a config named but not sent: its text from the
    /// config bucket. Errors keep the original's words ("Failed to GET configuration file").
    public func fetchConfig(named name: String) async throws(RPCError) -> String {
        guard let bucket = options.configBucket, let store = objectStore else {
            throw RPCError(code: .invalidArgument, message: "Failed to GET configuration file \(name): no config text was sent and this master has no config bucket (start it with --config-bucket s3://BUCKET/[prefix], CONFIGDB in the cluster config), or register from a local .config file")
        }
        let key = bucket.folderPrefix + name
        let fetched: Result<Data, ObjectStoreError> = await BlockingIO.run {
            do throws(ObjectStoreError) { return .success(try store.getObject(bucket: bucket.bucket, key: key)) } catch { return .failure(error) }
        }
        switch fetched {
        case .success(let data): return String(decoding: data, as: UTF8.self)
        case .failure(let error):
            throw RPCError(code: error.kind == .noSuchKey || error.kind == .noSuchBucket ? .notFound : .unavailable,
                           message: "Failed to GET configuration file s3://\(bucket.bucket)/\(key): \(error.message)\(error.hint.map { " (\($0))" } ?? "")")
        }
    }
}
