import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import BotformSandbox

@Suite("Sandbox: hostile requests", .timeLimit(.minutes(2)))
struct SandboxRobustnessTests {
    @Test(
        "malformed JSON, wrong types, missing fields and odd bodies are 400 with a JSON error",
        arguments: [
            "{bad json", "[]", "\"string\"", "null", "{\"name\": 5, \"tenantSlug\": \"sandbox\"}", "{\"name\": null}",
            "{}",
            "{\"name\": \"ok-bot\", \"tenantSlug\": \"sandbox\", \"permissions\": {\"entities\": {\"products\": \"read\"}}}",
            "{\"name\": \"ok-bot\", \"tenantSlug\": \"sandbox\", \"permissions\": [1]}",
        ])
    func badBodies(body: String) async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let reply = try await sandbox.call(.POST, "/api/auth/bots/register", token: admin, raw: body)
            #expect(reply.status == 400, "\(reply)")
            #expect(reply.json?["success"] as? Bool == false)
            #expect(reply.errorCode == "VALIDATION_ERROR")
        }
    }

    @Test("error messages name the field")
    func fieldNames() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let reply = try await sandbox.call(.POST, "/api/auth/bots/register", token: admin, raw: "{\"name\": 5}")
            #expect(
                (reply.json?["error"] as? [String: Any])?["message"] as? String == "field \"name\" must be a string")
        }
    }

    @Test("an empty body and a body over 1 MiB are refused with a JSON error")
    func sizes() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            #expect(try await sandbox.call(.POST, "/api/auth/bots/register", token: admin).status == 400)
            let huge = "{\"name\": \"" + String(repeating: "a", count: (1 << 20) + 10) + "\"}"
            let reply = try await sandbox.call(.POST, "/api/auth/bots/register", token: admin, raw: huge)
            #expect(reply.status == 413, "\(reply.status)")
            #expect(reply.errorCode == "PAYLOAD_TOO_LARGE")
            // The server is still healthy afterwards.
            #expect(try await sandbox.call(.GET, "/api/auth/bots", token: admin).status == 200)
        }
    }

    @Test("unknown routes and methods answer with the envelope, not a crash")
    func unknownRoutes() async throws {
        try await SandboxHarness.with { sandbox in
            let notFound = try await sandbox.call(.GET, "/api/nothing/here")
            #expect(notFound.status == 404 && notFound.json?["success"] as? Bool == false)
            let method = try await sandbox.call(.DELETE, "/api/auth/bots")
            #expect([404, 405].contains(method.status) && method.json?["success"] as? Bool == false)
        }
    }

    @Test("a burst of concurrent registrations of one name creates exactly one bot")
    func concurrentDuplicates() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await sandbox.call(
                            .POST, "/api/auth/bots/register", token: admin,
                            json: ["name": "racer", "tenantSlug": "sandbox"]
                        ).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 1)
            #expect(statuses.filter { $0 == 409 }.count == 19)
        }
    }
}

