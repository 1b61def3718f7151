import BotformTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// FOKS through the built binary against the `foks-standin` executable (a stand-in for the `foks` CLI and
/// its agent; see docs/foks.md): tokens created, rotated and moved to another role by renewal (the new
/// token sealed before the old key is revoked), revoked, and a kill -9 mid-rotation that loses nothing.
@Suite("FOKS end to end", .serialized, .timeLimit(.minutes(5)))
struct FoksEndToEndTests {
    static let standin: String = {
        if let path = ProcessInfo.processInfo.environment["FOKS_STANDIN_BINARY"] { return path }
        return BotformProcess.binary.deletingLastPathComponent().appendingPathComponent("foks-standin").path
    }()

    /// A workspace whose FOKS agent home is `foks-home`, with user alice at foks.example.
    final class Lab: @unchecked Sendable {
        // @unchecked: used from one test task at a time.
        let directory: URL
        var environment: [String: String] = [:]
        var outputs: [String] = []

        init() throws {
            directory = try BotformProcess.temporaryDirectory()
            try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
            let initialise = try Self.standin([
                "--home", home.path, "standin", "init", "--user", "alice", "--host", "foks.example",
            ])
            #expect(initialise.status == 0)
            #expect(try run(["keygen", "-o", "key.txt"]).status == 0)
            environment["BOTFORM_RECIPIENTS"] = try run(["keygen", "-y", "key.txt"]).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        var home: URL { directory.appendingPathComponent("foks-home") }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        static func standin(_ arguments: [String]) throws -> BotformProcess.Result {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: FoksEndToEndTests.standin)
            process.arguments = arguments
            return try BotformProcess.capture(process)
        }

        func configure(_ bots: String, binary: String = FoksEndToEndTests.standin) throws {
            try """
            version: 1
            providers:
              team:
                type: foks
                host: foks.example
                binary: \(binary)
                home: \(home.path)
            bots:
            \(bots)
            output:
              sealed: secrets.sealed.yaml
            """.write(toFile: path("botform.yaml"), atomically: true, encoding: .utf8)
        }

        @discardableResult
        func run(_ arguments: [String]) throws -> BotformProcess.Result {
            let result = try BotformProcess.run(arguments, in: directory, environment: environment)
            if arguments.first != "unseal" { outputs.append(result.stdout) }
            outputs.append(result.stderr)
            return result
        }

        /// Bot-token keys on the stand-in: name → (role, active).
        func keys() throws -> [String: (role: String, active: Bool)] {
            let listed = try Self.standin(["--home", home.path, "--json", "key", "list", "--current-user-keys"])
            let object = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
            var keys: [String: (String, Bool)] = [:]
            for key in object?["CurrUserAllKeys"] as? [[String: Any]] ?? [] {
                guard let info = key["Di"] as? [String: Any], let label = (info["Dn"] as? [String: Any]),
                    ((label["Label"] as? [String: Any])?["DeviceType"] as? Int) == 4,
                    let name = label["Name"] as? String
                else { continue }
                let role = ((info["Key"] as? [String: Any])?["DstRole"] as? String) ?? ""
                keys[name] = (role, (info["Status"] as? Int) == 0)
            }
            return keys
        }

