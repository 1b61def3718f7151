import Foundation
import NIOHTTP1
import Testing

@Suite("Sandbox: entity records and bot permissions", .timeLimit(.minutes(2)))
struct RecordsTests {
    @Test("each method needs its action: GET read, POST create, PUT/PATCH update, DELETE delete")
    func permissionPerMethod() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let writer = try await sandbox.registerBot(
                "writer", permissions: ["inventory": ["create", "read", "update", "delete"]], token: admin)
            let reader = try await sandbox.registerBot("reader", permissions: ["inventory": ["read"]], token: admin)
            let writerToken = try #require(
                try await sandbox.identify("writer", secret: writer.secret, token: admin).data?["token"] as? String)
            let readerToken = try #require(
                try await sandbox.identify("reader", secret: reader.secret, token: admin).data?["token"] as? String)

            let created = try await sandbox.call(
                .POST, "/api/entities/inventory/records", token: writerToken, json: ["sku": "ABC-123", "quantity": 50])
            #expect(created.status == 201, "\(created)")
            let record = try #require(created.data)
            #expect(record["sku"] as? String == "ABC-123" && record["quantity"] as? Int == 50)
            #expect(record["id"] is String && record["entityId"] is String && record["createdAt"] is String)
            let id = try #require(record["id"] as? String)

            #expect(
                try await sandbox.call(.POST, "/api/entities/inventory/records", token: readerToken, json: ["sku": "x"])
                    .status == 403)
            #expect(
                try await sandbox.call(.GET, "/api/entities/inventory/records/\(id)", token: readerToken).status == 200)
            #expect(
                try await sandbox.call(
                    .PUT, "/api/entities/inventory/records/\(id)", token: readerToken, json: ["quantity": 1]
                ).status == 403)
            #expect(
                try await sandbox.call(
                    .PATCH, "/api/entities/inventory/records/\(id)", token: readerToken, json: ["quantity": 1]
                ).status == 403)
            #expect(
                try await sandbox.call(.DELETE, "/api/entities/inventory/records/\(id)", token: readerToken).status
                    == 403)
            #expect(
                try await sandbox.call(.GET, "/api/entities/invoices/records", token: readerToken).status == 403,
                "an entity it was not given")

            let updated = try await sandbox.call(
                .PUT, "/api/entities/inventory/records/\(id)", token: writerToken, json: ["quantity": 49])
            #expect(
                updated.status == 200 && updated.data?["quantity"] as? Int == 49
                    && updated.data?["sku"] as? String == "ABC-123")
            let list = try await sandbox.call(.GET, "/api/entities/inventory/records", token: readerToken)
            #expect(list.status == 200)
            let page = try #require(list.data)
            #expect(
                page["total"] as? Int == 1 && page["page"] as? Int == 1 && page["limit"] as? Int == 20
                    && page["totalPages"] as? Int == 1)
            #expect((page["items"] as? [[String: Any]])?.count == 1)
            #expect(
                try await sandbox.call(.DELETE, "/api/entities/inventory/records/\(id)", token: writerToken).status
                    == 200)
            #expect(
                try await sandbox.call(.GET, "/api/entities/inventory/records/\(id)", token: writerToken).status == 404)
        }
    }

    @Test("a bot registered without permissions can do nothing")
    func noPermissions() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot("idle", permissions: nil, token: admin)
            let token = try #require(
                try await sandbox.identify("idle", secret: bot.secret, token: admin).data?["token"] as? String)
            #expect(try await sandbox.call(.GET, "/api/entities/products/records", token: token).status == 403)
        }
    }

    @Test("bot JWTs expire after 3600 s by the sandbox clock")
    func expiry() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot("short-lived", token: admin)
            let token = try #require(
                try await sandbox.identify("short-lived", secret: bot.secret, token: admin).data?["token"] as? String)
            try await sandbox.advanceClock(seconds: 3_590)
            #expect(try await sandbox.call(.GET, "/api/entities/products/records", token: token).status == 200)
            try await sandbox.advanceClock(seconds: 20)
            #expect(try await sandbox.call(.GET, "/api/entities/products/records", token: token).status == 401)
        }
    }

    @Test("paging, reserved fields, API keys and tenant context")
    func recordRules() async throws {
        try await SandboxHarness.with { sandbox in
            let key = try #require(
                try await sandbox.call(.POST, "/_sandbox/tenants/sandbox/api-keys", json: [:]).data?["key"] as? String)
            for index in 1...25 {
                #expect(
                    try await sandbox.call(.POST, "/api/entities/events/records", token: key, json: ["n": index]).status
                        == 201)
            }
            let second = try #require(
                try await sandbox.call(.GET, "/api/entities/events/records?page=2&limit=10", token: key).data)
            #expect(
                second["total"] as? Int == 25 && second["totalPages"] as? Int == 3
                    && (second["items"] as? [Any])?.count == 10)
            #expect(
                try await sandbox.call(.GET, "/api/entities/events/records?limit=1000", token: key).data?["limit"]
                    as? Int == 100)
            #expect(try await sandbox.call(.GET, "/api/entities/events/records?page=0", token: key).status == 400)
            #expect(
                try await sandbox.call(.POST, "/api/entities/events/records", token: key, json: ["createdAt": "x"])
                    .status == 400)
            #expect(
                try await sandbox.call(.POST, "/api/entities/events/records", token: key, json: [1, 2]).status == 400)
            #expect(try await sandbox.call(.GET, "/api/entities/events/records/not-a-uuid", token: key).status == 404)
            let admin = try await sandbox.adminToken()
            #expect(
                try await sandbox.call(.GET, "/api/entities/events/records", token: admin).status == 403,
                "an admin must name the tenant")
            #expect(
                try await sandbox.call(
                    .GET, "/api/entities/events/records", token: admin, headers: ["X-Tenant-ID": "sandbox"]
                ).status == 200)
            #expect(
                try await sandbox.call(
                    .GET, "/api/entities/events/records", token: admin, headers: ["X-Tenant-Slug": "sandbox"]
                ).status == 200)
            #expect(
                try await sandbox.call(
                    .GET, "/api/entities/events/records", token: admin, headers: ["X-Tenant-ID": "nope"]
                ).status == 403)
            try await sandbox.call(.POST, "/_sandbox/tenants", json: ["slug": "second"])
            #expect(
                try await sandbox.call(
                    .GET, "/api/entities/events/records", token: key, headers: ["X-Tenant-ID": "second"]
                ).status == 403, "a key bound to another tenant")
            // X-Tenant-ID wins over X-Tenant-Slug.
            let both = try await sandbox.call(
                .GET, "/api/entities/events/records", token: admin,
                headers: ["X-Tenant-ID": "second", "X-Tenant-Slug": "sandbox"])
            #expect(both.data?["total"] as? Int == 0)
        }
    }
}
