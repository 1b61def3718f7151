import Foundation
import Synchronization

/// The sandbox's notion of now: real time plus an offset that `/_sandbox/clock/advance` moves forward,
/// so lockouts, token expiry and rotation ages are testable without sleeping.
final class SandboxClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    init(offset: TimeInterval = 0) {
        self.offset.withLock { $0 = offset }
    }

    var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }

    var offsetSeconds: TimeInterval { offset.withLock { $0 } }

    /// Moves the clock forward (never back: time that went backwards would make no service's sense).
    func advance(by seconds: TimeInterval) {
        offset.withLock { $0 += max(0, seconds) }
    }
}
