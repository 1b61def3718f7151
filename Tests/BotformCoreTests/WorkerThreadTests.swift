import BotformCore
import Foundation
import Testing

@Suite("worker thread")
struct WorkerThreadTests {
    struct Refused: Error, Equatable {
        let index: Int
    }

    @Test("jobs run on one thread in the order handed over; results and errors come back to each caller")
    func orderAndResults() async throws {
        let worker = WorkerThread()
        let log = Log()
        // Handed over from one task, in order: run in that order.
        for index in 0..<200 {
            worker.enqueue { log.append(index) }
        }
        let threads = try await (worker.run { pthread_self() }, worker.run { pthread_self() })
        #expect(threads.0 == threads.1, "one thread runs every job")
        #expect(log.values == Array(0..<200), "everything handed over before `run` ran before it, in order")

        // Many callers at once: each gets its own answer or its own error.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    do {
                        let value = try await worker.run {
                            if index % 7 == 0 { throw Refused(index: index) }
                            return index * 2
                        }
                        #expect(value == index * 2)
                        #expect(index % 7 != 0)
                    } catch let error as Refused {
                        #expect(error == Refused(index: index))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    final class Log: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [Int] = []
        func append(_ value: Int) { lock.withLock { items.append(value) } }
        var values: [Int] { lock.withLock { items } }
    }
}
