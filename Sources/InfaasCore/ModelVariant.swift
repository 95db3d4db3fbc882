/// Where a profile's numbers came from.
public enum ProfileKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// We ran it (on the machine named in `source`).
    case measured
    /// Copied from a public source named in `source`, not re-measured.
    case published
    /// Computed from other numbers by a rule stated in the catalogue's README.
    case derived
}

/// A model variant: architecture × framework × hardware × batch, with its profile
/// (the reference's `<variant>-info` record, §2.1).
public struct ModelVariant: Hashable, Sendable, Codable, Identifiable {
    /// Unique name, e.g. `resnet50_tensorflow-cpu_4`.
    public var name: String
    /// The architecture ("parent"), e.g. `resnet50`.
    public var architecture: String
    /// The use-case ("grandparent").
    public var useCase: UseCase
    public var framework: Framework
    public var hardware: HardwareClass
    /// Free-text description of the machine the profile was taken on, when known.
    public var hardwareDescription: String
    /// Largest batch the variant accepts.
    public var maxBatch: Int
    /// Top-1 accuracy in percent (BLEU for translation); `nil` when unknown.
    public var accuracy: Double?
    /// Time to load the variant until it answers, in ms; `nil` when unknown.
    public var loadLatencyMs: Double?
    /// Peak memory in MB (2^20 bytes); `nil` when unknown.
    public var memoryMB: Double?
    /// Size of the model file(s) in MB; `nil` when unknown.
    public var sizeMB: Double?
    /// CPU cores (intra-op threads) a CPU variant uses; `nil` when not stated.
    public var cpus: Int?
    public var latency: LatencyProfile
    public var kind: ProfileKind
    /// Where the numbers came from (file, commit, machine).
    public var source: String

    public var id: String { name }

    public init(
        name: String, architecture: String, useCase: UseCase, framework: Framework, hardware: HardwareClass,
        hardwareDescription: String = "", maxBatch: Int, accuracy: Double?, loadLatencyMs: Double?,
        memoryMB: Double?, sizeMB: Double? = nil, cpus: Int? = nil, latency: LatencyProfile, kind: ProfileKind, source: String
    ) {
        self.name = name
        self.architecture = architecture
        self.useCase = useCase
        self.framework = framework
        self.hardware = hardware
        self.hardwareDescription = hardwareDescription
        self.maxBatch = maxBatch
        self.accuracy = accuracy
        self.loadLatencyMs = loadLatencyMs
        self.memoryMB = memoryMB
        self.sizeMB = sizeMB
        self.cpus = cpus
        self.latency = latency
        self.kind = kind
        self.source = source
    }

    /// Predicted latency of a batch, ms (`slope·b + intercept`, reference §2.3).
    @inlinable
    public func predictedLatencyMs(batch: Int) -> Double { latency.model.predictMs(batch: batch) }

    /// Batch-1 latency in ms, the reference's ranking key.
    public var batch1LatencyMs: Double { latency.batch1Ms }
}
