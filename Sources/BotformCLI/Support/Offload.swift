import Dispatch
import Foundation

/// Runs blocking or CPU-heavy work on a Dispatch worker thread. The botform executable runs Swift
/// concurrency on NIO's event loops; work that holds a thread for long there would share a loop with
/// the HTTP calls it is meant to overlap.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// Work started early, once, and claimed later by the key it was started for (a sealed file read from
/// the moment the configuration names it). A claim for another key gets nothing and does its own.
final class EarlyRead: @unchecked Sendable {
    // @unchecked: `started` is read and written only while holding `lock`.
    private let lock = NSLock()
    private var started: (key: String?, task: Task<Frontend.SealedRead?, any Error>)?

    func start(_ key: String?, _ make: () -> Task<Frontend.SealedRead?, any Error>) {
        lock.withLock {
            if started == nil { started = (key, make()) }
        }
    }

    func task(for key: String?) -> Task<Frontend.SealedRead?, any Error>? {
        lock.withLock { started?.key == key ? started?.task : nil }
    }
}
