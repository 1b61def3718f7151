import BotformCore
import BotformProviders
import BotformTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

// FoksCLI against the built foks-standin, a stand-in for the `foks` CLI (docs/foks.md says what it
// copies from FOKS's code and what it does not). Tokens are never interpolated into expectations: a
// failing `#expect` prints its operands.

@Suite("FOKS CLI client against the foks stand-in", .timeLimit(.minutes(5)))
struct FoksCLITests {
    @Test("create, list and revoke a bot token; revoking it again is reported as already revoked")
    func lifecycle() async throws {
        let foks = try FoksStandin()
        let client = foks.client()
        let issued = try await client.newBotToken(role: .member(-5))
        let canonical = FoksTokenGrammar.isCanonical(issued.token.reveal())
        #expect(canonical, "the token follows the canonical grammar")
        let namePart = FoksTokenGrammar.name(of: issued.token.reveal())
        #expect(issued.name.count == 5 && namePart == issued.name)
        #expect("\(issued.token)" == "<redacted>")
        let keyID = try #require(issued.keyID)
        #expect(keyID.hasPrefix(".J") && keyID.count == 45, "a bot-token key ID is .J and 43 characters")

        var keys = try await client.listBotTokens()
        #expect(keys.count == 1, "only bot tokens (DeviceType 4); the computer key is left out")
        #expect(keys.first?.id == keyID && keys.first?.name == issued.name)
        #expect(keys.first?.role == .member(-5) && keys.first?.isRevoked == false)
        #expect(keys.first?.createdAt != nil && keys.first?.isAgentKey == false)

        #expect(try await client.revoke(keyID: keyID) == .revoked(attempts: 1))
        keys = try await client.listBotTokens()
        #expect(keys.map(\.isRevoked) == [true], "revoked keys stay in the list, marked")
        #expect(try await client.revoke(keyID: keyID) == .alreadyRevoked)
        #expect(try foks.calls("key revoke") == 2)
    }

    @Test(
        "every role round-trips: argument, FOKS's JSON form, parsed back",
        arguments: [FoksRole.owner, .admin, .member(0), .member(-5), .member(32_767), .member(-32_768)])
    func roleRoundTrip(role: FoksRole) async throws {
        let foks = try FoksStandin()
        let issued = try await foks.client().newBotToken(role: role)
        let keys = try await foks.client().listBotTokens()
        #expect(keys.map(\.role) == [role])
        #expect(issued.role == role)
        let expected =
            switch role {
            case .owner: "OWNER"
            case .admin: "ADMIN"
            case .member(let level): "MEMBER/\(level)"
            }
        #expect(try foks.keys().filter { $0.type == 4 }.map(\.role) == [expected])
    }

    @Test("status names the user, the host and the active key's role")
    func status() async throws {
        let foks = try FoksStandin(user: "bob", host: "Foks.Example.ORG", role: "o")
        let status = try await foks.client().requireOwner()
        #expect(status.user == "bob" && status.host == "Foks.Example.ORG")
        #expect(status.role == .owner && status.roleText == "OWNER" && status.lock == .unlocked)
        #expect(status.keyID?.hasPrefix(".4") == true)
        #expect(status.origin == ProviderOrigin(type: .foks, endpoint: "foks.example.org", tenant: "bob"))
    }

    @Test("a revoke refused while the key is not yet in the Merkle tree is retried with doubling pauses")
    func notYetInTree() async throws {
        let foks = try FoksStandin()
        try foks.set("not-in-tree", "3")
        let pauses = FoksPauseRecorder()
        let client = foks.client(sleep: pauses.sleep)
        let issued = try await client.newBotToken(role: .member(0))
        let keyID = try #require(issued.keyID)
        #expect(try await client.revoke(keyID: keyID) == .revoked(attempts: 4))
        #expect(pauses.pauses == [.seconds(2), .seconds(4), .seconds(8)])
        #expect(try foks.keys().filter { $0.type == 4 }.map(\.revoked) == [true])
    }

    @Test("revoke retries stop after the configured attempts with an error that says to wait")
    func notYetInTreeGivesUp() async throws {
        let foks = try FoksStandin()
        try foks.set("not-in-tree", "5")
        let pauses = FoksPauseRecorder()
        let client = foks.client(
            revokeRetry: .init(attempts: 3, initialDelay: .seconds(1), maximumDelay: .seconds(1)), sleep: pauses.sleep)
        let keyID = try #require(try await client.newBotToken(role: .member(0)).keyID)
        let error = await #expect(throws: ProviderError.self) { try await client.revoke(keyID: keyID) }
        #expect(error?.message.contains("not yet in the server's Merkle tree") == true, "\(String(describing: error))")
        #expect(error?.isDefiniteRefusal == true)
        #expect(pauses.pauses == [.seconds(1), .seconds(1)])
        #expect(try foks.calls("key revoke") == 3)
    }

