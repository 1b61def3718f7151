import BotformTestSupport
import Foundation
import Testing

/// The real `symflow` CLI (8.1.0, `BOTFORM_SYMFLOW`) and Botform on one sandbox: what Botform creates shows
/// correctly in `symflow bots list` and `symflow tokens list`, and what symflow creates shows in
/// `botform plan` (as adoption or drift).
@Suite(
    "symflow and botform on one Sym org", .serialized,
    .enabled(
        if: ProcessInfo.processInfo.environment["BOTFORM_SYMFLOW"] != nil
            || ProcessInfo.processInfo.environment["CI"] == "true",
        "BOTFORM_SYMFLOW is not set (scripts/test installs symflow 8.1.0 and sets it)"))
struct SymflowBotformInteropTests {
    func symflow(_ arguments: [String], sandbox: SandboxProcess, home: URL) throws -> BotformProcess.Result {
        let path = try #require(
            ProcessInfo.processInfo.environment["BOTFORM_SYMFLOW"], "CI is set but BOTFORM_SYMFLOW is not")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = [
            "PATH": "/usr/bin:/bin", "HOME": home.appendingPathComponent("home").path,
            "XDG_CONFIG_HOME": home.appendingPathComponent("xdg").path, "TZ": "UTC", "LANG": "C.UTF-8",
            "SYM_API_URL": sandbox.url + "/api/v1", "SYM_JWT": sandbox.symToken,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        ]
        for name in ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"] {
            environment[name] = "http://127.0.0.1:9"
        }
        process.environment = environment
        return try BotformProcess.capture(process)
    }

    @Test("botform's bots and tokens in symflow's lists; symflow's in botform's plan")
    func bothWays() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let workspace = try Workspace(sandbox: sandbox)
        workspace.environment["SYM_JWT"] = sandbox.symToken
        let home = workspace.directory.appendingPathComponent("symflow-home")
        try SymEndToEndTests.configure(
            workspace,
            sym: """
                  deployer:
                    provider: sym
                    tokens:
                      ci: {expires_in: 30d}
                      audit: {expires_in: 2mo}
                """)
        let apply = try workspace.run(["apply", "--auto-approve"])
        #expect(apply.status == 0, "\(apply.stderr)")

        let bots = try symflow(["bots", "list"], sandbox: sandbox, home: home)
        #expect(bots.status == 0, "\(bots.stderr)")
        let row = bots.stdout.split(separator: "\n").first { $0.hasPrefix("deployer ") }.map(String.init) ?? ""
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first == "2", "\(bots.stdout)")

        let tokens = try symflow(["tokens", "list"], sandbox: sandbox, home: home)
        #expect(tokens.status == 0, "\(tokens.stderr)")
        let sealed = SymEndToEndTests.sealedIDs
        let ids = try sealed(workspace)
        for address in ["sym/deployer/ci", "sym/deployer/audit"] {
            let id = try #require(ids[address])
            let line = tokens.stdout.split(separator: "\n").first { $0.hasPrefix(id) }.map(String.init) ?? ""
            #expect(
                line.contains("deployer") && line.hasSuffix(String(address.split(separator: "/").last!)),
                "\(tokens.stdout)")
        }

        // symflow makes a bot and a token; botform sees the bot (unmanaged) and the token (drift).
        #expect(try symflow(["bots", "create", "reporter"], sandbox: sandbox, home: home).status == 0)
        let issued = try symflow(
            ["tokens", "issue", "-u", "deployer", "-e", "7d", "-l", "by-hand", "-n"], sandbox: sandbox, home: home)
        #expect(issued.status == 0, "\(issued.stderr)")
        let plan = try workspace.run(["plan", "--format", "json"])
        let document = try JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any]
        let drift = (document?["drift"] as? [[String: Any]] ?? []).map {
            "\($0["kind"] as? String ?? "") \($0["address"] as? String ?? "")"
        }
        #expect(Set(drift) == ["unmanaged sym/reporter", "unmanaged sym/deployer/by-hand"], "\(plan.stdout)")
        #expect(!plan.stdout.contains(issued.stdout), "a token symflow printed must not appear in a plan")

        // Declared, the symflow-made bot is adopted.
        try SymEndToEndTests.configure(
            workspace,
            sym: """
                  deployer:
                    provider: sym
                    tokens:
                      ci: {expires_in: 30d}
                      audit: {expires_in: 2mo}
                  reporter:
                    provider: sym
                """)
        let adopt = try workspace.run(["plan"])
        #expect(adopt.stdout.contains("sym/reporter will be adopted"), "\(adopt.stdout)")

        // symflow deletes a managed bot: botform reports it gone and creates it again.
        #expect(try symflow(["bots", "delete", "deployer", "--force"], sandbox: sandbox, home: home).status == 0)
        let after = try workspace.run(["plan", "--format", "json"])
        let again = try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [String: Any]
        let actions = (again?["actions"] as? [[String: Any]] ?? []).map {
            "\($0["action"] as? String ?? "") \($0["address"] as? String ?? "")"
        }
        #expect(actions.contains("register sym/deployer") && actions.contains("register sym/deployer/ci"), "\(actions)")
    }
}
