import BotformCore
import Foundation
import Testing

/// A small world to plan in: one fyso provider `prod`, bots declared with `declare`, the service's bots
/// with `onService`, Botform's records with `owned`.
struct World {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let day: TimeInterval = 86_400
    static let read = Permissions(["products": [.read]])
    static let readWrite = Permissions(["products": [.read, .update]])

    var bots: [DesiredBot] = []
    var observed: [ObservedBot] = []
    var owned: [OwnedBot] = []
    var policy = Policy()
    var caller = "admin"
    var revokedNamesReusable: Bool?
    /// Where the sealed file says each provider's entries were issued.
    var origins: [String: ProviderOrigin] = [:]

    mutating func declare(
        _ name: String, _ permissions: Permissions = World.read, rotateEvery: BotformDuration? = nil,
        protect: Bool = false
    ) {
        bots.append(
            DesiredBot(
                name: name, provider: "prod", effectivePermissions: permissions, rotateEvery: rotateEvery,
                protect: protect))
    }

    mutating func onService(
        _ name: String, id: String? = nil, _ permissions: Permissions = World.read, active: Bool = true
    ) {
        observed.append(ObservedBot(id: id ?? "id-\(name)", name: name, isActive: active, permissions: permissions))
    }

    mutating func owned(
        _ name: String, id: String?? = .none, origin: OwnedBot.Origin = .issued, issuedDaysAgo: Double? = 1,
        permissions: Permissions = World.read, secretHeld: Bool = true
    ) {
        let resolvedID: String? = id ?? "id-\(name)"
        owned.append(
            OwnedBot(
                provider: "prod", name: name, id: resolvedID, origin: origin,
                issuedAt: issuedDaysAgo.map { World.now.addingTimeInterval(-$0 * World.day) },
                permissionsSHA256: permissions.sha256,
                secretHeld: secretHeld))
    }

    func plan(
        targets: [String] = [], rotate: [String] = [], allowDestroy: [String] = [], allowMove: [String] = []
    ) throws -> Plan {
        try Planner.plan(request(targets: targets, rotate: rotate, allowDestroy: allowDestroy, allowMove: allowMove))
    }

    func request(
        targets: [String] = [], rotate: [String] = [], allowDestroy: [String] = [], allowMove: [String] = []
    ) -> PlanRequest {
        let provider = ProviderConfig(
            name: "prod",
            settings: .fyso(
                FysoSettings(endpoint: .embedded, tenant: "t", credentials: nil, timeout: BotformDuration(30, .seconds))
            ))
        let desired = DesiredState(baseDirectory: ".", providers: [provider], bots: bots, policy: policy)
        let capabilities = ProviderCapabilities(
            canResetSecret: caller == "admin", canUpdatePermissions: false, seesAllBots: caller == "admin",
            caller: caller, revokedNamesReusable: revokedNamesReusable)
        let observation = ProviderObservation(
            provider: "prod", bots: observed, capabilities: capabilities, listCalls: 1)
        return PlanRequest(
            desired: desired, observations: ["prod": observation],
            ownership: Ownership(owned, origins: origins), now: World.now,
            targets: targets, rotate: rotate,
            allowDestroy: allowDestroy, allowMove: allowMove)
    }
}

extension Plan {
    /// `symbol address [reason codes]`, the facts a table row checks.
    var rows: [String] {
        actions.map { action in
            let blocked = action.blocked.map { " blocked:\($0.code.rawValue)" } ?? ""
            return
                "\(action.action.rawValue) \(action.address) [\(action.reasons.map(\.code.rawValue).joined(separator: ","))]\(blocked)"
        }
    }

    var driftRows: [String] { drift.map { "\($0.kind.rawValue) \($0.address)" } }
}

