import Testing
import InfaasRuntime

@Suite("Image input")
struct ImageInputTests {
    func pixel(_ image: DecodedImage, _ x: Int, _ y: Int) -> [Int] {
        let at = (y * image.width + x) * 3
        return image.rgb[at..<(at + 3)].map(Int.init)
    }

    @Test func pngDecodesExactPixels() throws {
        let image = try ImageInput.decode(Fixtures.bytes("rgb.png"))
        #expect(image.width == 4)
        #expect(image.height == 3)
        #expect(image.rgb.count == 4 * 3 * 3)
        #expect(pixel(image, 0, 0) == [255, 0, 0])
        #expect(pixel(image, 2, 0) == [0, 0, 255])
        #expect(pixel(image, 3, 1) == [130, 140, 150])
        #expect(pixel(image, 3, 2) == [250, 251, 252])
    }

    @Test func greyPngBecomesRGB() throws {
        let image = try ImageInput.decode(Fixtures.bytes("gray.png"))
        #expect((image.width, image.height) == (3, 2))
        #expect(pixel(image, 1, 0) == [100, 100, 100])
        #expect(pixel(image, 2, 1) == [255, 255, 255])
        #expect(pixel(image, 0, 1) == [50, 50, 50])
    }

    @Test func palettePngBecomesRGB() throws {
        let image = try ImageInput.decode(Fixtures.bytes("palette.png"))
        #expect((image.width, image.height) == (4, 2))
        #expect(pixel(image, 0, 0) == [255, 0, 0])
        #expect(pixel(image, 1, 0) == [0, 128, 0])
        #expect(pixel(image, 0, 1) == [0, 0, 255])
        #expect(pixel(image, 3, 1) == [255, 0, 0])
    }

    @Test func alphaIsDroppedNotComposited() throws {
        let image = try ImageInput.decode(Fixtures.bytes("rgba.png"))
        #expect((image.width, image.height) == (2, 1))
        #expect(pixel(image, 0, 0) == [10, 20, 30])
        #expect(pixel(image, 1, 0) == [200, 100, 50])
    }

