import ArgumentParser
import Foundation
import InfaasCore
import InfaasPolicies
import InfaasRPC

/// `infaas query online|offline`.
struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Send queries to a live cluster.",
        subcommands: [OnlineQueryCommand.self, OfflineQueryCommand.self]
    )
}

/// The original `infaas_online_query` flags (reference §3.1), plus --top-k.
struct OnlineQueryOptions: ParsableArguments {
    @Option(name: [.customShort("i"), .customLong("inputs")], help: ArgumentHelp("An input image (JPEG/PNG); repeat for a batch.", valueName: "PATH"))
    var inputs: [String] = []
    @Option(name: [.customShort("d"), .customLong("input_dim")], help: ArgumentHelp("Square side inputs are resized to (0 = the variant's).", valueName: "N"))
    var inputDim: Int?
    @Option(name: [.customShort("m"), .customShort("v"), .customLong("model_variant")], help: ArgumentHelp("A variant to use.", valueName: "VARIANT"))
    var variant: String?
    @Option(name: [.customShort("a"), .customLong("model_architecture")], help: ArgumentHelp("An architecture: INFaaS picks the variant (needs -l).", valueName: "ARCH"))
    var architecture: String?
    @Option(name: [.customShort("t"), .customLong("task")], help: ArgumentHelp("A task (with -D, -A, -l).", valueName: "TASK"))
    var task: String?
    @Option(name: [.customShort("D"), .customLong("dataset")], help: ArgumentHelp("A dataset (with -t).", valueName: "DATASET"))
    var dataset: String?
    @Option(name: [.customShort("A"), .customLong("accuracy")], help: ArgumentHelp("Minimum accuracy in percent.", valueName: "ACC"))
    var accuracy: Double = 0
    @Option(name: [.customShort("l"), .customLong("latency")], help: ArgumentHelp("Latency SLO in ms.", valueName: "MS"))
    var latency: Double = 0
    @Option(name: [.customShort("o"), .customLong("output_file")], help: ArgumentHelp("Write the predictions here instead of stdout.", valueName: "PATH"))
    var outputFile: String?
    @Option(name: .customLong("raw-shape"), help: ArgumentHelp("Treat each -i file as raw float32 of this per-item shape.", valueName: "C,H,W"))
    var rawShape: String?
    @Option(name: .customLong("top-k"), help: ArgumentHelp("Classes to print per input.", valueName: "K"))
    var topK: Int = 5
    @Option(name: .customLong("priority"), help: ArgumentHelp("The query's class in the replica's queue: high (default) or low.", valueName: "CLASS"))
    var priority: String = "high"
    @Option(name: .customLong("deadline-ms"), help: ArgumentHelp("Answer \"deadline exceeded in queue\" if still queued this long after arrival (0 = the policy's queue_deadline).", valueName: "MS"))
    var deadlineMs: Double = 0

    /// Builds the request (reference §3.1 validation and precedence: variant > architecture > use-case).
    func request() throws -> Infaas_V1_OnlineQueryRequest {
        guard !inputs.isEmpty else { throw ValidationError("Must specify both input_dim (-d) and input (-i): no -i given") }
        var request = Infaas_V1_OnlineQueryRequest()
        let target: QueryTarget
        if let variant {
            request.variant = variant
            target = .variant(variant)
        } else if let architecture {
            request.architecture = architecture
            target = .architecture(architecture)
        } else if let task, let dataset {
            var useCase = Infaas_V1_UseCase()
            useCase.task = task
            useCase.dataset = dataset
            request.useCase = useCase
            target = .useCase(UseCase(task: InferenceTask(task), dataset: Dataset(dataset), inputDimension: 0))
        } else {
            throw ValidationError("Invalid input combination: give -m VARIANT, or -a ARCH -l MS, or -t TASK -D DATASET -A ACC -l MS")
        }
        // The objectives rule every entry point shares (the master checks it again with its catalogue).
        guard latency >= 0 else { throw ValidationError("-l \(latency): the latency SLO must be ≥ 0 ms") }
        do {
            _ = try QuerySpec(target: target, objectives: Objectives(latencySLOMs: latency > 0 ? latency : nil,
                                                                     minAccuracy: accuracy > 0 ? accuracy : nil, batch: max(1, inputs.count)))
        } catch {
            throw ValidationError("Invalid input combination: \(error.field) \(error.value): \(error.reason)")
        }
        request.sloMs = latency
        request.minAccuracy = accuracy
        request.topK = UInt32(max(0, topK))
        guard let queuePriority = QueryPriority(rawValue: priority) else {
            throw ValidationError("--priority \(priority) is not a priority class: use high or low")
        }
        request.priority = queuePriority.wire
        guard deadlineMs >= 0, deadlineMs.isFinite else { throw ValidationError("--deadline-ms \(deadlineMs): give a deadline ≥ 0 ms (0 = the policy's)") }
        request.deadlineMs = deadlineMs
        var payloads: [Data] = []
        for path in inputs {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(path) is not a valid input path") }
            payloads.append(data)
        }
        if let rawShape {
            let shape = try parseDimensions(rawShape, flag: "--raw-shape")
            let bytes = shape.reduce(4, *)
            for (path, data) in zip(inputs, payloads) where data.count != bytes {
                throw ValidationError("\(path) has \(data.count) bytes; --raw-shape \(rawShape) needs \(bytes) (float32)")
            }
            var tensor = Infaas_V1_Tensor()
            tensor.shape = ([payloads.count] + shape).map(Int64.init)
            tensor.data = payloads.reduce(into: Data()) { $0.append($1) }
            request.input.tensor = tensor
        } else {
            var images = Infaas_V1_Images()
            images.data = payloads
            if let inputDim {
                guard inputDim > 0 else { throw ValidationError("-d must be positive") }
                images.height = UInt32(inputDim)
                images.width = UInt32(inputDim)
            }
            request.input.images = images
        }
        return request
    }
}

