import Foundation
import GRPCCore
import InfaasCore
import InfaasRegistry

/// What a registration must show before it is committed (reference §2.4 step 2, which the
/// original left to the first query): the model's files are where the URL says, and the
/// framework can run them.
enum RegistrationChecks {
    /// Frameworks served live by ONNX Runtime: their folder must hold an `.onnx` model.
    static func needsONNX(_ framework: Framework) -> Bool { framework.rawValue.hasPrefix("onnxruntime") }

    /// A `.config` name a request carries (it names the S3 object in the config bucket).
    static func checkConfigName(_ name: String) throws(RPCError) {
        guard name.isEmpty || SafeName.isValid(name) else {
            throw RPCError(code: .invalidArgument,
                           message: "config name \"\(ValidationError.excerpt(name))\" is not a file name of \(SafeName.alphabet) (not starting with \".\", at most \(InputLimits.maxNameLength) characters)")
        }
    }

    /// A `file://` model location, checked on the master's machine (its workers are local or
    /// share the path): it must exist; a folder must hold the files the framework needs
    /// (`model.onnx`, or exactly one `.onnx`, for ONNX Runtime variants; anything, otherwise).
    static func checkFileLocation(_ path: String, variant: ModelVariant) throws(RPCError) {
        let fm = FileManager.default
        let resolved = ContainedPath.resolve(path)
        let shown = ValidationError.excerpt(path, limit: 200)
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: resolved, isDirectory: &isDirectory) else {
            throw RPCError(code: .notFound, message: "cannot register \(variant.name): its model location file://\(shown) does not exist (copy the model's folder there first, or check the URL)")
        }
        if !isDirectory.boolValue {
            guard !needsONNX(variant.framework) || resolved.hasSuffix(".onnx") else {
                throw RPCError(code: .invalidArgument, message: "cannot register \(variant.name) (\(variant.framework.rawValue)): file://\(shown) is a file but not an .onnx model (give the folder that holds model.onnx)")
            }
            return
        }
        let names = ((try? fm.contentsOfDirectory(atPath: resolved)) ?? []).filter { !$0.hasPrefix(".") }
        if needsONNX(variant.framework) {
            let onnx = names.filter { $0.hasSuffix(".onnx") }
            guard names.contains("model.onnx") || onnx.count == 1 else {
                throw RPCError(code: .failedPrecondition, message: "cannot register \(variant.name) (\(variant.framework.rawValue)): the folder file://\(shown) holds \(onnx.isEmpty ? "no .onnx model" : "\(onnx.count) .onnx models and no model.onnx") (put the model there as model.onnx, with its variant.yaml)")
            }
        } else {
            guard !names.isEmpty else {
                throw RPCError(code: .failedPrecondition, message: "cannot register \(variant.name): the folder file://\(shown) is empty (copy the model's files there first)")
            }
        }
    }
}
