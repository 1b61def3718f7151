import BotformCore
import BotformProviders
import BotformSandbox
import BotformSeal
import BotformTestSupport
import Foundation
import Logging
import NIOHTTP1
import Testing

/// Custody across refusals, through the real executor and provider: a refused call never costs a held
/// secret, a 409 after a replace's revoke says what to do, and an unsealable secret is named.
@Suite("Apply: refusals keep what is held", .timeLimit(.minutes(3)))
struct RefusalTests {
    @Test("a reset sent to an unreachable service (connection refused) keeps the held secret; no real pauses")
    func unreachable() async throws {
        let scratch = try Scratch("refusal")
        try await Lab.with { lab in
            let pipeline = Pipeline(
                lab: lab, sealedPath: scratch.path("s.sealed.yaml"), identity: AgeIdentity(),
                bots: ApplyTests.bots(2))
            try await pipeline.apply()
            let before = try SealedCustody.read(path: pipeline.sealedPath).file
            let plan = try await pipeline.plan(rotate: ["bot-0", "bot-1"])
            #expect(plan.actions.map(\.action) == [.reset, .reset])

            var retry = RetryPolicy()
            retry.baseDelay = .milliseconds(1)
            retry.maxDelay = .milliseconds(2)
            let dead = HTTPTransport(
                client: lab.client, baseURL: "http://127.0.0.1:1", timeout: .seconds(5), retry: retry,
                logger: Logger(label: "test"))
            let provider = FysoProvider(
                name: "prod", tenant: "sandbox", caller: .admin, auth: .token(Secret("unused")), transport: dead)
            let custody = try SealedCustody(path: pipeline.sealedPath, recipients: [pipeline.identity.recipient])
            let pauses = PauseCounter()
            let result = await ApplyExecutor(
                providers: ["prod": provider], custody: custody, parallelism: 2, progress: { _ in },
                pause: { await pauses.add($0) }
            ).run(plan)
            try await custody.checkpoint()
            #expect(result.failed.count == 2 && result.unsealed.isEmpty)
            let after = try SealedCustody.read(path: pipeline.sealedPath).file
            #expect(after == before, "both entries exactly as they were, secrets included")
            #expect(after.ownership.entries.values.allSatisfy { !$0.secretLost })
            #expect(try await pipeline.plan().actions.isEmpty, "nothing is secret_lost")
            try await pipeline.verifyConverged()
        }
    }

    @Test("a replace on a service that keeps revoked names taken: the 409 says to rename the bot")
    func revokedNameTaken() async throws {
        let scratch = try Scratch("refusal")
        try await Lab.with { lab in
            var pipeline = Pipeline(
                lab: lab, sealedPath: scratch.path("s.sealed.yaml"), identity: AgeIdentity(),
                bots: ApplyTests.bots(1))
            try await pipeline.apply()
            try await lab.control(.PUT, "/_sandbox/settings", ["revokedNamesReusable": false])
            pipeline.bots[0].effectivePermissions = Permissions(["products": [.read, .update]])
            let result = try await pipeline.apply()
            let message = try #require(result.failed.first?.message)
            #expect(message.contains("409") && message.contains("rename the bot"), "\(message)")
            #expect(message.contains("revoked_names_reusable: false"))
        }
    }

    @Test("a secret the service issued that cannot be sealed is reported as unsealed, by address")
    func unsealable() async throws {
        try await Lab.with { lab in
            let provider = try await lab.adminProvider()
            let plan = PlanDocument(
                createdAt: Date(), configuration: .init(path: "-", sha256: "-"), options: .init(), providers: [],
                actions: [
                    PlannedAction(
                        address: "prod/doomed", provider: "prod", bot: "doomed", action: .register,
                        permissions: Permissions(["products": [.read]]), reasons: [])
                ], drift: [], guards: [], inputs: [:])
            let result = await ApplyExecutor(providers: ["prod": provider], custody: FullDisk(), parallelism: 1) { _ in
            }.run(plan)
            #expect(result.unsealed == ["prod/doomed"])
            #expect(result.failed.first?.message.contains("could not be sealed") == true)
        }
    }
}

/// Counts the executor's pauses instead of sleeping.
actor PauseCounter {
    private(set) var pauses: [Duration] = []
    func add(_ pause: Duration) { pauses.append(pause) }
}

/// Custody on a disk that refuses to take the secret.
struct FullDisk: SecretCustody {
    struct NoSpace: Error {}
    func ownership() async -> Ownership { Ownership() }
    func recordIntent(_ intent: IssueIntent, entry: EntryKey, id: String?, permissions: Permissions?)
        async throws
    {}
    func recordIssued(_ issued: IssuedCredential) async throws { throw NoSpace() }
    func recordAborted(_ intent: IssueIntent, entry: EntryKey) async throws {}
    func recordRevoked(entry: EntryKey, id: String) async throws {}
    func recordCreated(provider: String, bot: String, id: String) async throws {}
    func recordAdopted(provider: String, bot: String, id: String, permissions: Permissions?) async throws {}
    func recordForgotten(entry: EntryKey) async throws {}
}
