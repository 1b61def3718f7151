import AsyncHTTPClient
import BotformCore
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import BotformProviders

/// The transport's edges: rate limits with and without `Retry-After`, quotas, refused connections.
@Suite("HTTP transport edges", .timeLimit(.minutes(1)))
struct HTTPTransportTests {
    static let list = #"{"success":true,"data":[{"id":"b1","name":"agent"}]}"#
    static let slowDown = #"{"success":false,"error":{"code":"TOO_MANY_REQUESTS","message":"slow down"}}"#

    /// The least the policy's backoff waits after the `count`th 429 (20 ms base, 200 ms cap): half the
    /// capped exponential.
    static func floor(_ count: Int) -> Duration { min(.milliseconds(20) * (1 << count), .milliseconds(200)) / 2 }

    @Test("a 429 without Retry-After backs off, growing, and the call then succeeds")
    func rateLimitWithoutRetryAfter() async throws {
        let script: StubService.Script = { request in
            request.index < 3 ? .init(429, Self.slowDown) : .init(200, Self.list)
        }
        try await StubService.with(script) { stub, url in
            let sleeps = SleepRecorder()
            let observation = try await StubService.provider(url, sleeps: sleeps).observe()
            #expect(observation.bots.map(\.name) == ["agent"])
            #expect(stub.requests.count == 4)
            #expect(sleeps.recorded.count == 3)
            for (index, wait) in sleeps.recorded.enumerated() {
                #expect(wait >= Self.floor(index + 1) && wait <= .milliseconds(200), "wait \(index + 1): \(wait)")
            }
        }
    }

