import BotformCore
import Foundation
import Testing

/// Planning the credentials that are not Fyso's bot secret: Sym's labelled, expiring tokens and FOKS's
/// tokens-as-bots, with the one planner every provider shares.
struct SymWorld {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let day: TimeInterval = 86_400
    var bots: [DesiredBot] = []
    var observed: [ObservedBot] = []
    var owned: [OwnedBot] = []
    var policy = Policy()
    var serviceNow: Date? = SymWorld.now

    static let capabilities = ProviderCapabilities(
        canResetSecret: false, canUpdatePermissions: false, seesAllBots: true, caller: "admin",
        registerIssuesSecret: false, issuesTokens: true)

    mutating func declare(_ name: String, tokens: [(String, Int64, Int64)]) {
        bots.append(
            DesiredBot(
                name: name, provider: "sym",
                tokens: tokens.map {
                    DesiredToken(
                        label: $0.0, expiresIn: BotformDuration($0.1, .days), renewBefore: BotformDuration($0.2, .days))
                }))
    }

    mutating func onService(_ name: String, tokens: [ObservedToken] = []) {
        observed.append(ObservedBot(id: "u-\(name)", name: name, isActive: true, permissions: nil, tokens: tokens))
    }

    mutating func ownBot(_ name: String) {
        owned.append(
            OwnedBot(
                provider: "sym", name: name, id: "u-\(name)", origin: .created, issuedAt: SymWorld.now,
                permissionsSHA256: nil, secretHeld: false))
    }

    mutating func ownToken(
        _ bot: String, _ label: String, id: String?, expiresInDays: Double, held: Bool = true, retiring: [String] = [],
        pendingSince: Date? = nil
    ) {
        owned.append(
            OwnedBot(
                provider: "sym", name: bot, id: id, origin: .issued, issuedAt: SymWorld.now, permissionsSHA256: nil,
                secretHeld: held, label: label,
                expiresAt: SymWorld.now.addingTimeInterval(expiresInDays * SymWorld.day), retiring: retiring,
                pendingSince: pendingSince))
    }

    static func token(_ id: String, _ label: String?, expiresInDays: Double) -> ObservedToken {
        ObservedToken(id: id, label: label, expiresAt: SymWorld.now.addingTimeInterval(expiresInDays * SymWorld.day))
    }

    func plan(targets: [String] = [], rotate: [String] = [], runnerNow: Date = SymWorld.now) throws -> Plan {
        let provider = ProviderConfig(
            name: "sym",
            settings: .sym(SymSettings(endpoint: .embedded, token: nil, timeout: BotformDuration(30, .seconds))))
        let desired = DesiredState(baseDirectory: ".", providers: [provider], bots: bots, policy: policy)
        let observation = ProviderObservation(
            provider: "sym", bots: observed, capabilities: Self.capabilities, listCalls: 2, serviceNow: serviceNow,
            tenant: "org")
        return try Planner.plan(
            PlanRequest(
                desired: desired, observations: ["sym": observation], ownership: Ownership(owned), now: runnerNow,
                targets: targets, rotate: rotate))
    }
}

@Suite("Sym tokens")
struct SymTokenPlanningTests {
    func actions(_ plan: Plan) -> [String] {
        plan.actions.map {
            "\($0.action.rawValue) \($0.address)\($0.revokeTokenIDs.map { " " + $0.joined(separator: ",") } ?? "")"
        }
    }

    @Test("a new bot is created, then its declared tokens issued; a created bot holds no secret to rotate")
    func newBot() throws {
        var world = SymWorld()
        world.declare("ci", tokens: [("deploy", 30, 7), ("read", 90, 10)])
        let plan = try world.plan()
        #expect(actions(plan) == ["register sym/ci", "register sym/ci/deploy", "register sym/ci/read"])
        #expect(plan.actions[1].lifetimeSeconds == Int64(30 * 86_400), "\(plan.actions[1])")
        #expect(plan.actions[1].label == "deploy")
    }

    @Test("converged: nothing to do while tokens are far from expiry")
    func converged() throws {
        var world = SymWorld()
        world.declare("ci", tokens: [("deploy", 30, 7)])
        world.onService("ci", tokens: [SymWorld.token("t1", "deploy", expiresInDays: 20)])
        world.ownBot("ci")
        world.ownToken("ci", "deploy", id: "t1", expiresInDays: 20)
        let plan = try world.plan()
        #expect(plan.actions.isEmpty)
        #expect(plan.drift.isEmpty)
    }

