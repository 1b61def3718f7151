import Dispatch

/// Runs blocking or CPU-heavy work on a Dispatch worker thread. The botform executable runs Swift
/// concurrency on NIO's event loops; work that holds a thread for long there would share a loop with
/// the HTTP calls it is meant to overlap.
func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
