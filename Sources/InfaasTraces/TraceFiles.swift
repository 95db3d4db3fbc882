import InfaasCore

/// The Azure LLM inference trace (Azure Public Dataset, `AzureLLMInferenceTrace_{code,conv}.csv`):
/// `TIMESTAMP,ContextTokens,GeneratedTokens`, one request per row, timestamps
/// `YYYY-MM-DD HH:MM:SS.fffffff` ascending. Arrival times are offsets from the first row.
public struct AzureLLMTrace: ArrivalStream {
    private let reader: LineReader
    private var origin: Int64? = nil
    private var previous: Int64 = .min
    private var timestampColumn = 0
    public var application: Int
    /// Refuse rows that go back in time (off for `--sort`, which sorts afterwards).
    public var checkOrder: Bool

    public init(path: String, application: Int = 0, checkOrder: Bool = true) throws(TraceError) {
        reader = try LineReader(path: path)
        self.application = application
        self.checkOrder = checkOrder
        guard let header = reader.nextLine() else { throw TraceError(.empty, "the file is empty", at: path) }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters() }
        guard let index = columns.firstIndex(of: "TIMESTAMP") else {
            throw TraceError(.badHeader, "no TIMESTAMP column (header: \(ValidationError.excerpt(String(header), limit: 120)))", at: "\(path):1",
                             hint: "expected TIMESTAMP,ContextTokens,GeneratedTokens")
        }
        timestampColumn = index
    }

    public mutating func next() throws(TraceError) -> Arrival? {
        let column = timestampColumn
        let reader = reader
        while true {
            // Parse the timestamp straight from the line's bytes: no allocation per row.
            let parsed: Int64?? = try reader.withNextLine { line throws(TraceError) -> Int64? in
                if line.isEmpty { return nil }
                var field = 0, start = 0, end = line.count
                for (i, byte) in line.enumerated() where byte == UInt8(ascii: ",") {
                    if field == column { end = i; break }
                    field += 1
                    start = i + 1
                }
                let bytes = UnsafeBufferPointer(rebasing: line[start..<(field == column ? end : start)])
                guard field == column, let ns = Self.parseTimestamp(bytes) else {
                    throw TraceError(.badValue, "TIMESTAMP \"\(ValidationError.excerpt(String(decoding: bytes, as: UTF8.self)))\" is not YYYY-MM-DD HH:MM:SS[.fffffff] with a year in \(Self.years.lowerBound)…\(Self.years.upperBound)",
                                     at: reader.location)
                }
                return ns
            }
            guard let row = parsed else { return nil }
            guard let ns = row else { continue }
            if ns < previous, checkOrder {
                throw TraceError(.unsorted, "timestamp goes back in time", at: reader.location, hint: "sort the file, or pass --sort")
            }
            previous = max(previous, ns)
            let start = origin ?? ns
            origin = start
            // Years 1678–2261 fit nanoseconds, but not every difference of two of them does.
            let (offset, overflow) = ns.subtractingReportingOverflow(start)
            guard !overflow, Double(offset) <= InputLimits.maxTraceSeconds * 1e9 else {
                throw TraceError(.badValue, "timestamp is more than \(CheckedNumber.format(InputLimits.maxTraceSeconds)) s after the first row's", at: reader.location,
                                 hint: "a trace may span at most ~31 years")
            }
            return Arrival(time: SimTime(nanoseconds: max(0, offset)), application: application, row: reader.lineNumber)
        }
    }

    static func parseTimestamp(_ text: Substring) -> Int64? {
        var copy = Array(text.utf8)
        return copy.withUnsafeMutableBufferPointer { parseTimestamp(UnsafeBufferPointer($0)) }
    }

    /// Years whose instants fit signed 64-bit nanoseconds since 1970.
    static let years: ClosedRange<Int64> = 1678...2261

    /// Nanoseconds since 1970-01-01 for `YYYY-MM-DD HH:MM:SS[.fraction]` (UTC assumed); nil for
    /// anything else, including years outside ``years`` (which do not fit) — never a trap.
    static func parseTimestamp(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: " ") || bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":") else { return nil }
        func number(_ from: Int, _ to: Int) -> Int64? {
            var value: Int64 = 0
            for i in from..<to {
                let digit = Int64(bytes[i]) - 48
                guard digit >= 0, digit <= 9 else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 7), let day = number(8, 10),
              let hour = number(11, 13), let minute = number(14, 16), let second = number(17, 19),
              years.contains(year), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var fraction: Int64 = 0
        if bytes.count > 19 {
            guard bytes[19] == UInt8(ascii: "."), bytes.count > 20 else { return nil }
            // Any number of digits; the first nine (nanoseconds) count, the rest must be digits.
            // (19 or more digits once overflowed Int64.)
            let digits = bytes.count - 20
            guard let value = number(20, min(bytes.count, 29)),
                  bytes[min(bytes.count, 29)...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            fraction = value
            if digits < 9 { for _ in digits..<9 { fraction *= 10 } }
        }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return ((days * 24 + hour) * 60 + minute) * 60 * 1_000_000_000 + second * 1_000_000_000 + fraction
    }
}