@Suite("Sandbox: control API, faults, request log", .timeLimit(.minutes(2)))
struct ControlTests {
    @Test("injected errors are 5xx and carry out nothing")
    func errors() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            #expect(
                try await sandbox.call(.PUT, "/_sandbox/faults", json: ["errorRate": 1, "errorStatus": 503]).status
                    == 200)
            let reply = try await sandbox.call(
                .POST, "/api/auth/bots/register", token: admin, json: ["name": "never", "tenantSlug": "sandbox"])
            #expect(reply.status == 503 && reply.errorCode == "INTERNAL_ERROR")
            #expect(try await sandbox.call(.GET, "/_sandbox/health").status == 200, "the control API is never faulted")
            try await sandbox.call(.DELETE, "/_sandbox/faults")
            #expect(try await sandbox.storedBots().isEmpty)
        }
    }

    @Test("a 429 burst answers with Retry-After and the rate limiter's string-form error")
    func rateLimit() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            try await sandbox.call(.PUT, "/_sandbox/faults", json: ["rateLimitBurst": 2, "retryAfterSeconds": 3])
            for _ in 0..<2 {
                let limited = try await sandbox.call(.GET, "/api/auth/bots", token: admin)
                #expect(limited.status == 429)
                #expect(limited.headers.first(name: "Retry-After") == "3")
                #expect(limited.json?["error"] as? String == "RATE_LIMITED")
            }
            #expect(try await sandbox.call(.GET, "/api/auth/bots", token: admin).status == 200)
            try await sandbox.call(.PUT, "/_sandbox/settings", json: ["rateLimitErrorForm": "object"])
            try await sandbox.call(.PUT, "/_sandbox/faults", json: ["rateLimitBurst": 1])
            #expect(try await sandbox.call(.GET, "/api/auth/bots", token: admin).errorCode == "RATE_LIMITED")
        }
    }

    @Test("a dropped response: the change is committed, the connection closes unanswered, the log says so")
    func dropped() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            try await sandbox.call(.PUT, "/_sandbox/faults", json: ["dropRate": 1])
            await #expect(throws: (any Error).self) {
                try await sandbox.call(
                    .POST, "/api/auth/bots/register", token: admin, json: ["name": "ghost", "tenantSlug": "sandbox"])
            }
            #expect(try await sandbox.call(.GET, "/api/auth/bots", token: admin).status == 200, "reads are not dropped")
            try await sandbox.call(.DELETE, "/_sandbox/faults")
            #expect(try await sandbox.storedBots().map { $0["name"] as? String } == ["ghost"])
            let log = try #require(
                try await sandbox.call(.GET, "/_sandbox/requests").data?["items"] as? [[String: Any]])
            let entry = try #require(log.first { $0["path"] as? String == "/api/auth/bots/register" })
            #expect(entry["status"] as? Int == 201 && entry["fault"] as? String == "dropped")
        }
    }

    @Test("latency is added to each request")
    func latency() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            try await sandbox.call(.PUT, "/_sandbox/faults", json: ["latencyMs": 150])
            let started = ContinuousClock.now
            _ = try await sandbox.call(.GET, "/api/auth/bots", token: admin)
            #expect(ContinuousClock.now - started >= .milliseconds(150))
        }
    }

    @Test("invalid fault and settings values are 400")
    func validation() async throws {
        try await SandboxHarness.with { sandbox async throws in
            #expect(try await sandbox.call(.PUT, "/_sandbox/faults", json: ["errorRate": 2]).status == 400)
            #expect(try await sandbox.call(.PUT, "/_sandbox/settings", json: ["botsPerUsr": 3]).status == 400)
            #expect(try await sandbox.call(.PUT, "/_sandbox/settings", json: ["botsPerUser": "three"]).status == 400)
            #expect(try await sandbox.call(.POST, "/_sandbox/clock/advance", json: ["seconds": -5]).status == 400)
        }
    }

    @Test("the request log records method, path, status and caller kind, and never a secret or token")
    func requestLog() async throws {
        try await SandboxHarness.with { sandbox in
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot("logged", token: admin)
            let token = try #require(
                try await sandbox.identify("logged", secret: bot.secret, token: admin).data?["token"] as? String)
            _ = try await sandbox.call(.GET, "/api/entities/products/records?secret=\(bot.secret)", token: token)
            let reply = try await sandbox.call(.GET, "/_sandbox/requests")
            let items = try #require(reply.data?["items"] as? [[String: Any]])
            #expect(
                items.map { "\($0["method"] ?? "") \($0["path"] ?? "") \($0["status"] ?? "") \($0["caller"] ?? "")" }
                    == [
                        "POST /api/auth/login 200 admin", "POST /api/auth/bots/register 201 admin",
                        "POST /api/auth/bots/identify 200 admin",
                        "GET /api/entities/products/records 200 bot",
                    ])
            #expect(!reply.body.contains(bot.secret) && !reply.body.contains(token) && !reply.body.contains(admin))
            #expect(reply.body.contains("secret=REDACTED"))
            let since = try #require(items.last?["seq"] as? Int)
            let later = try await sandbox.call(.GET, "/_sandbox/requests?since=\(since)")
            #expect((later.data?["items"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("the control API refuses peers that are not on loopback")
    func loopbackOnly() async throws {
        guard let address = nonLoopbackAddress() else {
            print("skipped: this machine has no non-loopback IPv4 address")
            return
        }
        var options = SandboxOptions()
        options.host = "0.0.0.0"
        try await SandboxHarness.with(options) { sandbox in
            let port = try #require(sandbox.url.port)
            var request = HTTPClientRequest(url: "http://\(address):\(port)/_sandbox/tenants")
            request.method = .GET
            let response = try await sandbox.client.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 403)
            let api = try await sandbox.client.execute(
                HTTPClientRequest(url: "http://\(address):\(port)/api/auth/bots"), timeout: .seconds(10))
            #expect(api.status.code == 401, "the API itself answers every peer")
        }
    }

    private func nonLoopbackAddress() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/hostname")
        process.arguments = ["-I"]
        let pipe = Pipe()
        process.standardOutput = pipe
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return output.split(separator: " ").map(String.init).first { $0.contains(".") && !$0.hasPrefix("127.") }
    }
}

