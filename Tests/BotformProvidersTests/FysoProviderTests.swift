import BotformCore
import BotformProviders
import BotformSandbox
import Foundation
import NIOHTTP1
import Testing

@Suite("Fyso provider against the sandbox", .timeLimit(.minutes(2)))
struct FysoProviderTests {
    let read = Permissions(["products": [.read]])

    @Test("register, observe, reset and revoke; one list call per page")
    func lifecycle() async throws {
        try await Lab.with { lab in
            let provider = try await lab.adminProvider()
            guard
                case .registered(let id, let secret?) = try await provider.execute(
                    .register(name: "agent", permissions: read))
            else {
                Issue.record("not registered")
                return
            }
            #expect(try await lab.identifies("agent", secret))
            var observation = try await provider.observe()
            #expect(observation.bots.map(\.name) == ["agent"])
            #expect(observation.bots.first?.permissions == read && observation.bots.first?.isActive == true)
            #expect(observation.listCalls == 1 && observation.capabilities.canResetSecret)
            guard case .reset(let fresh) = try await provider.execute(.resetSecret(id: id, name: "agent")) else {
                Issue.record("not reset")
                return
            }
            #expect(try await lab.identifies("agent", fresh))
            #expect(!(try await lab.identifies("agent", secret)))
            _ = try await provider.execute(.revoke(id: id, name: "agent"))
            observation = try await provider.observe()
            #expect(observation.bots.first?.isActive == false)

            for index in 0..<7 { _ = try await provider.execute(.register(name: "paged-\(index)", permissions: read)) }
            try await lab.control(.PUT, "/_sandbox/settings", ["botListPageSize": 3])
            try await lab.control(.DELETE, "/_sandbox/requests")
            observation = try await provider.observe()
            #expect(observation.bots.count == 8)
            #expect(observation.listCalls == 3)
            let log = try await lab.requestLog()
            #expect(
                log.filter { $0["path"] as? String == "/api/auth/bots" }.count == 3, "one GET per page, never per bot")
            #expect(
                log.allSatisfy { $0["userAgent"] as? String == "botform/\(BotformVersion.current)" },
                "\(log.map { $0["userAgent"] ?? "none" })")
        }
    }

    @Test("a user caller logs in with X-Tenant-ID, cannot reset, and logs in again when its session expires")
    func userCaller() async throws {
        try await Lab.with { lab in
            try await lab.control(
                .POST, "/_sandbox/tenants/sandbox/users",
                [
                    "email": "ci@acme.test", "password": "ci-password",
                    "permissions": ["entities": ["products": ["read"]]],
                ])
            let provider = FysoProvider(
                name: "prod", tenant: "sandbox", caller: .user,
                auth: .login(email: "ci@acme.test", password: Secret("ci-password")), transport: lab.transport())
            #expect(!provider.capabilities.canResetSecret && !provider.capabilities.seesAllBots)
            guard case .registered = try await provider.execute(.register(name: "user-bot", permissions: read)) else {
                Issue.record("not registered")
                return
            }
            try await lab.control(.POST, "/_sandbox/clock/advance", ["seconds": 90_000])
            let observation = try await provider.observe()
            #expect(observation.bots.map(\.name) == ["user-bot"])
            let logins = try await lab.requestLog().filter { $0["path"] as? String == "/api/auth/tenant/login" }
            #expect(logins.count == 2, "logged in, then once more after the session expired")
        }
    }

    @Test("an admin observes only its provider's tenant")
    func tenantScope() async throws {
        try await Lab.with { lab in
            try await lab.control(.POST, "/_sandbox/tenants", ["slug": "staging"])
            let prod = try await lab.adminProvider()
            let staging = try await lab.adminProvider(name: "staging", tenant: "staging")
            _ = try await prod.execute(.register(name: "prod-bot", permissions: read))
            _ = try await staging.execute(.register(name: "staging-bot", permissions: read))
            #expect(try await prod.observe().bots.map(\.name) == ["prod-bot"])
            #expect(try await staging.observe().bots.map(\.name) == ["staging-bot"])
        }
    }

    @Test("refusals carry the service's message; both error body forms are read")
    func refusals() async throws {
        try await Lab.with { lab in
            let provider = try await lab.adminProvider()
            do {
                _ = try await provider.execute(.register(name: "wild", permissions: Permissions(["*": [.read]])))
                Issue.record("wildcard registered")
            } catch let error as ProviderError {
                #expect(error.kind == .rejected(status: 403, code: "FORBIDDEN"))
                #expect(error.message.contains("wildcard"))
            }
            try await lab.control(.PUT, "/_sandbox/faults", ["rateLimitBurst": 1, "retryAfterSeconds": 1])
            let started = ContinuousClock.now
            _ = try await provider.observe()
            #expect(ContinuousClock.now - started >= .seconds(1), "Retry-After was honoured")
        }
    }

    @Test("Retry-After: 0 does not spin: each 429 waits at least the backoff, growing with each 429")
    func retryAfterZero() async throws {
        try await Lab.with { lab in
            let sleeps = SleepRecorder()
            var policy = RetryPolicy()
            policy.sleep = sleeps.sleep
            policy.now = sleeps.now
            let provider = FysoProvider(
                name: "prod", tenant: "sandbox", caller: .admin,
                auth: .token(Secret(try await lab.server.adminToken())),
                transport: lab.transport(retry: policy))
            try await lab.control(.PUT, "/_sandbox/faults", ["rateLimitBurst": 5, "retryAfterSeconds": 0])
            try await lab.control(.DELETE, "/_sandbox/requests")
            let observation = try await provider.observe()
            #expect(observation.listCalls == 1)
            #expect(sleeps.recorded.count == 5)
            for (index, wait) in sleeps.recorded.enumerated() {
                #expect(wait >= HTTPTransportTests.floor(index + 1), "wait \(index + 1): \(wait)")
            }
            let lists = try await lab.requestLog().filter { $0["path"] as? String == "/api/auth/bots" }
            #expect(lists.count == 6, "five 429s, then the page")
        }
    }

    @Test("idempotent calls ride out injected 5xx errors")
    func retries() async throws {
        try await Lab.with { lab in
            let provider = try await lab.adminProvider()
            try await lab.control(.PUT, "/_sandbox/faults", ["errorRate": 0.3, "seed": 7])
            for _ in 0..<10 { _ = try await provider.observe() }
            let injected =
                (try await lab.control(.GET, "/_sandbox/faults")["data"] as? [String: Any])?["injected"]
                as? [String: Any]
            #expect((injected?["errors"] as? Int ?? 0) > 0)
        }
    }

    @Test("a register that fails with 5xx or loses its answer is outcome-unknown, never resent")
    func unknownOutcomes() async throws {
        try await Lab.with { lab in
            let provider = try await lab.adminProvider()
            try await lab.control(.PUT, "/_sandbox/faults", ["errorRate": 1])
            await #expect(throws: ProviderError.self) {
                try await provider.execute(.register(name: "failed", permissions: read))
            }
            try await lab.control(.PUT, "/_sandbox/faults", ["dropRate": 1])
            do {
                _ = try await provider.execute(.register(name: "dropped", permissions: read))
                Issue.record("no error")
            } catch let error as ProviderError {
                #expect(error.kind == .outcomeUnknown)
            }
            try await lab.control(.DELETE, "/_sandbox/faults")
            let registers = try await lab.requestLog().filter { $0["path"] as? String == "/api/auth/bots/register" }
            #expect(registers.count == 2, "each register was sent exactly once")
            #expect(try await lab.storedBots().map { $0["name"] as? String } == ["dropped"])
        }
    }

    @Test("a quota 429 (the per-user bot limit) fails at once instead of waiting")
    func quota() async throws {
        try await Lab.with { lab in
            try await lab.control(
                .POST, "/_sandbox/tenants/sandbox/users",
                [
                    "email": "u@acme.test", "password": "u-password-1",
                    "permissions": ["entities": ["products": ["read"]]],
                ])
            try await lab.control(.PUT, "/_sandbox/settings", ["botsPerUser": 1])
            let provider = FysoProvider(
                name: "prod", tenant: "sandbox", caller: .user,
                auth: .login(email: "u@acme.test", password: Secret("u-password-1")), transport: lab.transport())
            _ = try await provider.execute(.register(name: "first", permissions: read))
            let started = ContinuousClock.now
            do {
                _ = try await provider.execute(.register(name: "second", permissions: read))
                Issue.record("no error")
            } catch let error as ProviderError {
                #expect(error.kind == .rejected(status: 429, code: "BOT_LIMIT_REACHED"))
            }
            #expect(
                ContinuousClock.now - started < .seconds(60),
                "a quota is not waited out (a wait would run to the 300 s deadline; the bound is loose for a loaded machine)"
            )
        }
    }
}
