import Foundation
import GRPCCore
import InfaasCloud
import InfaasCore
import InfaasPolicies
import InfaasRegistry
import InfaasRPC
import Logging
import Synchronization
import Testing
@testable import InfaasMaster

/// A provider that starts nothing: it records what the master asked for and hands out `fake-N`.
final class RecordingProvider: WorkerProvider, Sendable {
    let name = "recording"
    let launches = Mutex<[WorkerLaunch]>([])
    let retired = Mutex<[String]>([])

    func launch(_ request: WorkerLaunch) async throws(ProviderError) -> LaunchedWorker {
        let n = launches.withLock { $0.append(request); return $0.count }
        return LaunchedWorker(name: request.name, hardware: request.hardware, instanceID: "fake-\(n)")
    }
    func retire(_ worker: LaunchedWorker) async throws(ProviderError) { retired.withLock { $0.append(worker.instanceID) } }
    func isAlive(_ worker: LaunchedWorker) async -> Bool { true }
}

/// Workers are who the cluster says they are (issue 13): a launch secret, checked on every report.
@Suite struct WorkerIdentityTests {
    static let logger = Logger(label: "infaas.master.tests", factory: { _ in SwiftLogNoOpLogHandler() })

    static func master(_ provider: RecordingProvider, identityFile: String? = nil) throws -> Master {
        var options = Master.Options(limits: ClusterLimits(initial: [.cpu: 1], maximum: [.cpu: 2]), advertisedAddress: "127.0.0.1:1")
        options.identityFile = identityFile
        return try Master(options: options, registry: try ModelRegistry(), provider: provider, logger: logger)
    }

    static func report(_ name: String, secret: String = "", instanceID: String = "") -> Infaas_V1_WorkerReport {
        var r = Infaas_V1_WorkerReport()
        r.name = name
        r.address = "127.0.0.1:7000"
        r.hardware = "cpu"
        r.cores = 2
        r.sequence = 1
        r.instanceID = instanceID
        r.launchSecret = secret
        return r
    }

    static func refusal(_ body: () throws(RPCError) -> Infaas_V1_ReportWorkerResponse) -> RPCError? {
        do { _ = try body(); return nil } catch { return error }
    }

    @Test func aReportWithoutALaunchSecretIsRefusedAndItsPidIsNeverKept() throws {
        let provider = RecordingProvider()
        let master = try Self.master(provider)
        // The reproducer: a token holder claims to be a worker, with another process's pid.
        let forged = try #require(Self.refusal { () throws(RPCError) in try master.ingest(Self.report("intruder", instanceID: "1")) })
        #expect(forged.code == .permissionDenied)
        #expect(forged.message.contains("not a worker this cluster launched") && forged.message.contains("no launch secret"), "\(forged.message)")
        #expect(master.status().workers.isEmpty, "nothing was registered")
        #expect(master.liveWorkers().isEmpty, "no pid the master would signal")
    }

    @Test func aLaunchedWorkerIsKnownByItsSecretAndByTheProvidersHandleOnly() async throws {
        let provider = RecordingProvider()
        let master = try Self.master(provider)
        await master.perform(.launch(name: "infaas-worker-cpu-0", hardware: .cpu, slack: false))
        let launch = try #require(provider.launches.withLock { $0.first })
        #expect(launch.secret.count == 64, "a fresh 256-bit secret per launch")
        // The right name with a wrong secret, and another name with the right secret: refused.
        let wrong = try #require(Self.refusal { () throws(RPCError) in try master.ingest(Self.report(launch.name, secret: String(repeating: "0", count: 64))) })
        #expect(wrong.code == .permissionDenied && wrong.message.contains("not issued for that name"), "\(wrong.message)")
        #expect(Self.refusal { () throws(RPCError) in try master.ingest(Self.report("infaas-worker-cpu-9", secret: launch.secret)) }?.code == .permissionDenied)
        // The worker itself: accepted, and whatever instance id it reports, the provider's is kept.
        let reply = try master.ingest(Self.report(launch.name, secret: launch.secret, instanceID: "1"))
        #expect(!reply.stop)
        #expect(master.liveWorkers().map(\.instanceID) == ["fake-1"])
        // Scaled in: its next report is answered with stop (how a worker the master did not
        // start itself is stopped), and the provider is asked to stop its own handle.
        await master.perform(.retire(name: launch.name, instanceID: "fake-1", reason: "scale-in"))
        #expect(try master.ingest(Self.report(launch.name, secret: launch.secret)).stop)
        #expect(provider.retired.withLock { $0 } == ["fake-1"])
    }

    @Test func aRestartedMasterRecognisesAndWaitsForTheWorkersItsPredecessorLaunched() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("infaas-ids-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("workers.json").path
        let first = try Self.master(RecordingProvider(), identityFile: file)
        await first.perform(.launch(name: "infaas-worker-cpu-0", hardware: .cpu, slack: false))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
        #expect(mode == 0o600, "the file holds secrets")
        let secret = try #require(WorkerIdentities(path: file).known.first?.secret)
        // The next master on the same home: the worker is expected (booting), not launched again.
        let provider = RecordingProvider()
        let second = try Self.master(provider, identityFile: file)
        let status = second.status()
        #expect(status.workers.map(\.report.name) == ["infaas-worker-cpu-0"])
        #expect(status.workers.first?.status == "booting")
        let actions = second.controller.withLock { $0.expire(now: .seconds(2), initialWorkers: [.cpu: 1], replace: true) }
        #expect(actions.isEmpty, "no duplicate while it re-joins")
        let reply = try second.ingest(Self.report("infaas-worker-cpu-0", secret: secret))
        #expect(reply.known, "it was expected")
        #expect(second.status().workers.first?.status == "ready")
        #expect(provider.launches.withLock { $0.isEmpty })
    }
}
