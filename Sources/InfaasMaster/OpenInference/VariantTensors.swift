import Foundation
import InfaasRPC
import Synchronization

/// A variant's input and output tensors as Open Inference v2 metadata names them.
///
/// The master's registry knows a variant's input size but not its ONNX tensor names; those are
/// in the variant's `variant.yaml` beside `model.onnx` (written by `models/build_models.py`:
/// `input_name`, `input_shape`, `output_name`, `output_shape`). For a `file://` variant the
/// master reads that file once; for one it cannot read (`s3://`, no yaml) the names are
/// `input`/`output` and the input shape is `[-1, 3, H, W]` from the registry (`-1` where unknown).
struct VariantTensors: Sendable, Equatable {
    struct Tensor: Sendable, Equatable {
        var name: String
        var shape: [Int64]
    }

    var input: Tensor
    var outputs: [Tensor]
    /// Read from the variant's `variant.yaml` (false: the fallback names and shapes).
    var fromFile: Bool

    /// The fallback for a variant whose `variant.yaml` is not readable here.
    static func fallback(_ spec: Infaas_V1_VariantSpec) -> VariantTensors {
        let h = spec.inputHeight > 0 ? Int64(spec.inputHeight) : -1
        let w = spec.inputWidth > 0 ? Int64(spec.inputWidth) : -1
        return VariantTensors(input: Tensor(name: "input", shape: [-1, 3, h, w]), outputs: [Tensor(name: "output", shape: [-1, -1])], fromFile: false)
    }

    /// Parses the keys it needs from a `variant.yaml` (flat `key: value` lines; lists as `[a, b]`).
    static func parse(yaml text: String) -> VariantTensors? {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.hasPrefix("#"), let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = String(trimmed[..<colon])
            var value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            values[key] = value
        }
        func shape(_ text: String?) -> [Int64]? {
            guard let text, text.hasPrefix("["), text.hasSuffix("]") else { return nil }
            let items = text.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let dims = items.compactMap { Int64($0) }
            return dims.count == items.count && !dims.isEmpty ? dims : nil
        }
        guard let inputName = values["input_name"], let inputShape = shape(values["input_shape"]),
              let outputName = values["output_name"] else { return nil }
        return VariantTensors(input: Tensor(name: inputName, shape: inputShape),
                              outputs: [Tensor(name: outputName, shape: shape(values["output_shape"]) ?? [-1, -1])], fromFile: true)
    }

    /// The name of output `index` of `count` a worker returned.
    func outputName(_ index: Int, of count: Int) -> String {
        if count == outputs.count { return outputs[index].name }
        return index < outputs.count ? outputs[index].name : "output_\(index)"
    }
}

/// Each variant's ``VariantTensors``, read once.
final class VariantTensorCache: Sendable {
    private let cache = Mutex<[String: VariantTensors]>([:])

    func tensors(_ spec: Infaas_V1_VariantSpec) -> VariantTensors {
        let key = spec.name + "\u{0}" + spec.modelURL
        if let known = cache.withLock({ $0[key] }) { return known }
        var found = VariantTensors.fallback(spec)
        if spec.modelURL.hasPrefix("file://") {
            let folder = String(spec.modelURL.dropFirst("file://".count))
            let path = (folder.hasSuffix("/") ? folder : folder + "/") + "variant.yaml"
            if let data = FileManager.default.contents(atPath: path), let parsed = VariantTensors.parse(yaml: String(decoding: data, as: UTF8.self)) {
                found = parsed
            }
        }
        cache.withLock { $0[key] = found }
        return found
    }
}