    @Test("a passphrase-locked agent is reported with how to unlock it")
    func passphraseLocked() async throws {
        let foks = try FoksStandin()
        try foks.set("lock", "passphrase")
        let client = foks.client()
        #expect(try await client.status().lock == .passphraseLocked)
        let owner = await #expect(throws: ProviderError.self) { try await client.requireOwner() }
        #expect(owner?.kind == .authentication)
        #expect(
            owner?.message.contains("unlock it with `foks passphrase unlock`") == true, "\(String(describing: owner))")
        let list = await #expect(throws: ProviderError.self) { try await client.listBotTokens() }
        #expect(list?.kind == .authentication)
        #expect(list?.message.contains("passphrase locked") == true, "\(String(describing: list))")
        #expect(list?.message.contains("unlock it with") == true)
    }

    @Test("an agent that lost its bot token after a restart is reported as locked, with `foks bot use`")
    func botTokenLocked() async throws {
        let foks = try FoksStandin()
        try foks.set("lock", "bot_token")
        let client = foks.client()
        #expect(try await client.status().lock == .botTokenLocked)
        let owner = await #expect(throws: ProviderError.self) { try await client.requireOwner() }
        #expect(
            owner?.message.contains("`foks bot use --host foks.example.com`") == true, "\(String(describing: owner))")
        let create = await #expect(throws: ProviderError.self) { try await client.newBotToken(role: .member(0)) }
        #expect(create?.kind == .authentication)
        #expect(create?.message.contains("foks bot use") == true, "\(String(describing: create))")
        #expect(try foks.keys().filter { $0.type == 4 }.isEmpty)
    }

    @Test("an agent that is not running is reported with `foks ctl start`")
    func agentNotRunning() async throws {
        let foks = try FoksStandin()
        try foks.set("agent", "stopped")
        let error = await #expect(throws: ProviderError.self) { try await foks.client().listBotTokens() }
        #expect(error?.kind == .unavailable)
        #expect(
            error?.message.contains("start the agent with `foks ctl start`") == true, "\(String(describing: error))")
    }

    @Test("a non-owner active key is refused before anything is created, and FOKS's own refusal is explained")
    func notOwner() async throws {
        let foks = try FoksStandin(role: "admin")
        let client = foks.client()
        let owner = await #expect(throws: ProviderError.self) { try await client.requireOwner() }
        #expect(owner?.kind == .authentication)
        #expect(
            owner?.message.hasPrefix(
                "the active foks key is ADMIN (user \"alice\" at foks.example.com); creating and revoking bot "
                    + "tokens needs an owner key (`foks key switch`") == true, "\(String(describing: owner))")
        let member = await #expect(throws: ProviderError.self) { try await client.newBotToken(role: .member(0)) }
        #expect(member?.kind == .authentication)
        #expect(member?.message.contains("only owner devices can add new devices") == true)
        #expect(member?.message.contains("needs an owner key") == true, "\(String(describing: member))")
        let higher = await #expect(throws: ProviderError.self) { try await client.newBotToken(role: .owner) }
        #expect(higher?.message.contains("cannot provision a key with a role greater") == true)
        #expect(try foks.keys().filter { $0.type == 4 }.isEmpty)
    }

    @Test("a missing foks binary names the binary and PATH and suggests `binary:`")
    func missingBinary() async throws {
        let byName = FoksCLI(binary: "foks-not-installed-here", environment: ["PATH": "/nonexistent-bin"])
        let error = await #expect(throws: ProviderError.self) { try await byName.status() }
        #expect(error?.kind == .unavailable && error?.isDefiniteRefusal == true)
        #expect(
            error?.message
                == "the foks executable \"foks-not-installed-here\" was not found on PATH (/nonexistent-bin); "
                + "install FOKS, or set `binary:` in the provider to the path of the foks executable")
        let byPath = FoksCLI(binary: "/nonexistent-dir/foks")
        let pathError = await #expect(throws: ProviderError.self) { try await byPath.listBotTokens() }
        #expect(
            pathError?.message.hasPrefix("the foks executable \"/nonexistent-dir/foks\" does not exist") == true,
            "\(String(describing: pathError))")
    }

    @Test("a call that passes its timeout is killed; a timed-out create is an unknown outcome")
    func timeoutKillsChild() async throws {
        let foks = try FoksStandin()
        for (command, mutating) in [("key list", false), ("bot new", true)] {
            let pidFile = foks.scratch.path("pid-\(mutating)")
            let client = foks.client(
                timeout: .seconds(5),
                environment: ["FOKS_STANDIN_HANG": command, "FOKS_STANDIN_PID_FILE": pidFile])
            let error = await #expect(throws: ProviderError.self) {
                if mutating {
                    _ = try await client.newBotToken(role: .member(0))
                } else {
                    _ = try await client.listBotTokens()
                }
            }
            #expect(error?.kind == (mutating ? .outcomeUnknown : .unavailable))
            #expect(error?.message.contains("did not finish within 5.0 seconds and was killed") == true)
            let pidText = try String(contentsOfFile: pidFile, encoding: .utf8)
            let pid = try #require(pid_t(pidText))
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "the stand-in (pid \(pid)) is gone")
        }
    }

    @Test("a printed token that breaks the canonical grammar is refused and not quoted")
    func badToken() async throws {
        let foks = try FoksStandin()
        let client = foks.client(environment: ["FOKS_STANDIN_BAD_TOKEN": "1"])
        let error = await #expect(throws: ProviderError.self) { try await client.newBotToken(role: .member(0)) }
        #expect(error?.kind == .badResponse && error?.isDefiniteRefusal == false)
        #expect(error?.message.contains("not in the canonical form") == true)
        let made = try foks.keys().filter { $0.type == 4 }
        #expect(made.count == 1, "the stand-in made the key; Botform will see it as unmanaged")
        let leaked = made.contains { error?.message.contains($0.name) == true }
        #expect(!leaked, "no part of the token is quoted")
    }

    @Test("--home goes on every call, --json on list and create")
    func homeOnEveryCall() async throws {
        let foks = try FoksStandin()
        let log = foks.scratch.path("calls.log")
        let client = foks.client(environment: ["FOKS_STANDIN_LOG": log])
        _ = try await client.requireOwner()
        let issued = try await client.newBotToken(role: .admin)
        _ = try await client.listBotTokens()
        try await client.revoke(keyID: try #require(issued.keyID))
        let calls = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String] ?? []
        }
        #expect(calls.count == 5, "status, bot new, key list (finding the new key's ID), key list, key revoke")
        #expect(calls.allSatisfy { Array($0.prefix(2)) == ["--home", foks.home] })
        #expect(
            calls.map { Array($0.dropFirst(2)) } == [
                ["status"],
                ["--json", "bot", "new", "--role", "a"],
                ["--json", "key", "list", "--current-user-keys"],
                ["--json", "key", "list", "--current-user-keys"],
                ["key", "revoke", issued.keyID ?? ""],
            ])
    }

    @Test("output that is not JSON is a bad response naming the command")
    func garbage() async throws {
        let foks = try FoksStandin()
        let error = await #expect(throws: ProviderError.self) {
            try await foks.client(environment: ["FOKS_STANDIN_GARBAGE": "key list"]).listBotTokens()
        }
        #expect(error?.kind == .badResponse)
        #expect(error?.message == "cannot read the output of `foks --json key list`: not valid JSON")
    }

    @Test("stderr is trimmed, `Error: ` dropped and anything shaped like a token redacted")
    func stderrRedacted() async throws {
        let foks = try FoksStandin()
        let fake = "1abcd." + String(repeating: "Q", count: 31)
        let client = foks.client(environment: ["FOKS_STANDIN_FAIL": "key list=server said no about \(fake) today"])
        let error = await #expect(throws: ProviderError.self) { try await client.listBotTokens() }
        #expect(error?.kind == .rejected(status: 255, code: "foks_failed"))
        #expect(
            error?.message == "`foks key list --current-user-keys` failed: server said no about <redacted> today")
    }

    @Test("calls on one home run one at a time: concurrent creates all land")
    func serialised() async throws {
        let foks = try FoksStandin()
        let client = foks.client()
        let names = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 {
                group.addTask { try await client.newBotToken(role: .member(1)).name }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(names.count == 6)
        // The stand-in does not lock its state file: overlapping calls would lose keys.
        #expect(Set(try foks.keys().filter { $0.type == 4 }.map(\.name)) == names)
    }

    @Test("a key ID that is not one is refused without running foks")
    func badKeyID() async throws {
        let foks = try FoksStandin()
        let error = await #expect(throws: ProviderError.self) {
            try await foks.client().revoke(keyID: "--help")
        }
        #expect(error?.message.contains("is not a foks key ID") == true)
        #expect(try foks.calls("key revoke") == 0)
        let unknown = await #expect(throws: ProviderError.self) {
            try await foks.client().revoke(keyID: ".J" + String(repeating: "a", count: 43))
        }
        #expect(unknown?.kind == .rejected(status: 255, code: "key_not_found"))
    }
}

