import Foundation

/// A JSON document as the v2 REST API carries it (tensor data of any nesting, free-form
/// parameters), decoded strictly: `true` is a bool, `1` an integer, `1.5` a double.
enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Int64.self) { self = .int(v) }
        else if let v = try? c.decode(Double.self) { self = .double(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else if let v = try? c.decode([JSONValue].self) { self = .array(v) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let v): try c.encode(v)
        case .int(let v): try c.encode(v)
        case .double(let v): try c.encode(v)
        case .string(let v): try c.encode(v)
        case .array(let v): try c.encode(v)
        case .object(let v): try c.encode(v)
        }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }

    /// An integer value (a double without a fraction counts).
    var int: Int64? {
        switch self {
        case .int(let v): v
        case .double(let v) where v == v.rounded() && abs(v) < 9e15: Int64(v)
        default: nil
        }
    }

    /// The leaves of nested arrays, row-major (a scalar is one leaf).
    func flattened() -> [JSONValue] {
        guard case .array(let items) = self else { return [self] }
        var out: [JSONValue] = []
        out.reserveCapacity(items.count)
        for item in items {
            if case .array = item { out += item.flattened() } else { out.append(item) }
        }
        return out
    }

    func encoded() -> Data {
        (try? JSONEncoder().encode(self)) ?? Data("{}".utf8)
    }
}

extension JSONValue {
    /// An error body, `{"error": "..."}`, as the v2 REST API answers every failure.
    static func error(_ message: String) -> JSONValue { .object(["error": .string(message)]) }
}
