import BotformTestSupport
import Foundation
import Testing

/// Runs the `run:` steps of one job of a GitHub Actions workflow, in order, with bash as the runner
/// does (`bash --noprofile --norc -eo pipefail`), with the variables a runner sets (`GITHUB_ACTIONS`,
/// `GITHUB_WORKSPACE`, `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`, `GITHUB_STEP_SUMMARY`, `RUNNER_TEMP`,
/// …) and the `env:` of the workflow, job and step, their `${{ … }}` expressions evaluated.
///
/// What it does not run, by design: `uses:` steps (checkout, cache, artifacts: the test stands in for
/// them by preparing the workspace and `RUNNER_TEMP`), and `run:` steps that set `GH_TOKEN`, which call
/// GitHub's API with `gh` (posting the comment, finding the plan artifact, the drift issue). Their
/// inputs are what the steps before them write, and the tests check those.
struct WorkflowRunner {
    struct Step {
        var id: String?
        var name: String
        var run: String?
        var uses: String?
        var condition: String?
        var env: [(String, String)]
        var workingDirectory: String?

        /// A `run:` step that calls GitHub's API (it is given `GH_TOKEN`).
        var callsGitHub: Bool { env.contains { $0.0 == "GH_TOKEN" } }
    }

    struct StepResult: CustomStringConvertible {
        var step: Step
        /// Nil when the step did not run.
        var status: Int32?
        var skipped: String?
        var stdout = ""
        var stderr = ""
        var outputs: [String: String] = [:]

        var description: String {
            "step \(step.id ?? step.name): "
                + (status.map { "exit \($0)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
                    ?? "skipped (\(skipped ?? ""))")
        }
    }

    /// What a runner knows about the run: the values of `github.*`, `secrets.*`, `vars.*`.
    struct Context {
        var github: [String: String]
        var secrets: [String: String]
        var vars: [String: String] = [:]
        var workspace: URL
        var runnerTemp: URL
        /// Directories put first on PATH (where `botform` is).
        var path: [String]
    }

    var workflowEnv: [(String, String)]
    var jobEnv: [(String, String)]
    var steps: [Step]

    /// Reads `job` of the workflow at `url` (YAML, read with Python's PyYAML, which the test suite needs anyway).
    static func load(_ url: URL, job: String) throws -> WorkflowRunner {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", url.path,
        ]
        let output = try runToCompletion(process)
        guard output.status == 0,
            let workflow = try JSONSerialization.jsonObject(with: output.stdout) as? [String: Any],
            let jobs = workflow["jobs"] as? [String: Any], let body = jobs[job] as? [String: Any],
            let steps = body["steps"] as? [[String: Any]]
        else {
            throw WorkflowError("cannot read job \"\(job)\" of \(url.lastPathComponent)")
        }
        return WorkflowRunner(
            workflowEnv: pairs(workflow["env"]), jobEnv: pairs(body["env"]),
            steps: steps.enumerated().map { index, step in
                Step(
                    id: step["id"] as? String, name: step["name"] as? String ?? "step \(index + 1)",
                    run: step["run"] as? String, uses: step["uses"] as? String, condition: step["if"] as? String,
                    env: pairs(step["env"]), workingDirectory: step["working-directory"] as? String)
            })
    }

    /// A mapping's pairs, sorted by name (no example refers to another variable of the same block).
    private static func pairs(_ value: Any?) -> [(String, String)] {
        guard let map = value as? [String: Any] else { return [] }
        // The examples' env values are strings; a number or boolean is written as YAML would show it.
        return map.map { key, value in (key, value as? String ?? "\(value)") }.sorted { $0.0 < $1.0 }
    }

