import ArgumentParser
import Foundation
import InfaasCore
import InfaasProfiles
import InfaasRuntime

/// `infaas profile`: the reference's profiler (§2.2) for ONNX models — measure a variant on
/// this machine and add it to profiles.h5 and a `.config` the original registrar reads. With
/// `--served`, a registered variant is measured through a live cluster instead
/// (`ProfileCommand+Served.swift`).
struct ProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Measure an ONNX model's load latency, per-batch latency and peak memory (reference §2.2).",
        discussion: reflow("""
            Example:
              infaas profile models/ppocr_cls/ch_ppocr_mobile_v2.0_cls_infer.onnx \\
                --variant ppocr_cls_onnxruntime-cpu_1 \\
                --architecture ppocr_mobilenetv3_cls --task classification \\
                --dataset text-direction --accuracy 93.4 \\
                --batches 1,4,8 --cpus 1 --output profiles.h5 --config-dir configs

            For each batch size: warm-up runs, then timed runs on synthetic input (at least 20 and
            until about 2 s have passed, at most 1000; --runs N fixes the count). Load latency is
            the median time to create a session over --loads loads; peak memory is the highest
            resident memory above what the process held before the first load.

            The variant is added to the profile store (created if missing; other variants are
            kept, one of the same name is replaced), raw samples included, and written as
            <config-dir>/<variant>.config. ONNX Runtime comes from INFAAS_ORT_LIB or the pip
            onnxruntime package.

            --served: measure a variant registered with a live cluster through its served path
            (client → master → worker and back) instead of an in-process session:
              infaas up --local --home DIR && infaas register ... --home DIR
              infaas profile --served --home DIR --variant resnet18_onnxruntime-cpu_t1_b1 \
                --batches 1 --runs 30 --output p.h5
            Each batch size gets --warmup untimed queries (at least one: the first may load the
            variant), then the timed ones, one at a time. A sample is the time the worker reports
            for the query (its queue, empty here, and its inference: what a replica's run costs as
            served, so the simulator's hops from a calibration come on top), or with
            --served-latency client the client's whole round trip (for a simulation without a
            calibration's hops). The variant's other fields (architecture, accuracy, memory) come
            from the cluster's registry (<home>/cluster/registry.sqlite); the load latency is the cold query's load when one loaded
            it, else the registry's. No MODEL, --architecture, --task, --dataset or --accuracy;
            no .config is written (the variant is registered already).
            """)
    )

    @Argument(help: ArgumentHelp("The ONNX model file (none with --served).", valueName: "MODEL"))
    var modelArgument: String?

    /// The model file (checked present, unless --served, in ``validate()``).
    var model: String { modelArgument ?? "" }

    @Flag(help: "Profile a registered variant through a live cluster (client → master → worker) instead of an in-process session.")
    var served = false

    @Option(name: .customLong("served-latency"), help: ArgumentHelp("With --served, what a sample is: worker (the worker's reported time) or client (the round trip).", valueName: "WHAT"))
    var servedLatency: ServedLatency = .worker

    @OptionGroup var master: MasterOptions

    @Option(help: ArgumentHelp("Variant name (default: <architecture>_<framework>_<cpus>, as the reference names CPU variants).", valueName: "NAME"))
    var variant: String?

    @Option(name: .customLong("architecture"), help: ArgumentHelp("Architecture (the reference's parent model), e.g. resnet50. (Not with --served.)", valueName: "A"))
    var architectureOption: String?

    @Option(name: .customLong("task"), help: ArgumentHelp("classification or translation. (Not with --served.)", valueName: "T"))
    var taskOption: String?

    @Option(name: .customLong("dataset"), help: ArgumentHelp("Dataset the accuracy was measured on, e.g. imagenet. (Not with --served.)", valueName: "D"))
    var datasetOption: String?

    @Option(name: .customLong("accuracy"), help: ArgumentHelp("Accuracy in percent (top-1, or BLEU for translation), 0–100. (Not with --served.)", valueName: "X"))
    var accuracyOption: Double?

    @Option(help: ArgumentHelp("Batch sizes to time, comma-separated.", valueName: "LIST"))
    var batches: String = "1,4,8,16"

    @Option(help: ArgumentHelp("CPU cores (ONNX Runtime intra-op threads) the variant uses.", valueName: "N"))
    var cpus: Int = 1

    @Option(name: .customLong("graph-optimization"), help: ArgumentHelp("ONNX Runtime graph optimisation: disabled, basic, extended or all.", valueName: "LEVEL"))
    var graphOptimization: String = "all"

    @Option(help: ArgumentHelp("cpu, cuda[:N] or inferentia.", valueName: "DEVICE"))
    var device: String = "cpu"

    @Option(help: ArgumentHelp("Timed runs per batch size (default: adaptive, see above).", valueName: "N"))
    var runs: Int?

    @Option(help: ArgumentHelp("Loads timed for the load latency.", valueName: "N"))
    var loads: Int = 3

    @Option(help: ArgumentHelp("Untimed runs before each batch size.", valueName: "N"))
    var warmup: Int = 3

    @Option(name: .customLong("max-batch"), help: ArgumentHelp("Largest batch the variant accepts (default: the largest batch timed).", valueName: "N"))
    var maxBatch: Int?

    @Option(name: .customLong("input-dim"), help: ArgumentHelp("Input side for the use-case name (default: the larger spatial dimension of the model's input).", valueName: "N"))
    var inputDimension: Int?

    @Option(name: .customLong("input-shape"), help: ArgumentHelp("The input's dimensions after the batch, for models that leave them symbolic, e.g. 3,224,224.", valueName: "DIMS"))
    var inputShape: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Profile store to add the variant to.", valueName: "profiles.h5"))
    var output: String = "profiles.h5"

    @Option(name: .customLong("config-dir"), help: ArgumentHelp("Directory for the <variant>.config file.", valueName: "DIR"))
    var configDirectory: String = "."

    /// The required-without-`--served` options (checked in ``validate()``).
    var architecture: String { architectureOption ?? "" }
    var task: String { taskOption ?? "" }
    var dataset: String { datasetOption ?? "" }
    var accuracy: Double { accuracyOption ?? 0 }

    func validate() throws {
        _ = try batchSizes()
        if served { return try validateServed() }
        guard modelArgument != nil else { throw ValidationError("give the ONNX model file (MODEL), or --served to profile a registered variant through a live cluster") }
        let missing = [("--architecture", architectureOption == nil), ("--task", taskOption == nil), ("--dataset", datasetOption == nil),
                       ("--accuracy", accuracyOption == nil)].filter(\.1).map(\.0)
        guard missing.isEmpty else { throw ValidationError("missing \(missing.joined(separator: ", ")) (needed to profile a model file; --served takes them from the registry)") }
        guard accuracy.isFinite, (0...100).contains(accuracy) else {
            throw ValidationError("--accuracy \(accuracy) is outside 0–100 (percent, e.g. 76.1 for 76.1 % top-1)")
        }
        let lowered = task.lowercased()
        guard lowered == InferenceTask.classification.rawValue || lowered == InferenceTask.translation.rawValue else {
            throw ValidationError("--task \"\(task)\" is not classification or translation (the reference's two tasks)")
        }
        guard cpus >= 1 else { throw ValidationError("--cpus must be at least 1, got \(cpus)") }
        guard GraphOptimization(rawValue: graphOptimization.lowercased()) != nil else {
            throw ValidationError("--graph-optimization \"\(graphOptimization)\" is not one of \(GraphOptimization.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard ExecutionDevice(parsing: device) != nil else {
            throw ValidationError("--device \"\(device)\" is not cpu, cuda, cuda:N or inferentia")
        }
        if let runs, runs < 1 { throw ValidationError("--runs must be at least 1, got \(runs)") }
        guard loads >= 1 else { throw ValidationError("--loads must be at least 1, got \(loads)") }
        guard warmup >= 0 else { throw ValidationError("--warmup must be 0 or more, got \(warmup)") }
        if let maxBatch, maxBatch < 1 { throw ValidationError("--max-batch must be at least 1, got \(maxBatch)") }
        if let inputDimension, inputDimension < 1 { throw ValidationError("--input-dim must be at least 1, got \(inputDimension)") }
        _ = try trailingDimensions()
        for (name, value) in [("--architecture", architecture), ("--dataset", dataset), ("--variant", variant ?? "x")] {
            guard !value.isEmpty, !value.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                throw ValidationError("\(name) \"\(value)\" must be a non-empty name without spaces or '/'")
            }
        }
    }

    /// `--batches` as sorted, distinct sizes ≥ 1.
    func batchSizes() throws -> [Int] {
        let parts = batches.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let sizes = parts.map { Int($0) }
        guard !parts.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--batches \"\(batches)\" must be batch sizes ≥ 1 separated by commas, e.g. 1,4,8,16")
        }
        return Array(Set(sizes.map { $0! })).sorted()
    }

    /// `--input-shape` as axis → size for the axes after the batch.
    func trailingDimensions() throws -> [Int: Int] {
        guard let inputShape else { return [:] }
        let sizes = inputShape.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--input-shape \"\(inputShape)\" must be the input's dimensions after the batch, e.g. 3,224,224")
        }
        return Dictionary(uniqueKeysWithValues: sizes.enumerated().map { ($0.offset + 1, $0.element!) })
    }

    func run() async throws {
        if served { return try await runServed() }
        let sizes = try batchSizes()
        guard let executionDevice = ExecutionDevice(parsing: device),
              let optimization = GraphOptimization(rawValue: graphOptimization.lowercased()) else { return }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw ValidationError("no model file at \(model); give the path of an .onnx file")
        }
        let backend = try ONNXRuntimeBackend()
        let options = SessionOptions(intraOpThreads: cpus, interOpThreads: 1, graphOptimization: optimization, device: executionDevice)
        let plan = Profiler.Plan(batches: sizes, options: options, loads: loads, warmupRuns: warmup, runs: runs,
                                 symbolicDimensions: try trailingDimensions())
        printError("Profiling \(model) with ONNX Runtime \(backend.version) on \(executionDevice), \(cpus) thread\(cpus == 1 ? "" : "s"), batches \(sizes.map(String.init).joined(separator: ","))")
        let result = try Profiler(backend: backend).profile(modelAt: model, plan: plan) { batch in
            printError("  batch \(batch.batch): \(batch.samplesMs.count) runs, p50 \(Self.ms(batch.p50Ms)) ms, p99 \(Self.ms(batch.p99Ms)) ms")
        }

        let variant = try makeVariant(result, backend: backend, device: executionDevice, sizes: sizes)
        let replaced = try addToStore(variant)
        try FileManager.default.createDirectory(atPath: configDirectory, withIntermediateDirectories: true)
        let configPath = (configDirectory as NSString).appendingPathComponent("\(variant.name).config")
        let text = ConfigFile.render(variant, filename: (model as NSString).lastPathComponent)
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)

        var table = TextTable([("BATCH", .right), ("RUNS", .right), ("P50 MS", .right), ("P90 MS", .right), ("P99 MS", .right), ("MEAN MS", .right)])
        for batch in result.batches {
            table.append([String(batch.batch), String(batch.samplesMs.count), Self.ms(batch.p50Ms), Self.ms(batch.p90Ms),
                          Self.ms(batch.p99Ms), Self.ms(batch.meanMs)])
        }
        print("\(variant.name)  (\(variant.architecture), \(variant.useCase.name), \(variant.framework) on \(variant.hardware))")
        print("load \(Self.ms(result.loadMs)) ms (median of \(result.loadSamplesMs.count))  peak memory \(String(format: "%.1f", variant.memoryMB ?? 0)) MB  model file \(Self.size(variant.sizeMB ?? 0))")
        print(table.render())
        let intercept = variant.latency.model.interceptMs
        print("latency model: \(String(format: "%.4f", variant.latency.model.slopeMs))·b \(intercept < 0 ? "−" : "+") \(String(format: "%.4f", abs(intercept))) ms")
        print("\(replaced ? "Replaced" : "Added") \(variant.name) in \(output); wrote \(configPath)")
    }

    func makeVariant(_ result: Profiler.Result, backend: ONNXRuntimeBackend, device: ExecutionDevice, sizes: [Int]) throws -> ModelVariant {
        let onGPU: Bool
        if case .cuda = device { onGPU = true } else { onGPU = false }
        let framework: Framework = onGPU ? .onnxruntimeCUDA : .onnxruntimeCPU
        let name = variant ?? "\(architecture)_\(framework.rawValue)_\(cpus)"
        let side = try inputDimension ?? Self.inputSide(result.batches.first?.inputShape ?? result.signature.inputShape)
        let points = result.batches.map {
            LatencyPoint(batch: $0.batch, p50Ms: $0.p50Ms, p99Ms: $0.p99Ms, meanMs: $0.meanMs, p90Ms: $0.p90Ms)
        }
        let largest = maxBatch ?? sizes.max() ?? 1
        let fit = try LatencyFitter.fit(points: points, maxBatch: largest)
        let attributes = try? FileManager.default.attributesOfItem(atPath: model)
        let fileBytes = (attributes?[.size] as? NSNumber)?.doubleValue ?? 0
        let date = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        let host = ProcessInfo.processInfo.hostName
        return ModelVariant(
            name: name, architecture: architecture,
            useCase: UseCase(task: InferenceTask(task), dataset: Dataset(dataset), inputDimension: side),
            framework: framework, hardware: onGPU ? .gpu : .cpu,
            hardwareDescription: onGPU ? "CUDA device \(device)" : "\(Self.cpuModel()), \(cpus) intra-op thread\(cpus == 1 ? "" : "s")",
            maxBatch: largest, accuracy: accuracy, loadLatencyMs: result.loadMs,
            memoryMB: Double(result.peakMemoryBytes) / 1_048_576, sizeMB: fileBytes / 1_048_576,
            cpus: onGPU ? nil : cpus,
            latency: LatencyProfile(points: points, model: fit, samplesMs: result.batches.map(\.samplesMs)),
            kind: .measured,
            source: "infaas profile \(model) on \(host), onnxruntime \(backend.version), \(date)")
    }

    /// Adds the variant to the store, keeping the others; true if one of that name was replaced.
    func addToStore(_ variant: ModelVariant) throws -> Bool {
        var variants = FileManager.default.fileExists(atPath: output) ? try ProfileStore.read(from: output) : []
        let before = variants.count
        variants.removeAll { $0.name == variant.name }
        let replaced = variants.count != before
        variants.append(variant)
        try ProfileStore.write(variants, to: output)
        return replaced
    }

    /// The use-case's input side: the larger spatial dimension of an image input (NCHW or
    /// NHWC), else the last dimension.
    static func inputSide(_ shape: [Int]) throws -> Int {
        let side: Int?
        if shape.count == 4 {
            let spatial = shape[1] <= 4 ? [shape[2], shape[3]] : [shape[1], shape[2]]
            side = spatial.max()
        } else {
            side = shape.last
        }
        guard let side, side >= 1 else {
            throw ValidationError("cannot tell the input side from the input shape \(shape); give --input-dim")
        }
        return side
    }

    static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return "CPU"
    }

    static func size(_ megabytes: Double) -> String {
        megabytes >= 0.1 ? String(format: "%.2f MB", megabytes) : String(format: "%.1f KB", megabytes * 1024)
    }

    static func ms(_ value: Double) -> String { String(format: value < 10 ? "%.3f" : "%.2f", value) }
}
