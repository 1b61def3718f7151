import BotformCore
import Foundation
import Testing

/// The planner's rules for bad observations, the one guard function, and saved plans read by decoding.
@Suite("Planner: bad observations, guards, saved plans")
struct ProductionTrustTests {
    // MARK: Guards

    @Test("a misspelled bare name is refused by the one guard resolver, with a suggestion")
    func misspelledBareName() throws {
        let known = ["prod/agent-01", "prod/agent-02"]
        #expect(try PlanGuards.resolve(["agent-01"], known: known, flag: "--allow-destroy") == ["prod/agent-01"])
        #expect(try PlanGuards.resolve(["prod/agent-02"], known: known, flag: "--allow-destroy") == ["prod/agent-02"])
        #expect(throws: PlanError.self) { try PlanGuards.resolve(["agnet-01"], known: known, flag: "--allow-destroy") }
        do {
            _ = try PlanGuards.resolve(["agnet-01"], known: known, flag: "--allow-destroy")
        } catch {
            #expect(error.description.contains("did you mean"), "\(error.description)")
        }
        var world = World()
        world.declare("agent-01")
        #expect(throws: PlanError.self) { try world.plan(allowDestroy: ["agnet-01"]) }
    }

    @Test("guards re-evaluated for a saved plan lift exactly what plan would have lifted")
    func guardsAgreeForSavedPlans() throws {
        var world = World()
        world.policy = Policy(maxDestroy: 1)
        for name in ["a-bot", "b-bot", "c-bot"] {
            world.declare(name, World.readWrite, protect: name == "a-bot")
            world.onService(name)
            world.owned(name)
        }
        let planned = try world.plan()
        #expect(planned.actions.allSatisfy { $0.blocked != nil })
        let allowedAtPlan = try world.plan(allowDestroy: ["a-bot", "b-bot"])
        var saved = planned.actions
        _ = PlanGuards.apply(
            to: &saved, protected: ["prod/a-bot"], maxDestroy: 1, allowed: ["prod/a-bot", "prod/b-bot"])
        #expect(saved.map(\.blocked) == allowedAtPlan.actions.map(\.blocked))
        #expect(saved.filter { $0.blocked == nil }.map(\.address) == ["prod/a-bot", "prod/b-bot", "prod/c-bot"])
    }

    @Test("missing managed bots past max_destroy are blocked, and forget counts toward the blast radius")
    func missingBotsBlastRadius() throws {
        var world = World()
        world.policy = Policy(maxDestroy: 2)
        for index in 1...5 {
            world.declare("kept-\(index)")
            world.owned("kept-\(index)")  // not on the service: the view says they are gone
        }
        let plan = try world.plan()
        #expect(plan.actions.count == 5)
        #expect(plan.actions.allSatisfy { $0.action == .register && $0.blocked?.code == .maxDestroy })
        #expect(plan.guards.first?.message.contains("no longer shows") == true)

        var forgetting = World()
        forgetting.policy = Policy(maxDestroy: 1)
        forgetting.owned("gone-1")
        forgetting.owned("gone-2")
        let forgets = try forgetting.plan()
        #expect(
            forgets.rows.allSatisfy { $0.hasPrefix("forget") && $0.hasSuffix("blocked:max_destroy") }, "\(forgets.rows)"
        )
        #expect(try forgetting.plan(allowDestroy: ["gone-1", "gone-2"]).actions.allSatisfy { $0.blocked == nil })

