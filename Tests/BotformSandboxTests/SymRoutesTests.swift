import BotformSandbox
import Foundation
import NIOHTTP1
import Testing

/// The Sym API (`/api/v1/`) straight over HTTP: shapes the symflow CLI parses, errors, tokens, the clock.
@Suite("Sandbox: Sym API", .timeLimit(.minutes(3)))
struct SymRoutesTests {
    static let adminToken = "sym-test-admin-token"

    static var options: SandboxOptions {
        var options = SandboxOptions()
        options.symToken = adminToken
        return options
    }

    static let invalidToken = #"{"code":"Authentication:INVALID_JWT","error":true,"message":"Invalid token."}"#
    static var uuidPattern: Regex<Substring> { /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/ }
    static var utcPattern: Regex<Substring> { /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/ }

    @Test("users, services, tokens and login have the shapes the CLI parses")
    func shapes() async throws {
        try await SandboxHarness.with(Self.options) { sandbox in
            let empty = try await sandbox.call(.GET, "/api/v1/users?type=bot", token: Self.adminToken)
            #expect(empty.status == 200 && empty.body == #"{"users":[]}"#, "\(empty)")
            let botID = try await sandbox.createSymBot("ci-bot", id: "9CE080FB-89AA-4F47-8341-9C3A889E2F00")
            #expect(botID == "9ce080fb-89aa-4f47-8341-9c3a889e2f00")

            let bots = try await sandbox.call(.GET, "/api/v1/users?type=bot", token: Self.adminToken)
            let users = try #require(bots.json?["users"] as? [[String: Any]])
            #expect(users.count == 1)
            let bot = try #require(users.first)
            #expect(bot["id"] as? String == botID && bot["type"] as? String == "bot")
            #expect((bot["created_at"] as? String)?.wholeMatch(of: Self.utcPattern) != nil, "\(bot)")
            let identity = try #require((bot["identities"] as? [[String: Any]])?.first)
            #expect(identity["service"] as? [String: String] == ["slug": "sym", "external_id": "cloud"])
            #expect(identity["matcher"] as? [String: String] == ["username": "ci-bot"])

            let services = try await sandbox.call(.GET, "/api/v1/services", token: Self.adminToken)
            let list = try #require(services.json?["services"] as? [[String: String]])
            #expect(
                Set(list.map { "\($0["slug"] ?? ""):\($0["external_id"] ?? "")" }) == ["sym:cloud", "slack:T0SANDBOX"])
            #expect(list.allSatisfy { $0["id"] != nil && $0["label"] != nil })

            let issued = try await sandbox.call(
                .POST, "/api/v1/tokens", token: Self.adminToken,
                json: ["username": "ci-bot", "expiry": 2_592_000, "label": "CI token"])
            #expect(issued.status == 200)
            let jwt = try #require(issued.json?["access_token"] as? String)
            let claims = try SandboxHarness.claims(of: jwt)
            let identifier = try #require(claims["jti"] as? String)
            #expect(identifier.wholeMatch(of: Self.uuidPattern) != nil)
            #expect(claims["sub"] as? String == botID && claims["org"] as? String == "sandbox-org")
            let iat = try #require(claims["iat"] as? Double)
            #expect(claims["exp"] as? Double == iat + 2_592_000)

            let tokens = try await sandbox.call(.GET, "/api/v1/tokens", token: Self.adminToken)
            let token = try #require((tokens.json?["tokens"] as? [[String: Any]])?.first)
            #expect(token["identifier"] as? String == identifier && token["label"] as? String == "CI token")
            #expect(token["user"] as? [String: String] == ["id": botID, "type": "bot"])
            for key in ["expires_at", "updated_at", "created_at"] {
                #expect((token[key] as? String)?.wholeMatch(of: Self.utcPattern) != nil, "\(key): \(token)")
            }
            // The creator is the org admin, a human found by id with a sym identity.
            let creator = try #require((token["created_by"] as? [String: String])?["id"])
            let admin = try await sandbox.call(.GET, "/api/v1/users?id=\(creator)", token: Self.adminToken)
            let adminUser = try #require((admin.json?["users"] as? [[String: Any]])?.first)
            #expect(adminUser["type"] as? String == "normal")
            let adminMatcher = ((adminUser["identities"] as? [[String: Any]])?.first)?["matcher"]
            #expect(adminMatcher as? [String: String] == ["email": "admin@sandbox.local"])

            let track = try await sandbox.call(
                .POST, "/api/v1/track/symflow", json: ["subcommand": "bots list", "status": "invoked"])
            #expect(track.status == 200 && track.body == "{}")
            let login = try await sandbox.call(.GET, "/api/v1/auth/login", token: Self.adminToken)
            #expect(
                login.json as? [String: String] == [
                    "organization": "sandbox-org", "username": "admin@sandbox.local", "role": "admin",
                ])
            // An issued token authenticates as its bot.
            let asBot = try await sandbox.call(.GET, "/api/v1/auth/login", token: jwt)
            #expect(asBot.json?["username"] as? String == "ci-bot")
            let botTokens = try await sandbox.call(.GET, "/api/v1/tokens", token: jwt)
            #expect((botTokens.json?["tokens"] as? [Any])?.count == 1)
        }
    }

    @Test("missing, garbage and foreign tokens get Sym's 401; every error has a message")
    func errors() async throws {
        try await SandboxHarness.with(Self.options) { sandbox in
            let fysoAdmin = try await sandbox.adminToken()
            for token in [nil, "garbage", fysoAdmin, Self.adminToken + "x"] {
                let reply = try await sandbox.call(.GET, "/api/v1/tokens", token: token)
                let ok = reply.status == 401 && reply.body == Self.invalidToken
                #expect(ok, "status \(reply.status)")
            }
            let basic = try await sandbox.call(.GET, "/api/v1/users", headers: ["Authorization": "Basic abc"])
            #expect(basic.status == 401 && basic.body == Self.invalidToken)

            _ = try await sandbox.createSymBot("ci-bot")
            var refusals: [(String, [String: Any], Int, String)] = [
                ("/api/v1/tokens", ["username": "nobody", "expiry": 60], 404, "Unknown bot: nobody."),
                (
                    "/api/v1/tokens/delete", ["identifier": "00000000-0000-4000-8000-000000000000"], 404,
                    "Token 00000000-0000-4000-8000-000000000000 not found."
                ),
                (
                    "/api/v1/users/delete",
                    ["users": [["identity": ["service_type": "sym", "matcher": ["username": "x"]]]]],
                    404, "Unknown bot: x."
                ),
                ("/api/v1/tokens", ["username": "ci-bot"], 400, "field \"expiry\" is required"),
            ]
            for expiry: Any in [0, -5, 157_680_001, 86_399_999_913_600, 1.5, "30d", true] {
                refusals.append(("/api/v1/tokens", ["username": "ci-bot", "expiry": expiry], 400, "Invalid expiry:"))
            }
            for (path, body, status, message) in refusals {
                let reply = try await sandbox.call(.POST, path, token: Self.adminToken, json: body)
                #expect(reply.status == status, "\(path) \(body): \(reply)")
                #expect(reply.json?["error"] as? Bool == true, "\(reply)")
                #expect((reply.json?["message"] as? String)?.hasPrefix(message) == true, "\(reply)")
            }
            // 5 years is the longest expiry.
            let longest = try await sandbox.call(
                .POST, "/api/v1/tokens", token: Self.adminToken, json: ["username": "ci-bot", "expiry": 157_680_000])
            #expect(longest.status == 200)
            let unknownRoute = try await sandbox.call(.GET, "/api/v1/nope", token: Self.adminToken)
            #expect(unknownRoute.status == 404 && unknownRoute.json?["error"] as? Bool == true, "\(unknownRoute)")
            let malformed = try await sandbox.call(.PATCH, "/api/v1/users", token: Self.adminToken, raw: "{")
            #expect(malformed.status == 400 && (malformed.json?["message"] as? String)?.isEmpty == false)
            // Nothing was issued by the refused calls.
            let tokens = try await sandbox.call(.GET, "/api/v1/tokens", token: Self.adminToken)
            #expect((tokens.json?["tokens"] as? [Any])?.count == 1)
        }
    }

    @Test("PATCH users upserts identities and keeps a bot a bot despite type normal")
    func upsert() async throws {
        try await SandboxHarness.with(Self.options) { sandbox in
            let id = try await sandbox.createSymBot("ci-bot")
            let slack: [String: Any] = [
                "service_type": "slack", "external_id": "T0SANDBOX", "matcher": ["user_id": "U0CIBOT"], "profile": [:],
            ]
            let update = try await sandbox.call(
                .PATCH, "/api/v1/users", token: Self.adminToken,
                json: [
                    "users": [
                        ["id": id, "identities": [slack, SandboxHarness.symIdentity("ci-bot")], "type": "normal"]
                    ]
                ])
            #expect(update.status == 200 && update.json?["succeeded"] as? Int == 1, "\(update)")
            var user = try #require(try await sandbox.symUsers("?id=\(id)").first)
            #expect(user["type"] as? String == "bot")
            #expect((user["identities"] as? [Any])?.count == 2)
            // Creating the same bot again (by its sym identity) updates it: still one bot.
            _ = try await sandbox.createSymBot("ci-bot")
            #expect(try await sandbox.symUsers("?type=bot").count == 1)
            // A taken name cannot be given to another bot; an unknown service is refused; nothing changes.
            let other = try await sandbox.createSymBot("other-bot")
            let rename = try await sandbox.call(
                .PATCH, "/api/v1/users", token: Self.adminToken,
                json: ["users": [["id": other, "identities": [SandboxHarness.symIdentity("ci-bot")], "type": "bot"]]])
            #expect(rename.status == 409, "\(rename)")
            let unknownService = try await sandbox.call(
                .PATCH, "/api/v1/users", token: Self.adminToken,
                json: [
                    "users": [
                        ["identities": [SandboxHarness.symIdentity("third")], "type": "bot"],
                        ["identities": [["service_type": "okta", "external_id": "x", "matcher": ["user_id": "u"]]]],
                    ]
                ])
            #expect(unknownService.status == 400, "\(unknownService)")
            #expect(try await sandbox.symUsers("?type=bot").count == 2, "the valid first entry was not applied")

            let removed = try await sandbox.call(
                .POST, "/api/v1/users/identities/delete", token: Self.adminToken,
                json: [
                    "identities": [
                        ["user_id": id, "service_type": "slack", "external_id": "T0SANDBOX", "matcher": [:]]
                    ]
                ])
            #expect(removed.status == 200 && removed.json?["succeeded"] as? Int == 1, "\(removed)")
            user = try #require(try await sandbox.symUsers("?id=\(id)").first)
            #expect((user["identities"] as? [Any])?.count == 1)
        }
    }

    @Test("revoking a token, deleting its bot or advancing the clock past its expiry ends it")
    func tokenLifecycle() async throws {
        try await SandboxHarness.with(Self.options) { sandbox in
            _ = try await sandbox.createSymBot("ci-bot")
            let first = try await sandbox.issueSymToken("ci-bot", expiry: 86_400)
            let second = try await sandbox.issueSymToken("ci-bot", expiry: 2 * 86_400)
            #expect(try await sandbox.liveSymTokens().count == 2)

            let firstID = try #require(try SandboxHarness.claims(of: first)["jti"] as? String)
            let revoked = try await sandbox.call(
                .POST, "/api/v1/tokens/delete", token: Self.adminToken, json: ["identifier": firstID])
            #expect(revoked.status == 200 && revoked.json?["succeeded"] as? Int == 1)
            #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: first).body == Self.invalidToken)
            let again = try await sandbox.call(
                .POST, "/api/v1/tokens/delete", token: Self.adminToken, json: ["identifier": firstID])
            #expect(again.status == 404 && again.json?["message"] as? String == "Token \(firstID) not found.")

            // One day later the second token still works; two days later it is gone.
            try await sandbox.advanceClock(seconds: 86_401)
            #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: second).status == 200)
            try await sandbox.advanceClock(seconds: 86_400)
            #expect(try await sandbox.liveSymTokens().isEmpty)
            #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: second).body == Self.invalidToken)

            // Deleting a bot revokes all its tokens.
            let third = try await sandbox.issueSymToken("ci-bot", expiry: 3_600)
            let deleted = try await sandbox.call(
                .POST, "/api/v1/users/delete", token: Self.adminToken,
                json: ["users": [["identity": ["service_type": "sym", "matcher": ["username": "ci-bot"]]]]])
            #expect(deleted.status == 200 && deleted.json?["succeeded"] as? Int == 1, "\(deleted)")
            #expect(try await sandbox.liveSymTokens().isEmpty)
            #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: third).status == 401)
            #expect(try await sandbox.symUsers("?type=bot").isEmpty)
            let issue = try await sandbox.call(
                .POST, "/api/v1/tokens", token: Self.adminToken, json: ["username": "ci-bot", "expiry": 60])
            #expect(issue.status == 404)
        }
    }

    @Test("Sym users and tokens survive a restart with --data; calls are logged without credentials")
    func persistence() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sym-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = Self.options
        options.dataPath = directory.appendingPathComponent("sandbox.sqlite").path
        let (token, revokedID) = try await SandboxHarness.with(options) { sandbox in
            _ = try await sandbox.createSymBot("keeper")
            let token = try await sandbox.issueSymToken("keeper", expiry: 3 * 86_400)
            let revoked = try await sandbox.issueSymToken("keeper", expiry: 3 * 86_400)
            let revokedID = try #require(try SandboxHarness.claims(of: revoked)["jti"] as? String)
            _ = try await sandbox.call(
                .POST, "/api/v1/tokens/delete", token: Self.adminToken, json: ["identifier": revokedID])
            try await sandbox.advanceClock(seconds: 86_400)
            let log = try await sandbox.call(.GET, "/_sandbox/requests")
            let entries = try #require(log.data?["items"] as? [[String: Any]])
            #expect(
                entries.contains { $0["path"] as? String == "/api/v1/tokens" && $0["caller"] as? String == "admin" })
            let leaked = log.body.contains(Self.adminToken) || log.body.contains(token) || log.body.contains(revoked)
            #expect(!leaked, "the request log holds a token")
            return (token, revokedID)
        }
        try await SandboxHarness.with(options) { sandbox in
            #expect(try await sandbox.symUsers("?type=bot").map { $0["id"] != nil }.count == 1)
            let live = try await sandbox.liveSymTokens()
            #expect(live.count == 1 && live.first?["identifier"] as? String != revokedID)
            #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: token).status == 200)
            // The clock offset persisted too: two more days end the 3-day token.
            try await sandbox.advanceClock(seconds: 2 * 86_400)
            #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: token).status == 401)
        }
    }

    @Test("faults apply to the Sym API and answer in Sym's error form")
    func faults() async throws {
        try await SandboxHarness.with(Self.options) { sandbox in
            let set = try await sandbox.call(
                .PUT, "/_sandbox/faults", json: ["errorRate": 1, "errorStatus": 503, "pathPrefix": "/api/v1/tokens"])
            #expect(set.status == 200, "\(set)")
            let reply = try await sandbox.call(.GET, "/api/v1/tokens", token: Self.adminToken)
            #expect(reply.status == 503 && reply.json?["error"] as? Bool == true, "\(reply)")
            #expect((reply.json?["message"] as? String)?.isEmpty == false)
            #expect(try await sandbox.call(.GET, "/api/v1/services", token: Self.adminToken).status == 200)
        }
    }

    @Test("the Date header follows the sandbox clock on every response")
    func dateHeader() async throws {
        try await SandboxHarness.with(Self.options) { sandbox in
            let before = try await sandbox.call(.GET, "/_sandbox/clock")
            let start = try #require(Self.date(before))
            let clockNow = try #require(before.data?["now"] as? String)
            let clockDate = try #require(ISO8601DateFormatter().date(from: clockNow))
            #expect(abs(start.timeIntervalSince(clockDate)) <= 2, "Date \(start) vs clock \(clockDate)")
            try await sandbox.advanceClock(seconds: 10 * 86_400)
            let admin = try await sandbox.adminToken()
            let replies = [
                try await sandbox.call(.GET, "/api/v1/services", token: Self.adminToken),
                try await sandbox.call(.GET, "/api/v1/tokens"),
                try await sandbox.call(.GET, "/api/auth/bots", token: admin),
                try await sandbox.call(.GET, "/no/such/route"),
                try await sandbox.call(.GET, "/_sandbox/health"),
            ]
            for reply in replies {
                let date = try #require(Self.date(reply), "\(reply.headers)")
                let ahead = date.timeIntervalSince(start)
                // Ten days, plus the few seconds the calls took (never a day more, never less).
                #expect(ahead >= 10 * 86_400 && ahead < 10 * 86_400 + 3_600, "\(ahead)")
            }
        }
    }

    @Test("options: BOTFORM_SANDBOX_SYM_TOKEN, a random token otherwise, the Sym URL")
    func options() async throws {
        #expect(SandboxOptions.fromEnvironment(["BOTFORM_SANDBOX_SYM_TOKEN": "from-env"]).symToken == "from-env")
        #expect(SandboxOptions.fromEnvironment([:]).symToken == nil)
        #expect(SandboxOptions().symOrg == "sandbox-org")
        var bad = SandboxOptions()
        bad.symToken = "has a space"
        await #expect(throws: SandboxError.self) { _ = try await SandboxServer.make(bad) }
        try await SandboxHarness.with { sandbox in
            let token = sandbox.server.symToken
            #expect(token.count >= 32)
            #expect(sandbox.server.symURL?.absoluteString == sandbox.url.absoluteString + "/api/v1")
            let login = try await sandbox.call(.GET, "/api/v1/auth/login", token: token)
            #expect(login.status == 200)
        }
    }

    /// The IMF-fixdate `Date` header of a reply.
    static func date(_ reply: SandboxHarness.Reply) -> Date? {
        guard let value = reply.headers.first(name: "Date"),
            value.wholeMatch(of: /(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT/) != nil
        else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: value)
    }
}

