import Foundation

/// Paths a daemon or the CLI writes, checked to lie under their own root after `.`/`..` are
/// removed and symbolic links of the part that exists are resolved — so neither a name like
/// `../../dir` nor a link planted inside the root can send a write elsewhere.
public enum ContainedPath {
    /// `path` made absolute (against the current directory), with `.` and `..` removed and every
    /// symbolic link among its existing components resolved; components that do not exist yet are
    /// appended as written.
    public static func resolve(_ path: String) -> String { resolve(path, depth: 0) }

    static func resolve(_ path: String, depth: Int) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var resolved = "/"
        var existing = true
        for component in absolute.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." {
                resolved = parent(of: resolved)
                continue
            }
            let candidate = resolved == "/" ? "/\(component)" : "\(resolved)/\(component)"
            if existing, let real = realPath(candidate) {
                resolved = real
            } else if existing, depth < 16, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: candidate) {
                // A dangling link: where a write through it would land.
                resolved = resolve(target.hasPrefix("/") ? target : "\(resolved)/\(target)", depth: depth + 1)
                existing = false
            } else {
                existing = false  // nothing below a missing folder exists; no links to resolve
                resolved = candidate
            }
        }
        return resolved
    }

    /// Whether `path` (resolved) is `root` (resolved) or inside it.
    public static func isContained(_ path: String, in root: String) -> Bool {
        let r = resolve(root), p = resolve(path)
        return p == r || p.hasPrefix(r == "/" ? "/" : r + "/")
    }

    /// `path` resolved, when it lies under `root`; else an error naming both.
    @discardableResult
    public static func check(_ path: String, under root: String, role: String) throws(ValidationError) -> String {
        let resolved = resolve(path)
        let base = resolve(root)
        guard resolved == base || resolved.hasPrefix(base == "/" ? "/" : base + "/") else {
            throw ValidationError(field: role, value: ValidationError.excerpt(path, limit: 200),
                                  reason: "resolves to \(ValidationError.excerpt(resolved, limit: 200)), outside \(base), the only folder it may be in")
        }
        return resolved
    }

    static func parent(of path: String) -> String {
        guard path != "/", let slash = path.lastIndex(of: "/") else { return "/" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The real path of an existing file or folder, nil when it does not exist.
    static func realPath(_ path: String) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        return String(cString: real)
    }
}