        var within = World()
        within.policy = Policy(maxDestroy: 5)
        for index in 1...5 {
            within.declare("kept-\(index)")
            within.owned("kept-\(index)")
        }
        #expect(try within.plan().actions.allSatisfy { $0.blocked == nil })
    }

    // MARK: Bad observations

    @Test("a caller that sees only some bots: a managed bot missing from its view is unknown, not gone")
    func partialView() throws {
        var world = World()
        world.caller = "user"
        world.declare("mine")
        world.declare("theirs")
        world.owned("mine")
        world.owned("theirs")
        world.owned("removed")
        world.onService("mine")
        let plan = try world.plan()
        #expect(plan.actions.isEmpty, "\(plan.rows)")
        #expect(plan.driftRows == ["not_visible prod/removed", "not_visible prod/theirs"])

        world.caller = "admin"
        let admin = try world.plan()
        #expect(admin.rows.contains("register prod/theirs [missing_outside_botform]"))
        #expect(admin.rows.contains("forget prod/removed [no_longer_on_service]"))
    }

    @Test(
        "entries issued at another endpoint or tenant are refused, naming --allow-move; an older file is read as before"
    )
    func movedProvider() throws {
        var world = World()
        world.declare("agent")
        world.onService("agent")
        world.owned("agent")
        #expect(try world.plan().actions.isEmpty, "no recorded origin: read as before")

        world.origins = ["prod": ProviderOrigin(type: .fyso, endpoint: "embedded", tenant: "t")]
        #expect(try world.plan().actions.isEmpty)

        world.origins = ["prod": ProviderOrigin(type: .fyso, endpoint: "https://api.fyso.dev", tenant: "t")]
        do {
            _ = try world.plan()
            Issue.record("a moved provider must be refused")
        } catch let error as PlanError {
            #expect(error.description.contains("--allow-move prod"), "\(error.description)")
            #expect(!error.isUsage)
        }
        world.origins = ["prod": ProviderOrigin(type: .fyso, endpoint: "embedded", tenant: "other")]
        #expect(throws: PlanError.self) { try world.plan() }
        #expect(try world.plan(allowMove: ["prod"]).actions.isEmpty)
        #expect(throws: PlanError.self) { try world.plan(allowMove: ["prdo"]) }
    }

    @Test("endpoints compare after normalising scheme, host case, default port and trailing slash")
    func endpointNormalisation() {
        #expect(ServiceEndpoint.url("HTTPS://API.Fyso.dev:443/").normalized == "https://api.fyso.dev")
        #expect(ServiceEndpoint.url("https://api.fyso.dev").normalized == "https://api.fyso.dev")
        #expect(ServiceEndpoint.url("http://127.0.0.1:80/api/").normalized == "http://127.0.0.1/api")
        #expect(ServiceEndpoint.url("http://127.0.0.1:8080").normalized == "http://127.0.0.1:8080")
        #expect(ServiceEndpoint.url("https://api.fyso.dev/Path").normalized == "https://api.fyso.dev/Path")
        #expect(ServiceEndpoint.embedded.normalized == "embedded")
    }

    @Test("entries of a provider no longer configured are reported, one drift item per provider")
    func removedProvider() throws {
        var world = World()
        world.declare("agent")
        world.onService("agent")
        world.owned("agent")
        for name in ["one", "two"] {
            world.owned.append(
                OwnedBot(
                    provider: "old", name: name, id: "id-\(name)", origin: .issued, issuedAt: World.now,
                    permissionsSHA256: nil, secretHeld: true))
        }
        let plan = try world.plan()
        #expect(plan.actions.isEmpty)
        #expect(plan.driftRows == ["provider_removed old"])
        #expect(plan.drift.first?.message.contains("2 sealed entries") == true)
    }

    @Test("a replace on a service that keeps revoked names taken is blocked, and no flag lifts it")
    func revokedNamesNotReusable() throws {
        var world = World()
        world.revokedNamesReusable = false
        world.declare("agent", World.readWrite)
        world.onService("agent")
        world.owned("agent")
        let plan = try world.plan(allowDestroy: ["agent"])
        #expect(plan.rows == ["replace prod/agent [permissions_changed] blocked:name_not_reusable"])
        #expect(plan.actions.first?.blocked?.message.contains("rename the bot") == true)
        world.revokedNamesReusable = nil
        #expect(try world.plan().actions.first?.blocked == nil)
    }

    // MARK: Saved plans

    static func document(actions count: Int) -> PlanDocument {
        let actions = (0..<count).map { index in
            PlannedAction(
                address: "prod/bot-\(index)", provider: "prod", bot: "bot-\(index)", action: .register,
                permissions: Permissions(["products": [.read]]),
                reasons: [ActionReason(.notOnService, "declared in configuration, not on the service")])
        }
        return PlanDocument(
            createdAt: World.now, configuration: .init(path: "botform.yaml", sha256: String(repeating: "a", count: 64)),
            options: .init(), providers: [], actions: actions, drift: [], guards: [],
            inputs: Dictionary(uniqueKeysWithValues: actions.map { ($0.address, String(repeating: "b", count: 64)) }))
    }

    @Test("a saved plan is recognised by decoding it, at 10,000 actions, whatever its key order")
    func savedPlanAtScale() throws {
        let plan = Self.document(actions: 10_000)
        let data = try plan.jsonData()
        let read = try PlanDocument.read(data)
        #expect(read.actions.count == 10_000)
        #expect(read == plan)
        // `format_version` is past the first megabytes (keys are sorted): it must not matter.
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.range(of: "\"format_version\"")!.lowerBound.utf16Offset(in: text) > 4_096)
    }

    @Test("not a plan, a damaged plan, another major version: three different answers")
    func notAPlan() throws {
        func kind(_ text: String) -> String {
            do {
                _ = try PlanDocument.read(Data(text.utf8))
                return "plan"
            } catch {
                switch error {
                case .notAPlan: return "not a plan"
                case .invalid: return "invalid"
                case .unsupportedVersion: return "version"
                }
            }
        }
        #expect(kind("version: 1\nproviders: {}\n") == "not a plan")
        #expect(kind("[1, 2]") == "not a plan")
        #expect(kind(#"{"version": 1}"#) == "not a plan")
        #expect(kind(#"{"format_version": "1.0", "actions": []}"#) == "invalid")
        #expect(kind(#"{"format_version": "2.0"}"#) == "version")
        #expect(kind(#"{"format_version": 1, "actions": []}"#) == "invalid", "a plan, damaged; never configuration")
        // A plan written before `allow_move` existed still reads.
        var object = try #require(
            try JSONSerialization.jsonObject(with: try Self.document(actions: 2).jsonData()) as? [String: Any])
        var options = try #require(object["options"] as? [String: Any])
        options["allow_move"] = nil
        object["options"] = options
        let json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        #expect(!json.contains("allow_move"))
        #expect(kind(json) == "plan")
    }
}

