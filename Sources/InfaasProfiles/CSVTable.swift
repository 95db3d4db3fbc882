/// A comma-separated table (RFC 4180: quoted fields, doubled quotes, CRLF or LF) with a
/// header row, keeping each record's line number for error messages.
public struct CSVTable: Sendable {
    public struct Record: Sendable {
        /// 1-based line the record starts on.
        public var line: Int
        public var fields: [String]
    }

    public var header: [String]
    public var records: [Record]
    public var path: String

    /// Parses `text`. A record with more fields than the header, or an unterminated quote,
    /// is an error that names the line.
    public init(text: String, path: String) throws(ProfileError) {
        self.path = path
        var rows: [Record] = []
        var field: [UInt8] = []
        var fields: [String] = []
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var quoteOpenedOn = 0
        let bytes = Array(text.utf8)
        var i = 0
        func endField() { fields.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true) }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append(Record(line: recordLine, fields: fields)) }
            fields.removeAll(keepingCapacity: true)
        }
        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") { field.append(c); i += 1 } else { inQuotes = false }
                } else {
                    if c == UInt8(ascii: "\n") { line += 1 }
                    field.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: "\""):
                    inQuotes = true
                    quoteOpenedOn = line
                case UInt8(ascii: ","): endField()
                case UInt8(ascii: "\r"): break
                case UInt8(ascii: "\n"):
                    endRecord()
                    line += 1
                    recordLine = line
                default: field.append(c)
                }
            }
            i += 1
        }
        if inQuotes {
            throw ProfileError(.badValue, "a quoted field opened here is never closed", at: "\(path):\(quoteOpenedOn)")
        }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        guard let first = rows.first else {
            throw ProfileError(.empty, "the file is empty (expected a header row)", at: path)
        }
        header = first.fields.map { $0.trimmingSpaces() }
        records = Array(rows.dropFirst())
        for record in records where record.fields.count > header.count {
            throw ProfileError(.badValue, "row has \(record.fields.count) fields but the header has \(header.count)",
                               at: "\(path):\(record.line)")
        }
    }

    /// Index of each required column; a missing one is an error naming it.
    public func columnIndices(required: [String], optional: [String]) throws(ProfileError) -> [String: Int] {
        var indices: [String: Int] = [:]
        for (index, name) in header.enumerated() where indices[name] == nil { indices[name] = index }
        let missing = required.filter { indices[$0] == nil }
        if !missing.isEmpty {
            throw ProfileError(.missingColumn, "missing column\(missing.count > 1 ? "s" : "") \(missing.map { "\"\($0)\"" }.joined(separator: ", "))",
                               at: "\(path):1", hint: "the header must name: \(required.joined(separator: ","))")
        }
        return indices.filter { required.contains($0.key) || optional.contains($0.key) }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
