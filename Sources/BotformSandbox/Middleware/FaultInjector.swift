import BotformCore
import Foundation
import Synchronization

/// Faults the control API can inject into the bot and records API, to test clients against a service
/// that misbehaves the way real ones do.
struct FaultSettings: Codable, Sendable, Equatable {
    /// Share of requests answered with `errorStatus` without being carried out.
    var errorRate: Double = 0
    var errorStatus: Int = 503
    /// Delay added to every request, in milliseconds.
    var latencyMs: Int = 0
    /// The next N requests are answered 429 with `Retry-After: retryAfterSeconds`, not carried out.
    var rateLimitBurst: Int = 0
    var retryAfterSeconds: Int = 1
    /// A windowed rate limit, as real services have: at most N requests per one-second window, across
    /// all clients; the rest get 429 with `Retry-After` (the seconds until the window ends, rounded up).
    /// 0 is no limit.
    var ratePerSecond: Int = 0
    /// Share of mutating calls (register, revoke, reset-secret, record writes, user creation) that are
    /// carried out and committed, and whose response is then dropped: the connection closes unanswered.
    var dropRate: Double = 0
    /// Only requests whose path starts with this are affected (all when nil).
    var pathPrefix: String?
    /// Seed for the random choices, so a faulty run can be replayed.
    var seed: UInt64?

    enum CodingKeys: String, CodingKey {
        case errorRate, errorStatus, latencyMs, rateLimitBurst, retryAfterSeconds, ratePerSecond, dropRate, pathPrefix
        case seed
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        errorRate = try container.decodeIfPresent(Double.self, forKey: .errorRate) ?? 0
        errorStatus = try container.decodeIfPresent(Int.self, forKey: .errorStatus) ?? 503
        latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
        rateLimitBurst = try container.decodeIfPresent(Int.self, forKey: .rateLimitBurst) ?? 0
        retryAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? 1
        ratePerSecond = try container.decodeIfPresent(Int.self, forKey: .ratePerSecond) ?? 0
        dropRate = try container.decodeIfPresent(Double.self, forKey: .dropRate) ?? 0
        pathPrefix = try container.decodeIfPresent(String.self, forKey: .pathPrefix)
        seed = try container.decodeIfPresent(UInt64.self, forKey: .seed)
    }

    var problem: String? {
        if !(0...1).contains(errorRate) || !(0...1).contains(dropRate) {
            return "errorRate and dropRate are shares from 0 to 1"
        }
        if !(400...599).contains(errorStatus) || errorStatus == 429 {
            return "errorStatus must be a 4xx or 5xx status other than 429 (use rateLimitBurst for 429)"
        }
        if latencyMs < 0 || latencyMs > 60_000 { return "latencyMs must be from 0 to 60000" }
        if rateLimitBurst < 0 || retryAfterSeconds < 0 || ratePerSecond < 0 {
            return "rateLimitBurst, retryAfterSeconds and ratePerSecond must not be negative"
        }
        return nil
    }
}

/// Counts of the faults injected so far.
struct FaultCounts: Codable, Sendable {
    var errors = 0
    var rateLimited = 0
    var dropped = 0
}

/// Decides, per request, which fault (if any) to inject.
final class FaultInjector: Sendable {
    enum Decision: Sendable, Equatable {
        case pass
        case error(status: Int)
        case rateLimited(retryAfter: Int)
        case dropAfterCommit
    }

    private struct State {
        var settings = FaultSettings()
        var random = SplitMix64(seed: UInt64.random(in: .min ... .max))
        var counts = FaultCounts()
        /// The rate limit's current window: when it started and how many requests it let through.
        var windowStart: ContinuousClock.Instant?
        var windowCount = 0
    }

    private let state = Mutex(State())
    /// The clock the rate limit's windows are measured on (real time, not the sandbox's movable clock);
    /// tests inject one.
    private let now: @Sendable () -> ContinuousClock.Instant

    init(now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.now = now
    }

    var settings: FaultSettings { state.withLock { $0.settings } }
    var counts: FaultCounts { state.withLock { $0.counts } }

    func configure(_ settings: FaultSettings) {
        state.withLock { state in
            state.settings = settings
            state.windowStart = nil
            state.windowCount = 0
            if let seed = settings.seed { state.random = SplitMix64(seed: seed) }
        }
    }

    /// The delay to add and the fault to inject for a request.
    func decide(method: String, path: String, mutating: Bool) -> (latencyMs: Int, decision: Decision) {
        state.withLock { state in
            let settings = state.settings
            if let prefix = settings.pathPrefix, !path.hasPrefix(prefix) { return (0, .pass) }
            if state.settings.rateLimitBurst > 0 {
                state.settings.rateLimitBurst -= 1
                state.counts.rateLimited += 1
                return (settings.latencyMs, .rateLimited(retryAfter: settings.retryAfterSeconds))
            }
            if settings.ratePerSecond > 0,
                let retryAfter = Self.window(&state, limit: settings.ratePerSecond, now: now())
            {
                state.counts.rateLimited += 1
                return (settings.latencyMs, .rateLimited(retryAfter: retryAfter))
            }
            if settings.errorRate > 0, state.random.nextUnit() < settings.errorRate {
                state.counts.errors += 1
                return (settings.latencyMs, .error(status: settings.errorStatus))
            }
            if mutating, settings.dropRate > 0, state.random.nextUnit() < settings.dropRate {
                state.counts.dropped += 1
                return (settings.latencyMs, .dropAfterCommit)
            }
            return (settings.latencyMs, .pass)
        }
    }

    /// Fixed one-second windows, the first starting at the first request: a request within the limit
    /// counts and passes (nil); one beyond it gets the seconds until the window ends, rounded up.
    /// Refused requests do not count, so a client that waits as asked gets the next window's share.
    private static func window(_ state: inout State, limit: Int, now: ContinuousClock.Instant) -> Int? {
        let second = Duration.seconds(1)
        if let start = state.windowStart, now - start >= second {
            // Whole windows passed: the current one starts on the grid the first one set.
            let elapsed = now - start
            let windows = Int(elapsed / second)
            state.windowStart = start + second * windows
            state.windowCount = 0
        } else if state.windowStart == nil {
            state.windowStart = now
            state.windowCount = 0
        }
        guard state.windowCount >= limit, let start = state.windowStart else {
            state.windowCount += 1
            return nil
        }
        let remaining = start + second - now
        let milliseconds =
            remaining.components.seconds * 1_000 + remaining.components.attoseconds / 1_000_000_000_000_000
        return max(1, Int((milliseconds + 999) / 1_000))
    }
}
