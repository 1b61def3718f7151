import Foundation
import NIOHTTP1
import Testing

@Suite("drift and import, end to end (built binary, sandbox process)", .serialized, .timeLimit(.minutes(10)))
struct DriftImportEndToEndTests {
    static func bots(_ names: [String], extra: String = "") -> String {
        names.map { "  \($0):\n    roles: [reader]\n\(extra)" }.joined(separator: "\n")
    }

    static func json(_ result: BotformProcess.Result) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result)")
    }

    static func findings(_ object: [String: Any], _ key: String = "findings") -> [[String: Any]] {
        object[key] as? [[String: Any]] ?? []
    }

    static func rows(_ object: [String: Any], _ key: String = "findings") -> [String] {
        findings(object, key).map { "\($0["kind"] ?? "") \($0["address"] ?? "")" }
    }

    /// Registers a bot directly through the sandbox's API, as someone working outside Botform would.
    static func registerOutside(
        _ sandbox: SandboxProcess, _ name: String, _ entities: [String: [String]] = ["products": ["read"]],
        token: String
    ) async throws -> [String: Any] {
        let reply = try await sandbox.call(
            .POST, "/api/auth/bots/register",
            ["name": name, "tenantSlug": "sandbox", "permissions": ["entities": entities]], token: token)
        #expect(reply.status == 201, "registering \(name) outside Botform")
        return try #require((reply.json as? [String: Any])?["data"] as? [String: Any])
    }

    @Test("an unmanaged bot is a finding (exit 2) with the same fingerprint every run; ignored with a reason: exit 0")
    func unmanagedAndIgnore() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha", "beta"]))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)

        let clean = try workspace.run(["drift"])
        #expect(clean.status == 0, "\(clean)")
        #expect(clean.stdout.contains("No drift"))

        _ = try await Self.registerOutside(sandbox, "legacy-bot", token: try await sandbox.adminToken())
        try await sandbox.call(.DELETE, "/_sandbox/requests")
        let first = try workspace.run(["drift", "--format", "json"])
        #expect(first.status == 2, "\(first)")
        let report = try Self.json(first)
        #expect(report["format_version"] as? Int == 1)
        #expect(Self.rows(report) == ["unmanaged prod/legacy-bot"])
        let fingerprint = try #require(Self.findings(report).first?["fingerprint"] as? String)
        #expect(fingerprint.count == 64)
        let calls = try await sandbox.requestLog().map { "\($0["method"] ?? "") \($0["path"] ?? "")" }
        #expect(
            calls.allSatisfy { $0.hasPrefix("GET ") || $0 == "POST /api/auth/login" }, "drift changes nothing: \(calls)"
        )

        let second = try Self.json(try workspace.run(["drift", "--format", "json"]))
        #expect(Self.findings(second).first?["fingerprint"] as? String == fingerprint, "stable across runs")

        let markdown = try workspace.run(["drift", "--format", "markdown"])
        #expect(markdown.status == 2)
        #expect(markdown.stdout.hasPrefix("<!-- botform:drift config=botform.yaml -->"), "\(markdown.stdout)")
        #expect(
            markdown.stdout.contains("`prod/legacy-bot`") && markdown.stdout.contains(String(fingerprint.prefix(12))))
        let summary = workspace.path("summary.md")
        let onRunner = try workspace.run(["drift", "--format", "json"], environment: ["GITHUB_STEP_SUMMARY": summary])
        #expect(onRunner.status == 2)
        let appended = try String(contentsOfFile: summary, encoding: .utf8)
        #expect(
            appended.hasPrefix("<!-- botform:drift config=botform.yaml -->")
                && appended.contains(fingerprint.prefix(12)))
        let text = try workspace.run(["drift"])
        #expect(
            text.status == 2 && text.stdout.contains("prod/legacy-bot: unmanaged bot")
                && text.stdout.contains(fingerprint))

        // Accepted, with a reason: listed apart, exit 0.
        try workspace.configure(
            bots: Self.bots(["alpha", "beta"]),
            extra:
                "ignore:\n  - bot: prod/legacy-bot\n    reason: owned by the data team\n  - bot: prod/retired\n    reason: gone"
        )
        let ignored = try workspace.run(["drift", "--format", "json"])
        #expect(ignored.status == 0, "\(ignored)")
        let accepted = try Self.json(ignored)
        #expect(Self.findings(accepted).isEmpty)
        #expect(Self.findings(accepted, "ignored").first?["ignore_reason"] as? String == "owned by the data team")
        #expect(Self.findings(accepted, "ignored").first?["fingerprint"] as? String == fingerprint)
        #expect(ignored.stderr.contains("ignore entry \"prod/retired\" matched no finding"), "\(ignored.stderr)")

        // Without a reason: a located error, exit 1.
        try workspace.configure(bots: Self.bots(["alpha", "beta"]), extra: "ignore:\n  - bot: prod/legacy-bot")
        let invalid = try workspace.run(["drift"])
        #expect(invalid.status == 1, "\(invalid)")
        #expect(
            invalid.stderr.range(
                of: #"botform\.yaml:\d+:\d+: error: an entry of "ignore" is missing required key "reason""#,
                options: .regularExpression) != nil, "\(invalid.stderr)")
    }

    @Test("a secret past rotate_every is a finding; so is a managed bot revoked outside Botform")
    func rotationAndRevocation() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha", "beta"], extra: "    rotate_every: 30d"))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        #expect(try workspace.run(["drift"]).status == 0)

        // 40 days pass. Rotation ages count from the sealed file's issued_at to the service's clock when the
        // provider reports it, else Botform's: move both (the sandbox's clock and the recorded issue time).
        try await sandbox.call(.POST, "/_sandbox/clock/advance", ["seconds": 40 * 86_400])
        let sealed = workspace.path("secrets.sealed.yaml")
        let text = try String(contentsOfFile: sealed, encoding: .utf8)
        let earlier = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-40 * 86_400))
        let backdated = text.replacingOccurrences(
            of: #"issued_at: \S+"#, with: "issued_at: \(earlier)", options: .regularExpression)
        #expect(backdated != text)
        try backdated.write(toFile: sealed, atomically: true, encoding: .utf8)
        let due = try workspace.run(["drift", "--format", "json"])
        #expect(due.status == 2, "\(due)")
        #expect(Self.rows(try Self.json(due)) == ["rotation_due prod/alpha", "rotation_due prod/beta"])

        let admin = try await sandbox.adminToken()
        let listed = (try await sandbox.data(.GET, "/api/auth/bots", token: admin)) as? [[String: Any]] ?? []
        let beta = try #require(listed.first { $0["name"] as? String == "beta" }?["id"] as? String)
        try await sandbox.call(.POST, "/api/auth/bots/\(beta)/revoke", token: admin)
        let revoked = Self.rows(try Self.json(try workspace.run(["drift", "--format", "json"])))
        #expect(revoked.contains("revoked_outside_botform prod/beta"), "\(revoked)")
    }

    @Test("--verify: one identify per bot, never retried; a secret changed outside Botform is a finding")
    func verify() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        try await sandbox.call(.PUT, "/_sandbox/settings", ["recordIssuedSecrets": true])
        let workspace = try Workspace(sandbox: sandbox)
        let names = ["alpha", "beta", "gamma"]
        try workspace.configure(bots: Self.bots(names))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)

        #expect(try workspace.run(["drift", "-i", "key.txt"]).status == 64, "-i without --verify is a usage error")
        let noKey = try workspace.run(["drift", "--verify"])
        #expect(noKey.status == 1 && noKey.stderr.contains("no identity"), "\(noKey)")

        try await sandbox.call(.DELETE, "/_sandbox/requests")
        let good = try workspace.run(["drift", "--verify", "-i", "key.txt", "--format", "json"])
        #expect(good.status == 0, "\(good)")
        let verification = try Self.json(good)["verification"] as? [String: Any]
        #expect(verification?["checked"] as? Int == 3 && verification?["failed"] as? Int == 0)

        // Someone resets beta's secret outside Botform: the sealed one no longer works.
        let admin = try await sandbox.adminToken()
        let listed = (try await sandbox.data(.GET, "/api/auth/bots", token: admin)) as? [[String: Any]] ?? []
        let beta = try #require(listed.first { $0["name"] as? String == "beta" }?["id"] as? String)
        #expect(try await sandbox.call(.POST, "/api/auth/bots/\(beta)/reset-secret", token: admin).status == 200)

        try await sandbox.call(.DELETE, "/_sandbox/requests")
        let bad = try workspace.run(["drift", "--verify", "-i", "key.txt", "--format", "json"])
        #expect(bad.status == 2, "\(bad)")
        let report = try Self.json(bad)
        #expect(Self.rows(report) == ["credential_rejected prod/beta"])
        let identifies = try await sandbox.requestLog().filter { $0["path"] as? String == "/api/auth/bots/identify" }
        #expect(identifies.count == names.count, "exactly one identify per bot: \(identifies.count)")
        #expect(identifies.filter { $0["status"] as? Int == 401 }.count == 1, "only beta's failed, once")
        let stored = (try await sandbox.data(.GET, "/_sandbox/tenants/sandbox/bots")) as? [[String: Any]] ?? []
        let attempts = stored.first { $0["name"] as? String == "beta" && $0["isActive"] as? Bool == true }
        #expect(
            attempts?["failedAttempts"] as? Int == 1, "one failure toward the lockout: \(String(describing: attempts))")

        let again = try Self.json(try workspace.run(["drift", "--verify", "-i", "key.txt", "--format", "json"]))
        #expect(
            Self.findings(again).first?["fingerprint"] as? String == Self.findings(report).first?["fingerprint"]
                as? String)
        try workspace.expectNoLeaks(try await sandbox.issuedSecrets())
    }

    @Test("import a tenant of 200 bots: roles for shared permission sets; the next plan only adopts, zero resets")
    func importTenant() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        let admin = try await sandbox.adminToken()
        let shapes: [[String: [String]]] = [
            ["products": ["read"]], ["products": ["read", "update"], "inventory": ["create", "read"]],
            ["orders": ["read"], "customers": ["read"]], [:],
        ]
        for index in 0..<200 {
            let entities =
                index % 50 == 7 ? ["audit_log": ["read", "delete"], "unique\(index)": ["read"]] : shapes[index % 4]
            _ = try await Self.registerOutside(
                sandbox, String(format: "tenant-bot-%03d", index), entities, token: admin)
        }
        try workspace.configure(bots: "")

        let printed = try workspace.run(["import", "--provider", "prod"])
        #expect(printed.status == 0, "\(printed)")
        #expect(printed.stdout.hasPrefix("# Written by botform import from provider \"prod\""))
        #expect(printed.stderr.contains("Imported 200 bots (3 shared roles) from prod"), "\(printed.stderr)")
        #expect(printed.stdout.contains("  products-read:\n"), "a shared set becomes a named role")

        #expect(try workspace.run(["import", "--provider", "prod", "--out", "imported.yaml"]).status == 0)
        let refused = try workspace.run(["import", "--provider", "prod", "--out", "imported.yaml"])
        #expect(refused.status == 1 && refused.stderr.contains("--force"), "\(refused)")
        let forced = try workspace.run(["import", "--provider", "prod", "--out", "imported.yaml", "--force"])
        #expect(forced.status == 0 && forced.stderr.contains("Imported 200 bots"), "\(forced)")
        #expect(try String(contentsOfFile: workspace.path("imported.yaml"), encoding: .utf8) == printed.stdout)
        let unknown = try workspace.run(["import", "--provider", "prdo"])
        #expect(unknown.status == 64 && unknown.stderr.contains("did you mean \"prod\""), "\(unknown)")

        let plan = try workspace.run(["plan", ".", "--format", "json"])
        #expect(plan.status == 0, "\(plan)")
        let document = try Self.json(plan)
        let actions = document["actions"] as? [[String: Any]] ?? []
        #expect(actions.count == 200)
        #expect(actions.allSatisfy { $0["action"] as? String == "adopt" }, "only adoptions")
        let summary = document["summary"] as? [String: Int] ?? [:]
        #expect(summary["adopt"] == 200 && summary["reset"] == 0 && summary["replace"] == 0 && summary["register"] == 0)

        #expect(try workspace.run(["apply", ".", "--auto-approve"]).status == 0)
        #expect(try workspace.run(["plan", ".", "--detailed-exitcode"]).status == 0)
        #expect(try workspace.run(["drift", "."]).status == 0)
    }
}