    @Test("renewal is judged by the service's clock, not the runner's")
    func renewalByServiceClock() throws {
        var world = SymWorld()
        world.declare("ci", tokens: [("deploy", 30, 7), ("read", 30, 7)])
        world.onService(
            "ci",
            tokens: [
                SymWorld.token("t1", "deploy", expiresInDays: 6), SymWorld.token("t2", "read", expiresInDays: 8),
            ])
        world.ownBot("ci")
        world.ownToken("ci", "deploy", id: "t1", expiresInDays: 6)
        world.ownToken("ci", "read", id: "t2", expiresInDays: 8)
        // The runner's clock is two days slow; the service's says deploy is due and read is not.
        let plan = try world.plan(runnerNow: SymWorld.now.addingTimeInterval(-2 * SymWorld.day))
        #expect(actions(plan) == ["renew sym/ci/deploy t1"])
        #expect(plan.actions[0].reasons.first?.code == .renewalDue)
        // Two days later by the service's clock, read is due too.
        world.serviceNow = SymWorld.now.addingTimeInterval(1.5 * SymWorld.day)
        #expect(actions(try world.plan()) == ["renew sym/ci/deploy t1", "renew sym/ci/read t2"])
    }

    @Test("a token issued by an unfinished run is revoked once a new one is sealed; a renewal's leftover is revoked")
    func leftovers() throws {
        var world = SymWorld()
        world.declare("ci", tokens: [("deploy", 30, 7), ("read", 30, 7)])
        world.onService(
            "ci",
            tokens: [
                SymWorld.token("old", "deploy", expiresInDays: 10),
                SymWorld.token("orphan", "deploy", expiresInDays: 30),
                SymWorld.token("new", "read", expiresInDays: 30), SymWorld.token("prev", "read", expiresInDays: 2),
            ])
        world.ownBot("ci")
        // deploy: an issue was announced and never recorded: the held token is stale, the orphan Botform's.
        world.ownToken("ci", "deploy", id: "old", expiresInDays: 10, held: false, pendingSince: SymWorld.now)
        // read: renewed and sealed; the revoke of the previous one did not happen.
        world.ownToken("ci", "read", id: "new", expiresInDays: 30, retiring: ["prev"])
        var plan = try world.plan()
        #expect(actions(plan) == ["register sym/ci/deploy old,orphan", "revoke sym/ci/read prev"])
        #expect(plan.drift.isEmpty)

        // A renewal that died after issuing: the old token (still held in the entry) and the orphan both go
        // once a new one is sealed.
        var renewing = SymWorld()
        renewing.declare("ci", tokens: [("deploy", 30, 7)])
        renewing.onService(
            "ci",
            tokens: [
                SymWorld.token("old", "deploy", expiresInDays: 3),
                SymWorld.token("orphan", "deploy", expiresInDays: 30),
            ])
        renewing.ownBot("ci")
        renewing.ownToken("ci", "deploy", id: "old", expiresInDays: 3, held: false, pendingSince: SymWorld.now)
        plan = try renewing.plan()
        #expect(actions(plan) == ["register sym/ci/deploy old,orphan"])
    }

