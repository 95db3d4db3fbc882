/// The start-up script (EC2 user-data) of a worker instance: it runs `infaas worker` pointed at
/// the master, with the instance's own id and private address from the instance metadata
/// service (IMDSv2).
///
/// cloud-init runs user-data once, at first boot; the script therefore also installs a per-boot
/// hook that fetches the *current* user-data and runs it, so a stopped worker that the master
/// starts again (after rewriting its user-data) joins the master it should.
///
/// The `INFAAS_WORKER_ARGS=(…)` line is the worker's command line; tests (where the emulator runs
/// no software) read it back with ``arguments(in:)`` and start the worker themselves.
public struct WorkerUserData: Sendable, Hashable {
    /// The `infaas` binary on the worker image.
    public var binary: String
    /// `worker --master … --name …` and the rest.
    public var arguments: [String]
    /// Environment for the worker (the cluster token): written to a 0600 file, not the command line.
    public var environment: [String: String]

    public init(binary: String, arguments: [String], environment: [String: String] = [:]) {
        self.binary = binary
        self.arguments = arguments
        self.environment = environment
    }

    /// The script. Paths hang off `$INFAAS_ROOT` (empty on an instance) so a test can run it in a
    /// scratch folder with stand-ins for `curl` and `systemd-run`.
    public var script: String {
        let args = arguments.map(Self.quote).joined(separator: " ")
        let env = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.quote($0.value))" }.joined(separator: "\n")
        return """
            #!/bin/bash
            # infaas-swift worker start-up, written by the master's EC2 provider.
            INFAAS_BIN=\(Self.quote(binary))
            INFAAS_WORKER_ARGS=(\(args))
            set -euo pipefail
            root="${INFAAS_ROOT:-}"
            imds() {
              local token
              token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
              curl -sf -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/$1"
            }
            # Later boots: fetch the current user-data (the master may have rewritten it) and run it.
            hook="$root/var/lib/cloud/scripts/per-boot/infaas-worker.sh"
            mkdir -p "$(dirname "$hook")"
            printf '%s\\n' '#!/bin/bash' 'set -euo pipefail' \\
              'token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")' \\
              'curl -sf -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/user-data > /run/infaas-user-data' \\
              'exec bash /run/infaas-user-data' > "$hook"
            chmod 0700 "$hook"
            install -d -m 0700 "$root/etc/infaas"
            umask 077
            cat > "$root/etc/infaas/worker.env" <<'INFAAS_ENV'
            \(env)
            INFAAS_ENV
            instance_id=$(imds meta-data/instance-id)
            private_ip=$(imds meta-data/local-ipv4)
            systemctl stop infaas-worker 2>/dev/null || true
            systemd-run --unit infaas-worker --collect --property=EnvironmentFile=/etc/infaas/worker.env \\
              "$INFAAS_BIN" "${INFAAS_WORKER_ARGS[@]}" --instance-id "$instance_id" --advertise-host "$private_ip"

            """
    }

    /// Single-quotes a word for bash.
    static func quote(_ word: String) -> String { "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// The worker's arguments in a script this type wrote (nil when there are none).
    public static func arguments(in script: String) -> [String]? {
        guard let line = script.split(separator: "\n").first(where: { $0.hasPrefix("INFAAS_WORKER_ARGS=(") && $0.hasSuffix(")") }) else { return nil }
        return unquote(String(line.dropFirst("INFAAS_WORKER_ARGS=(".count).dropLast()))
    }

    /// The worker's environment in a script this type wrote.
    public static func environment(in script: String) -> [String: String] {
        guard let start = script.range(of: "<<'INFAAS_ENV'\n"), let end = script.range(of: "\nINFAAS_ENV", range: start.upperBound..<script.endIndex) else { return [:] }
        var env: [String: String] = [:]
        for line in script[start.upperBound..<end.lowerBound].split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            env[String(line[..<eq])] = unquote(String(line[line.index(after: eq)...])).first ?? ""
        }
        return env
    }

    /// Splits single-quoted bash words (the form ``quote(_:)`` writes).
    static func unquote(_ text: String) -> [String] {
        var words: [String] = [], current = "", inQuote = false, hasWord = false
        var chars = text.makeIterator()
        while let c = chars.next() {
            if inQuote {
                if c == "'" { inQuote = false } else { current.append(c) }
            } else if c == "'" {
                inQuote = true
                hasWord = true
            } else if c == "\\" {
                if let next = chars.next() { current.append(next) }
                hasWord = true
            } else if c == " " {
                if hasWord { words.append(current) }
                current = ""
                hasWord = false
            } else {
                current.append(c)
                hasWord = true
            }
        }
        if hasWord { words.append(current) }
        return words
    }
}
