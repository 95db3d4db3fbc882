public import InfaasCore
import GRDB
import Foundation

/// A registered variant: the profile plus where its model files live and who registered it.
public struct RegisteredVariant: Hashable, Sendable {
    public var variant: ModelVariant
    public var location: ModelLocation
    public var submitter: String
}

/// What a batch registration did.
public struct RegistrationSummary: Sendable, Equatable {
    public var registered: [String]
    public var skippedExisting: [String]
}

/// The model registry (reference §2.4): use-cases, architectures and variants with their
/// profiles, in SQLite through GRDB (WAL mode, schema migrations).
///
/// Every registration runs in one transaction, so nothing half-registered survives a failure.
public final class ModelRegistry: Sendable {
    private let writer: any DatabaseWriter

    /// Opens (creating if needed) the registry database at `path`, in WAL mode.
    public init(path: String) throws(RegistryError) {
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            writer = try DatabasePool(path: path)
            try Self.migrator.migrate(writer)
        } catch {
            throw RegistryError(.database, "cannot open the registry at \(path): \(error)",
                                hint: "check the directory is writable, or point --home / INFAAS_HOME elsewhere")
        }
    }

    /// An in-memory registry (tests, benchmarks).
    public init() throws(RegistryError) {
        do {
            writer = try DatabaseQueue()
            try Self.migrator.migrate(writer)
        } catch {
            throw RegistryError(.database, "cannot create an in-memory registry: \(error)")
        }
    }

    /// The journal mode SQLite reports (`wal` for a file registry).
    public func journalMode() throws(RegistryError) -> String {
        try read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-use-cases-architectures-variants") { db in
            try db.execute(sql: """
                CREATE TABLE use_case (
                    name TEXT PRIMARY KEY, task TEXT NOT NULL, dataset TEXT NOT NULL, input_dim INTEGER NOT NULL);
                CREATE TABLE architecture (
                    name TEXT PRIMARY KEY, use_case TEXT NOT NULL REFERENCES use_case(name));
                CREATE TABLE variant (
                    name TEXT PRIMARY KEY,
                    architecture TEXT NOT NULL REFERENCES architecture(name),
                    use_case TEXT NOT NULL REFERENCES use_case(name),
                    task TEXT NOT NULL, framework TEXT NOT NULL, hardware TEXT NOT NULL, max_batch INTEGER NOT NULL,
                    accuracy REAL, load_ms REAL, memory_mb REAL, batch1_ms REAL NOT NULL,
                    slope_ms REAL NOT NULL, intercept_ms REAL NOT NULL,
                    kind TEXT NOT NULL, source TEXT NOT NULL,
                    model_url TEXT NOT NULL, submitter TEXT NOT NULL,
                    registered_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                    profile_json BLOB NOT NULL);
                CREATE INDEX variant_by_architecture ON variant(architecture, batch1_ms);
                CREATE INDEX variant_by_task_accuracy ON variant(task, accuracy);
                """)
        }
        return migrator
    }

    // MARK: Registration

    /// Registers one variant (reference §2.4). An existing name is an error ("Model already
    /// exists") unless it was registered with exactly this profile and location (a retried
    /// registration succeeds); so is an architecture already registered for a different use-case.
    public func register(_ variant: ModelVariant, at location: ModelLocation, submitter: String = "tester") throws(RegistryError) {
        _ = try register([variant], location: { _ in location }, submitter: submitter, skipExisting: false)
    }

    /// Registers several variants in one transaction: all of them, or (on any error) none.
    /// With `skipExisting`, names already registered are left alone and reported.
    public func register(
        _ variants: [ModelVariant], location: (ModelVariant) -> ModelLocation, submitter: String = "tester",
        skipExisting: Bool
    ) throws(RegistryError) -> RegistrationSummary {
        let rows = variants.map { ($0, location($0).description) }
        // The rules every way into the registry shares: names of one alphabet (they become
        // folder names on workers), bounded numbers.
        for variant in variants {
            do { try variant.validate() } catch {
                throw RegistryError(.invalidVariant, "cannot register variant \"\(ValidationError.excerpt(variant.name))\": \(error)")
            }
        }
        return try write { db in
            var summary = RegistrationSummary(registered: [], skippedExisting: [])
            var seen = Set<String>()
            for (variant, url) in rows {
                guard seen.insert(variant.name).inserted else {
                    throw RegistryError(.alreadyExists, "variant \"\(variant.name)\" appears twice in this registration")
                }
                if let existing = try Self.fetchVariants(db, sql: "SELECT * FROM variant WHERE name = ?", arguments: [variant.name]).first {
                    // The same profile at the same place: a retry of a registration that was
                    // committed although its caller never heard so. Nothing to do.
                    if skipExisting || (existing.variant == variant && existing.location.description == url) {
                        summary.skippedExisting.append(variant.name)
                        continue
                    }
                    throw RegistryError(.alreadyExists, "Model already exists: variant \"\(variant.name)\" is registered",
                                        hint: "pick another variant name, or see `infaas modinfo \(variant.architecture)`")
                }
                try Self.insert(variant, url: url, submitter: submitter, db: db)
                summary.registered.append(variant.name)
            }
            return summary
        }
    }

    static func insert(_ variant: ModelVariant, url: String, submitter: String, db: Database) throws {
        let useCase = variant.useCase
        try db.execute(sql: "INSERT OR IGNORE INTO use_case(name, task, dataset, input_dim) VALUES (?, ?, ?, ?)",
                       arguments: [useCase.name, useCase.task.rawValue, useCase.dataset.rawValue, useCase.inputDimension])
        if let existing = try String.fetchOne(db, sql: "SELECT use_case FROM architecture WHERE name = ?", arguments: [variant.architecture]) {
            let other = try Row.fetchOne(db, sql: "SELECT task, dataset FROM use_case WHERE name = ?", arguments: [existing])
            let task: String = other?["task"] ?? "", dataset: String = other?["dataset"] ?? ""
            if task != useCase.task.rawValue || dataset != useCase.dataset.rawValue {
                throw RegistryError(.conflictingUseCase,
                                    "architecture \"\(variant.architecture)\" is registered for \(existing), not \(useCase.name)",
                                    hint: "register this variant under another architecture name")
            }
        } else {
            try db.execute(sql: "INSERT INTO architecture(name, use_case) VALUES (?, ?)", arguments: [variant.architecture, useCase.name])
        }
        let profile = try JSONEncoder().encode(variant)
        try db.execute(sql: """
            INSERT INTO variant(name, architecture, use_case, task, framework, hardware, max_batch, accuracy, load_ms,
                memory_mb, batch1_ms, slope_ms, intercept_ms, kind, source, model_url, submitter, profile_json)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                variant.name, variant.architecture, useCase.name, useCase.task.rawValue, variant.framework.rawValue,
                variant.hardware.rawValue, variant.maxBatch, variant.accuracy, variant.loadLatencyMs, variant.memoryMB,
                variant.batch1LatencyMs, variant.latency.model.slopeMs, variant.latency.model.interceptMs,
                variant.kind.rawValue, variant.source, url, submitter, profile,
            ])
    }

    /// Removes a variant (`infaas unregister`); its architecture and use-case go with it when no
    /// other variant needs them. Returns what it removed.
    @discardableResult
    public func unregister(variant name: String) throws(RegistryError) -> RegisteredVariant {
        try write { db in
            guard let found = try Self.fetchVariants(db, sql: "SELECT * FROM variant WHERE name = ?", arguments: [name]).first else {
                let known = try String.fetchAll(db, sql: "SELECT name FROM variant")
                throw RegistryError(.unknownVariant, "Model has not been registered: unknown variant \"\(ValidationError.excerpt(name))\"",
                                    hint: NameSuggestion.hint(for: name, known: known))
            }
            try db.execute(sql: "DELETE FROM variant WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM architecture WHERE name = ? AND NOT EXISTS (SELECT 1 FROM variant WHERE architecture = ?)",
                           arguments: [found.variant.architecture, found.variant.architecture])
            try db.execute(sql: "DELETE FROM use_case WHERE name = ? AND NOT EXISTS (SELECT 1 FROM architecture WHERE use_case = ?)",
                           arguments: [found.variant.useCase.name, found.variant.useCase.name])
            return found
        }
    }

    // MARK: Discovery

    /// Tasks with at least one registered variant, sorted.
    public func tasks() throws(RegistryError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT task FROM use_case ORDER BY task") }
    }

    /// Architectures registered for a task and dataset (reference `AllParentInfo`, §3.1).
    /// An unknown task or dataset is an error that lists the known ones.
    public func architectures(task: InferenceTask, dataset: Dataset) throws(RegistryError) -> [String] {
        try read { db in
            let tasks = try String.fetchAll(db, sql: "SELECT DISTINCT task FROM use_case ORDER BY task")
            guard tasks.contains(task.rawValue) else {
                throw RegistryError(.unknownTask, "unknown task \"\(task.rawValue)\"", hint: NameSuggestion.hint(for: task.rawValue, known: tasks))
            }
            let datasets = try String.fetchAll(db, sql: "SELECT DISTINCT dataset FROM use_case WHERE task = ? ORDER BY dataset", arguments: [task.rawValue])
            guard datasets.contains(dataset.rawValue) else {
                throw RegistryError(.unknownDataset, "unknown dataset \"\(dataset.rawValue)\" for task \"\(task.rawValue)\"",
                                    hint: NameSuggestion.hint(for: dataset.rawValue, known: datasets))
            }
            return try String.fetchAll(db, sql: """
                SELECT DISTINCT a.name FROM architecture a JOIN use_case u ON a.use_case = u.name
                WHERE u.task = ? AND u.dataset = ? ORDER BY a.name
                """, arguments: [task.rawValue, dataset.rawValue])
        }
    }

    /// The variants of an architecture, fastest batch-1 latency first (reference
    /// `QueryModelInfo`). An unknown architecture is an error that suggests close names.
    public func variants(ofArchitecture architecture: String) throws(RegistryError) -> [RegisteredVariant] {
        try read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM architecture WHERE name = ?", arguments: [architecture]) == true else {
                let known = try String.fetchAll(db, sql: "SELECT name FROM architecture")
                throw RegistryError(.unknownArchitecture, "Parent model has not been registered: unknown architecture \"\(architecture)\"",
                                    hint: NameSuggestion.hint(for: architecture, known: known) + " — see `infaas modarch TASK DATASET`")
            }
            return try Self.fetchVariants(db, sql: "SELECT * FROM variant WHERE architecture = ? ORDER BY batch1_ms, name", arguments: [architecture])
        }
    }

    /// One registered variant, or an error suggesting close names.
    public func variant(named name: String) throws(RegistryError) -> RegisteredVariant {
        try read { db in
            guard let found = try Self.fetchVariants(db, sql: "SELECT * FROM variant WHERE name = ?", arguments: [name]).first else {
                let known = try String.fetchAll(db, sql: "SELECT name FROM variant")
                throw RegistryError(.unknownVariant, "Model has not been registered: unknown variant \"\(name)\"",
                                    hint: NameSuggestion.hint(for: name, known: known))
            }
            return found
        }
    }

    /// Every registered variant, by name.
    public func allVariants() throws(RegistryError) -> [RegisteredVariant] {
        try read { db in try Self.fetchVariants(db, sql: "SELECT * FROM variant ORDER BY name", arguments: []) }
    }

    /// Variants of a task with accuracy ≥ `minAccuracy`, `max_batch ≥ batch` and predicted
    /// latency at `batch` ≤ `maxLatencyMs`, by ascending accuracy — answered by SQLite.
    public func variantNames(task: InferenceTask, minAccuracy: Double, maxLatencyMs: Double, batch: Int) throws(RegistryError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT name FROM variant
                WHERE task = ? AND accuracy >= ? AND max_batch >= ? AND slope_ms * ? + intercept_ms <= ?
                ORDER BY accuracy, name
                """, arguments: [task.rawValue, minAccuracy, batch, Double(batch), maxLatencyMs])
        }
    }

    static func fetchVariants(_ db: Database, sql: String, arguments: StatementArguments) throws -> [RegisteredVariant] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let data: Data = row["profile_json"]
            let variant = try JSONDecoder().decode(ModelVariant.self, from: data)
            let url: String = row["model_url"]
            return RegisteredVariant(variant: variant, location: try ModelLocation(parsing: url), submitter: row["submitter"])
        }
    }

    // MARK: Plumbing

    private func read<T>(_ body: (Database) throws -> T) throws(RegistryError) -> T {
        do { return try writer.read(body) } catch { throw Self.wrap(error) }
    }

    private func write<T>(_ body: (Database) throws -> T) throws(RegistryError) -> T {
        do { return try writer.write(body) } catch { throw Self.wrap(error) }
    }

    static func wrap(_ error: any Error) -> RegistryError {
        if let error = error as? RegistryError { return error }
        return RegistryError(.database, "registry database error: \(error)")
    }
}