    @Test("expired and revoked tokens are drift and issued again; undeclared ones revoked; foreign ones reported")
    func drift() throws {
        var world = SymWorld()
        world.declare("ci", tokens: [("a", 30, 7), ("b", 30, 7)])
        world.onService(
            "ci",
            tokens: [
                SymWorld.token("x", "manual", expiresInDays: 5), SymWorld.token("y", "a", expiresInDays: 5),
                SymWorld.token("gone-label", "old", expiresInDays: 5),
            ])
        world.ownBot("ci")
        world.ownToken("ci", "a", id: "ta", expiresInDays: -1)  // expired by the service's clock
        world.ownToken("ci", "b", id: "tb", expiresInDays: 10)  // revoked outside Botform
        world.ownToken("ci", "old", id: "gone-label", expiresInDays: 5)  // no longer declared
        let plan = try world.plan()
        #expect(actions(plan) == ["register sym/ci/a", "register sym/ci/b", "revoke sym/ci/old gone-label"])
        #expect(
            Set(plan.drift.map { "\($0.kind.rawValue) \($0.address)" })
                == [
                    "expired sym/ci/a", "revoked_outside_botform sym/ci/b", "unmanaged sym/ci/manual",
                    "unmanaged sym/ci/a#y",
                ])
        world.policy.unmanaged = .revoke
        let strict = try world.plan()
        #expect(actions(strict).contains("revoke sym/ci/manual x"))
        #expect(actions(strict).contains("revoke sym/ci/a#y y"))
    }

    @Test("a bot created outside Botform is adopted; its tokens show as drift; --rotate renews every token of a bot")
    func adoptionAndRotate() throws {
        var world = SymWorld()
        world.declare("ci", tokens: [("a", 30, 7)])
        world.onService("ci", tokens: [SymWorld.token("t", "a", expiresInDays: 20)])
        let plan = try world.plan()
        #expect(actions(plan) == ["adopt sym/ci", "register sym/ci/a"])
        #expect(plan.drift.map(\.address) == ["sym/ci/a#t"])

        var managed = SymWorld()
        managed.declare("ci", tokens: [("a", 30, 7)])
        managed.onService("ci", tokens: [SymWorld.token("t", "a", expiresInDays: 20)])
        managed.ownBot("ci")
        managed.ownToken("ci", "a", id: "t", expiresInDays: 20)
        #expect(actions(try managed.plan(rotate: ["sym/ci"])) == ["renew sym/ci/a t"])
        #expect(actions(try managed.plan(rotate: ["sym/ci/a"])) == ["renew sym/ci/a t"])
        #expect(try managed.plan(targets: ["sym/ci/a"], rotate: ["sym/ci/a"]).actions.count == 1)
    }

    @Test("a removed bot is deleted (its tokens go with it), and renewing is not destructive")
    func removed() throws {
        var world = SymWorld()
        world.onService("ci", tokens: [SymWorld.token("t", "a", expiresInDays: 20)])
        world.ownBot("ci")
        world.ownToken("ci", "a", id: "t", expiresInDays: 20)
        let plan = try world.plan()
        #expect(actions(plan) == ["revoke sym/ci"])
        #expect(!ActionKind.renew.isDestructive)
    }
}

@Suite("FOKS tokens as bots")
struct FoksPlanningTests {
    static let capabilities = ProviderCapabilities(
        canResetSecret: false, canUpdatePermissions: false, seesAllBots: true, caller: "owner", matchesByName: false,
        replacesNewFirst: true)

    func plan(_ bots: [DesiredBot], observed: [ObservedBot], owned: [OwnedBot], rotate: [String] = []) throws -> Plan {
        let provider = ProviderConfig(
            name: "foks", settings: .foks(FoksSettings(host: "foks.example", binary: "foks", home: nil)))
        let observation = ProviderObservation(
            provider: "foks", bots: observed, capabilities: Self.capabilities, listCalls: 1, tenant: "alice")
        return try Planner.plan(
            PlanRequest(
                desired: DesiredState(baseDirectory: ".", providers: [provider], bots: bots),
                observations: ["foks": observation], ownership: Ownership(owned), now: SymWorld.now, rotate: rotate))
    }

    func owned(_ name: String, id: String?, pendingSince: Date? = nil, retiring: [String] = []) -> OwnedBot {
        OwnedBot(
            provider: "foks", name: name, id: id, origin: .issued, issuedAt: SymWorld.now, permissionsSHA256: nil,
            secretHeld: pendingSince == nil, retiring: retiring, pendingSince: pendingSince)
    }

