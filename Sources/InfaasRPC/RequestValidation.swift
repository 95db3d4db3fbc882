public import GRPCCore
import InfaasCore

/// Checks of every number and name a request carries, run where the request enters a daemon
/// (the master's and the worker's services) before anything converts, allocates or routes on
/// them. A value out of bounds is `INVALID_ARGUMENT` naming the field, the value and the bound.
public enum RequestLimits {
    /// Largest image side a query may name or send, pixels.
    public static let maxImageSide: UInt32 = 16_384
    /// Most dimensions of an input tensor.
    public static let maxTensorRank = 8

    static func invalid(_ message: String) -> RPCError { RPCError(code: .invalidArgument, message: message) }

    /// A latency SLO in ms: finite, within ``InputLimits/sloMs``.
    public static func checkSLO(_ sloMs: Double) throws(RPCError) {
        guard sloMs.isFinite, InputLimits.sloMs.contains(sloMs) else {
            throw invalid("slo_ms \(CheckedNumber.format(sloMs)) is out of range: give a latency SLO in \(CheckedNumber.describe(InputLimits.sloMs, unit: " ms")) (0 = none)")
        }
    }

    /// A queue deadline in ms: finite, within ``InputLimits/sloMs`` (0 = the policy's rule).
    public static func checkDeadline(_ deadlineMs: Double) throws(RPCError) {
        guard deadlineMs.isFinite, InputLimits.sloMs.contains(deadlineMs) else {
            throw invalid("deadline_ms \(CheckedNumber.format(deadlineMs)) is out of range: give a queue deadline in \(CheckedNumber.describe(InputLimits.sloMs, unit: " ms")) (0 = the policy's queue_deadline rule)")
        }
    }

    /// A priority class: one the protocol names (a newer client's unknown value is refused, not guessed).
    public static func checkPriority(_ priority: Infaas_V1_QueryPriority) throws(RPCError) {
        if case .UNRECOGNIZED(let raw) = priority {
            throw invalid("priority \(raw) is not a priority class: use QUERY_PRIORITY_HIGH (0) or QUERY_PRIORITY_LOW (1)")
        }
    }

    /// An accuracy floor in percent: finite, 0–100.
    public static func checkAccuracy(_ minAccuracy: Double) throws(RPCError) {
        guard minAccuracy.isFinite, InputLimits.accuracy.contains(minAccuracy) else {
            throw invalid("min_accuracy \(CheckedNumber.format(minAccuracy)) is out of range: give a percentage in 0…100 (0 = none)")
        }
    }

    /// `top_k`: at most ``InputLimits/maxTopK`` (the worker also never keeps more than the
    /// output has columns).
    public static func checkTopK(_ topK: UInt32) throws(RPCError) {
        guard topK <= UInt32(InputLimits.maxTopK) else {
            throw invalid("top_k \(topK) is out of range: ask for at most \(InputLimits.maxTopK) classes (0 = none)")
        }
    }

    /// A name a query looks up (variant, architecture): the alphabet and length registration allows.
    public static func checkName(_ name: String, field: String) throws(RPCError) {
        do { try SafeName.check(name, field: field) } catch { throw invalid(error.description) }
    }

    /// A task or dataset name: non-empty, at most ``InputLimits/maxNameLength`` bytes.
    public static func checkLabel(_ text: String, field: String) throws(RPCError) {
        guard !text.isEmpty, text.utf8.count <= InputLimits.maxNameLength else {
            throw invalid("\(field) \"\(ValidationError.excerpt(text))\" must be 1…\(InputLimits.maxNameLength) bytes")
        }
    }

