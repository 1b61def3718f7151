import BotformSandbox
import Foundation
import NIOHTTP1
import Synchronization
import Testing

/// The real Sym CLI (`symflow` 8.1.0, from PyPI; scripts/test installs it into a virtualenv and sets
/// `BOTFORM_SYMFLOW`) against the sandbox on a free loopback port, as sym-api.md §8 ran it against a stub.
@Suite(
    "Sandbox: the real symflow CLI", .serialized, .timeLimit(.minutes(10)),
    .enabled(if: Symflow.shouldRun, "BOTFORM_SYMFLOW is not set (scripts/test installs symflow 8.1.0 and sets it)"))
struct SymflowInteropTests {
    @Test("the clean end-to-end run of sym-api.md §8.2, rows 1-14")
    func cleanRun() async throws {
        let cli = try Symflow()
        try await SandboxHarness.with { sandbox in
            let admin = sandbox.server.symToken
            let home = try Symflow.scratchDirectory()
            defer { try? FileManager.default.removeItem(at: home) }
            func run(_ arguments: [String], token: String? = nil) async throws -> Symflow.Run {
                try await cli.run(arguments, sandbox: sandbox, token: token ?? admin, home: home)
            }

            // 1. An empty list: the two header lines only.
            var result = try await run(["bots", "list"])
            #expect(result.status == 0 && result.stdout == Symflow.emptyBotList, "\(result)")
            // 2.
            result = try await run(["bots", "create", "ci-bot"])
            #expect(result.status == 0 && result.stdout == "Successfully created ci-bot!\n", "\(result)")
            // 3. A token with a label: printed with a newline.
            result = try await run(["tokens", "issue", "-u", "ci-bot", "-e", "30d", "-l", "CI token"])
            #expect(result.status == 0, "\(result)")
            let first = String(result.stdout.dropLast())
            let printedWithNewline = result.stdout.hasSuffix("\n") && first.split(separator: ".").count == 3
            #expect(printedWithNewline, "the token is a JWT followed by a newline")
            let firstClaims = try SandboxHarness.claims(of: first)
            let firstID = try #require(firstClaims["jti"] as? String)
            let iat = try #require(firstClaims["iat"] as? Double)
            #expect(firstClaims["exp"] as? Double == iat + 2_592_000)
            // 4. -n: no trailing newline.
            result = try await run(["tokens", "issue", "-u", "ci-bot", "-e", "12mo", "-n"])
            #expect(result.status == 0, "\(result)")
            let second = result.stdout
            let secondClaims = try SandboxHarness.claims(of: second)
            let secondID = try #require(secondClaims["jti"] as? String)
            #expect(secondClaims["exp"] as? Double == (secondClaims["iat"] as? Double ?? 0) + 31_104_000)
            // 5.
            result = try await run(["bots", "list"])
            #expect(
                result.status == 0 && result.stdout.contains(/\nci-bot +2 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n/),
                "\(result)")
            // 6. Both tokens, with the admin as creator and the expiry the sandbox set.
            result = try await run(["tokens", "list"])
            #expect(result.status == 0, "\(result)")
            let expiresAt = Symflow.shown(Date(timeIntervalSince1970: iat + 2_592_000))
            let firstRow = result.lines.first { $0.hasPrefix(firstID) } ?? ""
            #expect(firstRow.contains(/[ ]+ci-bot +admin@sandbox\.local +/), "\(result)")
            #expect(firstRow.contains(expiresAt) && firstRow.contains("CI token"), "\(result)")
            #expect(result.lines.contains { $0.hasPrefix(secondID) }, "\(result)")
            #expect(result.lines.first?.contains("Token ID") == true)
            let listedByAdmin = result.stdout
            // 7. The CLI's "normal" quirk: the bot stays a bot.
            result = try await run([
                "bots", "update-identity", "ci-bot", "--service-type", "slack", "--external-id", "T0SANDBOX",
                "--new-value", "U0CIBOT",
            ])
            #expect(result.status == 0 && result.stdout.hasSuffix("Successfully updated 1 user!\n"), "\(result)")
            // 8.
            result = try await run(["bots", "list"])
            #expect(result.status == 0 && result.lines.first?.contains("slack:T0SANDBOX") == true, "\(result)")
            #expect(result.stdout.contains(/\nci-bot +2 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC +U0CIBOT\n/), "\(result)")
            // 9. The bot's own token lists the same tokens.
            result = try await run(["tokens", "list"], token: first)
            let sameTable = result.status == 0 && result.lines.count == listedByAdmin.split(separator: "\n").count
            #expect(sameTable, "\(result)")
            // 10.
            result = try await run([
                "bots", "delete-identity", "ci-bot", "--service-type", "slack", "--external-id", "T0SANDBOX", "--force",
            ])
            #expect(result.status == 0 && result.stdout.hasSuffix("Successfully deleted 1 identity!\n"), "\(result)")
            // 11.
            result = try await run(["tokens", "revoke", firstID])
            #expect(
                result.status == 0 && result.stdout == "Successfully revoked token with identifier \(firstID)\n",
                "\(result)")
            // 12. The revoked token: Sym's 401, exit 22.
            result = try await run(["tokens", "list"], token: first)
            #expect(result.status == 22, "\(result)")
            #expect(
                result.stderr.contains("Error: You are not authorized to perform this action.")
                    && result.stderr.contains("Hint: Invalid token."), "\(result)")
            // 13. Deleting the bot revokes its other token.
            result = try await run(["bots", "delete", "ci-bot", "--force"])
            #expect(result.status == 0 && result.stdout == "Successfully deleted bot user ci-bot!\n", "\(result)")
            #expect(try await sandbox.call(.GET, "/api/v1/tokens", token: second).status == 401)
            // 14.
            result = try await run(["bots", "list"])
            #expect(result.status == 0 && result.stdout == Symflow.emptyBotList, "\(result)")
            result = try await run(["tokens", "list"])
            #expect(result.status == 0 && result.lines.count == 2, "\(result)")

            // The request log has the CLI's calls, never a token or its header.
            let log = try await sandbox.call(.GET, "/_sandbox/requests")
            let paths = Set(((log.data?["items"] as? [[String: Any]]) ?? []).compactMap { $0["path"] as? String })
            #expect(paths.isSuperset(of: ["/api/v1/users", "/api/v1/tokens", "/api/v1/track/symflow"]))
            let leaked = [admin, first, second].contains { log.body.contains($0) }
            #expect(!leaked, "the request log holds a token")
        }
    }

    @Test("error paths: unknown bot, unknown token, bad expiry, wrong token, existing bot; status")
    func errorPaths() async throws {
        let cli = try Symflow()
        try await SandboxHarness.with { sandbox in
            let admin = sandbox.server.symToken
            let home = try Symflow.scratchDirectory()
            defer { try? FileManager.default.removeItem(at: home) }
            func run(_ arguments: [String], token: String? = nil) async throws -> Symflow.Run {
                try await cli.run(arguments, sandbox: sandbox, token: token ?? admin, home: home)
            }

            var result = try await run(["bots", "delete", "nobody", "--force"])
            #expect(result.status == 10 && result.stderr.contains("Error: Unknown bot: nobody"), "\(result)")
            result = try await run(["tokens", "issue", "-u", "nobody", "-e", "1d"])
            #expect(result.status == 24, "\(result)")
            #expect(
                result.stderr.contains("Error: An API error occurred!")
                    && result.stderr.contains("Hint: Unknown bot: nobody."), "\(result)")
            let unknown = "00000000-0000-4000-8000-000000000000"
            result = try await run(["tokens", "revoke", unknown])
            #expect(result.status == 24 && result.stderr.contains("Hint: Token \(unknown) not found."), "\(result)")

            result = try await run(["bots", "create", "ci-bot"])
            #expect(result.status == 0, "\(result)")
            result = try await run(["bots", "create", "ci-bot"])
            #expect(
                result.status == 12 && result.stderr.contains("Error: A bot already exists with username: ci-bot"),
                "\(result)")

            // A bad expiry is refused by the CLI before any token request.
            let before = try await Self.logNext(sandbox)
            result = try await run(["tokens", "issue", "-u", "ci-bot", "-e", "1h"])
            #expect(result.status == 19, "\(result)")
            #expect(
                result.stderr.contains("Error: Invalid expiry input: 1h")
                    && result.stderr.contains(
                        "Hint: Accepted values are a non-zero integer followed by s, m, d, or mo. e.g. 3d"),
                "\(result)")
            let after = try await sandbox.call(.GET, "/_sandbox/requests?since=\(before)")
            let posts = ((after.data?["items"] as? [[String: Any]]) ?? []).filter {
                $0["method"] as? String == "POST" && $0["path"] as? String == "/api/v1/tokens"
            }
            #expect(posts.isEmpty, "\(after)")
            // An absurd expiry the CLI accepts is refused by the sandbox.
            result = try await run(["tokens", "issue", "-u", "ci-bot", "-e", "999999999d"])
            #expect(result.status == 24 && result.stderr.contains("Hint: Invalid expiry: 86399999913600."), "\(result)")

            result = try await run(["bots", "list"], token: "wrong-token")
            #expect(
                result.status == 22 && result.stderr.contains("Error: You are not authorized to perform this action.")
                    && result.stderr.contains("Hint: Invalid token."), "\(result)")

            result = try await run(["status"])
            #expect(
                result.status == 0
                    && result.stdout.contains("You are logged in to sandbox-org as admin@sandbox.local via SYM_JWT."),
                "\(result)")
        }
    }

    @Test("a 1d token disappears from tokens list and gets 401 once the sandbox clock passes its expiry")
    func expiryByClock() async throws {
        let cli = try Symflow()
        try await SandboxHarness.with { sandbox in
            let admin = sandbox.server.symToken
            let home = try Symflow.scratchDirectory()
            defer { try? FileManager.default.removeItem(at: home) }
            func run(_ arguments: [String], token: String? = nil) async throws -> Symflow.Run {
                try await cli.run(arguments, sandbox: sandbox, token: token ?? admin, home: home)
            }
            #expect(try await run(["bots", "create", "short-lived"]).status == 0)
            var result = try await run(["tokens", "issue", "-u", "short-lived", "-e", "1d", "-n"])
            #expect(result.status == 0, "\(result)")
            let token = result.stdout
            let identifier = try #require(try SandboxHarness.claims(of: token)["jti"] as? String)
            result = try await run(["tokens", "list"], token: token)
            #expect(result.status == 0 && result.lines.contains { $0.hasPrefix(identifier) }, "\(result)")

            try await sandbox.advanceClock(seconds: 86_401)
            result = try await run(["tokens", "list"])
            #expect(result.status == 0 && !result.stdout.contains(identifier), "\(result)")
            result = try await run(["bots", "list"])
            #expect(result.stdout.contains(/\nshort-lived +0 +/), "\(result)")
            result = try await run(["tokens", "list"], token: token)
            #expect(result.status == 22 && result.stderr.contains("Hint: Invalid token."), "\(result)")
        }
    }

    static func logNext(_ sandbox: SandboxHarness) async throws -> Int {
        let reply = try await sandbox.call(.GET, "/_sandbox/requests")
        return try #require(reply.data?["next"] as? Int)
    }
}