    @Test(
        "role change and rotation renew (new first); names never match; unsealed keys of an unfinished run are revoked")
    func foks() throws {
        let member = try FoksRole.parse("member/0")
        let bot = DesiredBot(name: "deployer", provider: "foks", foksRole: member)
        let key = ObservedBot(
            id: ".Jkey1", name: "2abcd", isActive: true, permissions: nil, createdAt: SymWorld.now, role: .owner)
        var plan = try self.plan([bot], observed: [key], owned: [owned("deployer", id: ".Jkey1")])
        #expect(plan.actions.map(\.action) == [.renew])
        #expect(plan.actions[0].previousRole == .owner && plan.actions[0].role == member)

        // A key named like a declared bot is not that bot.
        let stranger = ObservedBot(id: ".Jx", name: "deployer", isActive: true, permissions: nil, role: member)
        plan = try self.plan([bot], observed: [stranger], owned: [])
        #expect(plan.actions.map { "\($0.action.rawValue) \($0.address)" } == ["register foks/deployer"])
        #expect(plan.drift.map(\.address) == ["foks/deployer"])

        // A run announced a registration at `now` and died: the key made after it is Botform's.
        let orphan = ObservedBot(
            id: ".Jorphan", name: "3zzzz", isActive: true, permissions: nil,
            createdAt: SymWorld.now.addingTimeInterval(5),
            role: member)
        let older = ObservedBot(
            id: ".Jolder", name: "4yyyy", isActive: true, permissions: nil,
            createdAt: SymWorld.now.addingTimeInterval(-3_600), role: member)
        plan = try self.plan(
            [bot], observed: [orphan, older], owned: [owned("deployer", id: nil, pendingSince: SymWorld.now)])
        #expect(
            Set(plan.actions.map { "\($0.action.rawValue) \($0.address)" })
                == ["register foks/deployer", "revoke foks/3zzzz"])
        #expect(plan.drift.map(\.address) == ["foks/4yyyy"])

        // A renewal announced (the entry keeps the old key's id, its secret counted as not held) and died
        // after FOKS made the new key: the old key, months old, is still Botform's; the new one is an orphan.
        let ancient = ObservedBot(
            id: ".Jancient", name: "7cccc", isActive: true, permissions: nil,
            createdAt: SymWorld.now.addingTimeInterval(-90 * SymWorld.day), role: member)
        var renewing = owned("deployer", id: ".Jancient", pendingSince: SymWorld.now)
        renewing.secretHeld = false
        plan = try self.plan([bot], observed: [ancient, orphan], owned: [renewing])
        #expect(
            Set(plan.actions.map { "\($0.action.rawValue) \($0.address) \($0.botID ?? "")" })
                == ["renew foks/deployer .Jancient", "revoke foks/3zzzz .Jorphan"])
        #expect(plan.drift.isEmpty)

        // A renewal sealed the new key and died before revoking the old one.
        let new = ObservedBot(id: ".Jnew", name: "5aaaa", isActive: true, permissions: nil, role: member)
        let old = ObservedBot(id: ".Jold", name: "6bbbb", isActive: true, permissions: nil, role: member)
        plan = try self.plan([bot], observed: [new, old], owned: [owned("deployer", id: ".Jnew", retiring: [".Jold"])])
        #expect(
            plan.actions.map { "\($0.action.rawValue) \($0.address) \($0.botID ?? "")" } == ["revoke foks/6bbbb .Jold"])
        #expect(plan.drift.isEmpty)
    }
}

@Suite("Credentials: review findings")
struct CredentialReviewTests {
    static let member = FoksRole.member(0)

    func foksPlan(_ observed: [ObservedBot], owned: [OwnedBot]) throws -> Plan {
        let provider = ProviderConfig(
            name: "foks", settings: .foks(FoksSettings(host: "foks.example", binary: "foks", home: nil)))
        let bot = DesiredBot(name: "deployer", provider: "foks", foksRole: Self.member)
        return try Planner.plan(
            PlanRequest(
                desired: DesiredState(baseDirectory: ".", providers: [provider], bots: [bot]),
                observations: [
                    "foks": ProviderObservation(
                        provider: "foks", bots: observed, capabilities: FoksPlanningTests.capabilities, listCalls: 1)
                ], ownership: Ownership(owned), now: SymWorld.now))
    }

    func key(_ id: String, _ role: FoksRole, minutesAfter: Double) -> ObservedBot {
        ObservedBot(
            id: id, name: "n\(id)", isActive: true, permissions: nil,
            createdAt: SymWorld.now.addingTimeInterval(minutesAfter * 60), role: role)
    }

