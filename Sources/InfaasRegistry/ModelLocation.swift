/// Where a variant's model files live: a local directory or an S3 prefix.
///
/// Accepted spellings: `file:///abs/dir`, `s3://bucket/prefix/`, and the original CLI's
/// `bucket/prefix/` (no scheme, trailing `/`), which means S3.
public enum ModelLocation: Hashable, Sendable, CustomStringConvertible {
    case file(path: String)
    case s3(bucket: String, prefix: String)

    public init(parsing text: String) throws(RegistryError) {
        let trimmed = text.trimmingCharacters(in: " \t")
        func invalid(_ why: String) -> RegistryError {
            RegistryError(.invalidModelURL, "model URL \"\(text)\" \(why)",
                          hint: "use file:///path/to/dir, s3://bucket/prefix/ or bucket/prefix/")
        }
        if trimmed.hasPrefix("file://") {
            let path = String(trimmed.dropFirst("file://".count))
            guard path.hasPrefix("/") else { throw invalid("needs an absolute path after file://") }
            self = .file(path: path)
        } else if trimmed.hasPrefix("s3://") {
            let rest = trimmed.dropFirst("s3://".count)
            let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            guard let bucket = parts.first, !bucket.isEmpty else { throw invalid("has no bucket") }
            self = .s3(bucket: String(bucket), prefix: parts.count > 1 ? String(parts[1]) : "")
        } else if trimmed.contains("://") {
            throw invalid("has a scheme infaas does not read")
        } else if trimmed.hasSuffix("/"), trimmed.contains("/"), !trimmed.hasPrefix("/") {
            let parts = trimmed.split(separator: "/", maxSplits: 1)
            self = .s3(bucket: String(parts[0]), prefix: parts.count > 1 ? String(parts[1]) : "")
        } else {
            throw invalid(trimmed.isEmpty ? "is empty" : "is neither file://, s3:// nor bucket/prefix/")
        }
    }

    public var description: String {
        switch self {
        case .file(let path): "file://\(path)"
        case .s3(let bucket, let prefix): "s3://\(bucket)/\(prefix)"
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
