public import InfaasCore

/// One query arrival of a workload: when, for which application, and — when the trace says —
/// what it names and needs. Fields a trace leaves out come from the experiment's application.
public struct Arrival: Hashable, Sendable {
    public var time: SimTime
    /// Index of the application (query stream) the arrival belongs to.
    public var application: Int
    /// What the query names: a variant, an architecture or `task/dataset`; `nil` = the application's.
    public var target: String?
    public var batch: Int
    public var sloMs: Double?
    public var minAccuracy: Double?
    /// Row or line of the trace file it came from (0 for generated arrivals), for error messages.
    public var row: Int

    public init(time: SimTime, application: Int = 0, target: String? = nil, batch: Int = 1,
                sloMs: Double? = nil, minAccuracy: Double? = nil, row: Int = 0) {
        self.time = time
        self.application = application
        self.target = target
        self.batch = batch
        self.sloMs = sloMs
        self.minAccuracy = minAccuracy
        self.row = row
    }
}

/// A source of arrivals in non-decreasing time order, read one at a time so a simulation never
/// holds the whole trace in memory.
public protocol ArrivalStream {
    /// The next arrival, or `nil` at the end.
    mutating func next() throws(TraceError) -> Arrival?
}

extension ArrivalStream {
    /// Drains the stream into an array (tests and small traces only).
    public mutating func collect(limit: Int = .max) throws(TraceError) -> [Arrival] {
        var out: [Arrival] = []
        while out.count < limit, let arrival = try next() { out.append(arrival) }
        return out
    }
}

/// Why a trace could not be read.
public struct TraceError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case fileNotFound = "file not found"
        case badHeader = "bad header"
        case badValue = "bad value"
        case unsorted = "unsorted"
        case empty = "empty trace"
        case badParameter = "bad parameter"
    }

    public var code: Code
    public var message: String
    /// `path`, `path:line`, or the generator's name.
    public var location: String
    public var hint: String?

    public init(_ code: Code, _ message: String, at location: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.hint = hint
    }

    public var description: String { "\(location): \(message)" + (hint.map { " (\($0))" } ?? "") }
}

/// A type-erased arrival stream, for composing streams chosen at run time.
public struct AnyArrivalStream: ArrivalStream {
    private var base: any ArrivalStream

    public init(_ base: any ArrivalStream) {
        if let erased = base as? AnyArrivalStream { self = erased } else { self.base = base }
    }

    public mutating func next() throws(TraceError) -> Arrival? { try base.next() }
}