@Suite("Sandbox: persistence", .timeLimit(.minutes(2)))
struct PersistenceTests {
    @Test("with --data, bots, users, keys, lockouts, settings and sessions survive a restart")
    func restart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "botform-sandbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = SandboxOptions()
        options.dataPath = directory.appendingPathComponent("state.sqlite").path
        let (bot, admin, apiKey) = try await SandboxHarness.with(options) { sandbox in
            let admin = try await sandbox.adminToken()
            let bot = try await sandbox.registerBot("durable", token: admin)
            _ = try await sandbox.userToken(email: "u@acme.test", permissions: ["products": ["read"]])
            let key = try #require(
                try await sandbox.call(.POST, "/_sandbox/tenants/sandbox/api-keys", json: [:]).data?["key"] as? String)
            for _ in 1...5 { _ = try await sandbox.identify("durable", secret: "wrong", token: admin) }
            try await sandbox.call(.PUT, "/_sandbox/settings", json: ["botsPerUser": 2])
            return (bot, admin, key)
        }
        try await SandboxHarness.with(options) { sandbox in
            let list = try #require(
                try await sandbox.call(.GET, "/api/auth/bots", token: admin).items,
                "the old admin session is still valid")
            #expect(list.map { $0["id"] as? String } == [bot.id])
            #expect(
                try await sandbox.identify("durable", secret: bot.secret, token: admin).status == 401, "still locked")
            // That attempt was the 6th failure: 5 minutes.
            try await sandbox.advanceClock(seconds: 301)
            #expect(try await sandbox.identify("durable", secret: bot.secret, token: admin).status == 200)
            #expect(try await sandbox.call(.GET, "/api/entities/products/records", token: apiKey).status == 200)
            let login = try await sandbox.call(
                .POST, "/api/auth/tenant/login", json: ["email": "u@acme.test", "password": "user-password"],
                headers: ["X-Tenant-ID": "sandbox"])
            #expect(login.status == 200)
            #expect(try await sandbox.call(.GET, "/_sandbox/settings").data?["botsPerUser"] as? Int == 2)
        }
    }
}

@Suite("Sandbox: OpenAPI description", .timeLimit(.minutes(2)))
struct OpenAPITests {
    @Test("every documented operation is served, and answers a documented status")
    func documentedOperations() async throws {
        try await SandboxHarness.with { sandbox in
            let reply = try await sandbox.call(.GET, "/_sandbox/openapi.json")
            let document = try #require(reply.json)
            #expect(document["openapi"] as? String == "3.0.3")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let admin = try await sandbox.adminToken()
            var checked = 0
            for (path, methods) in paths {
                for (method, operation) in methods {
                    let concrete = path.replacingOccurrences(of: "{slug}", with: "sandbox").replacingOccurrences(
                        of: "{entity}", with: "products"
                    )
                    .replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
                    let documented = Set(
                        ((operation as? [String: Any])?["responses"] as? [String: Any] ?? [:]).keys.compactMap(Int.init)
                    )
                    let response = try await sandbox.call(
                        HTTPMethod(rawValue: method.uppercased()), concrete, token: admin,
                        raw: method == "get" || method == "delete" ? nil : "{}")
                    #expect(documented.contains(response.status), "\(method) \(path) answered \(response)")
                    let unrouted =
                        response.status == 404
                        && (response.json?["error"] as? [String: Any])?["message"] as? String
                            == "no route for \(method.uppercased()) \(concrete)"
                    #expect(!unrouted, "\(method) \(path) is documented but not served")
                    checked += 1
                }
            }
            #expect(checked == 42)
            // And the other way round: nothing is served that the document does not describe.
            let documented = paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } }
                .sorted()
            #expect(sandbox.server.servedRoutes == documented)
        }
    }
}
