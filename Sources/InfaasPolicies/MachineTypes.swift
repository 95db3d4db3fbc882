public import InfaasCore

/// A worker machine type: what it offers and what it costs.
public struct MachineType: Hashable, Sendable {
    public var name: String
    public var hardware: HardwareClass
    public var vcpus: Int
    /// Accelerator memory in MB (GPU), 0 otherwise.
    public var acceleratorMemoryMB: Double
    /// NeuronCores (Inferentia), 0 otherwise.
    public var neuronCores: Int
    /// On-demand price in US dollars per hour.
    public var hourlyUSD: Double
    /// Time from launch until the worker serves. An assumption, not a measurement: set it from
    /// your own cloud's boot times in the experiment file.
    public var bootSeconds: Double

    public init(name: String, hardware: HardwareClass, vcpus: Int, acceleratorMemoryMB: Double, neuronCores: Int,
                hourlyUSD: Double, bootSeconds: Double) {
        self.name = name
        self.hardware = hardware
        self.vcpus = vcpus
        self.acceleratorMemoryMB = acceleratorMemoryMB
        self.neuronCores = neuronCores
        self.hourlyUSD = hourlyUSD
        self.bootSeconds = bootSeconds
    }

    /// The original's worker types (reference §4.3, §7) at AWS on-demand Linux prices in
    /// us-west-2 (Oregon) as listed on aws.amazon.com/ec2/pricing/on-demand/: m5.2xlarge
    /// $0.384/h, p3.2xlarge $3.06/h (also the top of the INFaaS paper's cost range, reference
    /// §7b), inf1.2xlarge $0.362/h. Not re-checked live in this project (no network here);
    /// override `hourly_usd` in an experiment for other regions or dates. GPU memory is the
    /// V100's 16 GiB, as the original hard-codes; Inferentia has 4 NeuronCores.
    public static let m5_2xlarge = MachineType(name: "m5.2xlarge", hardware: .cpu, vcpus: 8, acceleratorMemoryMB: 0,
                                               neuronCores: 0, hourlyUSD: 0.384, bootSeconds: 60)
    public static let p3_2xlarge = MachineType(name: "p3.2xlarge", hardware: .gpu, vcpus: 8, acceleratorMemoryMB: 16_384,
                                               neuronCores: 0, hourlyUSD: 3.06, bootSeconds: 60)
    public static let inf1_2xlarge = MachineType(name: "inf1.2xlarge", hardware: .inferentia, vcpus: 8, acceleratorMemoryMB: 0,
                                                 neuronCores: 4, hourlyUSD: 0.362, bootSeconds: 60)

    /// The default machine of each class.
    public static func standard(_ hardware: HardwareClass) -> MachineType {
        switch hardware {
        case .cpu: .m5_2xlarge
        case .gpu: .p3_2xlarge
        case .inferentia: .inf1_2xlarge
        }
    }
}

/// The machine type used for each hardware class.
public struct MachineCatalogue: Hashable, Sendable {
    public var cpu: MachineType = .m5_2xlarge
    public var gpu: MachineType = .p3_2xlarge
    public var inferentia: MachineType = .inf1_2xlarge

    public init() {}

    public subscript(_ hardware: HardwareClass) -> MachineType {
        get {
            switch hardware {
            case .cpu: cpu
            case .gpu: gpu
            case .inferentia: inferentia
            }
        }
        set {
            switch hardware {
            case .cpu: cpu = newValue
            case .gpu: gpu = newValue
            case .inferentia: inferentia = newValue
            }
        }
    }
}
