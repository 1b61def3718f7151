import Foundation

/// Large values a command is done with, kept until the process exits. Freeing the structures of a
/// 10,000-bot plan (configuration, sealed file, observations, plan) piece by piece took longer than the
/// rest of the exit, and the system takes the whole memory back at once when the process ends.
enum Retained {
    private static let lock = NSLock()
    // Guarded by `lock`; only appended to.
    nonisolated(unsafe) private static var values: [Any] = []

    static func keep(_ value: Any) {
        lock.withLock { values.append(value) }
    }
}
