import Foundation
import NIOHTTP1
import Testing

@Suite("Sandbox: identify and lockout", .timeLimit(.minutes(2)))
struct IdentifyTests {
    @Test("identify returns a bot JWT with aud fyso-bot, scope bot and a 3600 s lifetime")
    func identify() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot(
                "inventory-agent", permissions: ["products": ["read", "update"]], token: admin)
            let reply = try await sandbox.identify("inventory-agent", secret: bot.secret, token: admin)
            #expect(reply.status == 200, "\(reply)")
            let data = try #require(reply.data)
            #expect(data["id"] as? String == bot.id && data["name"] as? String == "inventory-agent")
            #expect(data["tenantSlug"] as? String == "sandbox" && data["tenantId"] is String)
            #expect(
                ((data["permissions"] as? [String: Any])?["entities"] as? [String: [String]]) == [
                    "products": ["read", "update"]
                ])
            #expect(data["expiresIn"] as? Int == 3600)
            let claims = try SandboxHarness.claims(of: try #require(data["token"] as? String))
            #expect(claims["aud"] as? String == "fyso-bot" || (claims["aud"] as? [String]) == ["fyso-bot"])
            #expect(claims["scope"] as? String == "bot")
            #expect((claims["exp"] as? Double ?? 0) - (claims["iat"] as? Double ?? 0) == 3600)
            #expect(!reply.body.contains(bot.secret))
        }
    }

    @Test("a wrong secret or unknown bot is 401; a revoked bot is 403")
    func failures() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot("agent", token: admin)
            #expect(try await sandbox.identify("agent", secret: "wrong", token: admin).status == 401)
            #expect(try await sandbox.identify("nobody", secret: bot.secret, token: admin).status == 401)
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(bot.id)/revoke", token: admin).status == 200)
            #expect(try await sandbox.identify("agent", secret: bot.secret, token: admin).status == 403)
            let empty = try await sandbox.call(.POST, "/api/auth/bots/identify", token: admin, json: ["name": "agent"])
            #expect(empty.status == 400)
        }
    }

    @Test("the caller must be the admin or the user who created the bot")
    func creatorOnly() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let alice = try await sandbox.userToken(email: "alice@acme.test", permissions: ["products": ["read"]])
            let bob = try await sandbox.userToken(email: "bob@acme.test", permissions: ["products": ["read"]])
            let reply = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: alice,
                json: ["name": "alice-bot", "permissions": ["entities": ["products": ["read"]]]])
            let secret = try #require(reply.data?["secret"] as? String)
            #expect(try await sandbox.identify("alice-bot", secret: secret, token: alice).status == 200)
            #expect(try await sandbox.identify("alice-bot", secret: secret, token: bob).status == 401)
            let adminBot = try await sandbox.registerBot("admin-bot", token: admin)
            #expect(try await sandbox.identify("admin-bot", secret: adminBot.secret, token: alice).status == 401)
        }
    }

    @Test("lockout: the 5th failure locks 1 min, then 5 min, 30 min, 1 h, 2 h; success resets")
    func lockoutSchedule() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot("locky", token: admin)
            /// Seconds until the lock clears, rounded: timestamps are whole seconds, read at different instants.
            func lockSeconds() async throws -> Double? {
                let stored = try await sandbox.storedBots().first { $0["name"] as? String == "locky" }
                guard let until = stored?["lockedUntil"] as? String, let date = ISO8601DateFormatter().date(from: until)
                else { return nil }
                let now = try #require(try await sandbox.call(.GET, "/_sandbox/clock").data?["now"] as? String)
                let remaining = date.timeIntervalSince(try #require(ISO8601DateFormatter().date(from: now)))
                return (remaining / 10).rounded() * 10
            }
            for _ in 1...4 { #expect(try await sandbox.identify("locky", secret: "wrong", token: admin).status == 401) }
            #expect(try await lockSeconds() == nil, "four failures do not lock")
            #expect(
                try await sandbox.identify("locky", secret: bot.secret, token: admin).status == 200,
                "success resets the count")
            for _ in 1...4 { _ = try await sandbox.identify("locky", secret: "wrong", token: admin) }
            #expect(try await lockSeconds() == nil)
            _ = try await sandbox.identify("locky", secret: "wrong", token: admin)
            #expect(try await lockSeconds() == 60, "5th failure: 1 minute")
            let whileLocked = try await sandbox.identify("locky", secret: bot.secret, token: admin)
            #expect(whileLocked.status == 401, "the right secret does not pass a lockout")
            #expect(try await lockSeconds() == 300, "an attempt while locked is the 6th failure: 5 minutes")
            for expected in [1_800.0, 3_600, 7_200, 7_200] {
                try await sandbox.advanceClock(seconds: 7_201)
                _ = try await sandbox.identify("locky", secret: "wrong", token: admin)
                #expect(try await lockSeconds() == expected)
            }
            try await sandbox.advanceClock(seconds: 7_201)
            #expect(
                try await sandbox.identify("locky", secret: bot.secret, token: admin).status == 200,
                "after the lockout clears")
            _ = try await sandbox.identify("locky", secret: "wrong", token: admin)
            #expect(try await lockSeconds() == nil, "the count started again")
        }
    }
}

