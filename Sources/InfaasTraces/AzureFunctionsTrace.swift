import InfaasCore
internal import GSLKit

/// The Azure Functions 2019 per-minute invocation counts
/// (`invocations_per_function_md.anon.dNN.csv`): `HashOwner,HashApp,HashFunction,Trigger,1,…,1440`,
/// one row per function, one column per minute of the day. Users bring the file.
///
/// Function `i` (in file order) feeds application `i % applications`. Within a minute, a
/// function's `c` invocations get times drawn uniformly in that minute (seeded), so the stream is
/// deterministic for a seed. The counts are held in memory (functions × minutes integers); the
/// arrivals are generated a minute at a time.
public struct AzureFunctionsTrace: ArrivalStream {
    private var counts: [[Int32]] = []
    private let minutes: Int
    private let applications: Int
    private let rng: RandomGenerator
    private var minute = 0
    private var pending: [Arrival] = []
    private var pendingIndex = 0

    public init(path: String, applications: Int = 1, seed: UInt64 = 1) throws(TraceError) {
        guard applications >= 1 else { throw TraceError(.badParameter, "applications must be ≥ 1", at: path) }
        let reader = try LineReader(path: path)
        guard let header = reader.nextLine() else { throw TraceError(.empty, "the file is empty", at: path) }
        let columns = header.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters() }
        guard let first = columns.firstIndex(of: "1"), columns.count > first,
              columns[first...].enumerated().allSatisfy({ $0.element == String($0.offset + 1) }) else {
            throw TraceError(.badHeader, "expected minute columns 1,2,…,N after the hash columns", at: "\(path):1",
                             hint: "header like HashOwner,HashApp,HashFunction,Trigger,1,2,…,1440")
        }
        minutes = columns.count - first
        // Invocations per minute over all functions, bounded as rows are read: a minute's
        // arrivals are generated (and held) at once; counts of 2^31−1 once hung the simulator.
        var perMinute = [Int](repeating: 0, count: minutes)
        while let line = reader.nextLine() {
            if line.isEmpty { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == columns.count else {
                throw TraceError(.badValue, "row has \(fields.count) fields, the header \(columns.count)", at: reader.location)
            }
            var row = [Int32](repeating: 0, count: minutes)
            for m in 0..<minutes {
                guard let count = Int32(fields[first + m].trimmingCharacters()), count >= 0 else {
                    throw TraceError(.badValue, "minute \(m + 1) count \"\(ValidationError.excerpt(String(fields[first + m])))\" is not an integer ≥ 0", at: reader.location)
                }
                perMinute[m] += Int(count)
                guard perMinute[m] <= InputLimits.maxInvocationsPerMinute else {
                    throw TraceError(.badValue, "minute \(m + 1) has more than \(InputLimits.maxInvocationsPerMinute) invocations over the functions so far (this row: \(count))",
                                     at: reader.location, hint: "thin the trace: fewer functions or smaller counts")
                }
                row[m] = count
            }
            counts.append(row)
        }
        guard !counts.isEmpty else { throw TraceError(.empty, "no function rows", at: path) }
        self.applications = applications
        self.rng = RandomGenerator(seed: seed)
    }

    /// Invocations in the whole file.
    public var totalInvocations: Int { counts.reduce(0) { $0 + $1.reduce(0) { $0 + Int($1) } } }

    public mutating func next() throws(TraceError) -> Arrival? {
        while pendingIndex >= pending.count {
            guard minute < minutes else { return nil }
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
            let start = Double(minute) * 60
            for (function, row) in counts.enumerated() where row[minute] > 0 {
                for _ in 0..<row[minute] {
                    pending.append(Arrival(time: .seconds(start + rng.uniform() * 60), application: function % applications, row: function + 2))
                }
            }
            pending.sort { ($0.time, $0.row) < ($1.time, $1.row) }
            minute += 1
        }
        defer { pendingIndex += 1 }
        return pending[pendingIndex]
    }
}