    @Test("a register refused with 429 is sent again: the service did not carry it out")
    func rateLimitedRegister() async throws {
        let script: StubService.Script = { request in
            request.index == 0
                ? .init(429, #"{"success":false,"error":"RATE_LIMITED","message":"rate limit exceeded"}"#)
                : .init(201, #"{"success":true,"data":{"id":"b1","secret":"fresh"}}"#)
        }
        try await StubService.with(script) { stub, url in
            let sleeps = SleepRecorder()
            let outcome = try await StubService.provider(url, sleeps: sleeps).execute(
                .register(name: "agent", permissions: Permissions()))
            guard case .registered(let id, _) = outcome else {
                Issue.record("not registered: \(outcome)")
                return
            }
            #expect(id == "b1")
            #expect(stub.requests == ["POST /api/auth/bots/register", "POST /api/auth/bots/register"])
            #expect(sleeps.recorded.count == 1)
        }
    }

    @Test("Retry-After in the past does not spin: each wait is at least the growing backoff")
    func retryAfterPastDate() async throws {
        let script: StubService.Script = { request in
            request.index < 4
                ? .init(429, headers: [("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")], Self.slowDown)
                : .init(200, Self.list)
        }
        try await StubService.with(script) { _, url in
            let sleeps = SleepRecorder()
            _ = try await StubService.provider(url, sleeps: sleeps).observe()
            #expect(sleeps.recorded.count == 4)
            for (index, wait) in sleeps.recorded.enumerated() {
                #expect(wait >= Self.floor(index + 1), "wait \(index + 1): \(wait)")
            }
        }
    }

    @Test("429s that never stop fail as unavailable within rateLimitDeadline")
    func rateLimitDeadline() async throws {
        try await StubService.with(always: .init(429, Self.slowDown)) { stub, url in
            let sleeps = SleepRecorder()
            let provider = StubService.provider(url, sleeps: sleeps) { policy in
                policy.maxDelay = .milliseconds(500)
                // The deadline counts wall time too; generous, so a loaded CI machine still sees many
                // (injected, instant) waits before it.
                policy.rateLimitDeadline = .seconds(30)
            }
            let error = await #expect(throws: ProviderError.self) {
                try await provider.execute(.register(name: "agent", permissions: Permissions()))
            }
            #expect(error?.kind == .unavailable, "\(error?.message ?? "")")
            #expect(error?.isDefiniteRefusal == true, "every attempt was refused with 429")
            #expect(sleeps.total <= .seconds(30))
            #expect(sleeps.recorded.count >= 6, "\(sleeps.recorded)")
            #expect(stub.requests.count == sleeps.recorded.count + 1)
        }
    }

    @Test("a Retry-After beyond the deadline fails at once instead of waiting")
    func retryAfterBeyondDeadline() async throws {
        try await StubService.with(always: .init(429, headers: [("Retry-After", "3600")], Self.slowDown)) { _, url in
            let sleeps = SleepRecorder()
            let provider = StubService.provider(url, sleeps: sleeps) { $0.rateLimitDeadline = .seconds(60) }
            let error = await #expect(throws: ProviderError.self) { try await provider.observe() }
            #expect(error?.kind == .unavailable)
            #expect(sleeps.recorded.isEmpty)
        }
    }

    /// Quota 429s, in the object and the string form, with and without a `Retry-After`.
    static let quotas: [(body: String, code: String, headers: [(String, String)])] = [
        (
            #"{"success":false,"error":{"code":"BOT_LIMIT_REACHED","message":"bot limit reached"}}"#,
            "BOT_LIMIT_REACHED", [("Retry-After", "3")]
        ),
        (#"{"success":false,"error":"QUOTA_EXCEEDED","message":"monthly quota used"}"#, "QUOTA_EXCEEDED", []),
        (#"{"success":false,"error":"TENANT_LIMIT_REACHED","message":"too many bots"}"#, "TENANT_LIMIT_REACHED", []),
    ]

    @Test("a quota 429 fails at once, whatever Retry-After says", arguments: quotas)
    func quota(body: String, code: String, headers: [(String, String)]) async throws {
        try await StubService.with(always: .init(429, headers: headers, body)) { stub, url in
            let sleeps = SleepRecorder()
            let provider = StubService.provider(url, sleeps: sleeps) { $0.rateLimitDeadline = .seconds(5) }
            let error = await #expect(throws: ProviderError.self) {
                try await provider.execute(.register(name: "agent", permissions: Permissions()))
            }
            #expect(error?.kind == .rejected(status: 429, code: code), "\(error?.message ?? "")")
            #expect(stub.requests.count == 1)
            // No wait was asked for (sleeps are injected, so this is not a wall-clock bound that a loaded
            // machine could break).
            #expect(sleeps.recorded.isEmpty)
        }
    }

    @Test("a refused connection fails fast, is retried, then unavailable: a definite refusal, even for a register")
    func refusedConnection() async throws {
        // Port 1 on loopback: nothing listens there, and unlike a port just closed, no parallel test can
        // take it over between the close and the call.
        let url = "http://127.0.0.1:1"
        let client = HTTPTransport.makeClient()
        let sleeps = SleepRecorder()
        let started = ContinuousClock.now
        let provider = FysoProvider(
            name: "prod", tenant: "sandbox", caller: .admin, auth: .token(Secret("stub-admin-token")),
            transport: StubService.transport(url, sleeps: sleeps, client: client))
        let error = await #expect(throws: ProviderError.self) {
            try await provider.execute(.register(name: "agent", permissions: Permissions()))
        }
        try await client.shutdown()
        #expect(error?.kind == .unavailable, "\(error?.message ?? "")")
        #expect(error?.isDefiniteRefusal == true)
        #expect(sleeps.recorded.count == RetryPolicy().maxAttempts - 1)
        // Six attempts that each waited for the 10 s request timeout would take a minute; failing fast takes
        // well under a second alone, but a full suite on two cores stalled this test past 25 s once (tests
        // share the cooperative pool with CPU-heavy ones), so the bound is the minute itself.
        #expect(ContinuousClock.now - started < .seconds(55), "each attempt fails at once, not at the request timeout")
    }

    @Test("calls that fail to connect for 30 s: the service is down, and the calls not yet sent fail at once")
    func downServiceFailsFast() async throws {
        let client = HTTPTransport.makeClient()
        let sleeps = SleepRecorder()
        // Waits of 2.5-5 s (injected: no real pause) take a few calls' attempts past 30 s of failing.
        let transport = StubService.transport("http://127.0.0.1:1", sleeps: sleeps, client: client) { policy in
            policy.baseDelay = .seconds(4)
            policy.maxDelay = .seconds(5)
        }
        for _ in 0..<5 where sleeps.total < .seconds(30) {
            let failed = await #expect(throws: ProviderError.self) {
                try await transport.send(APIRequest(method: .GET, path: "/api/auth/bots", idempotent: true))
            }
            #expect(failed?.kind == .unavailable)
        }
        #expect(sleeps.total >= .seconds(30))
        let slept = sleeps.recorded.count
        let refused = await #expect(throws: ProviderError.self) {
            try await transport.send(
                APIRequest(method: .POST, path: "/api/auth/bots/register", body: Data("{}".utf8), idempotent: false))
        }
        try await client.shutdown()
        #expect(refused?.kind == .unavailable, "not sent: a definite refusal")
        #expect(refused?.isDefiniteRefusal == true)
        #expect(
            refused?.message.contains("not sent: no call has reached the service for") == true,
            "\(refused?.message ?? "")")
        #expect(sleeps.recorded.count == slept, "no attempt and no wait for a call to a service that is down")
    }

    @Test("down takes 3 failures to connect over 30 s since the first; an answer or a sent call starts over")
    func reachability() {
        let start = ContinuousClock.now
        let health = Reachability()
        #expect(health.down(now: start + .seconds(600)) == nil, "nothing failed")
        health.unreachable("connection refused", now: start + .seconds(100))
        health.unreachable("connection refused", now: start + .seconds(101))
        #expect(health.down(now: start + .seconds(200)) == nil, "two failures")
        health.unreachable("connection refused", now: start + .seconds(102))
        #expect(health.down(now: start + .seconds(129)) == nil, "silence before the first failure does not count")
        #expect(health.down(now: start + .seconds(130))?.error == "connection refused")
        health.reached()
        #expect(health.down(now: start + .seconds(300)) == nil, "reached since")
    }

    @Test("quota codes are told from rate codes")
    func quotaCodes() {
        let policy = RetryPolicy()
        for code in ["BOT_LIMIT_REACHED", "QUOTA_EXCEEDED", "tenant_limit_reached", "MONTHLY_QUOTA"] {
            #expect(policy.isQuota(code), "\(code)")
        }
        for code in ["RATE_LIMITED", "RATE_LIMIT_REACHED", "TOO_MANY_REQUESTS", "RATE_QUOTA_EXCEEDED"] {
            #expect(!policy.isQuota(code), "\(code)")
        }
        #expect(!policy.isQuota(nil))
    }

    @Test("the rate-limit wait takes Retry-After when it is longer than the backoff")
    func retryAfterHonoured() {
        var policy = RetryPolicy()
        policy.baseDelay = .milliseconds(20)
        policy.maxDelay = .milliseconds(200)
        #expect(policy.rateLimitWait(retryAfter: "2", count: 1) == .seconds(2))
        #expect(policy.rateLimitWait(retryAfter: "1e300", count: 1) == .seconds(86_400))
        #expect(policy.rateLimitWait(retryAfter: "0", count: 3) >= Self.floor(3))
        #expect(policy.rateLimitWait(retryAfter: "soon", count: 2) >= Self.floor(2))
        #expect(policy.rateLimitWait(retryAfter: "nan", count: 1) >= Self.floor(1))
        let now = Date()
        let later = now.addingTimeInterval(30)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let wait = policy.rateLimitWait(retryAfter: formatter.string(from: later), count: 1, now: now)
        #expect(wait > .seconds(29) && wait <= .seconds(30))
    }
}

