import BotformTestSupport
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Sym through the built binary against `botform sandbox`: bots and their expiring tokens planned,
/// applied, renewed by the service's clock, and a Fyso and a Sym provider in one run, one sealed file.
@Suite("Sym end to end", .serialized)
struct SymEndToEndTests {
    static func configure(_ workspace: Workspace, sym bots: String, fyso: String = "") throws {
        let text = """
            version: 1
            providers:
              prod:
                type: fyso
                url: \(workspace.sandbox.url)
                tenant: sandbox
                credentials:
                  email_env: FYSO_EMAIL
                  password_env: FYSO_PASSWORD
              sym:
                type: sym
                url: \(workspace.sandbox.url)/api/v1
                credentials:
                  token_env: SYM_JWT
            roles:
              reader:
                permissions: {products: [read]}
            bots:
            \(bots)
            \(fyso)
            output:
              sealed: secrets.sealed.yaml
            """
        try text.write(toFile: workspace.path("botform.yaml"), atomically: true, encoding: .utf8)
    }

    static let twoBots = """
          ci-bot:
            provider: sym
            tokens:
              deploy: {expires_in: 30d, renew_before: 7d}
              read: {expires_in: 90d, renew_before: 10d}
          nightly:
            provider: sym
            tokens:
              main: {expires_in: 10d, renew_before: 2d}
        """

    /// The sandbox's live Sym tokens: id → (bot user id, label).
    static func liveTokens(_ sandbox: SandboxProcess) async throws -> [String: String] {
        let result = try await sandbox.call(.GET, "/api/v1/tokens", token: sandbox.symToken)
        let tokens = (result.json as? [String: Any])?["tokens"] as? [[String: Any]] ?? []
        var found: [String: String] = [:]
        for token in tokens {
            if let id = token["identifier"] as? String { found[id] = token["label"] as? String ?? "" }
        }
        return found
    }

    static func symBots(_ sandbox: SandboxProcess) async throws -> [String] {
        let result = try await sandbox.call(.GET, "/api/v1/users?type=bot", token: sandbox.symToken)
        let users = (result.json as? [String: Any])?["users"] as? [[String: Any]] ?? []
        return users.compactMap { user in
            ((user["identities"] as? [[String: Any]])?.first?["matcher"] as? [String: Any])?["username"] as? String
        }.sorted()
    }

