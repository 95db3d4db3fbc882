/// A plain-text table with a header row and left/right aligned columns.
struct TextTable {
    enum Alignment { case left, right }
    var columns: [(title: String, alignment: Alignment)]
    var rows: [[String]] = []

    init(_ columns: [(String, Alignment)]) { self.columns = columns.map { (title: $0.0, alignment: $0.1) } }

    mutating func append(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = columns.map { $0.title.count }
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
                return columns[i].alignment == .left ? cell + pad : pad + cell
            }.joined(separator: "  ").trimmedTrailing()
        }
        return ([line(columns.map(\.title))] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    func trimmedTrailing() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Formats an optional number for a table: `—` when unknown.
func cell(_ value: Double?, digits: Int = 2) -> String {
    guard let value, value.isFinite else { return "—" }
    return formatted(value, digits: digits)
}

func formatted(_ value: Double, digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    let text = String(rounded)
    guard let dot = text.firstIndex(of: "."), !text.contains("e") else { return text }
    let decimals = text.distance(from: dot, to: text.endIndex) - 1
    return decimals < digits ? text + String(repeating: "0", count: digits - decimals) : text
}
