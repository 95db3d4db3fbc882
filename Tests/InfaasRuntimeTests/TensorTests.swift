import Testing
import InfaasRuntime

@Suite("Tensor and signature")
struct TensorTests {
    @Test func validatedAcceptsMatchingCountAndRejectsOthers() throws {
        let good = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        #expect(try good.validated() == good)
        #expect(good.elementCount == 6)
        let short = Tensor(shape: [2, 3], values: [1, 2, 3])
        let error = #expect(throws: RuntimeError.self) { try short.validated() }
        #expect(error?.kind == .inputMismatch)
        #expect(error?.message.contains("6 values, but 3") == true)
        let negative = Tensor(shape: [-1, 3], values: [])
        #expect(throws: RuntimeError.self) { try negative.validated() }
    }

    @Test func topKRanksOneRowBestFirstWithTiesInIndexOrder() {
        let scores = Tensor(shape: [2, 5], values: [0.1, 0.7, 0.2, 0.7, 0.0,
                                                     5, 4, 3, 2, 1])
        let top = scores.topK(3, row: 0)
        #expect(top.map(\.index) == [1, 3, 2])
        #expect(top.map(\.score) == [0.7, 0.7, 0.2])
        #expect(scores.topK(2, row: 1).map(\.index) == [0, 1])
        #expect(scores.topK(10, row: 1).count == 5)
    }

    @Test func topKReadsFourDimensionalClassifierOutputs() {
        let scores = Tensor(shape: [1, 4, 1, 1], values: [0.3, -1, 2, 0.5])
        #expect(scores.topK(2, row: 0).map(\.index) == [2, 3])
    }

    @Test func topKOfAMissingRowIsEmpty() {
        let scores = Tensor(shape: [1, 3], values: [1, 2, 3])
        #expect(scores.topK(2, row: 1).isEmpty)
        #expect(scores.topK(2, row: -1).isEmpty)
        #expect(scores.topK(0, row: 0).isEmpty)
    }

    @Test func signatureAcceptsAnyBatchButNotOtherDimensions() throws {
        let signature = ModelSignature(inputName: "image", inputShape: [-1, 3, 8, 8], outputNames: ["logits"], outputShapes: [[-1, 4]])
        try signature.checkInput(shape: [1, 3, 8, 8])
        try signature.checkInput(shape: [17, 3, 8, 8])
        for bad in [[1, 3, 8], [1, 3, 8, 9], [0, 3, 8, 8], [1, 1, 3, 8, 8]] {
            let error = #expect(throws: RuntimeError.self) { try signature.checkInput(shape: bad) }
            #expect(error?.kind == .inputMismatch)
            #expect(error?.message.contains("[N,3,8,8]") == true)
        }
        #expect(signature.concreteInputShape(batch: 4) == [4, 3, 8, 8])
        let symbolicSide = ModelSignature(inputName: "x", inputShape: [-1, 3, -1, -1], outputNames: [], outputShapes: [])
        #expect(symbolicSide.concreteInputShape(batch: 2) == nil)
        #expect(symbolicSide.concreteInputShape(batch: 2, fill: [2: 32, 3: 64]) == [2, 3, 32, 64])
    }

    @Test(arguments: [("cpu", ExecutionDevice.cpu), ("cuda", .cuda(deviceID: 0)), ("cuda:1", .cuda(deviceID: 1)),
                      ("GPU:2", .cuda(deviceID: 2)), ("inferentia", .inferentia), ("inf", .inferentia)])
    func devicesParseFromTheirNames(text: String, device: ExecutionDevice) {
        #expect(ExecutionDevice(parsing: text) == device)
    }

    @Test func unknownDeviceNamesDoNotParse() {
        for text in ["tpu", "cuda:x", "cuda:-1", "cpu:0", ""] { #expect(ExecutionDevice(parsing: text) == nil) }
    }

    @Test func errorDescriptionCarriesTheHint() {
        let error = RuntimeError(.modelNotFound, "no model file at /x.onnx", hint: "check the path")
        #expect(error.description == "no model file at /x.onnx (check the path)")
    }
}