        func unsealed() throws -> [String: String] {
            let result = try run(["unseal", "secrets.sealed.yaml", "-i", "key.txt", "--format", "json"])
            guard result.status == 0 else { return [:] }
            let object =
                try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: Any]] ?? [:]
            return object.compactMapValues { $0["secret"] as? String }
        }

        /// Every sealed token is a canonical FOKS token whose key is active, and nothing leaked.
        func expectSealedTokensWork(_ addresses: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) throws
        {
            let tokens = try unsealed()
            #expect(Set(tokens.keys) == addresses, sourceLocation: sourceLocation)
            let keys = try keys()
            for (address, token) in tokens {
                #expect(
                    token.range(of: #"^[0-9][0-9a-z]{4}\.[0-9A-Za-f][0-9A-Za-z]{30}$"#, options: .regularExpression)
                        != nil, "\(address): not a canonical token", sourceLocation: sourceLocation)
                #expect(
                    keys[String(token.prefix(5))]?.active == true, "\(address): its key is not active",
                    sourceLocation: sourceLocation)
            }
            for token in tokens.values {
                #expect(!outputs.contains { $0.contains(token) }, "a token leaked", sourceLocation: sourceLocation)
            }
        }
    }

    static let bots = """
          deployer:
            provider: team
            role: member/0
          auditor:
            provider: team
            role: member/-5
        """

    @Test("create, rotate and change role by renewal (new first), revoke; every token sealed and working")
    func lifecycle() throws {
        let lab = try Lab()
        try lab.configure(Self.bots)
        let apply = try lab.run(["apply", "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stderr)")
        try lab.expectSealedTokensWork(["team/deployer", "team/auditor"])
        #expect(Set(try lab.keys().values.map(\.role)) == ["MEMBER/0", "MEMBER/-5"])
        #expect(try lab.run(["plan", "--detailed-exitcode"]).status == 0)
        let before = try lab.unsealed()

        // Role change: a new token at the new role, sealed, then the old key revoked.
        try lab.configure(Self.bots.replacingOccurrences(of: "member/0", with: "member/1"))
        let plan = try lab.run(["plan"])
        #expect(plan.stdout.contains("+/-") && plan.stdout.contains("role"), "\(plan.stdout)")
        #expect(try lab.run(["apply", "--auto-approve"]).status == 0)
        try lab.expectSealedTokensWork(["team/deployer", "team/auditor"])
        let after = try lab.unsealed()
        #expect(after["team/deployer"] != before["team/deployer"])
        #expect(try lab.keys()[String(before["team/deployer"]!.prefix(5))]?.active == false, "the old key is revoked")
        #expect(after["team/auditor"] == before["team/auditor"])

        // --rotate renews the same way.
        #expect(try lab.run(["apply", "--auto-approve", "--rotate", "team/auditor"]).status == 0)
        try lab.expectSealedTokensWork(["team/deployer", "team/auditor"])
        #expect(try lab.unsealed()["team/auditor"] != after["team/auditor"])

        // Removed from the configuration: revoked.
        try lab.configure(
            """
              deployer:
                provider: team
                role: member/1
            """)
        #expect(try lab.run(["apply", "--auto-approve"]).status == 0)
        try lab.expectSealedTokensWork(["team/deployer"])
        #expect(try lab.keys().values.filter(\.active).count == 1)
        #expect(try lab.run(["plan", "--detailed-exitcode"]).status == 0)
    }

    /// Starts apply through a wrapper that hangs right after (or before) `pattern` runs, kills botform
    /// with SIGKILL once the wrapper says it reached that point, then kills the wrapper.
    func killed(at pattern: String, after: Bool, lab: Lab, arguments: [String]) throws {
        let marker = lab.path("reached")
        let wrapper = lab.path("foks-wrapper")
        try """
        #!/bin/bash
        case "$*" in
          *"\(pattern)"*)
            \(after ? "\"\(Self.standin)\" \"$@\"" : ":")
            echo $$ > "\(marker)"
            sleep 600 ;;
          *) exec "\(Self.standin)" "$@" ;;
        esac
        """.write(toFile: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper, 0o755)
        try lab.configure(
            Self.bots.replacingOccurrences(of: "member/0", with: "member/2"), binary: wrapper)
        let process = Process()
        process.executableURL = BotformProcess.binary
        process.arguments = arguments
        process.currentDirectoryURL = lab.directory
        process.environment = lab.environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var waited = 0
        while !FileManager.default.fileExists(atPath: marker), process.isRunning, waited < 3_000 {
            usleep(10_000)
            waited += 1
        }
        #expect(FileManager.default.fileExists(atPath: marker), "the run never reached \(pattern)")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        if let pid = (try? String(contentsOfFile: marker, encoding: .utf8)).flatMap({
            Int32($0.trimmingCharacters(in: .whitespacesAndNewlines))
        }) {
            kill(pid, SIGKILL)
        }
        try? FileManager.default.removeItem(atPath: marker)
    }

    @Test(
        "kill -9 mid-rotation: after the new token is made, or while the old is revoked; the old or the new token stays working and sealed",
        arguments: [("bot new", true), ("key revoke", false)])
    func killMidRotation(pattern: String, after: Bool) throws {
        let lab = try Lab()
        try lab.configure(Self.bots)
        #expect(try lab.run(["apply", "--auto-approve"]).status == 0)
        try killed(at: pattern, after: after, lab: lab, arguments: ["apply", "--auto-approve"])
        // Right after the kill: whatever is sealed for each bot is a working token.
        try lab.expectSealedTokensWork(["team/deployer", "team/auditor"])
        // The next run finishes the job: one working, sealed token per bot, and no key left over.
        try lab.configure(Self.bots.replacingOccurrences(of: "member/0", with: "member/2"))
        let plan = try lab.run(["plan"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let apply = try lab.run(["apply", "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        try lab.expectSealedTokensWork(["team/deployer", "team/auditor"])
        let keys = try lab.keys()
        #expect(keys.values.filter(\.active).count == 2, "\(keys)")
        #expect(try lab.keys().values.filter(\.active).contains { $0.role == "MEMBER/2" })
        #expect(try lab.run(["plan", "--detailed-exitcode"]).status == 0)
    }

    @Test("a missing foks binary is a clear error, exit 1, naming the binary")
    func missingBinary() throws {
        let lab = try Lab()
        try lab.configure(Self.bots, binary: "/nonexistent/foks")
        let plan = try lab.run(["plan"])
        #expect(plan.status == 1)
        #expect(plan.stderr.contains("/nonexistent/foks"), "\(plan.stderr)")
    }
}

@Suite("Fyso, Sym and FOKS in one run", .serialized, .timeLimit(.minutes(5)))
struct ThreeServicesTests {
    @Test("one configuration, three providers: one plan document, one apply, one sealed file; then converged")
    func allThree() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        workspace.environment["SYM_JWT"] = sandbox.symToken
        let home = workspace.directory.appendingPathComponent("foks-home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        #expect(
            try FoksEndToEndTests.Lab.standin([
                "--home", home.path, "standin", "init", "--user", "alice", "--host", "foks.example",
            ]).status == 0)
        try """
        version: 1
        providers:
          prod:
            type: fyso
            url: \(sandbox.url)
            tenant: sandbox
            credentials: {email_env: FYSO_EMAIL, password_env: FYSO_PASSWORD}
          sym:
            type: sym
            url: \(sandbox.url)/api/v1
            credentials: {token_env: SYM_JWT}
          team:
            type: foks
            host: foks.example
            binary: \(FoksEndToEndTests.standin)
            home: \(home.path)
        bots:
          agent:
            provider: prod
            permissions: {products: [read]}
          deployer:
            provider: sym
            tokens:
              ci: {expires_in: 30d}
          builder:
            provider: team
            role: member/0
        output:
          sealed: secrets.sealed.yaml
        """.write(toFile: workspace.path("botform.yaml"), atomically: true, encoding: .utf8)

        let plan = try workspace.run(["plan", "--format", "json"])
        #expect(plan.status == 0, "\(plan.stderr)")
        let document = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        let types = (document?["providers"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        #expect(Set(types) == ["fyso", "sym", "foks"])
        let actions = (document?["actions"] as? [[String: Any]] ?? []).compactMap { $0["address"] as? String }
        #expect(Set(actions) == ["prod/agent", "sym/deployer", "sym/deployer/ci", "team/builder"])

        let apply = try workspace.run(["apply", "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stdout)\n\(apply.stderr)")
        let secrets = try workspace.unsealed()
        #expect(Set(secrets.keys) == ["prod/agent", "sym/deployer/ci", "team/builder"])
        let sealed = try String(contentsOfFile: workspace.path("secrets.sealed.yaml"), encoding: .utf8)
        for type in ["fyso", "sym", "foks"] { #expect(sealed.contains("type: \(type)"), "\(type) origin recorded") }
        #expect(sealed.contains("tenant: alice"), "where FOKS entries were issued: host and user")
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)
        try workspace.expectNoLeaks(Array(secrets.values))
    }
}