extension SandboxHarness {
    static func symIdentity(_ username: String) -> [String: Any] {
        ["service_type": "sym", "external_id": "cloud", "matcher": ["username": username], "profile": [:]]
    }

    /// Creates (or updates) a bot as `symflow bots create` does; returns its id.
    func createSymBot(_ name: String, id: String = UUID().uuidString.lowercased()) async throws -> String {
        let reply = try await call(
            .PATCH, "/api/v1/users", token: SymRoutesTests.adminToken,
            json: ["users": [["id": id, "identities": [Self.symIdentity(name)], "type": "bot"]]])
        #expect(reply.status == 200 && reply.json?["succeeded"] as? Int == 1, "\(reply)")
        let bots = try await symUsers("?type=bot")
        let bot = bots.first {
            (($0["identities"] as? [[String: Any]])?.first?["matcher"] as? [String: String])?["username"] == name
        }
        return try #require(bot?["id"] as? String)
    }

    func symUsers(_ query: String) async throws -> [[String: Any]] {
        let reply = try await call(.GET, "/api/v1/users\(query)", token: SymRoutesTests.adminToken)
        return try #require(reply.json?["users"] as? [[String: Any]], "\(reply)")
    }

    func issueSymToken(_ username: String, expiry: Int) async throws -> String {
        let reply = try await call(
            .POST, "/api/v1/tokens", token: SymRoutesTests.adminToken, json: ["username": username, "expiry": expiry])
        return try #require(reply.json?["access_token"] as? String, "status \(reply.status)")
    }

    func liveSymTokens() async throws -> [[String: Any]] {
        let reply = try await call(.GET, "/api/v1/tokens", token: SymRoutesTests.adminToken)
        return try #require(reply.json?["tokens"] as? [[String: Any]], "\(reply)")
    }
}
