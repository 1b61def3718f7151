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
    /// Share of mutating calls (register, revoke, reset-secret, record writes, user creation) that are
    /// carried out and committed, and whose response is then dropped: the connection closes unanswered.
    var dropRate: Double = 0
    /// Only requests whose path starts with this are affected (all when nil).
    var pathPrefix: String?
    /// Seed for the random choices, so a faulty run can be replayed.
    var seed: UInt64?

    enum CodingKeys: String, CodingKey {
        case errorRate, errorStatus, latencyMs, rateLimitBurst, retryAfterSeconds, dropRate, pathPrefix, seed
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        errorRate = try container.decodeIfPresent(Double.self, forKey: .errorRate) ?? 0
        errorStatus = try container.decodeIfPresent(Int.self, forKey: .errorStatus) ?? 503
        latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
        rateLimitBurst = try container.decodeIfPresent(Int.self, forKey: .rateLimitBurst) ?? 0
        retryAfterSeconds = try container.decodeIfPresent(Int.self, forKey: .retryAfterSeconds) ?? 1
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
        if rateLimitBurst < 0 || retryAfterSeconds < 0 {
            return "rateLimitBurst and retryAfterSeconds must not be negative"
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
    }

    private let state = Mutex(State())

    var settings: FaultSettings { state.withLock { $0.settings } }
    var counts: FaultCounts { state.withLock { $0.counts } }

    func configure(_ settings: FaultSettings) {
        state.withLock { state in
            state.settings = settings
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
}
