public import Foundation
import InfaasCore

/// Starts workers as local `infaas worker` processes on loopback (each binds a free port and
/// reports it to the master). The default provider of `infaas up --local`.
public final class LocalProcessProvider: WorkerProvider, @unchecked Sendable {
    public let name = "local"
    /// The `infaas` binary to run.
    public let executable: String
    /// Extra arguments for every worker (`--model-cache`, `--cores`, …).
    public let workerArguments: [String]
    /// Where each worker's log goes (`<logDirectory>/<name>.log`).
    public let logDirectory: String
    public let environment: [String: String]
    private let lock = NSLock()
    private var processes: [String: Process] = [:]

    public init(executable: String, workerArguments: [String] = [], logDirectory: String,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.executable = executable
        self.workerArguments = workerArguments
        self.logDirectory = logDirectory
        self.environment = environment
    }

    public func launch(_ request: WorkerLaunch) async throws(ProviderError) -> LaunchedWorker {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ProviderError("cannot start a worker: \(executable) is not an executable file",
                                hint: "build it with scripts/build, or pass --infaas-binary PATH")
        }
        do {
            try FileManager.default.createDirectory(atPath: logDirectory, withIntermediateDirectories: true)
        } catch {
            throw ProviderError("cannot create the log directory \(logDirectory): \(error.localizedDescription)")
        }
        let logPath = "\(logDirectory)/\(request.name).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw ProviderError("cannot write the worker log \(logPath)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["worker", "--master", request.masterAddress, "--name", request.name,
                             "--hardware", request.hardware.rawValue, "--port", "0"]
            + (request.slack ? ["--slack"] : []) + workerArguments
        var environment = self.environment
        if !request.secret.isEmpty { environment[LaunchedWorker.secretVariable] = request.secret }
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ProviderError("cannot start \(executable) worker: \(error.localizedDescription)")
        }
        try? log.close()
        let id = String(process.processIdentifier)
        lock.withLock { processes[id] = process }
        return LaunchedWorker(name: request.name, hardware: request.hardware, instanceID: id)
    }

    /// Stops a worker this provider started: SIGTERM (it drains and exits), SIGKILL after 5 s.
    /// Any other id — a worker a previous master started, or a pid someone reported — is
    /// never signalled (issue 13: a client could report another process's pid); the master
    /// stops such a worker by answering its next report with `stop`.
    public func retire(_ worker: LaunchedWorker) async throws(ProviderError) {
        guard let process = lock.withLock({ processes.removeValue(forKey: worker.instanceID) }) else { return }
        guard process.isRunning else { return }
        process.terminate()  // SIGTERM: the worker drains and exits
        for _ in 0..<50 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    public func isAlive(_ worker: LaunchedWorker) async -> Bool {
        lock.withLock { processes[worker.instanceID]?.isRunning ?? false }
    }

    /// Whether this provider started the process `instanceID` names (its child).
    public func started(_ instanceID: String) -> Bool {
        lock.withLock { processes[instanceID] != nil }
    }

    /// Stops every worker this provider started (on master shutdown).
    public func retireAll() async {
        let all = lock.withLock { Array(processes.keys) }
        for id in all { try? await retire(LaunchedWorker(name: id, hardware: .cpu, instanceID: id)) }
    }

    /// Process ids of the running workers, by name.
    public var running: [String: Int32] {
        lock.withLock { processes.filter { $0.value.isRunning }.mapValues { $0.processIdentifier } }
    }
}