struct OnlineQueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online",
        abstract: "Serve one query now: INFaaS picks the variant (reference infaas_online_query).",
        discussion: reflow("""
            Examples:
              infaas query online -d 224 -i cat.jpg -a resnet18 -l 300
              infaas query online -d 224 -i cat.jpg -i dog.png -t classification \\
                  -D imagenet -A 60 -l 200
              infaas query online -i cat.jpg -m resnet18_onnxruntime-cpu_t1_b1 --json

            Prints the chosen variant and why, the worker, the latency (client-measured, and the
            worker's inference time), and the top classes of each input (--top-k); --raw prints
            every output value of each input instead, as the original infaas_online_query did.
            """)
    )

    @OptionGroup var query: OnlineQueryOptions
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Flag(help: "Print every output value of each input (the model's raw output), not the top classes.") var raw = false
    @OptionGroup var master: MasterOptions

    struct Output: Encodable {
        var variant: String
        var worker: String
        var reason: String
        var latencyMs: Double
        var workerMs: Double
        var inferenceMs: Double
        var predictedMs: Double
        var decisionUs: Double
        var coldStart: Bool
        var sloMs: Double
        var metSLO: Bool?
        var top: [[Class]]
        /// With --raw: every output value, one row per input.
        var outputs: [[Float]]?
        struct Class: Encodable { var index: UInt32; var score: Float }
    }

    func run() async throws {
        var built = try query.request()
        if raw { built.includeOutputs = true; built.topK = 0 }
        let request = built
        let address = try master.requireAddress()
        let started = ContinuousClock.now
        let response: Infaas_V1_OnlineQueryResponse
        do {
            response = try await withMasterClient(address) { client in
                try await client.queryOnline(request, options: .defaults.with(timeoutMs: 30_000))
            }
        } catch {
            throw CommandFailure(queryFailure(describe(error, master: address)))
        }
        let elapsed = ContinuousClock.now - started
        let ms = elapsed.milliseconds
        let rawOutputs = try raw ? rawRows(response.outputs, batch: request.input.batchSize) : nil
        let output = Output(
            variant: response.variant, worker: response.worker, reason: response.reason, latencyMs: ms, workerMs: response.workerMs,
            inferenceMs: response.inferenceMs, predictedMs: response.predictedMs, decisionUs: response.decisionUs, coldStart: response.coldStart,
            sloMs: request.sloMs, metSLO: request.sloMs > 0 ? ms <= request.sloMs : nil,
            top: response.top.map { t in zip(t.index, t.score).map { Output.Class(index: $0, score: $1) } },
            outputs: rawOutputs)
        var text: String
        if json {
            text = try jsonString(output)
        } else {
            text = "variant: \(output.variant) (\(output.reason))\nworker: \(output.worker)\n"
            text += String(format: "latency: %.2f ms end to end; worker %.2f ms, inference %.2f ms, profile predicted %.2f ms, decision %.0f µs%@\n",
                           ms, output.workerMs, output.inferenceMs, output.predictedMs, output.decisionUs, output.coldStart ? " (cold start: the variant loaded first)" : "")
            if let met = output.metSLO { text += String(format: "SLO %.0f ms: %@\n", request.sloMs, met ? "met" : "missed") }
            for (i, classes) in output.top.enumerated() {
                text += "input \(i): " + classes.map { String(format: "class %u (%.4f)", $0.index, $0.score) }.joined(separator: ", ") + "\n"
            }
            for (i, row) in (output.outputs ?? []).enumerated() {
                text += "input \(i): \(row.count) values: " + row.map { "\($0)" }.joined(separator: " ") + "\n"
            }
        }
        if let path = query.outputFile {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        } else {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
    }
}

