/// Bounds on every number that comes from a file, a flag or a request. Values outside them are
/// refused with a ``ValidationError`` naming the key and the range, before anything converts,
/// allocates or loops on them (a `Double` that does not fit an `Int` traps; a rate of 10¹² never
/// lets simulated time advance). README "Limits and security" lists them.
public enum InputLimits {
    /// Longest name (variant, architecture, file) accepted.
    public static let maxNameLength = 128
    /// Largest batch a query, a profile point or a variant's max batch may have.
    public static let maxBatch = 65_536
    /// Largest latency, load time or SLO in a profile or a request: 10⁷ ms (2.8 h).
    public static let maxLatencyMs = 1e7
    /// Range of a query's or an application's latency SLO, ms (0 = none, where allowed).
    public static let sloMs: ClosedRange<Double> = 0...1e7
    /// Range of accuracy floors and accuracies, percent.
    public static let accuracy: ClosedRange<Double> = 0...100
    /// Longest simulated run, seconds (10⁸ s, ~3 years; simulated time holds ±292 years).
    public static let durationSeconds: ClosedRange<Double> = 0.001...1e8
    /// Latest arrival time a trace may hold, seconds after its first row (~31 years).
    public static let maxTraceSeconds = 1e9
    /// Highest arrival rate of a process, queries per second.
    public static let maxRate = 1e6
    /// Range of `rate_scale` (each arrival is kept ⌊f⌋ or ⌈f⌉ times).
    public static let rateScale: ClosedRange<Double> = 1e-6...1e4
    /// Range of `speedup` (times are divided by it).
    public static let speedup: ClosedRange<Double> = 1e-3...1e6
    /// Range of the mean on/off period and other process periods, seconds.
    public static let periodSeconds: ClosedRange<Double> = 1e-3...1e8
    /// Most workers of one class, initial or maximum.
    public static let maxWorkers = 10_000
    /// Largest `top_k` a query may ask for.
    public static let maxTopK = 1000
    /// Most time-series intervals a run may record (duration / interval).
    public static let maxTimeseriesIntervals = 10_000_000
    /// Most invocations an Azure Functions trace may give one minute, all functions together
    /// (10⁵/s; the minute's arrivals are held in memory, ~80 bytes each).
    public static let maxInvocationsPerMinute = 6_000_000
}

/// Checked conversions: a number from a file, flag or request is compared with its allowed range
/// first and only then converted, so out-of-range and non-finite values become errors naming
/// the key, the value and the range instead of traps.
public enum CheckedNumber {
    /// `value` when finite and inside `range`.
    public static func double(_ value: Double, key: String, range: ClosedRange<Double>, unit: String = "",
                              location: String? = nil) throws(ValidationError) -> Double {
        guard value.isFinite, range.contains(value) else {
            throw ValidationError(field: key, value: format(value), reason: "must be a number in \(describe(range, unit: unit))", location: location)
        }
        return value
    }

    /// The number written in `text`, when finite and inside `range`.
    public static func double(parsing text: some StringProtocol, key: String, range: ClosedRange<Double>, unit: String = "",
                              location: String? = nil) throws(ValidationError) -> Double {
        guard let value = Double(String(text)) else {
            throw ValidationError(field: key, value: ValidationError.excerpt(String(text)),
                                  reason: "is not a number (expected one in \(describe(range, unit: unit)))", location: location)
        }
        return try double(value, key: key, range: range, unit: unit, location: location)
    }

    /// `value` as an `Int` when it is a whole number inside `range`.
    public static func int(from value: Double, key: String, range: ClosedRange<Int>, location: String? = nil) throws(ValidationError) -> Int {
        guard value.isFinite, value >= Double(range.lowerBound), value <= Double(range.upperBound), value == value.rounded() else {
            throw ValidationError(field: key, value: format(value), reason: "must be a whole number in \(range.lowerBound)…\(range.upperBound)",
                                  location: location)
        }
        return Int(value)
    }

    /// The integer written in `text`, when inside `range`.
    public static func int(parsing text: some StringProtocol, key: String, range: ClosedRange<Int>, location: String? = nil) throws(ValidationError) -> Int {
        guard let value = Int(String(text)), range.contains(value) else {
            throw ValidationError(field: key, value: ValidationError.excerpt(String(text)),
                                  reason: "must be a whole number in \(range.lowerBound)…\(range.upperBound)", location: location)
        }
        return value
    }

    /// `value` (an `Int` already) when inside `range`.
    @discardableResult
    public static func int(_ value: Int, key: String, range: ClosedRange<Int>, location: String? = nil) throws(ValidationError) -> Int {
        guard range.contains(value) else {
            throw ValidationError(field: key, value: String(value), reason: "must be a whole number in \(range.lowerBound)…\(range.upperBound)",
                                  location: location)
        }
        return value
    }

    /// `value` seconds as a duration, when inside `range` (which must fit ±292 years).
    public static func seconds(_ value: Double, key: String, range: ClosedRange<Double>, location: String? = nil) throws(ValidationError) -> SimDuration {
        .seconds(try double(value, key: key, range: range, unit: " s", location: location))
    }

    /// `value` milliseconds as a duration, when inside `range`.
    public static func milliseconds(_ value: Double, key: String, range: ClosedRange<Double>, location: String? = nil) throws(ValidationError) -> SimDuration {
        .milliseconds(try double(value, key: key, range: range, unit: " ms", location: location))
    }

    /// `lo…hi unit`, numbers written as plainly as they allow.
    public static func describe(_ range: ClosedRange<Double>, unit: String = "") -> String {
        "\(format(range.lowerBound))…\(format(range.upperBound))\(unit)"
    }

    /// A number as a person writes it: whole numbers below 10¹⁵ without a fraction.
    public static func format(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}

extension ValidationError {
    /// At most `limit` characters of `text`, control characters escaped, with its length when
    /// cut: errors never echo a whole 100 MB line or raw input bytes.
    public static func excerpt(_ text: String, limit: Int = 64) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "… (\(text.utf8.count) bytes)"
                return out
            }
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }
}

/// Names that become folder and file names (variants, architectures, offline inputs): one
/// alphabet everywhere, `A–Z a–z 0–9 . _ -`, not starting with `.`, at most
/// ``InputLimits/maxNameLength`` characters. `..`, `/`, NUL and hidden names cannot pass.
public enum SafeName {
    /// The allowed characters, for messages.
    public static let alphabet = "A–Z a–z 0–9 . _ -"

    /// Whether `name` is allowed.
    public static func isValid(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard !utf8.isEmpty, utf8.count <= InputLimits.maxNameLength, utf8.first != UInt8(ascii: ".") else { return false }
        return utf8.allSatisfy { byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// `name`, or an error naming `field` and what is allowed.
    @discardableResult
    public static func check(_ name: String, field: String, location: String? = nil) throws(ValidationError) -> String {
        guard isValid(name) else {
            let why: String
            if name.isEmpty { why = "is empty" } else if name.utf8.count > InputLimits.maxNameLength {
                why = "is \(name.utf8.count) bytes long; the limit is \(InputLimits.maxNameLength)"
            } else if name.hasPrefix(".") { why = "starts with \".\"" } else { why = "holds characters outside \(alphabet)" }
            throw ValidationError(field: field, value: ValidationError.excerpt(name),
                                  reason: "\(why) (names become folder names: use only \(alphabet), not starting with \".\", at most \(InputLimits.maxNameLength) characters)",
                                  location: location)
        }
        return name
    }
}
