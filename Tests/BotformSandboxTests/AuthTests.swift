import Foundation
import NIOHTTP1
import Testing

@Suite("Sandbox: logins and tenant users", .timeLimit(.minutes(2)))
struct AuthTests {
    @Test("admin login returns an admin JWT; a wrong password is 401")
    func adminLogin() async throws {
        try await SandboxHarness.with { sandbox in
            let reply = try await sandbox.call(
                .POST, "/api/auth/login", json: ["email": "admin@sandbox.local", "password": "sandbox-admin-password"])
            #expect(reply.status == 200)
            #expect(reply.json?["success"] as? Bool == true)
            #expect((reply.data?["admin"] as? [String: Any])?["email"] as? String == "admin@sandbox.local")
            let wrong = try await sandbox.call(
                .POST, "/api/auth/login", json: ["email": "admin@sandbox.local", "password": "nope-nope"])
            #expect(wrong.status == 401 && wrong.errorCode == "UNAUTHORIZED")
            #expect(wrong.json?["success"] as? Bool == false)
            let unknown = try await sandbox.call(
                .POST, "/api/auth/login", json: ["email": "who@x", "password": "nope-nope"])
            #expect(unknown.status == 401)
            let missing = try await sandbox.call(.POST, "/api/auth/login", json: ["email": "admin@sandbox.local"])
            #expect(missing.status == 400 && missing.errorCode == "VALIDATION_ERROR")
            #expect(
                (missing.json?["error"] as? [String: Any])?["message"] as? String == "field \"password\" is required")
        }
    }

    @Test("an admin creates tenant users; users log in with X-Tenant-ID")
    func tenantUsers() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let body: [String: Any] = [
                "email": "dev@acme.test", "password": "longenough", "name": "Dev",
                "permissions": ["entities": ["contacts": ["read", "update"]]],
            ]
            let created = try await sandbox.call(
                .POST, "/api/auth/tenant/users", token: admin, json: body, headers: ["X-Tenant-ID": "sandbox"])
            #expect(created.status == 201, "\(created)")
            #expect(created.data?["email"] as? String == "dev@acme.test")
            let again = try await sandbox.call(
                .POST, "/api/auth/tenant/users", token: admin, json: body, headers: ["X-Tenant-ID": "sandbox"])
            #expect(again.status == 409)
            var short = body
            short["email"] = "other@acme.test"
            short["password"] = "short"
            #expect(
                try await sandbox.call(
                    .POST, "/api/auth/tenant/users", token: admin, json: short, headers: ["X-Tenant-ID": "sandbox"]
                ).status == 400)
            var wildcard = body
            wildcard["email"] = "wild@acme.test"
            wildcard["permissions"] = ["entities": ["*": ["read"]]]
            #expect(
                try await sandbox.call(
                    .POST, "/api/auth/tenant/users", token: admin, json: wildcard, headers: ["X-Tenant-ID": "sandbox"]
                ).status == 400)
            let noTenant = try await sandbox.call(.POST, "/api/auth/tenant/users", token: admin, json: body)
            #expect(noTenant.status == 403)

            let login = try await sandbox.call(
                .POST, "/api/auth/tenant/login", json: ["email": "dev@acme.test", "password": "longenough"],
                headers: ["X-Tenant-ID": "sandbox"])
            #expect(login.status == 200, "\(login)")
            let user = try #require(login.data?["token"] as? String)
            #expect(try SandboxHarness.claims(of: user)["isTenantUser"] as? Bool == true)
            let byUser = try await sandbox.call(
                .POST, "/api/auth/tenant/users", token: user, json: short, headers: ["X-Tenant-ID": "sandbox"])
            #expect(byUser.status == 403)

            let wrong = try await sandbox.call(
                .POST, "/api/auth/tenant/login", json: ["email": "dev@acme.test", "password": "wrong-password"],
                headers: ["X-Tenant-ID": "sandbox"])
            #expect(wrong.status == 401)
            let noHeader = try await sandbox.call(
                .POST, "/api/auth/tenant/login", json: ["email": "dev@acme.test", "password": "longenough"])
            #expect(noHeader.status == 400)
            let otherTenant = try await sandbox.call(
                .POST, "/api/auth/tenant/login", json: ["email": "dev@acme.test", "password": "longenough"],
                headers: ["X-Tenant-ID": "nope"])
            #expect(otherTenant.status == 403)
        }
    }

    @Test("missing, malformed, forged and expired credentials are 401")
    func credentials() async throws {
        try await SandboxHarness.with { sandbox in
            #expect(try await sandbox.call(.GET, "/api/auth/bots").status == 401)
            #expect(
                try await sandbox.call(.GET, "/api/auth/bots", headers: ["Authorization": "Basic abc"]).status == 401)
            #expect(try await sandbox.call(.GET, "/api/auth/bots", token: "not-a-jwt").status == 401)
            let admin = try await sandbox.adminToken()
            // Same header and claims, another signature.
            let parts = admin.split(separator: ".")
            let forged = "\(parts[0]).\(parts[1]).c2lnbmF0dXJlLW1hZGUtdXAtYnktYW4tYXR0YWNrZXI"
            #expect(try await sandbox.call(.GET, "/api/auth/bots", token: forged).status == 401)
            #expect(try await sandbox.call(.GET, "/api/auth/bots", token: "fyso_ak_unknown").status == 401)
            try await sandbox.advanceClock(seconds: 86_401)
            let expired = try await sandbox.call(.GET, "/api/auth/bots", token: admin)
            #expect(expired.status == 401)
            #expect((expired.json?["error"] as? [String: Any])?["message"] as? String == "token expired")
        }
    }
}
