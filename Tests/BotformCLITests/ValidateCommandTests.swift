import Foundation
import Testing

@Suite("botform validate, schema and usage (built binary)")
struct ValidateCommandTests {
    let valid = BotformProcess.fixtures.appendingPathComponent("valid/design-example.yaml").path

    @Test("a valid configuration exits 0 with a summary on stdout and nothing on stderr")
    func validFile() throws {
        let result = try BotformProcess.run(["validate", valid])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "Configuration is valid: 1 provider, 2 roles, 1 bot.\n")
        #expect(result.stderr.isEmpty)
    }

    @Test("an invalid configuration exits 1 with compiler-style diagnostics on stderr")
    func invalidFile() throws {
        let path = BotformProcess.fixtures.appendingPathComponent("invalid/unknown-bot-key.yaml").path
        let result = try BotformProcess.run(["validate", path])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(
            lines.contains(
                "\(path):11:5: error: unknown key \"permisions\" in bot \"inventory-agent\"; did you mean \"permissions\"?"
            ))
        #expect(lines.last == "Configuration is invalid: 1 error, 1 warning.")
        #expect(!result.stderr.contains("\u{1B}["), "no colour when stderr is not a terminal")
    }

    @Test("--format json writes a report to stdout, even when invalid")
    func json() throws {
        let path = BotformProcess.fixtures.appendingPathComponent("invalid/include-cycle-two.yaml").path
        let result = try BotformProcess.run(["validate", path, "--format", "json"])
        #expect(result.status == 1)
        #expect(result.stderr.isEmpty)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(report["valid"] as? Bool == false)
        #expect(report["error_count"] as? Int == 1)
        let diagnostic = try #require((report["diagnostics"] as? [[String: Any]])?.first)
        #expect(diagnostic["message"] as? String == "include cycle: alpha -> beta -> alpha")
        #expect(diagnostic["line"] as? Int == 14 && diagnostic["column"] as? Int == 15)
        #expect(diagnostic["file"] as? String == path)
    }

    @Test("without a path, botform.yaml in the working directory is read")
    func defaultPath() throws {
        let directory = try BotformProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = try BotformProcess.run(["validate"], in: directory)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no such file or directory: \"botform.yaml\""))
        try FileManager.default.copyItem(atPath: valid, toPath: directory.appendingPathComponent("botform.yaml").path)
        #expect(try BotformProcess.run(["validate"], in: directory).status == 0)
    }

    @Test("a directory is validated as one configuration")
    func directory() throws {
        let result = try BotformProcess.run([
            "validate", BotformProcess.fixtures.appendingPathComponent("valid/dir-split").path,
        ])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("1 provider, 1 role, 1 bot"))
    }

    @Test(
        "usage errors exit 64", arguments: [["validate", "--format", "xml"], ["frobnicate"], ["validate", "a", "b"]])
    func usage(arguments: [String]) throws {
        let result = try BotformProcess.run(arguments)
        #expect(result.status == 64, "\(result)")
        #expect(result.stdout.isEmpty)
    }

    @Test("--version prints the version")
    func version() throws {
        let result = try BotformProcess.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil)
    }

    @Test("colour only on a terminal, and never with NO_COLOR or --no-color")
    func colour() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else {
            Issue.record("util-linux `script` is needed to give the binary a terminal")
            return
        }
        let path = BotformProcess.fixtures.appendingPathComponent("invalid/protect-yes.yaml").path
        func underTerminal(_ command: String, environment: [String: String] = [:]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
            process.arguments = ["-qec", command, "/dev/null"]
            var env = ["PATH": "/usr/bin:/bin", "TERM": "xterm"]
            env.merge(environment) { $1 }
            process.environment = env
            return try BotformProcess.capture(process).stdout
        }
        let binary = BotformProcess.binary.path
        #expect(try underTerminal("\(binary) validate \(path)").contains("\u{1B}[31merror:"))
        #expect(!(try underTerminal("\(binary) validate \(path)", environment: ["NO_COLOR": "1"]).contains("\u{1B}[")))
        #expect(!(try underTerminal("\(binary) validate --no-color \(path)").contains("\u{1B}[")))
    }
}

@Suite("botform schema")
struct SchemaCommandTests {
    func schema() throws -> String {
        let result = try BotformProcess.run(["schema"])
        #expect(result.status == 0)
        return result.stdout
    }

    @Test("the schema is draft-07 JSON Schema that names every top-level key")
    func shape() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try schema().utf8)) as? [String: Any])
        #expect(object["$schema"] as? String == "http://json-schema.org/draft-07/schema#")
        let properties = try #require(object["properties"] as? [String: Any])
        #expect(Set(properties.keys) == ["version", "providers", "roles", "bots", "policy", "output", "ignore"])
        #expect(object["additionalProperties"] as? Bool == false)
    }

    @Test("an independent validator (Python jsonschema) accepts every valid fixture and rejects misspelled keys")
    func independentValidator() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import jsonschema, yaml"]
        let available = (try? BotformProcess.capture(probe).status) == 0
        if !available {
            // `.ci/run` installs both; outside CI say why the check did not run.
            try #require(
                ProcessInfo.processInfo.environment["CI"] == nil, "CI must have python3 with jsonschema and PyYAML")
            print("skipped: python3 with jsonschema and PyYAML is not available")
            return
        }
        let directory = try BotformProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let schemaPath = directory.appendingPathComponent("schema.json")
        try Data(try schema().utf8).write(to: schemaPath)
        let script = """
            import glob, json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft7Validator.check_schema(schema)
            v = jsonschema.Draft7Validator(schema)
            fixtures = sys.argv[2]
            bad = []
            for path in sorted(glob.glob(fixtures + "/valid/*.yaml")):
                errors = list(v.iter_errors(yaml.safe_load(open(path)) or {}))
                if errors: bad.append(f"{path}: {errors[0].message}")
            # (protect-yes is left out: PyYAML reads `yes` as YAML 1.1's true; editors use YAML 1.2.)
            for name in ["unknown-bot-key", "unknown-top-level-key", "action-misspelled", "entity-wildcard",
                         "fyso-provider-with-host", "duration-no-unit", "protect-quoted-true", "recipient-ssh", "bot-name-uppercase"]:
                if not list(v.iter_errors(yaml.safe_load(open(f"{fixtures}/invalid/{name}.yaml")))):
                    bad.append(f"{name}: accepted")
            print("\\n".join(bad))
            sys.exit(1 if bad else 0)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, schemaPath.path, BotformProcess.fixtures.path]
        let result = try BotformProcess.capture(process)
        #expect(result.status == 0, "\(result)")
    }
}

@Suite("docs/botform.schema.json")
struct CommittedSchemaTests {
    @Test("the committed schema is what botform schema prints (run `botform schema > docs/botform.schema.json`)")
    func upToDate() throws {
        let committed = try String(
            contentsOf: BotformProcess.packageRoot.appendingPathComponent("docs/botform.schema.json"), encoding: .utf8)
        #expect(try BotformProcess.run(["schema"]).stdout == committed)
    }

    @Test("the quick-start example is valid")
    func quickstart() throws {
        let result = try BotformProcess.run([
            "validate", BotformProcess.packageRoot.appendingPathComponent("examples/quickstart").path,
        ])
        #expect(result.status == 0, "\(result)")
    }
}
