import Foundation
import InfaasRuntime

/// This process's CPU time, for the resource monitor: with several workers on one machine,
/// machine-wide `/proc/stat` (the reference's source) would charge each for the others.
struct ProcessCPU {
    var lastCPU: Double = ProcessCPU.cpuSeconds()
    var lastWall: Double = ProcessCPU.wallSeconds()

    /// Percent of `cores` used since the last call.
    mutating func utilization(cores: Int) -> Double {
        let cpu = Self.cpuSeconds(), wall = Self.wallSeconds()
        defer { lastCPU = cpu; lastWall = wall }
        let elapsed = wall - lastWall
        guard elapsed > 0 else { return 0 }
        return min(100, max(0, (cpu - lastCPU) / (elapsed * Double(max(1, cores))) * 100))
    }

    /// CPU seconds (user + system) this process has used.
    static func cpuSeconds() -> Double { ProcessCPUTime.seconds() }

    static func wallSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
