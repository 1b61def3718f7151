import BotformTestSupport
import Foundation
import NIOHTTP1
import Testing

/// The example workflows (examples/github-actions): valid against GitHub's workflow schema, and their
/// `run:` steps run, in order, against the sandbox as a runner would run them (see `WorkflowRunner` for
/// what is stood in for: `uses:` steps, and the `gh` steps that call GitHub's API).
@Suite("GitHub Actions examples", .serialized)
struct WorkflowTests {
    static let examples = BotformProcess.packageRoot.appendingPathComponent("examples/github-actions")
    static let names = ["plan.yml", "apply.yml", "drift.yml"]

    // MARK: Schema

    @Test("the three workflows validate against the GitHub workflow schema (check-jsonschema)")
    func schema() throws {
        guard let tool = Self.which("check-jsonschema") else {
            try #require(
                ProcessInfo.processInfo.environment["CI"] == nil,
                "CI must have check-jsonschema (scripts/test installs it)")
            print("skipped: check-jsonschema is not installed (scripts/test installs it with pip)")
            return
        }
        let files = Self.names.map { Self.examples.appendingPathComponent($0).path }
        let valid = try Self.shell(tool, ["--builtin-schema", "vendor.github-workflows"] + files)
        #expect(valid.status == 0, "\(valid)")
        // The check can fail: a workflow with a misspelt key is refused.
        let scratch = try Scratch("workflow-schema")
        let broken = scratch.path("broken.yml")
        try "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    stepz: []\n".write(
            toFile: broken, atomically: true, encoding: .utf8)
        let refused = try Self.shell(tool, ["--builtin-schema", "vendor.github-workflows", broken])
        #expect(refused.status != 0, "\(refused)")
    }

    @Test("apply never overlaps and never cancels a running apply; it starts from the branch's latest commit")
    func applyConcurrency() throws {
        let text = try String(contentsOf: Self.examples.appendingPathComponent("apply.yml"), encoding: .utf8)
        #expect(text.contains("concurrency:\n  group: botform-apply-"))
        #expect(text.contains("cancel-in-progress: false"))
        #expect(!text.contains("cancel-in-progress: true"))
        #expect(text.contains("ref: ${{ github.event.pull_request.base.ref }}"))
        // The sealed file is uploaded before the step that pushes it.
        let upload = try #require(text.range(of: "uses: actions/upload-artifact"))
        let push = try #require(text.range(of: "git push"))
        #expect(upload.lowerBound < push.lowerBound)
        for name in Self.names {
            let workflow = try String(contentsOf: Self.examples.appendingPathComponent(name), encoding: .utf8)
            #expect(workflow.contains("scripts/release"), "\(name) builds the release binary")
            #expect(workflow.contains("uses: actions/cache@"), "\(name) caches it")
        }
    }

    // MARK: Running the steps

    /// A repository as the workflows see it: a clone of a bare "origin", with a configuration for the
    /// sandbox, recipients from a file, and `botform` (the debug build) where the build step looks.
    final class Repository: @unchecked Sendable {
        // @unchecked: used from one test at a time.
        let scratch: URL
        let origin: URL
        let workspace: URL
        let sandbox: SandboxProcess
        let token: String
        var runs = 0

        init(sandbox: SandboxProcess) async throws {
            self.sandbox = sandbox
            scratch = try BotformProcess.temporaryDirectory()
            origin = scratch.appendingPathComponent("origin.git")
            workspace = scratch.appendingPathComponent("work")
            token = try await sandbox.adminToken()
            try WorkflowTests.git(["init", "-q", "--bare", "-b", "main", origin.path], in: scratch)
            try WorkflowTests.git(["clone", "-q", origin.path, workspace.path], in: scratch)
            let bin = workspace.appendingPathComponent(".botform-bin")
            try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                at: bin.appendingPathComponent("botform"), withDestinationURL: BotformProcess.binary)
            try ".botform-bin/\n.botform/\n*.lock\n".write(
                to: workspace.appendingPathComponent(".gitignore"), atomically: true, encoding: .utf8)
            let key = try BotformProcess.run(["keygen", "-o", scratch.appendingPathComponent("key.txt").path])
            #expect(key.status == 0, "\(key)")
            let recipient = try BotformProcess.run(["keygen", "-y", scratch.appendingPathComponent("key.txt").path])
            try "# who can open the sealed secrets\n\(recipient.stdout)".write(
                to: workspace.appendingPathComponent("recipients.txt"), atomically: true, encoding: .utf8)
            try configure(bots: ["agent-a", "agent-b"])
            try commit("add the botform configuration")
        }

        deinit { try? FileManager.default.removeItem(at: scratch) }

        func configure(bots: [String], broken: Bool = false) throws {
            let text = """
                version: 1
                providers:
                  prod:
                    type: fyso
                    url: \(sandbox.url)
                    tenant: sandbox
                    credentials:
                      token_env: FYSO_TOKEN
                roles:
                  reader:
                    permissions: {products: [read]}
                bots:
                \(bots.map { "  \($0):\n    roles: [\(broken ? "raeder" : "reader")]" }.joined(separator: "\n"))
                output:
                  sealed: secrets.sealed.yaml
                  recipients_file: recipients.txt

                """
            try text.write(to: workspace.appendingPathComponent("botform.yaml"), atomically: true, encoding: .utf8)
        }

        func commit(_ message: String) throws {
            try WorkflowTests.git(["add", "-A"], in: workspace)
            try WorkflowTests.git(["commit", "-q", "-m", message], in: workspace)
            try WorkflowTests.git(["push", "-q", "origin", "HEAD:main"], in: workspace)
        }

        /// Runs one workflow's job; `temp` is `RUNNER_TEMP` (shared to stand in for artifacts).
        func run(_ workflow: String, job: String, temp: URL) throws -> [WorkflowRunner.StepResult] {
            runs += 1
            let runner = try WorkflowRunner.load(WorkflowTests.examples.appendingPathComponent(workflow), job: job)
            return try runner.run(
                WorkflowRunner.Context(
                    github: [
                        "repository": "acme/bots", "run_id": "\(1000 + runs)", "event_name": "pull_request",
                        "event.pull_request.number": "7", "event.pull_request.base.ref": "main",
                        "event.pull_request.head.sha": "0123abcd", "token": "not-used",
                    ],
                    secrets: ["FYSO_TOKEN": token], workspace: workspace, runnerTemp: temp,
                    path: [BotformProcess.binary.deletingLastPathComponent().path]))
        }

        func originFile(_ path: String) throws -> String {
            try WorkflowTests.git(["--git-dir", origin.path, "show", "main:\(path)"], in: scratch).stdout
        }
    }

    static func step(_ results: [WorkflowRunner.StepResult], _ id: String) throws -> WorkflowRunner.StepResult {
        try #require(results.first { $0.step.id == id || $0.step.name == id }, "no step \(id)")
    }

    @Test("plan on a pull request, then apply on merge: comment, summary, artifact, committed sealed file")
    func planThenApply() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        try await sandbox.call(.PUT, "/_sandbox/settings", ["recordIssuedSecrets": true])
        let repository = try await Repository(sandbox: sandbox)
        let temp = repository.scratch.appendingPathComponent("runner-temp")

        // plan.yml
        let plan = try repository.run("plan.yml", job: "plan", temp: temp)
        for result in plan { #expect(result.status ?? 0 == 0, "\(result)") }
        #expect(
            plan.filter { $0.status != nil }.map(\.step.name) == [
                "Build botform (on a cache miss)", "Plan", "Fail on a plan error",
            ])
        #expect(try Self.step(plan, "plan").outputs["exit"] == "2")
        #expect(
            try Self.step(plan, "Comment on the pull request (one comment per configuration, updated in place)").skipped
                == "calls GitHub's API with gh")
        let comment = try String(contentsOf: temp.appendingPathComponent("botform/comment.md"), encoding: .utf8)
        #expect(comment.hasPrefix("<!-- botform:plan config=botform.yaml -->\n"), "\(comment)")
        #expect(comment.contains("**2 to register, 0 to replace, 0 to reset, 0 to revoke.**"))
        #expect(comment.contains("`prod/agent-a`") && comment.contains("Configuration `botform.yaml`"))
        #expect(comment.contains("fyso at \(sandbox.url)"))
        let summary = try String(contentsOf: temp.appendingPathComponent("job-summary.md"), encoding: .utf8)
        #expect(summary.contains("<!-- botform:plan config=botform.yaml -->") && summary.contains("`prod/agent-b`"))
        #expect(FileManager.default.fileExists(atPath: temp.appendingPathComponent("botform/plan.json").path))

        // Meanwhile another pull request merges: the first push of the apply is rejected, then rebased.
        let other = repository.scratch.appendingPathComponent("other")
        try Self.git(["clone", "-q", repository.origin.path, other.path], in: repository.scratch)
        try "unrelated\n".write(to: other.appendingPathComponent("NOTES.md"), atomically: true, encoding: .utf8)
        try Self.git(["add", "NOTES.md"], in: other)
        try Self.git(["commit", "-q", "-m", "another change"], in: other)
        try Self.git(["push", "-q", "origin", "HEAD:main"], in: other)

        // apply.yml, with the plan artifact where the download step puts it.
        let apply = try repository.run("apply.yml", job: "apply", temp: temp)
        for result in apply { #expect(result.status ?? 0 == 0, "\(result)") }
        #expect(try Self.step(apply, "apply").outputs["exit"] == "0")
        #expect(try Self.step(apply, "apply").outputs["status"] == "complete")
        let report =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: temp.appendingPathComponent("botform/apply.json"))) as? [String: Any]
        #expect(report?["status"] as? String == "complete" && report?["exit_code"] as? Int == 0)
        let entries = report?["actions"] as? [[String: Any]] ?? []
        #expect(entries.map { $0["address"] as? String } == ["prod/agent-a", "prod/agent-b"])
        #expect(entries.allSatisfy { $0["outcome"] as? String == "done" && $0["secret_sealed"] as? Bool == true })
        #expect(entries.allSatisfy { ($0["bot_id"] as? String)?.isEmpty == false })
        try Self.expectValid(temp.appendingPathComponent("botform/apply.json"), schema: "docs/apply.schema.json")
        let commit = try Self.step(apply, "Commit the sealed file")
        #expect(
            commit.stdout.contains("push rejected (attempt 1)")
                && commit.stdout.contains("pushed the sealed file (attempt 2)"), "\(commit)")
        // The sealed file is on the branch, after the other change, holding both bots.
        let sealed = try repository.originFile("secrets.sealed.yaml")
        #expect(sealed.contains("prod/agent-a:") && sealed.contains("prod/agent-b:"))
        #expect(try repository.originFile("NOTES.md") == "unrelated\n")
        let log = try Self.git(
            ["--git-dir", repository.origin.path, "log", "--format=%s", "main"], in: repository.scratch)
        #expect(log.stdout.hasPrefix("botform: seal the secrets of run "), "\(log.stdout)")
        let applySummary = try String(contentsOf: temp.appendingPathComponent("job-summary.md"), encoding: .utf8)
        #expect(applySummary.contains("### Botform apply: complete"))
        #expect(applySummary.contains("2 registered, 0 replaced, 0 reset, 0 revoked. 2 secrets sealed"))

        // No issued secret in anything a workflow wrote or printed, nor in what was pushed.
        let secrets = try await sandbox.issuedSecrets()
        #expect(secrets.count == 2)
        var haystacks = (plan + apply).flatMap { [$0.stdout, $0.stderr] } + [sealed, applySummary, summary, comment]
        haystacks.append(try String(contentsOf: temp.appendingPathComponent("botform/apply.json"), encoding: .utf8))
        for secret in secrets { #expect(!haystacks.contains { $0.contains(secret) }, "a secret leaked") }

        // A second apply of the same (now applied) plan is stale: exit 4, said as an annotation.
        let again = try repository.run("apply.yml", job: "apply", temp: temp)
        #expect(try Self.step(again, "apply").outputs["exit"] == "4")
        let stale =
            try JSONSerialization.jsonObject(with: Data(contentsOf: temp.appendingPathComponent("botform/apply.json")))
            as? [String: Any]
        #expect(stale?["status"] as? String == "stale" && stale?["exit_code"] as? Int == 4)
        #expect((stale?["error"] as? String)?.hasPrefix("the saved plan is stale") == true)
        try Self.expectValid(temp.appendingPathComponent("botform/apply.json"), schema: "docs/apply.schema.json")
        let last = try Self.step(again, "Exit with apply's status")
        #expect(last.status == 4 && last.stdout.contains("::error title=botform::the saved plan is stale (exit 4)"))
    }

    @Test("a broken configuration: annotations on file, line and column, a comment that says so, a failed job")
    func brokenConfiguration() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let repository = try await Repository(sandbox: sandbox)
        try repository.configure(bots: ["agent-a"], broken: true)
        let temp = repository.scratch.appendingPathComponent("runner-temp")
        let plan = try repository.run("plan.yml", job: "plan", temp: temp)
        let step = try Self.step(plan, "plan")
        #expect(step.status == 0 && step.outputs["exit"] == "1", "\(step)")
        // `    roles: [raeder]` is line 14 of the configuration; the role's name starts in column 13.
        let annotation = try #require(
            step.stderr.split(separator: "\n").first { $0.hasPrefix("::error file=botform.yaml,line=14,col=13::") },
            "\(step.stderr)")
        #expect(annotation.contains("raeder"))
        #expect(step.stderr.contains("botform.yaml:14:13: error: "))
        #expect(step.stderr.contains("::error title=botform::the configuration is invalid"))
        let comment = try String(contentsOf: temp.appendingPathComponent("botform/comment.md"), encoding: .utf8)
        #expect(
            comment.hasPrefix("<!-- botform:plan config=botform.yaml -->\n### Botform plan for `botform.yaml` failed"))
        #expect(!FileManager.default.fileExists(atPath: temp.appendingPathComponent("botform/plan.json").path))
        let fail = try Self.step(plan, "Fail on a plan error")
        #expect(fail.status == 1)
    }

    @Test("drift on a schedule: findings with fingerprints, the same key on two runs, one issue body")
    func drift() async throws {
        let probe = try BotformProcess.run(["drift", "--help"])
        guard probe.status == 0 else {
            // `botform drift` is being built alongside these workflows; until it lands there is nothing to run.
            print("skipped: this botform has no drift command (botform drift --help exited \(probe.status))")
            return
        }
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        let repository = try await Repository(sandbox: sandbox)
        let temp = repository.scratch.appendingPathComponent("runner-temp")
        let seeded = try repository.run("plan.yml", job: "plan", temp: temp)
        #expect(try Self.step(seeded, "plan").outputs["exit"] == "2")
        let applied = try repository.run("apply.yml", job: "apply", temp: temp)
        #expect(try Self.step(applied, "apply").outputs["exit"] == "0")

        // Clean: exit 0, no findings.
        let clean = try Self.step(try repository.run("drift.yml", job: "drift", temp: temp), "drift")
        #expect(clean.outputs["exit"] == "0", "\(clean)")

        // A bot made outside Botform.
        let registered = try await sandbox.call(
            .POST, "/api/auth/bots/register",
            ["name": "legacy-bot", "tenantSlug": "sandbox", "permissions": ["entities": ["products": ["read"]]]],
            token: repository.token)
        #expect(registered.status == 201)
        var keys: [String] = []
        var fingerprints: [[String]] = []
        for _ in 0..<2 {
            let run = try repository.run("drift.yml", job: "drift", temp: temp)
            let step = try Self.step(run, "drift")
            #expect(step.status == 0 && step.outputs["exit"] == "2", "\(step)")
            keys.append(step.outputs["key"] ?? "")
            let report =
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: temp.appendingPathComponent("botform/drift.json"))) as? [String: Any]
            let findings = report?["findings"] as? [[String: Any]] ?? []
            #expect(findings.contains { $0["address"] as? String == "prod/legacy-bot" })
            fingerprints.append(findings.compactMap { $0["fingerprint"] as? String }.sorted())
            let issue = try String(contentsOf: temp.appendingPathComponent("botform/issue.md"), encoding: .utf8)
            #expect(
                issue.hasPrefix(
                    "<!-- botform:drift config=botform.yaml -->\n<!-- botform:drift-findings \(step.outputs["key"] ?? "?") -->\n"
                ))
            #expect(issue.contains("prod/legacy-bot"))
        }
        #expect(keys[0] == keys[1] && keys[0].count == 16)
        #expect(fingerprints[0] == fingerprints[1] && !fingerprints[0].isEmpty)
    }

    @Test("workflow commands escape properties and data; off a runner there are none; summaries are appended")
    func workflowCommands() throws {
        let scratch = try BotformProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let directory = scratch.appendingPathComponent("team a,b:c")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "version: 1\nbots:\n  x:\n    rolez: [a]\n".write(
            to: directory.appendingPathComponent("botform.yaml"), atomically: true, encoding: .utf8)
        let runner = ["GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": scratch.path]
        let annotated = try BotformProcess.run(
            ["validate", "team a,b:c/botform.yaml"], in: scratch, environment: runner)
        #expect(annotated.status == 1)
        let line = try #require(
            annotated.stderr.split(separator: "\n").first {
                $0.hasPrefix("::error file=team a%2Cb%3Ac/botform.yaml,line=4,col=5::")
            },
            "\(annotated)")
        #expect(line.contains("rolez") && !line.contains("\r"))
        // The path is relative to the workspace even when the command runs elsewhere.
        let inside = try BotformProcess.run(["validate", "botform.yaml"], in: directory, environment: runner)
        #expect(inside.stderr.contains("::error file=team a%2Cb%3Ac/botform.yaml,line=4,col=5::"), "\(inside)")
        let plain = try BotformProcess.run(["validate", "botform.yaml"], in: directory)
        #expect(plain.status == 1 && !plain.stderr.contains("::error"), "\(plain)")

        // Two plans append two summaries to the same file (the runner gives each step its own; a step may plan twice).
        try
            "version: 1\nproviders:\n  local:\n    type: fyso\n    url: embedded\nbots:\n  solo:\n    permissions: {products: [read]}\n"
            .write(to: directory.appendingPathComponent("botform.yaml"), atomically: true, encoding: .utf8)
        let summary = scratch.appendingPathComponent("summary.md")
        try "# before\n".write(to: summary, atomically: true, encoding: .utf8)
        var environment = runner
        environment["GITHUB_STEP_SUMMARY"] = summary.path
        environment["BOTFORM_SANDBOX_BCRYPT_COST"] = "4"
        for _ in 0..<2 {
            let plan = try BotformProcess.run(["plan"], in: directory, environment: environment)
            #expect(plan.status == 0, "\(plan)")
            #expect(plan.stdout.contains("Plan: 1 to register"))
        }
        let text = try String(contentsOf: summary, encoding: .utf8)
        #expect(text.hasPrefix("# before\n"))
        #expect(text.components(separatedBy: "<!-- botform:plan config=botform.yaml -->").count - 1 == 2, "\(text)")
    }

    // MARK: Helpers

    /// Validates a JSON file against one of the documented schemas (Python's jsonschema, as scripts/test installs).
    static func expectValid(_ file: URL, schema: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let script = """
            import json, sys, jsonschema
            jsonschema.Draft7Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))
            """
        let result = try shell(
            "/usr/bin/env",
            ["python3", "-c", script, BotformProcess.packageRoot.appendingPathComponent(schema).path, file.path])
        #expect(result.status == 0, "\(result)", sourceLocation: sourceLocation)
    }

    static func which(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    @discardableResult
    static func shell(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws
        -> BotformProcess.Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        return try BotformProcess.capture(process)
    }

    @discardableResult
    static func git(_ arguments: [String], in directory: URL) throws -> BotformProcess.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = [
            "PATH": "/usr/bin:/bin", "HOME": directory.path, "GIT_AUTHOR_NAME": "test",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1",
        ]
        let result = try BotformProcess.capture(process)
        #expect(result.status == 0, "git \(arguments.joined(separator: " ")): \(result)")
        return result
    }
}
