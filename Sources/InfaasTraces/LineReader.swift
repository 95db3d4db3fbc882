import Foundation

/// Reads a text file line by line through a fixed buffer (C `getline`), so memory does not
/// grow with the file. Strips `\n` and `\r\n`.
final class LineReader {
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>? = nil
    private var capacity = 0
    /// 1-based number of the line last returned.
    private(set) var lineNumber = 0
    let path: String

    init(path: String) throws(TraceError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw TraceError(.fileNotFound, "no such file", at: path)
        }
        guard let handle = fopen(path, "r") else {
            throw TraceError(.fileNotFound, "cannot open: \(String(cString: strerror(errno)))", at: path)
        }
        self.file = handle
        self.path = path
    }

    deinit {
        fclose(file)
        free(buffer)
    }

    /// Calls `body` with the next line's bytes (without the line break), valid only during the
    /// call; `nil` at end of file. No allocation.
    func withNextLine<T>(_ body: (UnsafeBufferPointer<UInt8>) throws(TraceError) -> T) throws(TraceError) -> T? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else { return nil }
        lineNumber += 1
        var count = length
        while count > 0, buffer[count - 1] == 10 || buffer[count - 1] == 13 { count -= 1 }
        return try buffer.withMemoryRebound(to: UInt8.self, capacity: count) { bytes throws(TraceError) in
            try body(UnsafeBufferPointer(start: bytes, count: count))
        }
    }

    /// The next line's bytes, or `nil` at end of file.
    func nextLine() -> Substring? {
        let length = getline(&buffer, &capacity, file)
        guard length >= 0, let buffer else { return nil }
        lineNumber += 1
        var count = length
        while count > 0, buffer[count - 1] == 10 || buffer[count - 1] == 13 { count -= 1 }
        let bytes = UnsafeRawBufferPointer(start: buffer, count: count)
        return Substring(String(decoding: bytes, as: UTF8.self))
    }

    var location: String { "\(path):\(lineNumber)" }
}