@Test("an HTTP client error is described by its kind, never by the header values it carries")
func describeHidesHeaderValues() {
    let error = HTTPClientError.invalidHeaderFieldValues(["Bearer eyJsecret-token-value\n"])
    let text = HTTPTransport.describe(error)
    #expect(!text.contains("eyJsecret"), "\(text)")
    #expect(text.contains("invalidHeaderField"), "\(text)")
}

/// AsyncHTTPClient places each call on its group's `any()`: the view Botform hands it takes the loops
/// in turn, even when asked from a loop (where the group itself would answer that loop every time).
@Suite("event loops taken in turn")
struct SpreadEventLoopsTests {
    @Test("any() from on a loop hands out every loop, not the caller's own")
    func inTurn() async throws {
        let group = HTTPClient.defaultEventLoopGroup
        let loops = Set(group.makeIterator().map { ObjectIdentifier($0) })
        let spread = SpreadEventLoops(group)
        let loop = group.next()
        let (ownAnswers, spreadAnswers) = try await loop.submit {
            (
                Set((0..<10).map { _ in ObjectIdentifier(group.any()) }),
                Set((0..<10).map { _ in ObjectIdentifier(spread.any()) })
            )
        }.get()
        #expect(ownAnswers == [ObjectIdentifier(loop)], "the group answers the caller's loop")
        #expect(spreadAnswers == loops, "the view hands out every loop")
    }
}