/// Findings of the hostile review, each a test that failed before its fix.
@Suite("Review findings: renamed providers, intents only for calls being sent")
struct ReviewFindingTests {
    @Test("a provider renamed in the configuration is refused, and an id the sealed file holds is never unmanaged")
    func renamedProvider() throws {
        var world = World()
        world.policy = Policy(unmanaged: .revoke)
        world.onService("kept")
        // Held under the old provider name "old", which addressed the same endpoint and tenant.
        world.owned.append(
            OwnedBot(
                provider: "old", name: "kept", id: "id-kept", origin: .issued, issuedAt: World.now,
                permissionsSHA256: nil, secretHeld: true))
        world.origins = ["old": ProviderOrigin(type: .fyso, endpoint: "embedded", tenant: "t")]
        do {
            _ = try world.plan()
            Issue.record("a renamed provider must be refused")
        } catch let error as PlanError {
            #expect(error.description.contains("call the provider \"old\" again"), "\(error.description)")
        }
        // Declared under the new name: the service's bot is the one held under the old name. Refused, not
        // adopted as a second entry for the same bot (even without a record of where entries were issued).
        world.origins = [:]
        world.declare("kept")
        do {
            _ = try world.plan()
            Issue.record("adopting a bot the sealed file holds under another name must be refused")
        } catch let error as PlanError {
            #expect(error.description.contains("prod/kept is old/kept"), "\(error.description)")
        }
        world.bots = []
        // Without the record (an older sealed file): no revoke of a bot whose id the sealed file holds.
        world.origins = [:]
        let plan = try world.plan()
        #expect(!plan.rows.contains { $0.hasPrefix("revoke") }, "\(plan.rows)")
    }

    @Test("an intent is journaled only once the call has a place: a crash never marks unsent calls lost")
    func intentsOnlyForCallsInFlight() async throws {
        let provider = GatedProvider()
        let custody = CountingCustody()
        let actions = (0..<5).map { index in
            PlannedAction(
                address: "prod/bot-\(index)", provider: "prod", bot: "bot-\(index)", action: .reset,
                botID: "id-\(index)", reasons: [])
        }
        let plan = PlanDocument(
            createdAt: World.now, configuration: .init(path: "-", sha256: "-"), options: .init(), providers: [],
            actions: actions, drift: [], guards: [], inputs: [:])
        let executor = ApplyExecutor(providers: ["prod": provider], custody: custody, parallelism: 2) { _ in }
        let run = Task { await executor.run(plan) }
        // Two calls hold the two places; three actions wait for one.
        while await provider.waiting < 2 { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(await custody.intents == 2, "intents only for the two calls being sent")
        await provider.open()
        let result = await run.value
        #expect(result.completed.count == 5)
        #expect(await custody.intents == 5)
    }
}

/// A provider whose calls wait until the test opens the gate: a register is answered with a new bot,
/// anything else as a reset.
actor GatedProvider: BotProvider {
    nonisolated let name = "prod"
    nonisolated var capabilities: ProviderCapabilities {
        ProviderCapabilities(canResetSecret: true, canUpdatePermissions: false, seesAllBots: true, caller: "admin")
    }
    private(set) var waiting = 0
    /// Calls let through the gate and answered.
    private(set) var answered = 0
    private var isOpen = false
    private var gate: [CheckedContinuation<Void, Never>] = []

    func open() {
        isOpen = true
        for continuation in gate { continuation.resume() }
        gate = []
    }

    func observe() async throws -> ProviderObservation {
        ProviderObservation(provider: name, bots: [], capabilities: capabilities, listCalls: 1)
    }

    func execute(_ step: ProviderStep) async throws -> StepOutcome {
        waiting += 1
        if !isOpen { await withCheckedContinuation { gate.append($0) } }
        answered += 1
        if case .register(let name, _, _) = step {
            return .registered(id: "id-\(name)", secret: Secret("secret-\(name)"))
        }
        return .reset(secret: Secret("fresh-secret"))
    }
}

/// Custody that counts intents and accepts everything else.
actor CountingCustody: SecretCustody {
    private(set) var intents = 0
    func ownership() async -> Ownership { Ownership() }
    func recordIntent(_ intent: IssueIntent, entry: EntryKey, id: String?, permissions: Permissions?)
        async throws
    { intents += 1 }
    func recordAborted(_ intent: IssueIntent, entry: EntryKey) async throws {}
    func recordIssued(_ issued: IssuedCredential) async throws {}
    func recordRevoked(entry: EntryKey, id: String) async throws {}
    func recordCreated(provider: String, bot: String, id: String) async throws {}
    func recordAdopted(provider: String, bot: String, id: String, permissions: Permissions?) async throws {}
    func recordForgotten(entry: EntryKey) async throws {}
}
