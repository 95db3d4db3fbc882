import Foundation

/// Finds ONNX Runtime's shared library: `INFAAS_ORT_LIB` first, then the `onnxruntime`
/// Python package (where `python3` finds it, then the usual site-packages directories).
struct ORTLibraryLocator {
    static let environmentKey = "INFAAS_ORT_LIB"
    static let fixHint = "set INFAAS_ORT_LIB=/path/to/libonnxruntime.so, or `pip install onnxruntime` (CPU) / `pip install onnxruntime-gpu` (CUDA hosts)"

    var environment: [String: String]
    /// Directories that may hold Python packages; `python3*` path components are expanded.
    var searchRoots: [String]
    /// Whether to ask `python3` where its `onnxruntime` package is.
    var askPython = true

    init(environment: [String: String], searchRoots: [String]? = nil) {
        self.environment = environment
        self.searchRoots = searchRoots ?? Self.defaultRoots(environment: environment)
    }

    static func defaultRoots(environment: [String: String]) -> [String] {
        var roots: [String] = []
        if let venv = environment["VIRTUAL_ENV"], !venv.isEmpty { roots.append("\(venv)/lib/python3*/site-packages") }
        if let conda = environment["CONDA_PREFIX"], !conda.isEmpty { roots.append("\(conda)/lib/python3*/site-packages") }
        if let home = environment["HOME"], !home.isEmpty { roots.append("\(home)/.local/lib/python3*/site-packages") }
        roots += [
            "/usr/local/lib/python3*/dist-packages", "/usr/local/lib/python3*/site-packages",
            "/usr/lib/python3/dist-packages", "/usr/lib/python3*/site-packages",
        ]
        return roots
    }

    func locate() throws(RuntimeError) -> String {
        if let explicit = environment[Self.environmentKey], !explicit.isEmpty {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: explicit, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw RuntimeError(.libraryNotFound,
                                   "\(Self.environmentKey) is set to \"\(explicit)\", but there is no such file",
                                   hint: "point \(Self.environmentKey) at libonnxruntime.so, or unset it and `pip install onnxruntime` so infaas finds the Python package's copy")
            }
            return explicit
        }
        var looked: [String] = []
        if askPython, let directory = pythonPackageDirectory() {
            looked.append(directory)
            if let library = Self.library(inPackage: directory) { return library }
        }
        for root in searchRoots {
            for directory in Self.expand(root) {
                let package = directory + "/onnxruntime"
                looked.append(package)
                if let library = Self.library(inPackage: package) { return library }
            }
        }
        throw RuntimeError(
            .libraryNotFound,
            "ONNX Runtime's shared library was not found: \(Self.environmentKey) is not set and no onnxruntime Python package holds capi/libonnxruntime.so (asked python3; looked in \(searchRoots.joined(separator: ", ")))",
            hint: Self.fixHint)
    }

    /// `<package>/capi/libonnxruntime.so*` (or `.dylib`), if there is one.
    static func library(inPackage package: String) -> String? {
        let capi = package + "/capi"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: capi) else { return nil }
        let candidates = names.filter {
            $0.hasPrefix("libonnxruntime.so") || ($0.hasPrefix("libonnxruntime.") && $0.hasSuffix(".dylib"))
        }
        // The fully versioned name is the real file; the others are links to it.
        guard let best = candidates.max(by: { ($0.count, $0) < ($1.count, $1) }) else { return nil }
        return capi + "/" + best
    }

    /// Expands one `python3*` component of a path against the file system.
    static func expand(_ pattern: String) -> [String] {
        guard let star = pattern.range(of: "python3*") else {
            return FileManager.default.fileExists(atPath: pattern) ? [pattern] : []
        }
        let parent = String(pattern[..<star.lowerBound].dropLast())
        let rest = String(pattern[star.upperBound...])
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return [] }
        return names.filter { $0.hasPrefix("python3") }.sorted().reversed()
            .map { "\(parent)/\($0)\(rest)" }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// Asks `python3` (on the environment's PATH) where `onnxruntime` is, without importing it.
    func pythonPackageDirectory() -> String? {
        let script = """
            import importlib.util, os
            spec = importlib.util.find_spec("onnxruntime")
            print(os.path.dirname(spec.origin) if spec is not None and spec.origin else "")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