    @Test func jpegDecodesSizeAndApproximateColours() throws {
        let flat = try ImageInput.decode(Fixtures.bytes("flat.jpg"))
        #expect((flat.width, flat.height) == (16, 16))
        for (got, want) in zip(pixel(flat, 7, 9), [200, 100, 50]) { #expect(abs(got - want) <= 4) }
        let halves = try ImageInput.decode(Fixtures.bytes("halves.jpg"))
        #expect((halves.width, halves.height) == (32, 16))
        for (got, want) in zip(pixel(halves, 4, 8), [220, 30, 30]) { #expect(abs(got - want) <= 8) }
        for (got, want) in zip(pixel(halves, 27, 8), [30, 30, 220]) { #expect(abs(got - want) <= 8) }
    }

    @Test func textIsAnInvalidImageSayingWhatItLooksLike() throws {
        let error = #expect(throws: RuntimeError.self) { try ImageInput.decode(Fixtures.bytes("not-an-image.txt")) }
        #expect(error?.kind == .invalidImage)
        #expect(error?.message.contains("text") == true)
        // What it looks like, never its bytes (an offline job's .error file once leaked a token).
        #expect(error?.message.contains("68 65 6C 6C") == false && error?.message.contains("hell") == false, "\(String(describing: error))")
        #expect(error?.hint?.contains("JPEG or PNG") == true)
    }

    @Test func otherFormatsAndTruncatedFilesAreInvalidImages() throws {
        let gif = #expect(throws: RuntimeError.self) { try ImageInput.decode(Array("GIF89a\u{01}\u{00}".utf8)) }
        #expect(gif?.message.contains("GIF") == true)
        let empty = #expect(throws: RuntimeError.self) { try ImageInput.decode([]) }
        #expect(empty?.kind == .invalidImage)
        let png = try Fixtures.bytes("rgb.png")
        let truncatedPNG = #expect(throws: RuntimeError.self) { try ImageInput.decode(Array(png.prefix(40))) }
        #expect(truncatedPNG?.kind == .invalidImage)
        let jpeg = try Fixtures.bytes("flat.jpg")
        let truncatedJPEG = #expect(throws: RuntimeError.self) { try ImageInput.decode(Array(jpeg.prefix(20))) }
        #expect(truncatedJPEG?.kind == .invalidImage)
    }

    @Test(arguments: [ImageInput.Layout.nchw, .nhwc])
    func batchTensorNormalisesAFlatColourImage(layout: ImageInput.Layout) throws {
        let flat = try Fixtures.bytes("flat.png")  // 6×4 of (200, 100, 50)
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let tensor = try ImageInput.batchTensor(images: [flat, flat], size: 4, layout: layout)
        #expect(tensor.shape == (layout == .nchw ? [2, 3, 4, 4] : [2, 4, 4, 3]))
        #expect(tensor.values.count == 2 * 48)
        let expected = [200, 100, 50].enumerated().map { c, value in (Float(value) / 255 - mean[c]) / std[c] }
        #expect(abs(expected[0] - 1.3073) < 1e-3)  // (200/255 − 0.485) / 0.229
        for n in 0..<2 {
            for c in 0..<3 {
                for p in 0..<16 {
                    let index = layout == .nchw ? n * 48 + c * 16 + p : n * 48 + p * 3 + c
                    #expect(abs(tensor.values[index] - expected[c]) < 1e-5)
                }
            }
        }
    }

    @Test func batchTensorStacksDifferentImagesInOrder() throws {
        let mean: [Float] = [0.5, 0.25, 0.125], std: [Float] = [0.5, 0.25, 2]
        // rgba.png is 2×1: (10,20,30) then (200,100,50); stretched to 5×5 the last column is the second pixel.
        let tensor = try ImageInput.batchTensor(images: [Fixtures.bytes("flat.png"), Fixtures.bytes("rgba.png")], size: 5,
                                                mean: mean, std: std, layout: .nchw)
        #expect(tensor.shape == [2, 3, 5, 5])
        for (c, value) in [200, 100, 50].enumerated() {
            let expected = (Float(value) / 255 - mean[c]) / std[c]
            #expect(abs(tensor.values[c * 25 + 12] - expected) < 1e-5)      // image 0, centre
            #expect(abs(tensor.values[75 + c * 25 + 4] - expected) < 1e-5)  // image 1, row 0, last column
        }
        for (c, value) in [10, 20, 30].enumerated() {
            let expected = (Float(value) / 255 - mean[c]) / std[c]
            #expect(abs(tensor.values[75 + c * 25 + 0] - expected) < 1e-5)  // image 1, first column
        }
    }

    @Test func batchTensorRejectsBadArguments() throws {
        let png = try Fixtures.bytes("rgb.png")
        #expect(throws: RuntimeError.self) { try ImageInput.batchTensor(images: [], size: 4) }
        #expect(throws: RuntimeError.self) { try ImageInput.batchTensor(images: [png], size: 0) }
        #expect(throws: RuntimeError.self) { try ImageInput.batchTensor(images: [png], size: 4, mean: [0.5]) }
        #expect(throws: RuntimeError.self) { try ImageInput.batchTensor(images: [png], size: 4, std: [1, 0, 1]) }
        let bad = #expect(throws: RuntimeError.self) { try ImageInput.batchTensor(images: [png, Array("text".utf8)], size: 4) }
        #expect(bad?.kind == .invalidImage)
    }

    @Test func resizingKeepsAFlatImageFlatAndUpsamplesByInterpolation() throws {
        // halves.jpg: left red, right blue; downsampled to 2×2 each half keeps its colour.
        let tensor = try ImageInput.batchTensor(images: [Fixtures.bytes("halves.jpg")], size: 2, mean: [0, 0, 0], std: [1, 1, 1])
        let red = tensor.values[0..<4].map { $0 * 255 }      // channel R, pixels (0,0) (1,0) (0,1) (1,1)
        let blue = tensor.values[8..<12].map { $0 * 255 }
        #expect(red[0] > 200 && red[2] > 200)
        #expect(red[1] < 60 && red[3] < 60)
        #expect(blue[0] < 60 && blue[1] > 200)
    }
}
