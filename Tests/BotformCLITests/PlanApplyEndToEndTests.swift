import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("plan and apply, end to end (built binary, sandbox process)", .serialized, .timeLimit(.minutes(5)))
struct PlanApplyEndToEndTests {
    static func bots(_ names: [String], extra: String = "") -> String {
        names.map { "  \($0):\n    roles: [reader]\n\(extra)" }.joined(separator: "\n")
    }

    @Test(
        "fresh tenant → apply → no changes → edit → exactly that change → apply → converged; secrets work and never leak"
    )
    func lifecycle() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        try await sandbox.call(.PUT, "/_sandbox/settings", ["recordIssuedSecrets": true, "botListPageSize": 10])
        let workspace = try Workspace(sandbox: sandbox)
        let names = (1...24).map { String(format: "agent-%02d", $0) }
        try workspace.configure(bots: Self.bots(names))

        let plan = try workspace.run(["plan", "--detailed-exitcode"])
        #expect(plan.status == 2, "\(plan)")
        #expect(plan.stdout.contains("Plan: 24 to register, 0 to replace, 0 to reset, 0 to revoke."))
        try await sandbox.call(.DELETE, "/_sandbox/requests")

        let apply = try workspace.run(["apply", "--auto-approve"])
        #expect(apply.status == 0, "\(apply)")
        #expect(apply.stdout.contains("Apply complete! 24 registered"))
        #expect(apply.stderr.contains("prod/agent-01: registered after"))
        // Progress lines go out through their own thread while the calls run: every one of them, each
        // bot's "registering" before its "registered", all before the summary on stdout was written.
        let progress = apply.stderr.split(separator: "\n").map(String.init)
        for name in names {
            let started = progress.firstIndex(of: "prod/\(name): registering...")
            let done = progress.firstIndex { $0.hasPrefix("prod/\(name): registered after") }
            #expect(started != nil && done != nil && started! < done!, "\(name): \(apply.stderr)")
            #expect(progress.filter { $0.hasPrefix("prod/\(name): ") }.count == 2, "\(name)")
        }
        let lists = try await sandbox.requestLog().filter {
            $0["path"] as? String == "/api/auth/bots" && $0["method"] as? String == "GET"
        }
        #expect(lists.count == 1, "observing an empty tenant is one list call")

        try await sandbox.call(.DELETE, "/_sandbox/requests")
        let converged = try workspace.run(["plan", "--detailed-exitcode"])
        #expect(converged.status == 0, "\(converged)")
        #expect(converged.stdout.contains("No changes."))
        let pages = try await sandbox.requestLog().filter { $0["path"] as? String == "/api/auth/bots" }
        #expect(pages.count == 3, "24 bots in pages of 10: three list calls, not one per bot")

        // Edit: one bot gains a permission.
        try workspace.configure(
            bots: Self.bots(Array(names.dropFirst()))
                + "\n  agent-01:\n    roles: [reader]\n    permissions: {orders: [read]}")
        let edited = try workspace.run(["plan"])
        #expect(edited.stdout.contains("Plan: 0 to register, 1 to replace, 0 to reset, 0 to revoke."), "\(edited)")
        #expect(edited.stdout.contains("# prod/agent-01 will be replaced: permissions changed: orders +read"))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)

