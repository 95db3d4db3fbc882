/// Help text as ArgumentParser should wrap it. ArgumentParser wraps each line of a discussion to
/// the terminal's width; a paragraph written with hard line breaks at another width then comes
/// out ragged (a long line, a stub, a long line, a stub). `reflow` joins each paragraph's lines
/// into one line so it wraps cleanly at any width. Indented lines (examples, lists) and short
/// headings ending with ":" ("Examples:") are kept as written.
func reflow(_ text: String) -> String {
    var out: [String] = []
    var joinable = false  // whether the last output line is paragraph prose that may continue
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        let prose = !line.isEmpty && !line.hasPrefix(" ") && !line.hasPrefix("\t")
        let heading = prose && line.hasSuffix(":") && line.count <= 30
        if prose, !heading, joinable, let last = out.popLast() {
            out.append(last + " " + line)
        } else {
            out.append(line)
        }
        joinable = prose && !heading
    }
    return out.joined(separator: "\n")
}
