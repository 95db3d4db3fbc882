/// Bilinear resampling of 8-bit RGB images.
enum ImageResize {
    /// Resizes to `width`×`height` by bilinear interpolation, sampling each output pixel at
    /// its centre (`x_src = (x + 0.5)·W/w − 0.5`, clamped to the edge) — OpenCV's
    /// `INTER_LINEAR`. No anti-aliasing: large reductions alias, as they do there.
    static func bilinear(_ image: DecodedImage, width: Int, height: Int) -> [UInt8] {
        if image.width == width, image.height == height { return image.rgb }
        let xs = taps(source: image.width, target: width)
        let ys = taps(source: image.height, target: height)
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let rowBytes = image.width * 3
        image.rgb.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let ty = ys[y]
                    let row0 = ty.low * rowBytes, row1 = ty.high * rowBytes
                    for x in 0..<width {
                        let tx = xs[x]
                        let a = tx.low * 3, b = tx.high * 3
                        for c in 0..<3 {
                            let top = Float(src[row0 + a + c]) * (1 - tx.weight) + Float(src[row0 + b + c]) * tx.weight
                            let bottom = Float(src[row1 + a + c]) * (1 - tx.weight) + Float(src[row1 + b + c]) * tx.weight
                            let value = top * (1 - ty.weight) + bottom * ty.weight
                            dst[(y * width + x) * 3 + c] = UInt8(min(255, max(0, value.rounded())))
                        }
                    }
                }
            }
        }
        return out
    }

    /// For each target coordinate: the two source coordinates and the weight of the second.
    static func taps(source: Int, target: Int) -> [(low: Int, high: Int, weight: Float)] {
        let ratio = Double(source) / Double(target)
        return (0..<target).map { t in
            let position = min(max((Double(t) + 0.5) * ratio - 0.5, 0), Double(source - 1))
            let low = Int(position.rounded(.down))
            let high = min(low + 1, source - 1)
            return (low, high, Float(position - Double(low)))
        }
    }
}