@Suite("The foks stand-in")
struct FoksStandinTests {
    @Test("its tokens use FOKS's encoding: base-36 of 3 bytes, a dot, base-62 of 23 bytes")
    func encoding() throws {
        let foks = try FoksStandin()
        let tokens = try foks.standin(["standin", "sample-tokens", "3000"]).split(separator: "\n").map(String.init)
        #expect(tokens.count == 3000)
        let malformed = tokens.filter { !FoksTokenGrammar.isCanonical($0) }.count
        #expect(malformed == 0)
        // The leading characters are restricted (2^24 < 36^5, 2^184 < 62^31) but still vary.
        let nameFirsts = Set(tokens.compactMap(\.first))
        let keyFirsts = Set(tokens.compactMap { $0.dropFirst(6).first })
        #expect(nameFirsts.isSubset(of: Set("0123456789")) && nameFirsts.count == 10)
        #expect(keyFirsts.contains { $0.isLowercase } && keyFirsts.contains { $0.isUppercase })
        #expect(Set(tokens).count == tokens.count)
    }

    @Test("FOKS_JSON_OUTPUT turns on JSON like --json; revoked keys stay in the list; exit 255 on errors")
    func jsonEnvironment() throws {
        let foks = try FoksStandin()
        let added = try foks.standin(["standin", "add-key", "--role", "m/-5", "--type", "4"])
        let id = try #require(
            (try JSONSerialization.jsonObject(with: Data(added.utf8)) as? [String: Any])?["id"] as? String)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FoksStandin.binary)
        process.arguments = ["--home", foks.home, "key", "revoke", id]
        #expect(try runToCompletion(process).status == 0)
        let again = Process()
        again.executableURL = URL(fileURLWithPath: FoksStandin.binary)
        again.arguments = ["--home", foks.home, "key", "revoke", id]
        let refused = try runToCompletion(again)
        #expect(refused.status == 255)
        #expect(String(decoding: refused.stderr, as: UTF8.self) == "Error: revoke error: device already revoked\n")
        let list = Process()
        list.executableURL = URL(fileURLWithPath: FoksStandin.binary)
        list.arguments = ["--home", foks.home, "key", "list"]
        list.environment = ["FOKS_JSON_OUTPUT": "1"]
        let output = try runToCompletion(list)
        let object = try JSONSerialization.jsonObject(with: output.stdout) as? [String: Any]
        let keys = try #require(object?["CurrUserAllKeys"] as? [[String: Any]])
        let di = try #require(keys.last?["Di"] as? [String: Any])
        #expect(di["Status"] as? Int == 1)
        #expect(((di["Dn"] as? [String: Any])?["Label"] as? [String: Any])?["DeviceType"] as? Int == 4)
        #expect((di["Key"] as? [String: Any])?["DstRole"] as? String == "MEMBER/-5")
    }
}