    /// An input: a batch in 1…``InputLimits/maxBatch``; images with sides ≤ ``maxImageSide``; a
    /// tensor whose dimensions are ≥ 1 and whose element count fits a message (the worker then
    /// checks it matches the tensor's bytes).
    public static func checkInput(_ input: Infaas_V1_QueryInput) throws(RPCError) {
        switch input.payload {
        case .images(let images):
            guard !images.data.isEmpty else { throw invalid("the query has no input (give at least one -i IMAGE, or a tensor)") }
            guard images.data.count <= InputLimits.maxBatch else {
                throw invalid("batch \(images.data.count) is out of range: send at most \(InputLimits.maxBatch) inputs")
            }
            guard images.height <= maxImageSide, images.width <= maxImageSide else {
                throw invalid("image size \(images.height)×\(images.width) is out of range: each side at most \(maxImageSide) pixels (0 = the variant's)")
            }
        case .tensor(let tensor):
            guard !tensor.shape.isEmpty, tensor.shape.count <= maxTensorRank else {
                throw invalid("tensor shape \(tensor.shape.prefix(maxTensorRank + 1)) must have 1…\(maxTensorRank) dimensions")
            }
            guard tensor.shape[0] >= 1, tensor.shape[0] <= Int64(InputLimits.maxBatch) else {
                throw invalid("batch \(tensor.shape[0]) (the tensor's first dimension) is out of range: 1…\(InputLimits.maxBatch)")
            }
            var elements: Int64 = 1
            for d in tensor.shape {
                guard d >= 1 else { throw invalid("tensor shape \(tensor.shape) has a dimension \(d) < 1") }
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, product <= Int64(RPCTransport.maxMessageBytes) else {
                    throw invalid("tensor shape \(tensor.shape) holds more elements than a message can carry (\(RPCTransport.maxMessageBytes) bytes)")
                }
                elements = product
            }
        case nil:
            throw invalid("the query has no input (give at least one -i IMAGE, or a tensor)")
        }
    }

    /// Everything a client's online query carries.
    public static func check(_ request: Infaas_V1_OnlineQueryRequest) throws(RPCError) {
        try checkSLO(request.sloMs)
        try checkDeadline(request.deadlineMs)
        try checkPriority(request.priority)
        try checkAccuracy(request.minAccuracy)
        try checkTopK(request.topK)
        try checkInput(request.input)
        switch request.target {
        case .variant(let name): try checkName(name, field: "variant")
        case .architecture(let name): try checkName(name, field: "architecture")
        case .useCase(let useCase):
            try checkLabel(useCase.task, field: "task")
            try checkLabel(useCase.dataset, field: "dataset")
        case nil: break  // routing says what is missing
        }
    }

    /// Everything the master forwards to a worker's query.
    public static func check(_ request: Infaas_V1_WorkerQueryRequest) throws(RPCError) {
        try checkSLO(request.sloMs)
        try checkDeadline(request.deadlineMs)
        try checkPriority(request.priority)
        try checkTopK(request.topK)
        try checkInput(request.input)
        try checkName(request.variant.name, field: "variant")
    }

    /// An offline job's target and image size (its URLs are checked by the worker against the
    /// roots its operator allows).
    public static func check(_ request: Infaas_V1_OfflineQueryRequest) throws(RPCError) {
        switch request.target {
        case .variant(let name): try checkName(name, field: "variant")
        case .architecture(let name): try checkName(name, field: "architecture")
        case nil: break
        }
        guard request.inputHeight <= maxImageSide, request.inputWidth <= maxImageSide else {
            throw invalid("image size \(request.inputHeight)×\(request.inputWidth) is out of range: each side at most \(maxImageSide) pixels (0 = the variant's)")
        }
        for (field, url) in [("input_url", request.inputURL), ("output_url", request.outputURL)] where url.utf8.count > 4096 {
            throw invalid("\(field) is \(url.utf8.count) bytes long; at most 4096")
        }
    }

    /// An unregistration names one variant, in the registration alphabet.
    public static func check(_ request: Infaas_V1_UnregisterModelRequest) throws(RPCError) {
        try checkName(request.variant, field: "variant")
    }
}
