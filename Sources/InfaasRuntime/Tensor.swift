/// A dense float32 tensor, row-major (the last dimension varies fastest).
///
/// `init` takes the shape and values as given; `validated()` checks that they agree.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }

    /// The number of elements the shape describes (1 for a scalar's empty shape).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The tensor itself if every dimension is ≥ 0 and `values.count` equals the product of
    /// the shape; otherwise `.inputMismatch` naming both.
    public func validated() throws(RuntimeError) -> Tensor {
        if let bad = shape.firstIndex(where: { $0 < 0 }) {
            throw RuntimeError(.inputMismatch, "tensor shape \(shape) has a negative dimension at index \(bad)",
                               hint: "every dimension of a concrete tensor must be ≥ 0")
        }
        let expected = elementCount
        guard values.count == expected else {
            throw RuntimeError(.inputMismatch, "tensor shape \(shape) holds \(expected) values, but \(values.count) were given",
                               hint: "pass exactly the product of the shape's dimensions, row-major")
        }
        return self
    }
}

extension Tensor {
    /// The `k` highest scores of one row of a classification output shaped `[N, C]` (or
    /// `[N, C, 1, 1]`), best first; equal scores keep the lower class index first. Returns
    /// fewer than `k` entries when the row has fewer classes, and none for a row outside
    /// `0..<N` or a tensor whose values do not split into `N` rows.
    public func topK(_ k: Int, row: Int) -> [(index: Int, score: Float)] {
        guard k > 0, let rows = shape.first, rows > 0, row >= 0, row < rows,
              values.count % rows == 0, values.count > 0 else { return [] }
        let classes = values.count / rows
        let start = row * classes
        var best: [(index: Int, score: Float)] = []
        best.reserveCapacity(min(k, classes) + 1)
        for c in 0..<classes {
            let score = values[start + c]
            if best.count == k, let last = best.last, !(score > last.score) { continue }
            // Insert after every entry with a score ≥ this one, so ties keep index order.
            var position = best.count
            while position > 0, best[position - 1].score < score { position -= 1 }
            best.insert((c, score), at: position)
            if best.count > k { best.removeLast() }
        }
        return best
    }
}