/// The symflow executable named by `BOTFORM_SYMFLOW`, run as a child process.
struct Symflow {
    let path: String

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Runs when symflow is there, and on CI, where its absence is a failure.
    static var shouldRun: Bool { environment["BOTFORM_SYMFLOW"] != nil || environment["CI"] == "true" }

    static let emptyBotList = "Username    Token Count    Created At\n----------  -------------  ------------\n"

    init() throws {
        guard let path = Self.environment["BOTFORM_SYMFLOW"], !path.isEmpty else {
            throw Missing(description: "CI is set but BOTFORM_SYMFLOW is not: run scripts/test, which installs symflow")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw Missing(description: "BOTFORM_SYMFLOW=\(path) is not an executable")
        }
        self.path = path
    }

    /// Why the interop tests cannot run where they must.
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("symflow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// How the CLI shows a datetime with TZ=UTC.
    static func shown(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }

    /// One finished run; its description hides every JWT and the org token.
    struct Run: CustomStringConvertible {
        var status: Int32
        var stdout: String
        var stderr: String
        var secrets: [String]

        var lines: [String] { stdout.split(separator: "\n").map(String.init) }

        var description: String {
            var text = "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)"
            for secret in secrets { text = text.replacingOccurrences(of: secret, with: "<redacted>") }
            return text.replacing(/eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]*/, with: "<redacted JWT>")
        }
    }