    @Test("only the key an unfinished registration could have made is Botform's: its role, its window, one")
    func foksOrphansAreNarrow() throws {
        let pending = OwnedBot(
            provider: "foks", name: "deployer", id: nil, origin: .issued, issuedAt: nil, permissionsSHA256: nil,
            secretHeld: false, pendingSince: SymWorld.now)
        let plan = try foksPlan(
            [
                key("made", Self.member, minutesAfter: 0.2), key("human-owner", .owner, minutesAfter: 0.3),
                key("human-admin", .admin, minutesAfter: 0.4), key("second", Self.member, minutesAfter: 0.5),
                key("later", Self.member, minutesAfter: 30), key("earlier", Self.member, minutesAfter: -30),
            ], owned: [pending])
        // Two keys at the role in the window: which one the dead call made is a guess, so neither is taken.
        var revoked = plan.actions.filter { $0.action == .revoke }.compactMap(\.botID)
        #expect(revoked.isEmpty)
        #expect(
            Set(plan.drift.compactMap(\.botID))
                == ["made", "human-owner", "human-admin", "second", "later", "earlier"])
        // Only one fits: it is Botform's.
        let single = try foksPlan(
            [
                key("made", Self.member, minutesAfter: 0.2), key("human-owner", .owner, minutesAfter: 0.3),
                key("later", Self.member, minutesAfter: 30), key("before", Self.member, minutesAfter: -0.5),
            ], owned: [pending])
        revoked = single.actions.filter { $0.action == .revoke }.compactMap(\.botID)
        #expect(revoked == ["made"])
    }

    @Test("a Sym token issued by hand on the label before the unfinished issue is not taken for its orphan")
    func symOrphansAreNarrow() throws {
        var world = SymWorld()
        world.declare("ci", tokens: [("deploy", 30, 7)])
        world.onService(
            "ci",
            tokens: [
                // Issued by the dead run a few seconds after its announcement, for 30 days.
                ObservedToken(
                    id: "orphan", label: "deploy", expiresAt: SymWorld.now.addingTimeInterval(5 + 30 * 86_400)),
                // Issued by hand an hour before, and one for another lifetime.
                ObservedToken(
                    id: "hand", label: "deploy", expiresAt: SymWorld.now.addingTimeInterval(-3_600 + 30 * 86_400)),
                ObservedToken(id: "other", label: "deploy", expiresAt: SymWorld.now.addingTimeInterval(5 + 7 * 86_400)),
            ])
        world.ownBot("ci")
        world.ownToken("ci", "deploy", id: nil, expiresInDays: 0, held: false, pendingSince: SymWorld.now)
        var plan = try world.plan()
        #expect(plan.actions.map(\.revokeTokenIDs) == [["orphan"]])
        #expect(Set(plan.drift.compactMap(\.botID)) == ["hand", "other"])
        // A token issued by hand right after, for the same lifetime: two fit, neither is taken.
        world.observed[0].tokens.append(
            ObservedToken(id: "same", label: "deploy", expiresAt: SymWorld.now.addingTimeInterval(20 + 30 * 86_400)))
        plan = try world.plan()
        #expect(plan.actions.map(\.revokeTokenIDs) == [nil])
        #expect(Set(plan.drift.compactMap(\.botID)) == ["hand", "other", "orphan", "same"])
    }

    @Test("a protected bot's tokens are protected; a token of a bot not yet on the service brings the bot")
    func protectAndTarget() throws {
        var world = SymWorld()
        world.bots = [
            DesiredBot(name: "ci", provider: "sym", protect: true, tokens: [])
        ]
        world.onService("ci", tokens: [SymWorld.token("t", "gone", expiresInDays: 9)])
        world.ownBot("ci")
        world.ownToken("ci", "gone", id: "t", expiresInDays: 9)
        let plan = try world.plan()
        #expect(plan.actions.map(\.blocked?.code) == [.protected])

        var fresh = SymWorld()
        fresh.declare("new", tokens: [("ci", 30, 7)])
        let targeted = try fresh.plan(targets: ["sym/new/ci"])
        #expect(targeted.actions.map(\.address) == ["sym/new", "sym/new/ci"])
    }

    @Test("a FOKS role is a string in plan JSON, and reads back")
    func roleJSON() throws {
        let action = PlannedAction(
            address: "foks/x", provider: "foks", bot: "x", action: .renew, reasons: [ActionReason(.roleChanged, "r")],
            role: .member(-5), previousRole: .owner)
        let data = try JSONEncoder().encode(action)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains(#""role":"member\/-5""#) || text.contains(#""role":"member/-5""#), "\(text)")
        #expect(try JSONDecoder().decode(PlannedAction.self, from: data) == action)
    }
}
