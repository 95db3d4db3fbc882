import Dispatch

/// Runs blocking I/O (libcurl calls to AWS, file copies) on threads of its own, so an async
/// caller never ties up one of Swift concurrency's few cooperative threads — on a 2-core master
/// two slow AWS calls would otherwise stall query routing.
public enum BlockingIO {
    static let queue = DispatchQueue(label: "infaas.blocking-io", attributes: .concurrent)

    /// `body`'s result, computed off the cooperative pool. An ``AWSCallCounter`` bound by the
    /// caller still counts the calls made inside.
    public static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let counter = AWSCallCounter.current
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: AWSCallCounter.$current.withValue(counter) { Result { () throws(E) -> T in try body() } })
            }
        }
        return try result.get()
    }
}
