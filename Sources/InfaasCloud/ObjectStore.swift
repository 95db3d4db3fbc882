public import Foundation

/// One object as a listing describes it.
public struct ObjectInfo: Sendable, Hashable {
    /// The full key (`prefix/` included).
    public var key: String
    /// Bytes.
    public var size: Int64
    /// The store's content tag (S3's ETag, quotes removed): changes when the bytes do.
    public var etag: String

    /// An object as listed.
    public init(key: String, size: Int64, etag: String) {
        self.key = key
        self.size = size
        self.etag = etag
    }
}

/// Why an object-store call failed: what was wrong and how to fix it. Never carries a secret.
public struct ObjectStoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The bucket does not exist.
        case noSuchBucket
        /// The key (or every key under a prefix) does not exist.
        case noSuchKey
        /// The credentials are refused or lack the permission.
        case accessDenied
        /// The request itself was wrong (a bad URL, a bad name).
        case invalidArgument
        /// No answer (connection refused, timeout).
        case unavailable
        /// Anything else the store answered.
        case other
    }

    /// What kind of failure (callers map it to their own status codes).
    public var kind: Kind
    /// What was wrong, naming the operation and location.
    public var message: String
    /// How to fix it, when there is something to say.
    public var hint: String?
    /// The store's own error code (S3's `Code`), when it answered one.
    public var code: String?

    /// An error of `kind`: what was wrong, how to fix it, and the store's own code.
    public init(_ kind: Kind, _ message: String, hint: String? = nil, code: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
        self.code = code
    }

    public var description: String { hint.map { "\(message) (\($0))" } ?? message }
}

/// A place in an object store: `s3://bucket/prefix`.
public struct ObjectLocation: Sendable, Hashable, CustomStringConvertible {
    /// The bucket's name.
    public var bucket: String
    /// The key prefix, without a leading `/`; empty for the whole bucket.
    public var prefix: String

    /// A bucket and a key prefix (no leading `/`).
    public init(bucket: String, prefix: String) {
        self.bucket = bucket
        self.prefix = prefix
    }

    /// Parses `s3://bucket[/prefix]`; nil for anything else.
    public init?(url: String) {
        guard url.hasPrefix("s3://") else { return nil }
        let parts = url.dropFirst("s3://".count).split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bucket = parts.first, !bucket.isEmpty else { return nil }
        var prefix = parts.count > 1 ? String(parts[1]) : ""
        while prefix.hasPrefix("/") { prefix.removeFirst() }
        self.init(bucket: String(bucket), prefix: prefix)
    }

    /// Whether a string names an object-store location (`s3://`).
    public static func isObjectURL(_ url: String) -> Bool { url.hasPrefix("s3://") }

    /// The prefix as a folder: empty, or ending in `/` (so `models/a` does not match `models/ab`).
    public var folderPrefix: String { prefix.isEmpty || prefix.hasSuffix("/") ? prefix : prefix + "/" }

    /// This location as a folder with `name` inside it.
    public func appending(_ name: String) -> ObjectLocation {
        ObjectLocation(bucket: bucket, prefix: folderPrefix + name)
    }

    public var description: String { "s3://\(bucket)/\(prefix)" }
}

/// An object store (S3 or an emulator of it). Calls block; run them off latency-sensitive tasks.
public protocol ObjectStore: Sendable {
    /// Every object whose key starts with `prefix`, across all pages, in key order.
    func listObjects(bucket: String, prefix: String) throws(ObjectStoreError) -> [ObjectInfo]
    /// An object's bytes.
    func getObject(bucket: String, key: String) throws(ObjectStoreError) -> Data
    /// Stores bytes under a key (replacing what was there).
    func putObject(bucket: String, key: String, body: Data) throws(ObjectStoreError)
    /// Copies an object inside the store (no download).
    func copyObject(fromBucket: String, fromKey: String, toBucket: String, toKey: String) throws(ObjectStoreError)
}

extension ObjectStore {
    /// The objects of a folder (`location.folderPrefix`), without `…/` folder markers.
    public func listFolder(_ location: ObjectLocation) throws(ObjectStoreError) -> [ObjectInfo] {
        try listObjects(bucket: location.bucket, prefix: location.folderPrefix).filter { !$0.key.hasSuffix("/") }
    }

    /// Downloads every object under a folder into `directory`, keeping the keys' paths relative
    /// to the folder (`prefix/a/b.txt` → `directory/a/b.txt`). Returns what was downloaded.
    @discardableResult
    public func download(_ location: ObjectLocation, to directory: String) throws(ObjectStoreError) -> [ObjectInfo] {
        let objects = try listFolder(location)
        let base = location.folderPrefix
        for object in objects {
            let relative = String(object.key.dropFirst(base.count))
            guard !relative.isEmpty, !relative.split(separator: "/").contains(where: { $0 == ".." }) else { continue }
            let path = "\(directory)/\(relative)"
            let data = try getObject(bucket: location.bucket, key: object.key)
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                try data.write(to: URL(fileURLWithPath: path))
            } catch {
                throw ObjectStoreError(.other, "cannot write \(path) (from s3://\(location.bucket)/\(object.key)): \(error.localizedDescription)",
                                       hint: "check the directory is writable and the disk is not full")
            }
        }
        return objects
    }

    /// Uploads every regular file under `directory` (recursively; hidden files too) to the folder,
    /// keeping relative paths. Returns the keys written.
    @discardableResult
    public func upload(directory: String, to location: ObjectLocation) throws(ObjectStoreError) -> [String] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ObjectStoreError(.invalidArgument, "\(directory) is not a directory", hint: "give a local directory to upload")
        }
        let files = (fm.enumerator(atPath: directory)?.allObjects as? [String] ?? []).filter { name in
            var dir: ObjCBool = false
            return fm.fileExists(atPath: "\(directory)/\(name)", isDirectory: &dir) && !dir.boolValue
        }.sorted()
        var keys: [String] = []
        for relative in files {
            guard let data = fm.contents(atPath: "\(directory)/\(relative)") else {
                throw ObjectStoreError(.other, "cannot read \(directory)/\(relative)", hint: "check its permissions")
            }
            let key = location.folderPrefix + relative
            try putObject(bucket: location.bucket, key: key, body: data)
            keys.append(key)
        }
        return keys
    }

    /// Copies every object under one folder to another, keeping relative keys. Returns the
    /// objects copied (as listed at the source); empty when the source folder is empty.
    @discardableResult
    public func copyFolder(_ source: ObjectLocation, to destination: ObjectLocation) throws(ObjectStoreError) -> [ObjectInfo] {
        let objects = try listFolder(source)
        let base = source.folderPrefix
        for object in objects {
            try copyObject(fromBucket: source.bucket, fromKey: object.key, toBucket: destination.bucket,
                           toKey: destination.folderPrefix + String(object.key.dropFirst(base.count)))
        }
        return objects
    }
}