    /// Runs every step in order, as the runner would, and returns what each did.
    func run(_ context: Context) throws -> [StepResult] {
        var env: [String: String] = [:]
        var outputs: [String: [String: String]] = [:]
        var extraPath: [String] = []
        var results: [StepResult] = []
        var failed = false
        let temp = context.runnerTemp
        try FileManager.default.createDirectory(at: temp, withIntermediateDirectories: true)
        let envFile = temp.appendingPathComponent("github-env")
        let pathFile = temp.appendingPathComponent("github-path")
        for file in [envFile, pathFile] { try Data().write(to: file) }

        let evaluate = { (text: String, env: [String: String]) -> String in
            Self.substitute(text, context: context, env: env, outputs: outputs)
        }
        for (name, value) in workflowEnv + jobEnv { env[name] = evaluate(value, env) }

        for (index, step) in steps.enumerated() {
            guard let script = step.run else {
                results.append(StepResult(step: step, skipped: "uses \(step.uses ?? "?"): stood in for by the test"))
                continue
            }
            if step.callsGitHub {
                results.append(StepResult(step: step, skipped: "calls GitHub's API with gh"))
                continue
            }
            switch step.condition?.trimmingCharacters(in: .whitespaces) {
            case nil, "success()":
                if failed {
                    results.append(StepResult(step: step, skipped: "an earlier step failed"))
                    continue
                }
            case "always()":
                break
            case "failure()":
                if !failed {
                    results.append(StepResult(step: step, skipped: "no step failed"))
                    continue
                }
            case let condition?:
                throw WorkflowError("step \"\(step.name)\": the test cannot evaluate if: \(condition)")
            }
            var stepEnv = env
            for (name, value) in step.env { stepEnv[name] = evaluate(value, stepEnv) }
            let output = temp.appendingPathComponent("github-output-\(index)")
            let summary = temp.appendingPathComponent("step-summary-\(index)")
            for file in [output, summary] { try Data().write(to: file) }
            let scriptFile = temp.appendingPathComponent("step-\(index).sh")
            try script.write(to: scriptFile, atomically: true, encoding: .utf8)

            var environment = stepEnv
            environment.merge(
                [
                    "PATH": (extraPath.reversed() + context.path + ["/usr/local/bin", "/usr/bin", "/bin"]).joined(
                        separator: ":"),
                    "HOME": temp.path, "CI": "true", "GITHUB_ACTIONS": "true",
                    "GITHUB_WORKSPACE": context.workspace.path, "RUNNER_TEMP": temp.path, "RUNNER_OS": "Linux",
                    "GITHUB_OUTPUT": output.path, "GITHUB_ENV": envFile.path, "GITHUB_PATH": pathFile.path,
                    "GITHUB_STEP_SUMMARY": summary.path, "GITHUB_REPOSITORY": context.github["repository"] ?? "",
                    "GITHUB_RUN_ID": context.github["run_id"] ?? "1",
                    "GITHUB_RUN_ATTEMPT": "1", "GITHUB_SERVER_URL": "https://github.com",
                    "GITHUB_EVENT_NAME": context.github["event_name"] ?? "", "GITHUB_SHA": context.github["sha"] ?? "",
                    "GITHUB_REF_NAME": context.github["ref_name"] ?? "",
                ]
            ) { $1 }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["--noprofile", "--norc", "-eo", "pipefail", scriptFile.path]
            process.currentDirectoryURL =
                step.workingDirectory.map { context.workspace.appendingPathComponent($0) } ?? context.workspace
            process.environment = environment
            let result = try runToCompletion(process)

            var stepOutputs: [String: String] = [:]
            for line in (try String(contentsOf: output, encoding: .utf8)).split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                stepOutputs[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            if let id = step.id { outputs[id] = stepOutputs }
            for line in (try String(contentsOf: envFile, encoding: .utf8)).split(separator: "\n") {
                guard let equals = line.firstIndex(of: "=") else { continue }
                env[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            extraPath = (try String(contentsOf: pathFile, encoding: .utf8)).split(separator: "\n").map(String.init)
            let summaryText = try String(contentsOf: summary, encoding: .utf8)
            if !summaryText.isEmpty {
                // The job's summary is every step's, in order, as the run's page shows it.
                let job = temp.appendingPathComponent("job-summary.md")
                let previous = (try? String(contentsOf: job, encoding: .utf8)) ?? ""
                try (previous + summaryText).write(to: job, atomically: true, encoding: .utf8)
            }
            if result.status != 0 { failed = true }
            results.append(
                StepResult(
                    step: step, status: result.status, stdout: String(decoding: result.stdout, as: UTF8.self),
                    stderr: String(decoding: result.stderr, as: UTF8.self), outputs: stepOutputs))
        }
        return results
    }

    /// `${{ expression }}` with what the examples use: `a.b.c` names (`github.*`, `secrets.*`, `vars.*`,
    /// `env.*`, `runner.temp`, `runner.os`, `steps.ID.outputs.NAME`) and `x || y`. An unknown name is
    /// empty, as on GitHub.
    static func substitute(
        _ text: String, context: Context, env: [String: String], outputs: [String: [String: String]]
    ) -> String {
        var result = ""
        var rest = Substring(text)
        while let open = rest.range(of: "${{"), let close = rest[open.upperBound...].range(of: "}}") {
            result += rest[..<open.lowerBound]
            let expression = rest[open.upperBound..<close.lowerBound]
            let alternatives = expression.components(separatedBy: "||").map {
                value($0.trimmingCharacters(in: .whitespaces), context: context, env: env, outputs: outputs)
            }
            result += alternatives.first { !$0.isEmpty } ?? ""
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    private static func value(
        _ name: String, context: Context, env: [String: String], outputs: [String: [String: String]]
    ) -> String {
        if name.hasPrefix("'"), name.hasSuffix("'"), name.count >= 2 { return String(name.dropFirst().dropLast()) }
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return "" }
        switch parts[0] {
        case "github":
            if parts[1] == "workspace" { return context.workspace.path }
            return context.github[parts[1]] ?? ""
        case "secrets": return context.secrets[parts[1]] ?? ""
        case "vars": return context.vars[parts[1]] ?? ""
        case "env": return env[parts[1]] ?? ""
        case "runner":
            return parts[1] == "temp" ? context.runnerTemp.path : parts[1] == "os" ? "Linux" : ""
        case "steps":
            let path = parts[1].split(separator: ".").map(String.init)
            guard path.count == 3, path[1] == "outputs" else { return "" }
            return outputs[path[0]]?[path[2]] ?? ""
        default: return ""
        }
    }
}

struct WorkflowError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
