import InfaasCore
import Foundation

/// Imports profile tables (`.csv`) and original profiler outputs (`.config`) into one list
/// of variants, checking that no variant name appears twice across the files.
public enum ProfileImporter {
    /// Reads each file by its extension and merges the results.
    public static func importFiles(_ paths: [String], options: ImportOptions = ImportOptions()) throws(ProfileError) -> ImportReport {
        guard !paths.isEmpty else { throw ProfileError(.empty, "no input files given", at: "-") }
        var merged = ImportReport(variants: [], skipped: [], rowsRead: 0)
        var origin: [String: String] = [:]
        for path in paths {
            let text = try readText(path)
            let report: ImportReport
            switch (path as NSString).pathExtension.lowercased() {
            case "csv":
                report = try ProfileCSVImporter.parse(text: text, path: path, options: options)
            case "config":
                report = ImportReport(variants: [try ConfigFile.parse(text: text, path: path)], skipped: [], rowsRead: 1)
            default:
                throw ProfileError(.unknownFormat, "cannot tell the format from the extension", at: path,
                                   hint: "use .csv for a profile table or .config for a profiler output")
            }
            for variant in report.variants {
                if let first = origin.updateValue(path, forKey: variant.name) {
                    throw ProfileError(.duplicate, "variant \"\(variant.name)\" is already defined in \(first)", at: path)
                }
            }
            merged.variants += report.variants
            merged.skipped += report.skipped
            merged.rowsRead += report.rowsRead
        }
        guard !merged.variants.isEmpty else {
            throw ProfileError(.empty, "no variant with a latency in \(paths.joined(separator: ", "))", at: paths[0])
        }
        return merged
    }

    /// Reads a UTF-8 text file, with errors that say whether it is missing or unreadable.
    public static func readText(_ path: String) throws(ProfileError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ProfileError(.fileNotFound, "no such file", at: path)
        }
        guard !isDirectory.boolValue else { throw ProfileError(.unreadable, "is a directory, not a file", at: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ProfileError(.unreadable, "cannot read the file (permissions?)", at: path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ProfileError(.unreadable, "not UTF-8 text", at: path)
        }
        return text
    }
}
