import BotformTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The paths production hits, run as a user runs them: saved plans at size, recipients that change,
/// refusals in the middle of a rotation, a provider pointed elsewhere, a lock that cannot be taken.
@Suite("production trust, end to end (built binary, sandbox process)", .serialized, .timeLimit(.minutes(5)))
struct ProductionTrustEndToEndTests {
    static func bots(_ names: [String], extra: String = "") -> String {
        names.map { "  \($0):\n    roles: [reader]\n\(extra)" }.joined(separator: "\n")
    }

    static func names(_ count: Int) -> [String] { (1...count).map { String(format: "agent-%03d", $0) } }

    /// Runs the binary off the test's task, so the test can act on the sandbox while it runs.
    static func background(_ workspace: Workspace, _ arguments: [String], environment: [String: String] = [:])
        async throws -> BotformProcess.Result
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try workspace.run(arguments, environment: environment) })
            }
        }
    }

    @Test("plan --out then apply FILE at 60 bots: decoded, not sniffed; no prompt; guards agree with plan")
    func savedPlanAtSize() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        let names = Self.names(60)
        try workspace.configure(
            bots: Self.bots(names) + "\n  guarded:\n    roles: [reader]\n    protect: true")
        let planned = try workspace.run(["plan", "--out", "plan.json"])
        #expect(planned.status == 0, "\(planned)")
        // No --auto-approve and no terminal: a saved plan was the review, so apply does not ask.
        let applied = try workspace.run(["apply", "plan.json"])
        #expect(applied.status == 0, "\(applied)")
        #expect(applied.stdout.contains("Apply complete! 61 registered"), "\(applied.stdout)")
        #expect(!applied.stderr.contains("unknown key"))
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)

        // The protected bot changes: blocked in the saved plan, lifted by a bare name at apply, as at plan.
        try workspace.configure(
            bots: Self.bots(names)
                + "\n  guarded:\n    roles: [reader]\n    protect: true\n    permissions: {orders: [read]}")
        #expect(try workspace.run(["plan", "--out", "blocked.json"]).status == 0)
        let misspelledAtPlan = try workspace.run(["plan", "--allow-destroy", "gaurded"])
        let misspelledAtApply = try workspace.run(["apply", "blocked.json", "--allow-destroy", "gaurded"])
        #expect(misspelledAtPlan.status == 64 && misspelledAtApply.status == 64, "\(misspelledAtApply)")
        #expect(misspelledAtApply.stderr.contains("did you mean"), "\(misspelledAtApply)")
        // The file's options edited to allow what its actions show blocked: the plan no longer matches.
        var blockedPlan = try #require(
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: workspace.path("blocked.json")))) as? [String: Any])
        var options = try #require(blockedPlan["options"] as? [String: Any])
        options["allow_destroy"] = ["prod/guarded"]
        blockedPlan["options"] = options
        try JSONSerialization.data(withJSONObject: blockedPlan).write(
            to: URL(fileURLWithPath: workspace.path("unblocked.json")))
        let forged = try workspace.run(["apply", "unblocked.json"])
        #expect(forged.status == 4 && forged.stderr.contains("prod/guarded"), "\(forged)")

        let refused = try workspace.run(["apply", "blocked.json"])
        #expect(refused.status == 1 && refused.stderr.contains("protected"), "\(refused)")
        let allowed = try workspace.run(["apply", "blocked.json", "--allow-destroy", "guarded"])
        #expect(allowed.status == 0 && allowed.stdout.contains("1 replaced"), "\(allowed)")

        // An edited plan (a revoke added by hand) is not what the configuration calls for: stale, nothing done.
        #expect(try workspace.run(["plan", "--out", "clean.json"]).status == 0)
        var document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: workspace.path("clean.json"))))
                as? [String: Any])
        let sealedText = try String(contentsOfFile: workspace.path("secrets.sealed.yaml"), encoding: .utf8)
        let idLine = try #require(
            sealedText.components(separatedBy: "prod/agent-001:\n")[1].split(separator: "\n").first {
                $0.hasPrefix("    id: ")
            })
        let id = String(idLine.dropFirst("    id: ".count))
        document["actions"] = [
            [
                "action": "revoke", "address": "prod/agent-001", "bot": "agent-001", "bot_id": id,
                "provider": "prod", "reasons": [["code": "removed_from_configuration", "message": "edited"]],
            ]
        ]
        try JSONSerialization.data(withJSONObject: document).write(
            to: URL(fileURLWithPath: workspace.path("edited.json")))
        let edited = try workspace.run(["apply", "edited.json"])
        #expect(edited.status == 4 && edited.stderr.contains("prod/agent-001"), "\(edited)")
        #expect(try await sandbox.activeBots().contains("agent-001"), "nothing was revoked")

        // A damaged plan file is an error about the plan, not a pile of configuration errors.
        try "{\"format_version\": \"1.0\", \"actions\": 3}".write(
            toFile: workspace.path("damaged.json"), atomically: true, encoding: .utf8)
        let damaged = try workspace.run(["apply", "damaged.json"])
        #expect(damaged.status == 1 && damaged.stderr.contains("damaged Botform plan"), "\(damaged)")
    }

    @Test("a recipient leaves: plan shows the re-wrap, apply needs a key, the removed key opens nothing after")
    func recipientRotation() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        let old = try #require(workspace.environment["BOTFORM_RECIPIENTS"])
        #expect(try workspace.run(["keygen", "-o", "new.txt"]).status == 0)
        let new = try workspace.run(["keygen", "-y", "new.txt"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try workspace.configure(bots: Self.bots(["alpha", "beta", "gamma"]))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        let sealedPath = workspace.path("secrets.sealed.yaml")

        workspace.environment["BOTFORM_RECIPIENTS"] = new
        let plan = try workspace.run(["plan", "--detailed-exitcode"])
        #expect(plan.status == 2, "a re-wrap is a change: \(plan)")
        #expect(plan.stdout.contains("3 sealed secrets will be re-wrapped"), "\(plan.stdout)")
        #expect(plan.stdout.contains("+ recipient \(new)") && plan.stdout.contains("- recipient \(old)"))
        #expect(plan.stdout.contains("git history") && plan.stdout.contains("--rotate"))

        let before = try Data(contentsOf: URL(fileURLWithPath: sealedPath))
        let declined = try workspace.run(["apply"])
        #expect(declined.status == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: sealedPath)) == before, "a declined apply writes nothing")

        let keyless = try workspace.run(["apply", "--auto-approve"])
        #expect(keyless.status == 3, "\(keyless)")
        #expect(keyless.stderr.contains("pass -i"), "\(keyless)")
        let header = String(decoding: try Data(contentsOf: URL(fileURLWithPath: sealedPath)), as: UTF8.self)
        #expect(!header.contains(new), "the header never claims a recipient no entry is sealed to")

        let rewrapped = try workspace.run(["apply", "--auto-approve", "-i", "key.txt"])
        #expect(rewrapped.status == 0 && rewrapped.stdout.contains("3 sealed secrets re-wrapped"), "\(rewrapped)")
        let removed = try workspace.run(["unseal", "secrets.sealed.yaml", "-i", "key.txt"])
        #expect(removed.status == 1, "the removed key opens nothing")
        let added = try workspace.run(["unseal", "secrets.sealed.yaml", "-i", "new.txt", "--format", "json"])
        #expect(added.status == 0)
        let secrets = try JSONSerialization.jsonObject(with: Data(added.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(secrets.count == 3, "the added key opens everything")
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)

        // Both keys: reseal does only the re-wrap, and calls no service.
        workspace.environment["BOTFORM_RECIPIENTS"] = "\(old),\(new)"
        #expect(try workspace.run(["reseal"]).status == 1, "reseal needs a key")
        try await sandbox.call(.DELETE, "/_sandbox/requests")
        let resealed = try workspace.run(["reseal", "-i", "new.txt"])
        #expect(resealed.status == 0 && resealed.stdout.contains("Re-wrapped 3 sealed secrets"), "\(resealed)")
        #expect(try await sandbox.requestLog().isEmpty, "reseal calls no service")
        for key in ["key.txt", "new.txt"] {
            #expect(try workspace.run(["unseal", "secrets.sealed.yaml", "-i", key]).status == 0, "\(key) opens all")
        }
    }

    @Test("the session expires mid-rotation (401): every refused reset keeps its still-valid secret")
    func refusedRotation() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        try await sandbox.call(.PUT, "/_sandbox/settings", ["recordIssuedSecrets": true])
        let workspace = try Workspace(sandbox: sandbox)
        let names = Self.names(6)
        try workspace.configure(bots: Self.bots(names))
        // A static token (no password to log in again with): an expired session is a definite 401.
        var text = try String(contentsOfFile: workspace.path("botform.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(
            of: "email_env: FYSO_EMAIL\n      password_env: FYSO_PASSWORD", with: "token_env: FYSO_TOKEN")
        try text.write(toFile: workspace.path("botform.yaml"), atomically: true, encoding: .utf8)
        workspace.environment["FYSO_TOKEN"] = try await sandbox.adminToken()
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        let held = try workspace.unsealed()
        #expect(held.count == 6)

        // Slow resets, one at a time; the clock passes the session's expiry while the rotation runs.
        try await sandbox.call(.PUT, "/_sandbox/faults", ["latencyMs": 700, "pathPrefix": "/api/auth/bots/"])
        let rotate = names.flatMap { ["--rotate", $0] }
        try await sandbox.call(.DELETE, "/_sandbox/requests")
        async let run = Self.background(workspace, ["apply", "--auto-approve", "--parallelism", "1"] + rotate)
        // Once the first reset has gone through, the next one is in flight: expire the session then.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let log = try await sandbox.requestLog()
            if log.contains(where: {
                ($0["path"] as? String)?.hasSuffix("/reset-secret") == true && $0["status"] as? Int == 200
            }) {
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try await sandbox.call(.POST, "/_sandbox/clock/advance", ["seconds": 90_000])
        let result = try await run
        #expect(result.status == 3, "\(result)")
        #expect(result.stderr.contains("401"), "\(result)")
        try await sandbox.call(.DELETE, "/_sandbox/faults")

        // Every bot's sealed secret works: refused ones kept theirs, the reset ones hold the new one.
        workspace.environment["FYSO_TOKEN"] = try await sandbox.adminToken()
        let after = try workspace.unsealed()
        #expect(after.count == 6, "no secret was dropped")
        let kept = names.filter { after["prod/\($0)"] == held["prod/\($0)"] }
        #expect(!kept.isEmpty && kept.count < 6, "some resets were refused, some went through: \(kept)")
        for (address, secret) in after {
            #expect(try await sandbox.identifies(String(address.split(separator: "/")[1]), secret), "\(address)")
        }
        let plan = try workspace.run(["plan", "--detailed-exitcode"])
        #expect(plan.status == 0, "nothing is secret_lost: \(plan)")
        try workspace.expectNoLeaks(try await sandbox.issuedSecrets())
    }

    @Test("a refused registration (4xx) and an unreachable service leave the sealed file as it was")
    func refusedAndUnreachable() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha"]))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        let sealedPath = workspace.path("secrets.sealed.yaml")
        let before = try Data(contentsOf: URL(fileURLWithPath: sealedPath))

        // Every reset refused with a 4xx: the held secret stays, and the file is unchanged byte for byte.
        try await sandbox.call(
            .PUT, "/_sandbox/faults", ["errorRate": 1, "errorStatus": 403, "pathPrefix": "/api/auth/bots/"])
        let refused = try workspace.run(["apply", "--auto-approve", "--rotate", "alpha"])
        #expect(refused.status == 3, "\(refused)")
        try await sandbox.call(.DELETE, "/_sandbox/faults")
        let entry = try workspace.unsealed()
        #expect(entry.count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: sealedPath)) == before, "an aborted reset folds back")
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0, "no secret_lost after a refusal")

        // The service down before anything is sent: nothing changes, byte for byte.
        try workspace.configure(bots: Self.bots(["alpha", "beta"]))
        sandbox.stop()
        let unreachable = try workspace.run(["apply", "--auto-approve"])
        #expect(unreachable.status == 1, "\(unreachable)")
        #expect(try workspace.unsealed() == entry)
        #expect(try Data(contentsOf: URL(fileURLWithPath: sealedPath)) == before, "byte for byte")
    }

    @Test("a provider pointed at another tenant is refused naming --allow-move; spelling changes are not a move")
    func movedProvider() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha", "beta"]))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        let sealedPath = workspace.path("secrets.sealed.yaml")
        let sealed = try String(contentsOfFile: sealedPath, encoding: .utf8)
        #expect(
            sealed.contains(
                "providers:\n  prod:\n    type: fyso\n    endpoint: \"\(sandbox.url)\"\n    tenant: sandbox"))

        let config = try String(contentsOfFile: workspace.path("botform.yaml"), encoding: .utf8)
        // The same service, spelled differently: not a move.
        let respelled = "url: HTTP://" + sandbox.url.dropFirst("http://".count) + "/"
        try config.replacingOccurrences(of: "url: \(sandbox.url)", with: respelled)
            .write(toFile: workspace.path("botform.yaml"), atomically: true, encoding: .utf8)
        let same = try workspace.run(["plan", "--detailed-exitcode"])
        #expect(same.status == 0, "\(same)")

        // Another tenant: refused, nothing planned, nothing changed.
        try await sandbox.call(.POST, "/_sandbox/tenants", ["slug": "elsewhere", "name": "Elsewhere"])
        try config.replacingOccurrences(of: "tenant: sandbox", with: "tenant: elsewhere")
            .write(toFile: workspace.path("botform.yaml"), atomically: true, encoding: .utf8)
        let moved = try workspace.run(["plan"])
        #expect(moved.status == 1 && moved.stderr.contains("--allow-move prod"), "\(moved)")
        let applied = try workspace.run(["apply", "--auto-approve"])
        #expect(applied.status == 1)
        #expect(try String(contentsOfFile: sealedPath, encoding: .utf8) == sealed)
        let deliberate = try workspace.run(["plan", "--allow-move", "prod"])
        #expect(deliberate.status == 0 && deliberate.stdout.contains("2 to register"), "\(deliberate)")

        // A sealed file from before the record existed is read as before, and upgraded on its next write.
        try config.write(toFile: workspace.path("botform.yaml"), atomically: true, encoding: .utf8)
        let legacy = sealed.replacingOccurrences(
            of: "providers:\n  prod:\n    type: fyso\n    endpoint: \"\(sandbox.url)\"\n    tenant: sandbox\n", with: ""
        )
        #expect(legacy != sealed)
        try legacy.write(toFile: sealedPath, atomically: true, encoding: .utf8)
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)
        try workspace.configure(bots: Self.bots(["alpha", "beta", "gamma"]))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        #expect(try String(contentsOfFile: sealedPath, encoding: .utf8).contains("providers:\n  prod:"))
    }

    @Test("a lock that cannot be taken for another reason than a holder is exit 1, not 5")
    func lockFailure() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha"]))
        try FileManager.default.createDirectory(
            atPath: workspace.path("secrets.sealed.yaml.lock"), withIntermediateDirectories: true)
        let result = try workspace.run(["apply", "--auto-approve"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains("secrets.sealed.yaml.lock"))

        // A CI secret set to the wrong value (a token, not a key) is never printed.
        try FileManager.default.removeItem(atPath: workspace.path("secrets.sealed.yaml.lock"))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        let token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
        let wrong = try workspace.run(["unseal", "secrets.sealed.yaml"], environment: ["BOTFORM_IDENTITY": token])
        #expect(wrong.status == 1 && !wrong.stderr.contains(token) && !wrong.stderr.contains("ghp_"), "\(wrong)")

        // A private key pasted where a path or a name goes is refused, never quoted back, and creates nothing.
        let key = try #require(
            try String(contentsOfFile: workspace.path("key.txt"), encoding: .utf8).split(separator: "\n").first {
                $0.hasPrefix("AGE-SECRET-KEY-")
            }.map(String.init))
        for arguments in [
            ["validate", key], ["plan", key], ["apply", key], ["show", key], ["plan", "--target", key],
            ["plan", "--rotate", key], ["plan", "--allow-destroy", key], ["plan", "--allow-move", key],
            ["sandbox", "--port", "0", "--data", key], ["unseal", "secrets.sealed.yaml", key],
        ] {
            let result = try workspace.run(arguments)
            #expect(result.status != 0, "\(arguments.dropLast())")
            #expect(
                !(result.stdout + result.stderr).uppercased().contains("AGE-SECRET-KEY"),
                "\(arguments.dropLast()) echoed the key")
        }
        let created = try FileManager.default.contentsOfDirectory(atPath: workspace.directory.path)
        #expect(!created.contains { $0.uppercased().contains("AGE-SECRET") })
    }
}