@Suite("FOKS status host")
struct FoksStatusHostTests {
    @Test("the agent's host matches the configured one without case, port or trailing dot")
    func host() {
        func status(_ host: String) -> FoksStatus {
            FoksStatus(user: "u", host: host, role: .owner, roleText: "OWNER", keyID: nil, lock: .unlocked)
        }
        #expect(status("Foks.Example.com:443").isOnHost("foks.example.com"))
        #expect(status("foks.example.com.").isOnHost("FOKS.example.com"))
        #expect(status("[::1]:4430").isOnHost("::1"))
        #expect(!status("foks.example.com").isOnHost("foks.example.org"))
        #expect(status("foks.example.com:443").origin.endpoint == "foks.example.com")
    }
}

@Suite("FOKS bot token grammar")
struct FoksTokenGrammarTests {
    @Test("the canonical grammar of specs/foks-cli.md §1.1")
    func grammar() {
        let key31 = "FQ52fnSV8vF1vj5cSGuFj6iDnIdu3kH"
        #expect(FoksTokenGrammar.isCanonical("2dg09." + key31))
        #expect(FoksTokenGrammar.isCanonical("9zldr.fTLKuZnUHfdxlNasV4qfZEFyHdnyieF"), "the largest possible token")
        #expect(!FoksTokenGrammar.isCanonical("a428e." + key31), "a name starts with a digit")
        #expect(!FoksTokenGrammar.isCanonical("a428e.ABERee949038eEr"), "the help text's example is too short")
        #expect(!FoksTokenGrammar.isCanonical("2dG09." + key31), "the name is lower-case")
        #expect(!FoksTokenGrammar.isCanonical("2dg09.g" + key31.dropFirst()), "a key starts with 0-9, A-Z or a-f")
        #expect(!FoksTokenGrammar.isCanonical("2dg09." + key31 + "x"))
        #expect(!FoksTokenGrammar.isCanonical("2dg09-" + key31))
        #expect(!FoksTokenGrammar.isCanonical(" 2dg09." + key31.dropFirst()))
        #expect(!FoksTokenGrammar.isCanonical("2dg09." + key31.dropLast() + "é"))
        #expect(FoksTokenGrammar.name(of: "2dg09." + key31) == "2dg09")
    }
}