@Suite("Planner")
struct PlannerTests {
    @Test("declared bots: register, adopt, or replace/reset an existing one")
    func declaredUnmanaged() throws {
        var world = World()
        world.declare("fresh")
        world.declare("found")
        world.declare("found-different", World.readWrite)
        world.declare("found-rotated")
        world.onService("found")
        world.onService("found-different")
        world.onService("found-rotated")
        let plan = try world.plan(rotate: ["found-rotated"])
        #expect(
            plan.rows == [
                "adopt prod/found [exists_unmanaged]",
                "replace prod/found-different [exists_unmanaged,permissions_changed]",
                "reset prod/found-rotated [exists_unmanaged,rotation_requested]",
                "register prod/fresh [not_on_service]",
            ])
        #expect(plan.drift.isEmpty)
    }

    @Test("a managed bot that matches needs nothing")
    func converged() throws {
        var world = World()
        world.declare("steady", rotateEvery: BotformDuration(90, .days))
        world.onService("steady")
        world.owned("steady", issuedDaysAgo: 89)
        let plan = try world.plan()
        #expect(plan.actions.isEmpty && plan.drift.isEmpty)
    }

    @Test("permissions changed in configuration: replace, with the change and why in the reason")
    func permissionsChanged() throws {
        var world = World()
        world.declare("agent", World.readWrite)
        world.onService("agent")
        world.owned("agent")
        let plan = try world.plan()
        #expect(plan.rows == ["replace prod/agent [permissions_changed]"])
        let action = try #require(plan.actions.first)
        #expect(
            action.reasonText
                == "permissions changed: products +update (the service cannot change permissions in place: revoke, then register)"
        )
        #expect(
            action.botID == "id-agent" && action.previousPermissions == World.read
                && action.permissions == World.readWrite)
        #expect(action.reasons.first?.changes == [PermissionChange(entity: "products", added: [.update], removed: [])])
    }

    @Test("permissions changed on the service: drift, and a replace that restores them")
    func changedOutside() throws {
        var world = World()
        world.declare("agent")
        world.onService("agent", World.readWrite)
        world.owned("agent")
        let plan = try world.plan()
        #expect(plan.driftRows == ["changed_outside_botform prod/agent"])
        #expect(plan.rows == ["replace prod/agent [permissions_changed]"])
        #expect(plan.actions.first?.reasonText.hasPrefix("permissions changed: products -update") == true)
    }

    @Test("rotation: due after rotate_every, requested with --rotate, and never for an adopted bot's unknown age")
    func rotation() throws {
        var world = World()
        world.declare("old", rotateEvery: BotformDuration(90, .days))
        world.declare("asked")
        world.declare("adopted", rotateEvery: BotformDuration(1, .days))
        for name in ["old", "asked", "adopted"] { world.onService(name) }
        world.owned("old", issuedDaysAgo: 97)
        world.owned("asked")
        world.owned("adopted", origin: .adopted, issuedDaysAgo: nil, secretHeld: false)
        let plan = try world.plan(rotate: ["prod/asked"])
        #expect(plan.rows == ["reset prod/asked [rotation_requested]", "reset prod/old [rotation_due]"])
        let due = try #require(plan.actions.last?.reasons.first)
        #expect(due.message == "secret 97d old, rotate_every 90d")
        #expect(due.ageSeconds == 97 * 86_400 && due.rotateEverySeconds == 90 * 86_400)
    }

    @Test("a secret Botform issued and lost is reset without being asked; a user caller replaces instead")
    func secretLost() throws {
        var world = World()
        world.declare("lost")
        world.onService("lost")
        world.owned("lost", secretHeld: false)
        #expect(try world.plan().rows == ["reset prod/lost [secret_lost]"])
        world.caller = "user"
        #expect(try world.plan().rows == ["replace prod/lost [secret_lost,caller_cannot_reset]"])
    }

    @Test("an unfinished registration: the bot of that name is Botform's, its secret lost")
    func unfinishedRegistration() throws {
        var world = World()
        world.declare("halfway")
        world.declare("never-sent")
        world.onService("halfway", id: "server-id")
        world.owned("halfway", id: .some(nil), secretHeld: false)
        world.owned("never-sent", id: .some(nil), secretHeld: false)
        let plan = try world.plan()
        #expect(
            plan.rows == ["reset prod/halfway [secret_lost]", "register prod/never-sent [registration_unfinished]"])
        #expect(plan.actions.first?.botID == "server-id")
        #expect(plan.drift.isEmpty, "the unfinished bot is not unmanaged drift")
    }

    @Test("managed bots revoked, deleted or replaced outside Botform: drift, and the fix")
    func outsideChanges() throws {
        var world = World()
        world.declare("revoked")
        world.declare("deleted")
        world.declare("swapped")
        world.onService("revoked", active: false)
        world.onService("swapped", id: "someone-elses")
        world.owned("revoked")
        world.owned("deleted")
        world.owned("swapped")
        let plan = try world.plan()
        #expect(
            plan.driftRows == [
                "missing_outside_botform prod/deleted", "revoked_outside_botform prod/revoked",
                "missing_outside_botform prod/swapped",
                "replaced_outside_botform prod/swapped",
            ])
        #expect(
            plan.rows == [
                "register prod/deleted [missing_outside_botform]", "register prod/revoked [revoked_outside_botform]",
                "adopt prod/swapped [exists_unmanaged]",
            ])
    }

    @Test("removed from configuration: revoke it, or forget it when it is gone already")
    func removed() throws {
        var world = World()
        world.onService("retired")
        world.onService("long-gone", active: false)
        world.owned("retired")
        world.owned("long-gone")
        world.owned("vanished")
        let plan = try world.plan()
        #expect(
            plan.rows == [
                "forget prod/long-gone [no_longer_on_service]", "revoke prod/retired [removed_from_configuration]",
                "forget prod/vanished [no_longer_on_service]",
            ])
    }

    @Test(
        "unmanaged bots follow policy.unmanaged; revoked ones are history",
        arguments: [
            (UnmanagedPolicy.report, [String](), ["unmanaged prod/stranger"]),
            (.revoke, ["revoke prod/stranger [unmanaged]"], []),
            (.ignore, [], []),
        ])
    func unmanaged(policy: UnmanagedPolicy, rows: [String], drift: [String]) throws {
        var world = World()
        world.policy.unmanaged = policy
        world.onService("stranger")
        world.onService("old-stranger", active: false)
        let plan = try world.plan()
        #expect(plan.rows == rows)
        #expect(plan.driftRows == drift)
    }

    @Test("protect blocks destruction unless --allow-destroy names the bot")
    func protect() throws {
        var world = World()
        world.declare("guarded", World.readWrite, protect: true)
        world.onService("guarded")
        world.owned("guarded")
        #expect(try world.plan().rows == ["replace prod/guarded [permissions_changed] blocked:protected"])
        #expect(try world.plan(allowDestroy: ["guarded"]).rows == ["replace prod/guarded [permissions_changed]"])
        #expect(
            try world.plan().actions.first?.blocked?.message
                == "prod/guarded is protected; to replace it, name it in --allow-destroy")
    }

    @Test("max_destroy blocks a plan that destroys more, counting only bots not named in --allow-destroy")
    func maxDestroy() throws {
        var world = World()
        world.policy.maxDestroy = 1
        for name in ["one", "two"] {
            world.onService(name)
            world.owned(name)
        }
        let plan = try world.plan()
        #expect(
            plan.rows == [
                "revoke prod/one [removed_from_configuration] blocked:max_destroy",
                "revoke prod/two [removed_from_configuration] blocked:max_destroy",
            ])
        #expect(plan.guards.count == 1)
        #expect(try world.plan(allowDestroy: ["prod/one"]).actions.allSatisfy { $0.blocked == nil })
    }

    @Test("--target narrows the plan; a flag naming no bot is an error with a suggestion")
    func targets() throws {
        var world = World()
        world.declare("alpha")
        world.declare("beta")
        world.onService("stranger")
        #expect(try world.plan(targets: ["beta"]).rows == ["register prod/beta [not_on_service]"])
        #expect(try world.plan(targets: ["beta"]).drift.isEmpty)
        #expect(throws: PlanError("--target \"bta\" matches no bot; did you mean \"beta\"?")) {
            try world.plan(targets: ["bta"])
        }
        #expect(throws: PlanError.self) { try world.plan(rotate: ["nobody-at-all"]) }
        #expect(throws: PlanError.self) { try world.plan(allowDestroy: ["prod/ghost"]) }
    }

    @Test("the summary counts actions and says them in Terraform's order")
    func summary() throws {
        var world = World()
        world.declare("fresh")
        world.declare("changed", World.readWrite)
        world.onService("changed")
        world.owned("changed")
        world.onService("retired")
        world.owned("retired")
        let plan = try world.plan()
        let summary = PlanDocument.Summary(actions: plan.actions, drift: plan.drift)
        #expect(summary.sentence == "Plan: 1 to register, 1 to replace, 0 to reset, 1 to revoke.")
        #expect(summary.hasChanges)
    }

    @Test("input digests change when the service or the records change, so stale plans are caught")
    func inputs() throws {
        var world = World()
        world.declare("agent")
        world.onService("agent")
        world.owned("agent")
        let before = try world.plan().inputs
        world.observed[0].permissions = World.readWrite
        let after = try world.plan().inputs
        #expect(before.keys.sorted() == ["prod/agent"])
        #expect(before["prod/agent"] != after["prod/agent"])
    }

    @Test("the plan is deterministic")
    func deterministic() throws {
        var world = World()
        for index in 0..<50 {
            world.declare("bot-\(index)")
            if index % 2 == 0 { world.onService("bot-\(index)") }
        }
        #expect(try world.plan().rows == world.plan().rows)
    }
}

@Suite("SHA-256")
struct SHA256Tests {
    @Test("FIPS 180 vectors")
    func vectors() {
        #expect(SHA256Digest.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Digest.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256Digest.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256Digest.hex(String(repeating: "a", count: 1_000))
                == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

@Suite("Secret")
struct SecretTests {
    @Test("a secret never shows in descriptions, interpolation or reflection")
    func redaction() {
        let secret = Secret("dK9mXqP3nR8vTw2zAe7yLs4cBhJfGu6i")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "Secret(<redacted>)")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("dK9m"))
        #expect(secret.reveal() == "dK9mXqP3nR8vTw2zAe7yLs4cBhJfGu6i")
    }
}