struct OfflineQueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offline",
        abstract: "Queue a batch job over a folder of images (reference infaas_offline_query, §5.2).",
        discussion: reflow("""
            Example:
              infaas query offline file://$PWD/in/ file://$PWD/out/ resnet18
              infaas query offline s3://my-data/in/ s3://my-data/out/ resnet18

            The worker writes <image>.out (the flattened float32 output) per input into the output
            folder, and _SUCCESS-<job>.txt when the job ends. With s3:// the worker downloads the
            files directly under the input prefix and uploads the outputs (needs AWS settings).
            """)
    )

    @Argument(help: ArgumentHelp("Input folder URL (file:///dir/ or s3://bucket/prefix/).", valueName: "INPUT_URL")) var inputURL: String
    @Argument(help: ArgumentHelp("Output folder URL (file:///dir/ or s3://bucket/prefix/).", valueName: "OUTPUT_URL")) var outputURL: String
    @Argument(help: ArgumentHelp("Architecture (its fastest CPU variant runs), or a variant with --variant.", valueName: "MODEL")) var model: String
    @Flag(help: "MODEL names a variant, not an architecture.") var variant = false
    @Option(name: [.customShort("d"), .customLong("input_dim")], help: ArgumentHelp("Square side inputs are resized to.", valueName: "N")) var inputDim: Int?
    @OptionGroup var master: MasterOptions

    func run() async throws {
        var request = Infaas_V1_OfflineQueryRequest()
        request.inputURL = inputURL
        request.outputURL = outputURL
        if variant { request.variant = model } else { request.architecture = model }
        if let inputDim { request.inputHeight = UInt32(inputDim); request.inputWidth = UInt32(inputDim) }
        let address = try master.requireAddress()
        let offline = request
        do {
            let response = try await withMasterClient(address) { try await $0.queryOffline(offline) }
            print("Offline query job submission SUCCEEDED: job \(response.jobID), variant \(response.variant) on \(response.worker)")
            print("You can now monitor \(outputURL) for job progress")
        } catch {
            throw CommandFailure("Offline query job submission FAILED: \(describe(error, master: address))")
        }
    }
}

/// "query failed: why", without doubling the master's own "Query failed: " prefix.
func queryFailure(_ message: String) -> String {
    message.lowercased().hasPrefix("query failed") ? message : "query failed: " + message
}

/// The model's raw output, one row of float32 values per input: for each batch item, its slice
/// of every output tensor (in output order), as the original returned one buffer per input.
func rawRows(_ outputs: [Infaas_V1_Tensor], batch: Int) throws -> [[Float]] {
    var rows = Array(repeating: [Float](), count: batch)
    for tensor in outputs {
        let values = try tensor.floats()
        guard let items = tensor.dimensions.first, items == batch, batch > 0 else {
            throw CommandFailure("an output of shape \(tensor.dimensions) does not have the query's batch \(batch) as its first dimension")
        }
        let width = values.count / batch
        for i in 0..<batch { rows[i] += values[(i * width)..<((i + 1) * width)] }
    }
    return rows
}

/// `infaas status`: the live cluster's workers and replicas.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the live cluster: workers, replicas, load and counters.",
        discussion: "Example:\n  infaas status --json"
    )

    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var master: MasterOptions

    func run() async throws {
        let address = try master.requireAddress()
        let status: Infaas_V1_ClusterStatusResponse
        do {
            status = try await withMasterClient(address) { try await $0.clusterStatus(Infaas_V1_ClusterStatusRequest()) }
        } catch {
            throw CommandFailure(describe(error, master: address))
        }
        if json {
            print(try status.jsonString())
            return
        }
        print("master \(address), policy \(status.policy): \(status.queries) queries, \(status.failed) failed, \(status.sloViolations) SLO violations; workers launched \(status.workersLaunched), retired \(status.workersRetired)")
        // The resolved configuration: what differs from the defaults here (--json lists every key).
        let defaults = Set(PolicyConfig().allSettings)
        let changed = status.policySettings.filter { !defaults.contains($0) }
        if !status.policySettings.isEmpty {
            print("policy settings: " + (changed.isEmpty ? "the defaults" : changed.joined(separator: ", ")) + " (infaas status --json lists all \(status.policySettings.count))")
        }
        var table = TextTable([("WORKER", .left), ("STATUS", .left), ("ADDRESS", .left), ("CORES", .right), ("CPU %", .right), ("VARIANTS (replicas, qps)", .left)])
        for w in status.workers {
            let r = w.report
            table.append([r.name, w.status, r.address, "\(r.usedCores)/\(r.cores)", String(format: "%.0f", r.cpuUtilization),
                          r.variants.map { "\($0.variant)×\($0.replicas)\($0.loading > 0 ? "+\($0.loading)" : "") \(String(format: "%.1f", $0.qps))" }.joined(separator: "; ")])
        }
        print(table.render())
    }
}
