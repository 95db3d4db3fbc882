/// A value that breaks a rule, with the field it came from and what would fix it.
public struct ValidationError: Error, Hashable, Sendable, CustomStringConvertible {
    public var field: String
    public var value: String
    public var reason: String
    /// File and line the value came from, when it came from a file (`profiles.csv:12`).
    public var location: String?

    public init(field: String, value: String, reason: String, location: String? = nil) {
        self.field = field
        self.value = value
        self.reason = reason
        self.location = location
    }

    public var description: String {
        let at = location.map { "\($0): " } ?? ""
        return "\(at)invalid \(field) \"\(value)\": \(reason)"
    }
}

/// Suggests the closest known names for a misspelt one (`resnet5` → `resnet50`).
public enum NameSuggestion {
    /// Up to `limit` names within a small edit distance of `name`, closest first.
    public static func closest(to name: String, among candidates: [String], limit: Int = 3) -> [String] {
        let target = Array(name.lowercased())
        let prefix = name.lowercased()
        let threshold = max(2, target.count / 3)
        var scored: [(name: String, distance: Int)] = []
        for candidate in candidates {
            let d = distance(target, Array(candidate.lowercased()))
            if d <= threshold || candidate.lowercased().hasPrefix(prefix) { scored.append((candidate, d)) }
        }
        scored.sort { lhs, rhs in lhs.distance != rhs.distance ? lhs.distance < rhs.distance : lhs.name < rhs.name }
        return Array(scored.prefix(limit).map(\.name))
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// Formats "known: a, b, c" (at most `limit` names) plus "did you mean" when one is close.
    public static func hint(for name: String, known: [String], limit: Int = 12) -> String {
        var parts: [String] = []
        let close = closest(to: name, among: known)
        if !close.isEmpty { parts.append("did you mean \(close.map { "\"\($0)\"" }.joined(separator: " or "))?") }
        if known.isEmpty {
            parts.append("none are registered")
        } else {
            let shown = known.sorted().prefix(limit).joined(separator: ", ")
            parts.append("known: \(shown)\(known.count > limit ? ", … (\(known.count) in all)" : "")")
        }
        return parts.joined(separator: " ")
    }
}
