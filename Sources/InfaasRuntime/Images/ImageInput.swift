/// An 8-bit RGB image, row-major, 3 bytes per pixel.
public struct DecodedImage: Sendable {
    public var width: Int
    public var height: Int
    public var rgb: [UInt8]

    public init(width: Int, height: Int, rgb: [UInt8]) {
        self.width = width
        self.height = height
        self.rgb = rgb
    }
}

/// Turns image bytes (a query's JPEG or PNG) into a model's input tensor.
public enum ImageInput {
    /// The largest image decoded, in pixels (guards against decompression bombs).
    public static let maxPixels = 64 * 1024 * 1024

    /// Decodes a JPEG (libjpeg-turbo) or PNG (libpng; palette, grey and alpha become RGB,
    /// alpha is dropped). Anything else is `.invalidImage` naming what the bytes look like.
    public static func decode(_ bytes: [UInt8]) throws(RuntimeError) -> DecodedImage {
        switch ImageFormat.sniff(bytes) {
        case .jpeg: return try JPEGDecoder.decode(bytes)
        case .png: return try PNGDecoder.decode(bytes)
        case .other(let name):
            throw RuntimeError(.invalidImage, "cannot decode \(name) (\(bytes.count) bytes)",
                               hint: "send a JPEG or PNG image")
        }
    }

    public enum Layout: String, Sendable {
        case nchw, nhwc
    }

    /// Decodes each image, resizes (bilinear) to size×size, scales to [0,1], normalises per channel with mean/std, stacks into a batch tensor.
    ///
    /// The result is `[N, 3, size, size]` (`.nchw`) or `[N, size, size, 3]` (`.nhwc`), channels
    /// in RGB order; each value is `(pixel / 255 − mean[c]) / std[c]`. Resizing samples at
    /// pixel centres (OpenCV's `INTER_LINEAR`), without anti-aliasing.
    public static func batchTensor(images: [[UInt8]], size: Int, mean: [Float] = [0.485, 0.456, 0.406],
                                   std: [Float] = [0.229, 0.224, 0.225], layout: Layout = .nchw) throws(RuntimeError) -> Tensor {
        guard !images.isEmpty else {
            throw RuntimeError(.inputMismatch, "no images to batch", hint: "pass at least one image")
        }
        guard size > 0, size * size <= maxPixels else {
            throw RuntimeError(.inputMismatch, "image size \(size) is not between 1 and \(Int(Double(maxPixels).squareRoot()))",
                               hint: "use the model's input side, e.g. 224")
        }
        guard mean.count == 3, std.count == 3 else {
            throw RuntimeError(.inputMismatch, "mean and std need 3 values (R, G, B), got \(mean.count) and \(std.count)")
        }
        guard std.allSatisfy({ $0 != 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
            throw RuntimeError(.inputMismatch, "std \(std) must be finite and non-zero, mean \(mean) finite")
        }
        let plane = size * size
        let perImage = 3 * plane
        var values = [Float](repeating: 0, count: images.count * perImage)
        // value = pixel · scale[c] + offset[c]
        let scale = (0..<3).map { 1 / (255 * std[$0]) }
        let offset = (0..<3).map { -mean[$0] / std[$0] }
        for (n, bytes) in images.enumerated() {
            let image = try decode(bytes)
            let resized = ImageResize.bilinear(image, width: size, height: size)
            let base = n * perImage
            values.withUnsafeMutableBufferPointer { out in
                resized.withUnsafeBufferPointer { pixels in
                    switch layout {
                    case .nchw:
                        for c in 0..<3 {
                            let s = scale[c], o = offset[c], channel = base + c * plane
                            for p in 0..<plane { out[channel + p] = Float(pixels[3 * p + c]) * s + o }
                        }
                    case .nhwc:
                        for p in 0..<plane {
                            for c in 0..<3 { out[base + 3 * p + c] = Float(pixels[3 * p + c]) * scale[c] + offset[c] }
                        }
                    }
                }
            }
        }
        let shape = layout == .nchw ? [images.count, 3, size, size] : [images.count, size, size, 3]
        return Tensor(shape: shape, values: values)
    }
}

/// What a byte string looks like, from its first bytes.
enum ImageFormat: Equatable {
    case jpeg, png
    case other(String)

    static func sniff(_ bytes: [UInt8]) -> ImageFormat {
        func starts(_ prefix: [UInt8]) -> Bool { bytes.count >= prefix.count && Array(bytes.prefix(prefix.count)) == prefix }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.isEmpty { return .other("an empty input (0 bytes)") }
        if starts(Array("GIF8".utf8)) { return .other("a GIF image") }
        if starts(Array("BM".utf8)) { return .other("what looks like a BMP image") }
        if starts(Array("RIFF".utf8)), bytes.count >= 12, Array(bytes[8..<12]) == Array("WEBP".utf8) { return .other("a WebP image") }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .other("a TIFF image") }
        if bytes.count >= 12, Array(bytes[4..<8]) == Array("ftyp".utf8) { return .other("an ISO media file (HEIC/AVIF/MP4)") }
        let sample = bytes.prefix(64)
        if sample.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            // Never quoted: an error about a file must not carry its contents (an offline job's
            // .error file once leaked a token's first bytes).
            return .other("text, not an image")
        }
        return .other("an unknown format")
    }
}
