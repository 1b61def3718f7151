import Foundation
import NIOHTTP1
import Testing

@Suite("Sandbox: register", .timeLimit(.minutes(2)))
struct RegisterTests {
    @Test("an admin registers with tenantSlug and gets {id, name, secret, tenantSlug}")
    func adminRegister() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let reply = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: admin,
                json: [
                    "name": "inventory-agent", "tenantSlug": "sandbox",
                    "permissions": ["entities": ["products": ["read", "update"]]],
                ])
            #expect(reply.status == 201)
            let data = try #require(reply.data)
            #expect(Set(data.keys) == ["id", "name", "secret", "tenantSlug"])
            #expect(data["tenantSlug"] as? String == "sandbox")
            let secret = try #require(data["secret"] as? String)
            #expect(secret.count == 32 && secret.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
            let missingTenant = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: admin, json: ["name": "no-tenant"])
            #expect(missingTenant.status == 400)
            let unknownTenant = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: admin, json: ["name": "lost-bot", "tenantSlug": "nope"])
            #expect(unknownTenant.status == 404)
        }
    }

    @Test("a tenant user registers without tenantSlug and gets {id, name, secret, tenantId}")
    func userRegister() async throws {
        try await SandboxHarness.with { sandbox in
            let user = try await sandbox.userToken(email: "u@acme.test", permissions: ["contacts": ["read", "update"]])
            let reply = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: user,
                json: ["name": "sync-agent", "permissions": ["entities": ["contacts": ["read", "update"]]]])
            #expect(reply.status == 201, "\(reply)")
            #expect(Set(try #require(reply.data).keys) == ["id", "name", "secret", "tenantId"])
            let exceeding = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: user,
                json: ["name": "greedy-agent", "permissions": ["entities": ["contacts": ["delete"]]]])
            #expect(exceeding.status == 403)
            let otherEntity = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: user,
                json: ["name": "greedy-agent", "permissions": ["entities": ["invoices": ["read"]]]])
            #expect(otherEntity.status == 403)
            let otherTenant = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: user, json: ["name": "far-agent", "tenantSlug": "elsewhere"])
            #expect(otherTenant.status == 403)
        }
    }

    @Test("wildcard entities are 403; actions other than CRUD are 400", arguments: ["admin", "user"])
    func permissionRules(caller: String) async throws {
        try await SandboxHarness.with { sandbox in
            let token =
                caller == "admin"
                ? try await sandbox.adminToken()
                : try await sandbox.userToken(email: "u@acme.test", permissions: ["products": ["read"]])
            func register(_ entities: [String: [String]]) async throws -> Int {
                try await sandbox.call(
                    .POST, "/api/auth/bots/register", token: token,
                    json: ["name": "perm-bot", "tenantSlug": "sandbox", "permissions": ["entities": entities]]
                ).status
            }
            #expect(try await register(["*": ["read"]]) == 403)
            #expect(try await register(["products": ["write"]]) == 400)
            #expect(try await register(["products": ["READ"]]) == 400)
            let notWrapped = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: token,
                json: ["name": "perm-bot", "tenantSlug": "sandbox", "permissions": ["products": ["read"]]])
            #expect(notWrapped.status == 400)
        }
    }

    @Test(
        "names: 3-50 lowercase letters, digits and hyphens, not at either end",
        arguments: [
            ("ab", 400), ("Inventory", 400), ("-agent", 400), ("agent-", 400), ("a_b_c", 400),
            (String(repeating: "a", count: 51), 400),
            ("abc", 201), (String(repeating: "a", count: 50), 201), ("a-1-b", 201),
        ])
    func names(name: String, status: Int) async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let reply = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: admin, json: ["name": name, "tenantSlug": "sandbox"])
            #expect(reply.status == status, "\(reply)")
        }
    }

    @Test("names are unique among a tenant's active bots; a revoked bot's name can be registered again")
    func uniqueness() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let first = try await sandbox.registerBot("agent-one", token: admin)
            let duplicate = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: admin, json: ["name": "agent-one", "tenantSlug": "sandbox"])
            #expect(duplicate.status == 409)
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(first.id)/revoke", token: admin).status == 200)
            _ = try await sandbox.registerBot("agent-one", token: admin)
            try await sandbox.call(.POST, "/_sandbox/tenants", json: ["slug": "other"])
            _ = try await sandbox.registerBot("agent-one", token: admin, tenant: "other")
            #expect(
                try await sandbox.call(.PUT, "/_sandbox/settings", json: ["revokedNamesReusable": false]).status == 200)
            let list = try #require(
                try await sandbox.call(.GET, "/api/auth/bots", token: admin, headers: ["X-Tenant-ID": "sandbox"]).items)
            let active = try #require(list.first { $0["isActive"] as? Bool == true })
            #expect(
                try await sandbox.call(.POST, "/api/auth/bots/\(active["id"] as? String ?? "")/revoke", token: admin)
                    .status == 200)
            let reused = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: admin, json: ["name": "agent-one", "tenantSlug": "sandbox"])
            #expect(reused.status == 409)
        }
    }

    @Test("a user holds at most 5 active bots: the 6th is 429, and revoking one frees a place")
    func perUserLimit() async throws {
        try await SandboxHarness.with { sandbox in
            let user = try await sandbox.userToken(email: "u@acme.test", permissions: ["products": ["read"]])
            var ids: [String] = []
            for index in 1...5 {
                let reply = try await sandbox.call(
                    .POST, "/api/auth/bots/register", token: user, json: ["name": "bot-\(index)"])
                #expect(reply.status == 201)
                ids.append(try #require(reply.data?["id"] as? String))
            }
            let sixth = try await sandbox.call(.POST, "/api/auth/bots/register", token: user, json: ["name": "bot-6"])
            #expect(sixth.status == 429, "\(sixth)")
            #expect(sixth.json?["success"] as? Bool == false)
            #expect(try await sandbox.call(.POST, "/api/auth/bots/\(ids[0])/revoke", token: user).status == 200)
            #expect(
                try await sandbox.call(.POST, "/api/auth/bots/register", token: user, json: ["name": "bot-6"]).status
                    == 201)
            // Admins are not limited.
            let admin = try await sandbox.adminToken()
            for index in 1...6 { _ = try await sandbox.registerBot("admin-bot-\(index)", token: admin) }
        }
    }

    @Test("API keys and bot JWTs cannot register (403)")
    func refusedCallers() async throws {
        try await SandboxHarness.with { sandbox in
            let key = try await sandbox.call(.POST, "/_sandbox/tenants/sandbox/api-keys", json: ["label": "mcp"])
            let apiKey = try #require(key.data?["key"] as? String)
            #expect(apiKey.hasPrefix("fyso_ak_"))
            let byKey = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: apiKey, json: ["name": "key-bot", "tenantSlug": "sandbox"])
            #expect(byKey.status == 403, "\(byKey)")
            let byHeader = try await sandbox.call(
                .POST, "/api/auth/bots/register", json: ["name": "key-bot", "tenantSlug": "sandbox"],
                headers: ["X-API-Key": apiKey])
            #expect(byHeader.status == 403)
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot("real-bot", token: admin)
            let botToken = try #require(
                try await sandbox.identify("real-bot", secret: bot.secret, token: admin).data?["token"] as? String)
            let byBot = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: botToken, json: ["name": "bot-bot", "tenantSlug": "sandbox"])
            #expect(byBot.status == 403)
            for path in ["/api/auth/bots", "/api/auth/bots/\(bot.id)/reset-secret"] {
                let method: NIOHTTP1.HTTPMethod = path.hasSuffix("bots") ? .GET : .POST
                #expect(try await sandbox.call(method, path, token: botToken).status == 403, "\(path)")
            }
        }
    }
}