        // Remove one bot; rotate another.
        try workspace.configure(
            bots: Self.bots(Array(names.dropFirst().dropLast()))
                + "\n  agent-01:\n    roles: [reader]\n    permissions: {orders: [read]}")
        let removal = try workspace.run(["plan", "--rotate", "agent-02", "--format", "json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(removal.stdout.utf8)) as? [String: Any])
        let actions = (document["actions"] as? [[String: Any]] ?? []).map {
            "\($0["action"] ?? "") \($0["address"] ?? "")"
        }
        #expect(actions == ["reset prod/agent-02", "revoke prod/agent-24"])
        #expect(try workspace.run(["apply", "--auto-approve", "--rotate", "agent-02"]).status == 0)
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)

        // Every held secret identifies its bot; the service holds exactly the declared bots.
        let secrets = try workspace.unsealed()
        #expect(secrets.count == 23)
        for (address, secret) in secrets {
            #expect(try await sandbox.identifies(String(address.split(separator: "/")[1]), secret), "\(address)")
        }
        #expect(try await sandbox.activeBots() == names.dropLast().sorted())
        #expect(
            try FileManager.default.attributesOfItem(atPath: workspace.path("secrets.sealed.yaml"))[.posixPermissions]
                as? Int == 0o600)
        try workspace.expectNoLeaks(try await sandbox.issuedSecrets())
    }

    @Test("markdown and saved plans: plan --out, show, apply FILE; a stale plan is refused with exit 4 naming the bot")
    func savedPlans() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha", "beta"]))
        let saved = try workspace.run(["plan", "--out", "plan.json", "--format", "markdown"])
        #expect(
            saved.status == 0 && saved.stdout.hasPrefix("<!-- botform:plan config=botform.yaml -->\n")
                && saved.stdout.contains("**2 to register"))
        let shown = try workspace.run(["show", "plan.json"])
        #expect(shown.status == 0 && shown.stdout.contains("+ bot \"prod/alpha\""))
        #expect(try workspace.run(["apply", "plan.json", "--auto-approve"]).status == 0)
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)

        // Plan a change, then someone revokes a bot behind Botform's back.
        try workspace.configure(bots: Self.bots(["alpha", "beta", "gamma"]))
        #expect(try workspace.run(["plan", "--out", "plan2.json"]).status == 0)
        let admin = try await sandbox.adminToken()
        let bots = (try await sandbox.data(.GET, "/api/auth/bots", token: admin)) as? [[String: Any]] ?? []
        let beta = try #require(bots.first { $0["name"] as? String == "beta" }?["id"] as? String)
        try await sandbox.call(.POST, "/api/auth/bots/\(beta)/revoke", token: admin)
        let stale = try workspace.run(["apply", "plan2.json", "--auto-approve"])
        #expect(stale.status == 4, "\(stale)")
        #expect(stale.stderr.contains("stale") && stale.stderr.contains("prod/beta"))
        #expect(!(try await sandbox.activeBots()).contains("gamma"), "nothing was applied")

        // A changed configuration makes a saved plan stale too.
        #expect(try workspace.run(["plan", "--out", "plan3.json"]).status == 0)
        try workspace.configure(bots: Self.bots(["alpha", "beta", "gamma", "delta"]))
        #expect(try workspace.run(["apply", "plan3.json", "--auto-approve"]).status == 4)
        #expect(try workspace.run(["apply", "plan3.json", "--target", "alpha", "--auto-approve"]).status == 64)
    }

    @Test("apply refuses without confirmation off a TTY, without recipients, and while blocked; nothing changes")
    func refusals() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha"]))
        let noTTY = try workspace.run(["apply"], stdin: "yes\n")
        #expect(noTTY.status == 1 && noTTY.stderr.contains("--auto-approve"), "\(noTTY)")
        let noRecipients = try workspace.run(["apply", "--auto-approve"], environment: ["BOTFORM_RECIPIENTS": ""])
        #expect(noRecipients.status == 1 && noRecipients.stderr.contains("no recipients"), "\(noRecipients)")
        #expect(try await sandbox.activeBots().isEmpty, "no refusal called the service")

        try workspace.configure(bots: "  guarded:\n    roles: [reader]\n    protect: true")
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        try workspace.configure(
            bots: "  guarded:\n    roles: [reader]\n    protect: true\n    permissions: {orders: [read]}")
        let blocked = try workspace.run(["apply", "--auto-approve"])
        #expect(blocked.status == 1 && blocked.stderr.contains("protected"), "\(blocked)")
        #expect(try workspace.run(["apply", "--auto-approve", "--allow-destroy", "prod/guarded"]).status == 0)

        try workspace.configure(bots: "", extra: "policy:\n  max_destroy: 0")
        let tooMany = try workspace.run(["apply", "--auto-approve"])
        #expect(tooMany.status == 1 && tooMany.stderr.contains("max_destroy"), "\(tooMany)")

        let missing = try workspace.run(["plan"], environment: ["FYSO_PASSWORD": ""])
        #expect(missing.status == 1 && missing.stderr.contains("FYSO_PASSWORD"), "\(missing)")
        #expect(!missing.stderr.contains(sandbox.adminPassword))
    }

    @Test("some actions fail while the rest complete: exit 3, and a rerun converges")
    func incomplete() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        try await sandbox.call(.PUT, "/_sandbox/settings", ["recordIssuedSecrets": true])
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha", "beta"]))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        try workspace.configure(bots: Self.bots(["alpha", "gamma"]))
        // Registrations fail; the revoke of beta succeeds.
        try await sandbox.call(.PUT, "/_sandbox/faults", ["errorRate": 1, "pathPrefix": "/api/auth/bots/register"])
        let partial = try workspace.run(["apply", "--auto-approve"])
        #expect(partial.status == 3, "\(partial)")
        #expect(partial.stdout.contains("Apply incomplete"))
        try await sandbox.call(.DELETE, "/_sandbox/faults")
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)
        #expect(try await sandbox.activeBots() == ["alpha", "gamma"])
        try workspace.expectNoLeaks(try await sandbox.issuedSecrets())
    }

    @Test("one apply at a time: a held lock is exit 5 naming its holder")
    func lock() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha"]))
        let fd = open(workspace.path("secrets.sealed.yaml.lock"), O_RDWR | O_CREAT, 0o600)
        #expect(flock(fd, LOCK_EX) == 0)
        let holder =
            "{\"pid\": 4242, \"host\": \"ci-runner\", \"started_at\": \"2026-11-23T10:00:00Z\", \"ci_run\": \"CI job 7\"}\n"
        _ = holder.withCString { write(fd, $0, strlen($0)) }
        let started = Date()
        let locked = try workspace.run(["apply", "--auto-approve", "--lock-timeout", "1s"])
        #expect(locked.status == 5, "\(locked)")
        #expect(locked.stderr.contains("pid 4242 on ci-runner") && locked.stderr.contains("CI job 7"))
        #expect(Date().timeIntervalSince(started) >= 1)
        flock(fd, LOCK_UN)
        close(fd)
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
    }

    @Test("unseal: env, json and raw; unknown bots and wrong keys are clear errors")
    func unseal() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try workspace.configure(bots: Self.bots(["alpha", "beta"]))
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        let env = try workspace.run(["unseal", "secrets.sealed.yaml", "-i", "key.txt"])
        #expect(
            env.stdout.split(separator: "\n").map { String($0.prefix { $0 != "=" }) } == [
                "PROD_ALPHA_SECRET", "PROD_BETA_SECRET",
            ])
        let raw = try workspace.run([
            "unseal", "secrets.sealed.yaml", "-i", "key.txt", "--bot", "prod/alpha", "--format", "raw",
        ])
        #expect(raw.stdout.trimmingCharacters(in: .newlines).count == 32)
        #expect(try await sandbox.identifies("alpha", raw.stdout.trimmingCharacters(in: .newlines)))
        let unknown = try workspace.run(["unseal", "secrets.sealed.yaml", "-i", "key.txt", "--bot", "prod/alpah"])
        #expect(unknown.status == 1 && unknown.stderr.contains("did you mean \"prod/alpha\""))
        #expect(try workspace.run(["keygen", "-o", "other.txt"]).status == 0)
        let wrong = try workspace.run(["unseal", "secrets.sealed.yaml", "-i", "other.txt"])
        #expect(wrong.status == 1 && wrong.stderr.contains("no identity matches"))
        #expect(try workspace.run(["keygen", "-o", "other.txt"]).status == 1, "keygen never overwrites")
        let fromEnvironment = try workspace.run(
            ["unseal", "secrets.sealed.yaml", "--bot", "prod/alpha", "--format", "raw"],
            environment: ["BOTFORM_IDENTITY": workspace.path("key.txt")])
        #expect(fromEnvironment.status == 0 && fromEnvironment.stdout == raw.stdout, "BOTFORM_IDENTITY as a file")
        let unreadable = try workspace.run(
            ["unseal", "secrets.sealed.yaml"], environment: ["BOTFORM_IDENTITY": workspace.path("missing.txt")])
        #expect(unreadable.status == 1 && unreadable.stderr.contains("BOTFORM_IDENTITY (its value is not shown)"))
        let mode =
            try FileManager.default.attributesOfItem(atPath: workspace.path("other.txt"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("url: embedded: the quick start works with no account, and its state persists between runs")
    func embedded() throws {
        let directory = try BotformProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(
            atPath: BotformProcess.packageRoot.appendingPathComponent("examples/quickstart/botform.yaml").path,
            toPath: directory.appendingPathComponent("botform.yaml").path)
        #expect(try BotformProcess.run(["keygen", "-o", "key.txt"], in: directory).status == 0)
        let recipient = try BotformProcess.run(["keygen", "-y", "key.txt"], in: directory).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let environment = ["BOTFORM_RECIPIENTS": recipient, "BOTFORM_SANDBOX_BCRYPT_COST": "4"]
        let apply = try BotformProcess.run(["apply", "--auto-approve"], in: directory, environment: environment)
        #expect(apply.status == 0, "\(apply)")
        #expect(apply.stdout.contains("Apply complete! 2 registered"))
        #expect(
            FileManager.default.fileExists(atPath: directory.appendingPathComponent(".botform/sandbox.sqlite").path))
        let again = try BotformProcess.run(["plan", "--detailed-exitcode"], in: directory, environment: environment)
        #expect(again.status == 0, "the embedded sandbox kept the bots: \(again)")
        #expect(!again.stderr.contains("error"), "\(again.stderr)")
    }
}