    /// Runs symflow with the API at the sandbox, `SYM_JWT=token`, a scratch HOME, stdin closed, and its
    /// proxies pointed at a closed port so its PyPI version check and Sentry reports go nowhere.
    func run(_ arguments: [String], sandbox: SandboxHarness, token: String, home: URL) async throws -> Run {
        let apiURL = try #require(sandbox.server.symURL).absoluteString
        var environment = [
            "PATH": Self.environment["PATH"] ?? "/usr/bin:/bin",
            "HOME": home.appendingPathComponent("home").path,
            "XDG_CONFIG_HOME": home.appendingPathComponent("xdg").path,
            "TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "SYM_API_URL": apiURL, "SYM_JWT": token,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        ]
        for name in ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"] {
            environment[name] = "http://127.0.0.1:9"
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let secrets = [token, sandbox.server.symToken]
        // The pipes are drained and the exit awaited on threads of their own, off the cooperative pool
        // that serves the sandbox in this same process.
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                let stderr = Mutex(Data())
                let drained = DispatchSemaphore(value: 0)
                let reader = Thread {
                    let data = errors.fileHandleForReading.readDataToEndOfFile()
                    stderr.withLock { $0 = data }
                    drained.signal()
                }
                reader.start()
                let stdout = output.fileHandleForReading.readDataToEndOfFile()
                drained.wait()
                process.waitUntilExit()
                continuation.resume(
                    returning: Run(
                        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                        stderr: String(decoding: stderr.withLock { $0 }, as: UTF8.self), secrets: secrets))
            }
            thread.start()
        }
    }
}
