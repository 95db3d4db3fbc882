#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `getrusage(RUSAGE_SELF)`, nil when it fails.
func selfUsage() -> rusage? {
    var usage = rusage()
    #if os(Linux)
    let who = __rusage_who_t(RUSAGE_SELF.rawValue)
    #else
    let who = RUSAGE_SELF
    #endif
    return getrusage(who, &usage) == 0 ? usage : nil
}

/// This process's CPU time.
public enum ProcessCPUTime {
    /// CPU seconds (user + system) this process has used, all its threads together.
    public static func seconds() -> Double {
        guard let usage = selfUsage() else { return 0 }
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// CPU seconds process `pid` has used: the sum over its threads of the time on a CPU the
    /// scheduler counted (`/proc/PID/task/*/schedstat`, ns), else user + system time from
    /// `/proc/PID/stat` (clock ticks, which counts exited threads too but only to 10 ms). nil
    /// where neither can be read (no such process, not Linux).
    public static func seconds(pid: Int32) -> Double? {
        #if os(Linux)
        let tasks = "/proc/\(pid)/task"
        if let dir = opendir(tasks) {
            defer { closedir(dir) }
            var nanos = 0.0, read = false
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                guard name.first?.isNumber == true, let text = ProcessMemory.readProcFile("\(tasks)/\(name)/schedstat"),
                      let first = text.split(separator: " ").first, let value = Double(first) else { continue }
                nanos += value
                read = true
            }
            if read { return nanos / 1e9 }
        }
        if let text = ProcessMemory.readProcFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") {
            // Fields after the command: state is field 3, utime 14 and stime 15.
            let fields = text[text.index(after: close)...].split(separator: " ")
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
            }
        }
        #endif
        return nil
    }
}

/// This process's memory, from `/proc/self` on Linux.
public enum ProcessMemory {
    /// Resident set size now, in bytes (`/proc/self/statm`, second field × page size).
    /// Elsewhere, or if `/proc` cannot be read, the peak (see `peakResidentBytes`).
    public static func residentBytes() -> Int {
        #if os(Linux)
        if let text = readProcFile("/proc/self/statm") {
            let fields = text.split(separator: " ")
            if fields.count > 1, let pages = Int(fields[1]) { return pages * Int(sysconf(Int32(_SC_PAGESIZE))) }
        }
        #endif
        return peakResidentBytes()
    }

    /// The highest resident set size so far, in bytes (`VmHWM` in `/proc/self/status`;
    /// elsewhere `getrusage`'s `ru_maxrss`).
    public static func peakResidentBytes() -> Int {
        #if os(Linux)
        if let text = readProcFile("/proc/self/status") {
            for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                let digits = line.dropFirst(6).filter(\.isNumber)
                if let kilobytes = Int(digits) { return kilobytes * 1024 }
            }
        }
        #endif
        guard let usage = selfUsage() else { return 0 }
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        return Int(usage.ru_maxrss)  // bytes on Darwin
        #endif
    }

    /// Resets the peak to the current resident size (Linux ≥ 4.0: writes `5` to
    /// `/proc/self/clear_refs`), so `peakResidentBytes` measures from now. Returns false
    /// where that is not possible; the peak then stays the process-lifetime peak.
    @discardableResult
    public static func resetPeak() -> Bool {
        #if os(Linux)
        let fd = open("/proc/self/clear_refs", O_WRONLY)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var command: UInt8 = UInt8(ascii: "5")
        return write(fd, &command, 1) == 1
        #else
        return false
        #endif
    }

    #if os(Linux)
    /// Reads a small `/proc` file (whose reported size is 0) with plain `read` calls.
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
    #endif
}
