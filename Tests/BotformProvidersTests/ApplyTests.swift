import BotformCore
import BotformProviders
import BotformSandbox
import BotformSeal
import BotformTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Plan and apply in-process: the real planner, executor, provider, sandbox and sealed file.
struct Pipeline {
    let lab: Lab
    let sealedPath: String
    let identity: AgeIdentity
    var bots: [DesiredBot]
    var policy = Policy()

    func desired() -> DesiredState {
        let provider = ProviderConfig(
            name: "prod",
            settings: .fyso(
                FysoSettings(
                    endpoint: .url(lab.url.absoluteString), tenant: "sandbox", credentials: nil,
                    timeout: BotformDuration(10, .seconds))))
        return DesiredState(baseDirectory: ".", providers: [provider], bots: bots, policy: policy)
    }

    func plan(rotate: [String] = []) async throws -> PlanDocument {
        let provider = try await lab.adminProvider()
        let observation = try await provider.observe()
        let ownership = try SealedCustody.read(path: sealedPath).file.ownership
        let plan = try Planner.plan(
            PlanRequest(
                desired: desired(), observations: ["prod": observation], ownership: ownership, now: Date(),
                rotate: rotate))
        return PlanDocument(
            createdAt: Date(), configuration: .init(path: "-", sha256: "-"), options: .init(), providers: [],
            actions: plan.actions, drift: plan.drift,
            guards: plan.guards, inputs: plan.inputs)
    }

    @discardableResult
    func apply(parallelism: Int = 8) async throws -> ApplyResult {
        let plan = try await plan()
        let custody = try SealedCustody(path: sealedPath, recipients: [identity.recipient])
        let executor = ApplyExecutor(
            providers: ["prod": try await lab.adminProvider()], custody: custody, parallelism: parallelism
        ) { _ in }
        let result = await executor.run(plan)
        try await custody.checkpoint()
        return result
    }

    /// Every declared bot is active exactly once on the service, and its sealed secret identifies it.
    func verifyConverged() async throws {
        let stored = try await lab.storedBots()
        let active = stored.filter { $0["isActive"] as? Bool == true }.compactMap { $0["name"] as? String }
        #expect(active.sorted() == bots.map(\.name).sorted(), "no duplicate and no missing bot")
        let file = try SealedCustody.read(path: sealedPath).file
        for bot in bots {
            let secret = try #require(
                try file.open("prod/\(bot.name)", identities: [identity]), "no sealed secret for \(bot.name)")
            #expect(try await lab.identifies(bot.name, secret), "the sealed secret of \(bot.name) does not identify it")
        }
    }
}

@Suite("Plan and apply against the sandbox", .timeLimit(.minutes(3)))
struct ApplyTests {
    static func bots(_ count: Int, _ permissions: Permissions = Permissions(["products": [.read]])) -> [DesiredBot] {
        (0..<count).map { DesiredBot(name: "bot-\($0)", provider: "prod", effectivePermissions: permissions) }
    }

    @Test("apply converges: a second plan has no changes, and each sealed secret works")
    func converges() async throws {
        let scratch = try Scratch("apply")
        try await Lab.with { lab in
            var pipeline = Pipeline(
                lab: lab, sealedPath: scratch.path("s.sealed.yaml"), identity: AgeIdentity(), bots: Self.bots(12))
            let result = try await pipeline.apply()
            #expect(result.isComplete && result.secretsIssued == 12)
            #expect(try await pipeline.plan().actions.isEmpty)
            try await pipeline.verifyConverged()

            // Edit the configuration: exactly that change is planned.
            pipeline.bots[3].effectivePermissions = Permissions(["products": [.read, .update]])
            let edited = try await pipeline.plan()
            #expect(edited.actions.map { "\($0.action.rawValue) \($0.address)" } == ["replace prod/bot-3"])
            try await pipeline.apply()
            #expect(try await pipeline.plan().actions.isEmpty)
            try await pipeline.verifyConverged()

            pipeline.bots.removeLast()
            #expect(
                try await pipeline.plan().actions.map { "\($0.action.rawValue) \($0.address)" } == [
                    "revoke prod/bot-11"
                ])
            try await pipeline.apply()
            #expect(try await pipeline.plan().actions.isEmpty)
            #expect(try SealedCustody.read(path: scratch.path("s.sealed.yaml")).file.entries["prod/bot-11"] == nil)
        }
    }

    @Test("--rotate and reset keep the bot and seal a new secret")
    func rotate() async throws {
        let scratch = try Scratch("apply")
        try await Lab.with { lab in
            let pipeline = Pipeline(
                lab: lab, sealedPath: scratch.path("s.sealed.yaml"), identity: AgeIdentity(), bots: Self.bots(2))
            try await pipeline.apply()
            let before = try SealedCustody.read(path: scratch.path("s.sealed.yaml")).file
            let plan = try await pipeline.plan(rotate: ["bot-1"])
            #expect(plan.actions.map(\.action) == [.reset])
            let custody = try SealedCustody(
                path: scratch.path("s.sealed.yaml"), recipients: [pipeline.identity.recipient])
            _ = await ApplyExecutor(
                providers: ["prod": try await lab.adminProvider()], custody: custody, parallelism: 2
            ) { _ in }.run(plan)
            try await custody.checkpoint()
            let after = try SealedCustody.read(path: scratch.path("s.sealed.yaml")).file
            #expect(after.entries["prod/bot-1"]?.id == before.entries["prod/bot-1"]?.id)
            #expect(after.entries["prod/bot-1"]?.secret != before.entries["prod/bot-1"]?.secret)
            #expect(after.entries["prod/bot-0"]?.secret == before.entries["prod/bot-0"]?.secret)
            try await pipeline.verifyConverged()
        }
    }

    @Test("under errors, 429s and dropped responses, apply converges within two runs, no duplicates, every secret held")
    func faults() async throws {
        for seed in [1, 2, 3] {
            let scratch = try Scratch("apply")
            try await Lab.with { lab in
                let pipeline = Pipeline(
                    lab: lab, sealedPath: scratch.path("s.sealed.yaml"), identity: AgeIdentity(), bots: Self.bots(30))
                try await lab.control(
                    .PUT, "/_sandbox/faults",
                    ["errorRate": 0.2, "dropRate": 0.3, "rateLimitBurst": 5, "retryAfterSeconds": 0, "seed": seed])
                // Both runs under faults; then the state must be converged.
                let first = try await pipeline.apply()
                let second = try await pipeline.apply()
                let injected =
                    (try await lab.control(.GET, "/_sandbox/faults")["data"] as? [String: Any])?["injected"]
                    as? [String: Any]
                try await lab.control(.DELETE, "/_sandbox/faults")
                #expect(
                    second.isComplete,
                    "seed \(seed): the second run failed: \(second.failed.map(\.message)) (first: \(first.failed.count) failed)"
                )
                #expect(try await pipeline.plan().actions.isEmpty, "seed \(seed): not converged after two runs")
                try await pipeline.verifyConverged()
                #expect((injected?["dropped"] as? Int ?? 0) > 0, "the test must really drop responses")
                #expect((injected?["errors"] as? Int ?? 0) > 0 && (injected?["rateLimited"] as? Int ?? 0) > 0)
            }
        }
    }
}
