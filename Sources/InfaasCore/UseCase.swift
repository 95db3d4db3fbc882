/// What a model does: `classification`, `translation`, ... (the reference's `task`).
///
/// Named `InferenceTask` so it never clashes with Swift concurrency's `Task`.
public struct InferenceTask: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.lowercased() }
    public init(_ name: String) { self.init(rawValue: name) }

    public static let classification = InferenceTask("classification")
    public static let translation = InferenceTask("translation")

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// The data a model was trained and scored on: `imagenet`, `wmt16_de_en`, ...
public struct Dataset: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.lowercased() }
    public init(_ name: String) { self.init(rawValue: name) }

    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A use-case: task × dataset × input dimension — the reference's "grandparent" model,
/// named `<task>-<dataset>-<inputdim>` (e.g. `classification-imagenet-224`, §0).
public struct UseCase: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var task: InferenceTask
    public var dataset: Dataset
    /// Square input side in pixels for images (the original's `inputdim`, `-d`).
    public var inputDimension: Int

    public init(task: InferenceTask, dataset: Dataset, inputDimension: Int) {
        self.task = task
        self.dataset = dataset
        self.inputDimension = inputDimension
    }

    /// The reference's grandparent name, `<task>-<dataset>-<inputdim>`.
    public var name: String { "\(task.rawValue)-\(dataset.rawValue)-\(inputDimension)" }
    public var description: String { name }

    public static func < (a: Self, b: Self) -> Bool { a.name < b.name }
}