@Suite("Sandbox: list, revoke, reset-secret", .timeLimit(.minutes(2)))
struct ManageTests {
    @Test("an admin lists the whole tenant; a user only the bots it created; no secrets")
    func listing() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let user = try await sandbox.userToken(email: "u@acme.test", permissions: ["products": ["read"]])
            let adminBot = try await sandbox.registerBot("admin-bot", token: admin)
            let userBot = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: user, json: ["name": "user-bot"])
            let userSecret = try #require(userBot.data?["secret"] as? String)
            let adminList = try await sandbox.call(.GET, "/api/auth/bots", token: admin)
            #expect(adminList.status == 200)
            let items = try #require(adminList.items)
            #expect(Set(items.compactMap { $0["name"] as? String }) == ["admin-bot", "user-bot"])
            #expect(
                Set(items[0].keys) == [
                    "id", "name", "tenantSlug", "isActive", "lastSeenAt", "permissions", "createdAt",
                ])
            #expect(!adminList.body.contains(adminBot.secret) && !adminList.body.contains(userSecret))
            let userList = try #require(try await sandbox.call(.GET, "/api/auth/bots", token: user).items)
            #expect(userList.compactMap { $0["name"] as? String } == ["user-bot"])
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(adminBot.id)/revoke", token: admin).status == 200)
            let after = try #require(try await sandbox.call(.GET, "/api/auth/bots", token: admin).items)
            #expect(after.first { $0["id"] as? String == adminBot.id }?["isActive"] as? Bool == false)
        }
    }

    @Test("with a page size, the list pages with Link and X-Total-Count")
    func pagination() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            for index in 1...5 { _ = try await sandbox.registerBot("paged-\(index)", token: admin) }
            #expect(try await sandbox.call(.PUT, "/_sandbox/settings", json: ["botListPageSize": 2]).status == 200)
            var names: [String] = []
            var path: String? = "/api/auth/bots"
            var calls = 0
            while let next = path {
                let page = try await sandbox.call(.GET, next, token: admin)
                calls += 1
                #expect(page.headers.first(name: "X-Total-Count") == "5")
                names += try #require(page.items).compactMap { $0["name"] as? String }
                path = page.headers.first(name: "Link").flatMap { link in
                    link.split(separator: ">").first.map { String($0.dropFirst()) }
                }
            }
            #expect(calls == 3)
            #expect(names == (1...5).map { "paged-\($0)" })
        }
    }

    @Test("revocation is permanent; a user revokes only its own bots; unknown ids are 404")
    func revoke() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let alice = try await sandbox.userToken(email: "alice@acme.test", permissions: ["products": ["read"]])
            let bob = try await sandbox.userToken(email: "bob@acme.test", permissions: ["products": ["read"]])
            let aliceBot = try #require(
                try await sandbox.call(.POST, "/api/auth/bots/register", token: alice, json: ["name": "alice-bot"])
                    .data?["id"] as? String)
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(aliceBot)/revoke", token: bob).status == 404)
            let revoked = try await sandbox.call(.POST, "/api/auth/bots/\(aliceBot)/revoke", token: alice)
            #expect(revoked.status == 200)
            #expect(revoked.data?["revoked"] as? Bool == true)
            #expect(
                try await sandbox.call(.POST, "/api/auth/bots/\(aliceBot)/revoke", token: admin).status == 200,
                "idempotent")
            #expect(
                try await sandbox.call(.POST, "/api/auth/bots/\(UUID().uuidString.lowercased())/revoke", token: admin)
                    .status == 404)
            // A second admin's tenant is invisible to the first.
            try await sandbox.call(
                .POST, "/_sandbox/admins", json: ["email": "other@admin.test", "password": "other-password"])
            try await sandbox.call(.POST, "/_sandbox/tenants", json: ["slug": "theirs", "owner": "other@admin.test"])
            let other = try await sandbox.adminToken(email: "other@admin.test", password: "other-password")
            let theirs = try await sandbox.registerBot("their-bot", token: other, tenant: "theirs")
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(theirs.id)/revoke", token: admin).status == 404)
            let stolen = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: admin, json: ["name": "x-bot", "tenantSlug": "theirs"])
            #expect(stolen.status == 404)
        }
    }

    @Test("revoked bots' JWTs stay valid until they expire (seed); the setting makes revocation end them")
    func revocationAndLiveTokens() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot("reader", token: admin)
            let token = try #require(
                try await sandbox.identify("reader", secret: bot.secret, token: admin).data?["token"] as? String)
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(bot.id)/revoke", token: admin).status == 200)
            #expect(try await sandbox.call(.GET, "/api/entities/products/records", token: token).status == 200)
            try await sandbox.call(.PUT, "/_sandbox/settings", json: ["revocationEndsSessions": true])
            #expect(try await sandbox.call(.GET, "/api/entities/products/records", token: token).status == 401)
        }
    }

    @Test("reset-secret: admin only, active bots only; the old secret stops working at once")
    func resetSecret() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot("rotor", token: admin)
            let reply = try await sandbox.call(.POST, "/api/auth/bots/\(bot.id)/reset-secret", token: admin)
            #expect(reply.status == 200)
            let data = try #require(reply.data)
            #expect(Set(data.keys) == ["id", "name", "secret"])
            let fresh = try #require(data["secret"] as? String)
            #expect(fresh != bot.secret)
            #expect(try await sandbox.identify("rotor", secret: bot.secret, token: admin).status == 401)
            #expect(try await sandbox.identify("rotor", secret: fresh, token: admin).status == 200)
            let user = try await sandbox.userToken(email: "u@acme.test", permissions: ["products": ["read"]])
            let own = try #require(
                try await sandbox.call(.POST, "/api/auth/bots/register", token: user, json: ["name": "own-bot"]).data?[
                    "id"] as? String)
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(own)/reset-secret", token: user).status == 403)
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(bot.id)/revoke", token: admin).status == 200)
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(bot.id)/reset-secret", token: admin).status == 404)
            #expect(try await sandbox.call(.POST, "/api/auth/bots/nope/reset-secret", token: admin).status == 404)
        }
    }
}
