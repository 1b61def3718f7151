import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Synchronization
import Testing

@testable import BotformSandbox

/// The windowed rate limit (`ratePerSecond`): N requests per one-second window across all clients, the
/// rest 429 with `Retry-After` until the window ends. Unit tests move an injected clock; none sleeps.
@Suite("Sandbox: windowed rate limit", .timeLimit(.minutes(1)))
struct RateLimitTests {
    /// A clock that moves only when told to.
    final class ManualClock: Sendable {
        private let start = ContinuousClock.now
        private let offset = Mutex(Duration.zero)

        var now: @Sendable () -> ContinuousClock.Instant { { [self] in start + offset.withLock { $0 } } }

        func advance(_ duration: Duration) { offset.withLock { $0 += duration } }
    }

    static func injector(rate: Int, clock: ManualClock) -> FaultInjector {
        let injector = FaultInjector(now: clock.now)
        var settings = FaultSettings()
        settings.ratePerSecond = rate
        injector.configure(settings)
        return injector
    }

    static func decide(_ injector: FaultInjector) -> FaultInjector.Decision {
        injector.decide(method: "GET", path: "/api/auth/bots", mutating: false).decision
    }

    @Test("N requests pass in a window; the next is refused until the window ends, then N pass again")
    func window() {
        let clock = ManualClock()
        let injector = Self.injector(rate: 3, clock: clock)
        for _ in 0..<3 { #expect(Self.decide(injector) == .pass) }
        clock.advance(.milliseconds(400))
        #expect(Self.decide(injector) == .rateLimited(retryAfter: 1))
        clock.advance(.milliseconds(599))
        #expect(Self.decide(injector) == .rateLimited(retryAfter: 1), "the window is one second long")
        clock.advance(.milliseconds(1))
        for _ in 0..<3 { #expect(Self.decide(injector) == .pass) }
        #expect(Self.decide(injector) == .rateLimited(retryAfter: 1))
        #expect(injector.counts.rateLimited == 3)
    }

    @Test("windows stay on the grid the first request set, and refused requests do not count")
    func grid() {
        let clock = ManualClock()
        let injector = Self.injector(rate: 2, clock: clock)
        #expect(Self.decide(injector) == .pass)
        // 2.5 windows later: the window that started at 2 s holds this request, so one more passes at 2.9 s.
        clock.advance(.milliseconds(2_500))
        for _ in 0..<2 { #expect(Self.decide(injector) == .pass) }
        for _ in 0..<5 { #expect(Self.decide(injector) == .rateLimited(retryAfter: 1)) }
        clock.advance(.milliseconds(500))
        #expect(Self.decide(injector) == .pass, "a new window began at 3 s")
        #expect(Self.decide(injector) == .pass, "the refused requests did not use the new window's share")
        #expect(Self.decide(injector) == .rateLimited(retryAfter: 1))
    }

    @Test("configuring faults again starts a fresh window; 0 is no limit")
    func reset() {
        let clock = ManualClock()
        let injector = Self.injector(rate: 1, clock: clock)
        #expect(Self.decide(injector) == .pass)
        #expect(Self.decide(injector) != .pass)
        injector.configure(FaultSettings())
        for _ in 0..<100 { #expect(Self.decide(injector) == .pass) }
    }

    @Test("over HTTP: 429 RATE_LIMITED with Retry-After, across clients; a negative rate is refused")
    func http() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            #expect(try await sandbox.call(.PUT, "/_sandbox/faults", json: ["ratePerSecond": -1]).status == 400)
            // The windows are tested above on a manual clock. Over HTTP the answers' shape is checked: at
            // 1 per second, the second of two back-to-back calls is refused unless a window ended between them.
            try await sandbox.call(.PUT, "/_sandbox/faults", json: ["ratePerSecond": 1])
            var statuses: [Int] = []
            for _ in 0..<6 {
                let reply = try await sandbox.call(.GET, "/api/auth/bots", token: admin)
                statuses.append(reply.status)
                if reply.status == 429 {
                    #expect(reply.errorCode == "RATE_LIMITED")
                    let retryAfter = Int(reply.headers.first(name: "Retry-After") ?? "") ?? 0
                    #expect(retryAfter == 1, "a one-second window never asks for more than a second")
                }
            }
            #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 }, "\(statuses)")
            #expect(statuses.contains(429), "six calls, at most one per second: some were refused (\(statuses))")
            let faults = try await sandbox.call(.GET, "/_sandbox/faults")
            let settings = faults.data?["settings"] as? [String: Any]
            #expect(settings?["ratePerSecond"] as? Int == 1)
            let injected = (faults.data?["injected"] as? [String: Any])?["rateLimited"] as? Int
            #expect(injected == statuses.filter { $0 == 429 }.count)
        }
    }
}
