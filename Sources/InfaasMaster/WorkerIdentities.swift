import Foundation
import InfaasCore
import InfaasRPC

/// Who may report as a worker (issue 13). A worker is not who it says it is: each launch through
/// the master's provider gets a fresh secret (32 random bytes, hex), the provider hands it to
/// the worker (its environment; EC2: the 0600 `worker.env` of its user-data), and every report
/// must carry it. The provider's handle (pid, instance id) is kept here, from the launch, and
/// never taken from a report — so a client holding only the cluster token can neither join as
/// a worker nor make the master signal a process of its choosing.
///
/// The identities are kept in a 0600 file beside the registry (`<home>/cluster/workers.json`),
/// so a restarted master recognises the workers its predecessor launched and waits for them
/// (``ControlLoop/expectRejoin(name:hardware:now:)``) instead of launching duplicates.
struct WorkerIdentities: Sendable {
    struct Identity: Codable, Sendable, Hashable {
        var name: String
        var hardware: String
        var secret: String
        /// The provider's handle, once its launch returned ("" until then).
        var instanceID: String
        /// The VM autoscaler scaled it in: its reports are answered with `stop`.
        var retired = false
    }

    private(set) var byName: [String: Identity] = [:]
    /// Where they are kept (nil: in memory only, as in tests).
    let path: String?

    init(path: String?) {
        self.path = path
        guard let path, let data = FileManager.default.contents(atPath: path),
              let saved = try? JSONDecoder().decode([Identity].self, from: data) else { return }
        // A scaled-in worker of a previous master is not waited for again.
        for identity in saved where !identity.retired { byName[identity.name] = identity }
    }

    /// The workers a previous master launched and did not retire (a restarted master expects them).
    var known: [Identity] { byName.values.filter { !$0.retired }.sorted { $0.name < $1.name } }

    /// A secret for launching `name`: a fresh one, or the one already issued to that name and
    /// not retired (an EC2 launch may adopt the running instance that holds it).
    mutating func issue(name: String, hardware: HardwareClass) -> String {
        if let existing = byName[name], !existing.retired { return existing.secret }
        var generator = SystemRandomNumberGenerator()
        let secret = (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
        byName[name] = Identity(name: name, hardware: hardware.rawValue, secret: secret, instanceID: "")
        save()
        return secret
    }

    /// The provider started it: remember the handle it gave.
    mutating func launched(name: String, instanceID: String) {
        guard byName[name] != nil else { return }
        byName[name]?.instanceID = instanceID
        save()
    }

    /// A launch failed or the worker is gone for good: its secret is void.
    mutating func forget(name: String) {
        guard byName.removeValue(forKey: name) != nil else { return }
        save()
    }

    /// The VM autoscaler scaled it in: its next report is answered with `stop`.
    mutating func retire(name: String) {
        guard byName[name] != nil else { return }
        byName[name]?.retired = true
        save()
    }

    /// The identity `secret` proves for `name`, if it does (compared in constant time).
    func verify(name: String, secret: String) -> Identity? {
        guard let identity = byName[name], !secret.isEmpty else { return nil }
        let a = Array(identity.secret.utf8), b = Array(secret.utf8)
        guard a.count == b.count else { return nil }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0 ? identity : nil
    }

    /// Writes the file (0600, atomically); a failure leaves the previous file and is not fatal:
    /// only a restarted master's recognition of these workers depends on it.
    private func save() {
        guard let path else { return }
        let url = URL(fileURLWithPath: path)
        guard let data = try? JSONEncoder().encode(byName.values.sorted { $0.name < $1.name }) else { return }
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else { return }
        if rename(temporary, path) != 0 { unlink(temporary) }
    }
}
