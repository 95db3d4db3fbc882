import CImageCodec

/// JPEG to RGB through libjpeg-turbo's TurboJPEG API.
enum JPEGDecoder {
    static func decode(_ bytes: [UInt8]) throws(RuntimeError) -> DecodedImage {
        guard let handle = tjInitDecompress() else {
            throw RuntimeError(.invalidImage, "cannot start the JPEG decoder: \(String(cString: tjGetErrorStr2(nil)))")
        }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer { buffer in
            tjDecompressHeader3(handle, buffer.baseAddress, UInt(buffer.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else {
            throw RuntimeError(.invalidImage, "not a readable JPEG: \(String(cString: tjGetErrorStr2(handle)))",
                               hint: "the file may be truncated or corrupt")
        }
        guard width > 0, height > 0, Int(width) * Int(height) <= ImageInput.maxPixels else {
            throw RuntimeError(.invalidImage, "JPEG of \(width)×\(height) pixels is empty or larger than \(ImageInput.maxPixels) pixels",
                               hint: "resize it before sending")
        }
        var rgb = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let status = bytes.withUnsafeBufferPointer { input in
            rgb.withUnsafeMutableBufferPointer { output in
                tjDecompress2(handle, input.baseAddress, UInt(input.count), output.baseAddress, width, 0, height,
                              Int32(TJPF_RGB.rawValue), 0)
            }
        }
        // A warning (e.g. extraneous bytes after the image) still produces the full image.
        if status != 0, tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) {
            throw RuntimeError(.invalidImage, "cannot decode JPEG: \(String(cString: tjGetErrorStr2(handle)))",
                               hint: "the file may be truncated, corrupt or CMYK")
        }
        return DecodedImage(width: Int(width), height: Int(height), rgb: rgb)
    }
}