    /// Sealed token ids by address, from `botform show`-independent reading of the sealed file's YAML.
    static func sealedIDs(_ workspace: Workspace) throws -> [String: String] {
        let text = try String(contentsOfFile: workspace.path("secrets.sealed.yaml"), encoding: .utf8)
        var ids: [String: String] = [:]
        var address: String?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("  "), !line.hasPrefix("   "), line.hasSuffix(":") {
                address = String(line.dropFirst(2).dropLast()).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            } else if line.hasPrefix("    id: "), let address {
                ids[address] = String(line.dropFirst(8))
            }
        }
        return ids
    }

    func workspace() throws -> (SandboxProcess, Workspace) {
        let sandbox = try SandboxProcess()
        let workspace = try Workspace(sandbox: sandbox)
        workspace.environment["SYM_JWT"] = sandbox.symToken
        return (sandbox, workspace)
    }

    @Test("plan/apply converges; advancing the service's clock renews exactly the tokens due, new sealed first")
    func convergeAndRenew() async throws {
        let (sandbox, workspace) = try workspace()
        defer { sandbox.stop() }
        try Self.configure(workspace, sym: Self.twoBots)

        let plan = try workspace.run(["plan", "--detailed-exitcode"])
        #expect(plan.status == 2, "\(plan.stderr)")
        #expect(plan.stdout.contains("sym/ci-bot/deploy"), "\(plan.stdout)")
        let apply = try workspace.run(["apply", "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        #expect(try await Self.symBots(sandbox) == ["ci-bot", "nightly"])
        let live = try await Self.liveTokens(sandbox)
        #expect(live.count == 3)
        let sealed = try Self.sealedIDs(workspace)
        #expect(
            Set(["sym/ci-bot/deploy", "sym/ci-bot/read", "sym/nightly/main"].compactMap { sealed[$0] })
                == Set(live.keys))
        #expect(sealed["sym/ci-bot"] != nil, "a bot without a secret is still recorded as managed")
        let secrets = try workspace.unsealed()
        #expect(secrets.count == 3)
        // Every sealed token works as a bearer token on the Sym API.
        for (_, token) in secrets {
            #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: token).status == 200)
        }
        let again = try workspace.run(["plan", "--detailed-exitcode"])
        #expect(again.status == 0, "converged: \(again.stdout)")

        // 9 days on: nightly/main (10d, renew within 2d) is due; ci's tokens are not.
        try await sandbox.call(.POST, "/_sandbox/clock/advance", ["seconds": 9 * 86_400])
        let due = try workspace.run(["plan", "--format", "json"])
        let document = try JSONSerialization.jsonObject(with: Data(due.stdout.utf8)) as? [String: Any]
        let actions = (document?["actions"] as? [[String: Any]] ?? []).map {
            "\($0["action"] as? String ?? "") \($0["address"] as? String ?? "")"
        }
        #expect(actions == ["renew sym/nightly/main"])
        let renew = try workspace.run(["apply", "--auto-approve"])
        #expect(renew.status == 0, "\(renew.stderr)")
        let after = try await Self.liveTokens(sandbox)
        let resealed = try Self.sealedIDs(workspace)
        #expect(after.count == 3, "the old token is revoked once the new one is sealed")
        #expect(resealed["sym/nightly/main"] != sealed["sym/nightly/main"])
        #expect(resealed["sym/ci-bot/deploy"] == sealed["sym/ci-bot/deploy"])
        #expect(
            Set(after.keys)
                == Set(["sym/ci-bot/deploy", "sym/ci-bot/read", "sym/nightly/main"].compactMap { resealed[$0] }))
        // The old token no longer works; the new one does.
        let old = secrets["sym/nightly/main"] ?? ""
        #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: old).status == 401)
        let fresh = try workspace.unsealed()
        #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: fresh["sym/nightly/main"] ?? "").status == 200)
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)

        // Removing a token's label revokes it; removing a bot deletes it and its tokens.
        try Self.configure(
            workspace,
            sym: """
                  ci-bot:
                    provider: sym
                    tokens:
                      deploy: {expires_in: 30d, renew_before: 7d}
                """)
        let shrink = try workspace.run(["apply", "--auto-approve"])
        #expect(shrink.status == 0, "\(shrink.stderr)")
        #expect(try await Self.symBots(sandbox) == ["ci-bot"])
        #expect(try await Self.liveTokens(sandbox).count == 1)
        #expect(Set(try Self.sealedIDs(workspace).keys) == ["sym/ci-bot", "sym/ci-bot/deploy"])
        try workspace.expectNoLeaks(Array(secrets.values) + Array(fresh.values))
    }

    @Test("a Fyso and a Sym provider plan and apply in one run: one plan document, one sealed file")
    func mixed() async throws {
        let (sandbox, workspace) = try workspace()
        defer { sandbox.stop() }
        try Self.configure(
            workspace,
            sym: """
                  ci-bot:
                    provider: sym
                    tokens:
                      deploy: {expires_in: 30d}
                  agent:
                    provider: prod
                    roles: [reader]
                """)
        let plan = try workspace.run(["plan", "--format", "json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        #expect(
            Set((document?["providers"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }) == [
                "fyso", "sym",
            ])
        let apply = try workspace.run(["apply", "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stderr)")
        let secrets = try workspace.unsealed()
        #expect(Set(secrets.keys) == ["prod/agent", "sym/ci-bot/deploy"])
        let sealed = try String(contentsOfFile: workspace.path("secrets.sealed.yaml"), encoding: .utf8)
        #expect(
            sealed.contains("type: sym") && sealed.contains("tenant: "), "where sym entries were issued: url and org")
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)
        try workspace.expectNoLeaks(Array(secrets.values))
    }

    @Test("a token symflow-style created outside Botform shows as drift; a bot created outside is adopted")
    func outsideTokens() async throws {
        let (sandbox, workspace) = try workspace()
        defer { sandbox.stop() }
        try Self.configure(
            workspace,
            sym: """
                  ci-bot:
                    provider: sym
                    tokens:
                      deploy: {expires_in: 30d}
                """)
        let patch: [String: Any] = [
            "users": [
                [
                    "id": "9ce080fb-89aa-4f47-8341-9c3a889e2f00", "type": "bot",
                    "identities": [
                        [
                            "service_type": "sym", "external_id": "cloud", "matcher": ["username": "ci-bot"],
                            "profile": [:],
                        ]
                    ],
                ]
            ]
        ]
        #expect(try await sandbox.call(.PATCH, "/api/v1/users", patch, token: sandbox.symToken).status == 200)
        let issued = try await sandbox.call(
            .POST, "/api/v1/tokens", ["username": "ci-bot", "expiry": 86_400, "label": "manual"],
            token: sandbox.symToken)
        #expect(issued.status == 200)
        let plan = try workspace.run(["plan"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("sym/ci-bot/manual"), "\(plan.stdout)")
        #expect(plan.stdout.contains("adopt"), "\(plan.stdout)")
        let apply = try workspace.run(["apply", "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(try await Self.liveTokens(sandbox).count == 2, "the outside token is reported, not revoked")
    }
}

@Suite("Sym renewal under kill -9", .serialized, .timeLimit(.minutes(5)))
struct SymRenewalCrashTests {
    @Test(
        "killed at random points of renewals, every sealed token works; the next run ends with one live token per label"
    )
    func killNine() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        workspace.environment["SYM_JWT"] = sandbox.symToken
        let names = (1...6).map { "bot-\($0)" }
        let bots = names.map {
            """
                  \($0):
                    provider: sym
                    tokens:
                      a: {expires_in: 30d, renew_before: 3d}
                      b: {expires_in: 30d, renew_before: 3d}
            """
        }.joined(separator: "\n")
        try SymEndToEndTests.configure(workspace, sym: bots)
        #expect(try workspace.run(["apply", "--auto-approve"]).status == 0)
        var seen: [String] = Array(try workspace.unsealed().values)

        try await sandbox.call(.PUT, "/_sandbox/faults", ["latencyMs": 150])
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for _ in 0..<6 {
            // Every token renewed (--rotate a bot renews its tokens); the clock stays, so none expires.
            let process = Process()
            process.executableURL = BotformProcess.binary
            process.arguments =
                ["apply", "--auto-approve", "--parallelism", "4"] + names.flatMap { ["--rotate", "sym/\($0)"] }
            process.currentDirectoryURL = workspace.directory
            process.environment = workspace.environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            // Killed once the journal holds a random number of records (intents, issues, revokes), so the
            // kill lands mid-renewal however fast or loaded the machine is.
            let records = Int.random(in: 1...30, using: &generator)
            let journal = workspace.path("secrets.sealed.yaml.journal")
            while process.isRunning {
                let lines = (try? String(contentsOfFile: journal, encoding: .utf8))?.split(separator: "\n").count ?? 0
                if lines >= records { break }
                try await Task.sleep(for: .milliseconds(2))
            }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            process.waitUntilExit()
            // Right after the kill: every sealed token works against the Sym API.
            let sealed = try workspace.unsealed()
            #expect(sealed.count == 12, "\(sealed.keys.sorted())")
            for (address, token) in sealed {
                let status = try await sandbox.call(.GET, "/api/v1/auth/login", token: token).status
                #expect(status == 200, "\(address): its sealed token does not work (\(status))")
            }
            seen += sealed.values
        }
        #expect(kills >= 3, "most runs must really be killed mid-apply (\(kills) were)")
        try await sandbox.call(.PUT, "/_sandbox/faults", [String: Any]())
        let finish = try workspace.run(["apply", "--auto-approve"])
        #expect(finish.status == 0, "\(finish.stdout)\n\(finish.stderr)")
        let live = try await SymEndToEndTests.liveTokens(sandbox)
        let sealedIDs = Set(
            try SymEndToEndTests.sealedIDs(workspace).filter { $0.key.split(separator: "/").count == 3 }.values)
        // Every label holds its sealed token, live; nothing planned is left to do.
        #expect(sealedIDs.count == 12 && sealedIDs.isSubset(of: Set(live.keys)))
        let plan = try workspace.run(["plan", "--format", "json"])
        let document = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        #expect((document?["actions"] as? [Any])?.isEmpty == true, "\(plan.stdout)")
        // Botform's own leftovers (replaced tokens, tokens dead runs were given) are all revoked: exactly
        // one live token per label, and nothing left as drift.
        let leftovers = Set(live.keys).subtracting(sealedIDs)
        #expect(leftovers.isEmpty, "one live token per label; left over: \(leftovers.count)")
        #expect((document?["drift"] as? [Any])?.isEmpty == true, "\(plan.stdout)")
        try workspace.expectNoLeaks(seen)
    }
}

@Suite("Sym credentials")
struct SymCredentialTests {
    @Test("a token with a trailing newline is trimmed; one with a line break inside is refused, never quoted")
    func lineBreaks() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        try SymEndToEndTests.configure(
            workspace,
            sym: """
                  deployer:
                    provider: sym
                """)
        let trimmed = try workspace.run(["plan"], environment: ["SYM_JWT": sandbox.symToken + "\n"])
        #expect(trimmed.status == 0, "\(trimmed.stderr)")
        let broken = "eyJhbGciOiJub25lIn0.\neyJzdWIiOiJ4In0.c2ln"
        let refused = try workspace.run(["plan"], environment: ["SYM_JWT": broken])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("SYM_JWT") && refused.stderr.contains("line break"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("eyJzdWIiOiJ4In0") && !refused.stdout.contains("eyJzdWIiOiJ4In0"))
    }
}
