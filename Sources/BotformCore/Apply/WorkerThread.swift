import Foundation

/// One thread of its own that runs jobs in order, off the event loops. The botform executable runs
/// Swift concurrency on NIO's two event loops, which also carry every HTTP call: CPU work done there
/// (sealing one secret takes about 0.12 ms, `botform-bench seal`) delays the answers and the next calls
/// of an apply. Work handed to a worker thread instead runs beside them, so a place that frees sends its
/// next call without waiting behind it (apply of 1,000 registrations at 50 ms latency: about 0.1 s
/// faster, measured A/B; running the thread below normal priority measured no different, and could
/// starve it on a busy host).
public final class WorkerThread: @unchecked Sendable {
    // @unchecked: `jobs` is read and written only while holding `condition`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    public init() {
        let thread = Thread { [condition, self] in
            while true {
                condition.lock()
                while self.jobs.isEmpty { condition.wait() }
                let batch = self.jobs
                self.jobs.removeAll(keepingCapacity: true)
                condition.unlock()
                for job in batch { job() }
            }
        }
        thread.start()
    }

    /// Runs `work` on the thread, after everything handed to it before; returns or throws what it did.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            enqueue { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Hands `job` to the thread without waiting for it.
    public func enqueue(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs `work` on a thread started for it. Swift concurrency here runs on the event loops, and what a
    /// task starts stays on its loop: one-off work that must not delay that loop's tasks runs here, on
    /// another core when one is free.
    public static func once<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: work()) }.start()
        }
    }

    /// The thread that seals issued secrets (age encryption and the journal line). A sealing holds no
    /// call place, so it runs beside the calls rather than between them.
    public static let sealing = WorkerThread()
}
