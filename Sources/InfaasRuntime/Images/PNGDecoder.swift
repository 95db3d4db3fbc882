import CImageCodec

/// PNG to RGB through libpng's simplified read API: palette, grey, 16-bit and tRNS images
/// all come out as 8-bit RGBA, and the alpha channel is then dropped.
enum PNGDecoder {
    static func decode(_ bytes: [UInt8]) throws(RuntimeError) -> DecodedImage {
        var image = png_image()
        image.version = infaas_png_image_version
        let began = bytes.withUnsafeBufferPointer { buffer in
            png_image_begin_read_from_memory(&image, buffer.baseAddress, buffer.count)
        }
        guard began != 0 else {
            throw RuntimeError(.invalidImage, "not a readable PNG: \(message(of: &image))", hint: "the file may be truncated or corrupt")
        }
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= ImageInput.maxPixels else {
            png_image_free(&image)
            throw RuntimeError(.invalidImage, "PNG of \(width)×\(height) pixels is empty or larger than \(ImageInput.maxPixels) pixels",
                               hint: "resize it before sending")
        }
        image.format = infaas_png_format_rgba
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let finished = rgba.withUnsafeMutableBufferPointer { output in
            png_image_finish_read(&image, nil, output.baseAddress, 0, nil)
        }
        guard finished != 0 else {
            throw RuntimeError(.invalidImage, "cannot decode PNG: \(message(of: &image))", hint: "the file may be truncated or corrupt")
        }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        rgb.withUnsafeMutableBufferPointer { out in
            rgba.withUnsafeBufferPointer { source in
                for p in 0..<(width * height) {
                    out[3 * p] = source[4 * p]
                    out[3 * p + 1] = source[4 * p + 1]
                    out[3 * p + 2] = source[4 * p + 2]
                }
            }
        }
        return DecodedImage(width: width, height: height, rgb: rgb)
    }

    /// libpng's message, held in the image's fixed-size `message` field.
    private static func message(of image: inout png_image) -> String {
        withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