/// Our own trace CSV: `time_s,target,batch,slo_ms,min_accuracy` (header required, any column
/// order; `application` optional). `target` is a variant, an architecture or `task/dataset`;
/// empty `slo_ms`/`min_accuracy` mean "the application's".
public struct QueryTraceCSV: ArrivalStream {
    private let reader: LineReader
    private var columns: [String: Int] = [:]
    private var previous: Int64 = .min
    static let required = ["time_s", "target", "batch", "slo_ms", "min_accuracy"]
    /// Refuse rows that go back in time (off for `--sort`).
    public var checkOrder: Bool

    public init(path: String, checkOrder: Bool = true) throws(TraceError) {
        reader = try LineReader(path: path)
        self.checkOrder = checkOrder
        guard let header = reader.nextLine() else { throw TraceError(.empty, "the file is empty", at: path) }
        for (index, name) in header.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            columns[name.trimmingCharacters()] = index
        }
        let missing = Self.required.filter { columns[$0] == nil }
        guard missing.isEmpty else {
            throw TraceError(.badHeader, "missing column\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", "))", at: "\(path):1",
                             hint: "the header must be time_s,target,batch,slo_ms,min_accuracy")
        }
    }

    public mutating func next() throws(TraceError) -> Arrival? {
        guard let line = reader.nextLine() else { return nil }
        if line.isEmpty { return try next() }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters() }
        func field(_ name: String) -> String { columns[name].flatMap { $0 < fields.count ? fields[$0] : nil } ?? "" }
        let at = reader.location
        // Bounded before it becomes nanoseconds (9.3e9 s once trapped).
        guard let seconds = Double(field("time_s")), seconds.isFinite, seconds >= 0, seconds <= InputLimits.maxTraceSeconds else {
            throw TraceError(.badValue, "time_s \"\(ValidationError.excerpt(field("time_s")))\" is not a number of seconds in 0…\(CheckedNumber.format(InputLimits.maxTraceSeconds))", at: at)
        }
        let target = field("target")
        guard !target.isEmpty else { throw TraceError(.badValue, "empty target", at: at) }
        guard target.utf8.count <= 2 * InputLimits.maxNameLength + 1 else {
            throw TraceError(.badValue, "target \"\(ValidationError.excerpt(target))\" is longer than a variant, architecture or task/dataset can be", at: at)
        }
        let batchText = field("batch")
        guard let batch = batchText.isEmpty ? 1 : Int(batchText), batch >= 1, batch <= InputLimits.maxBatch else {
            throw TraceError(.badValue, "batch \"\(ValidationError.excerpt(batchText))\" is not an integer in 1…\(InputLimits.maxBatch)", at: at)
        }
        func optional(_ name: String, _ range: ClosedRange<Double>) throws(TraceError) -> Double? {
            let text = field(name)
            if text.isEmpty { return nil }
            guard let value = Double(text), range.contains(value) else {
                throw TraceError(.badValue, "\(name) \"\(ValidationError.excerpt(text))\" is not a number in \(CheckedNumber.describe(range))", at: at)
            }
            return value
        }
        let slo = try optional("slo_ms", InputLimits.sloMs)
        let accuracy = try optional("min_accuracy", 0...100)
        var application = 0
        if columns["application"] != nil, !field("application").isEmpty {
            guard let value = Int(field("application")), value >= 0 else {
                throw TraceError(.badValue, "application \"\(ValidationError.excerpt(field("application")))\" is not an integer ≥ 0", at: at)
            }
            application = value
        }
        let time = SimTime.seconds(seconds)
        if time.nanoseconds < previous, checkOrder {
            throw TraceError(.unsorted, "time_s \(seconds) is earlier than the row before", at: at, hint: "sort the file by time_s, or pass --sort")
        }
        previous = time.nanoseconds
        return Arrival(time: time, application: application, target: target, batch: batch, sloMs: slo, minAccuracy: accuracy,
                       row: reader.lineNumber)
    }
}

extension Substring {
    func trimmingCharacters() -> String {
        var s = self
        while let c = s.first, c == " " || c == "\t" || c == "\"" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\"" { s = s.dropLast() }
        return String(s)
    }
}
