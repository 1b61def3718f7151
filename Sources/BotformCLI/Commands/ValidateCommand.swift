import ArgumentParser
import BotformConfig
import BotformCore

/// `botform validate [PATH]`: parse and check the configuration, without touching the network.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a configuration file or directory; no network.",
        discussion: """
            Reports every problem in one pass as file:line:column: error: message. \
            Exits 0 when the configuration is valid (warnings allowed) and 1 when it is not.
            """)

    @Argument(help: "A configuration file, or a directory whose *.yaml/*.yml files are merged (default: botform.yaml).")
    var path: String?

    @Option(help: "Output format: text (diagnostics on stderr) or json (a report on stdout).")
    var format: DiagnosticFormat = .text

    @OptionGroup var output: OutputOptions

    func run() throws {
        let terminal = output.terminal
        do {
            try Frontend.refuseKeyMaterial(path)
        } catch let error as CLIError {
            throw terminal.report(error).exitCode
        }
        let location = ConfigLocation.resolve(path)
        let loaded = ConfigLoader.load(path: location)
        let diagnostics = loaded.diagnostics.sorted
        switch format {
        case .json:
            terminal.out(ValidationReport(loaded: loaded).json.serialized())
        case .text:
            terminal.emit(diagnostics)
            let errors = loaded.diagnostics.errors.count
            let warnings = loaded.diagnostics.warnings.count
            if let state = loaded.state {
                let suffix = warnings == 0 ? "" : " (\(count(warnings, "warning")))"
                terminal.out(
                    "\(terminal.paint("Configuration is valid:", .green)) \(count(state.providers.count, "provider")), \(count(state.roles.count, "role")), \(count(state.bots.count, "bot"))\(suffix)."
                )
            } else {
                terminal.err(
                    "\(terminal.paint("Configuration is invalid:", .red, stderr: true)) \(count(errors, "error")), \(count(warnings, "warning"))."
                )
            }
        }
        if loaded.state == nil { throw ExitStatus.failure.exitCode }
    }
}

func count(_ value: Int, _ noun: String) -> String {
    "\(value) \(noun)\(value == 1 ? "" : "s")"
}

/// The JSON form of `validate`, for tools (editors, CI annotations).
struct ValidationReport {
    var loaded: LoadedConfig

    var json: JSONValue {
        let diagnostics = loaded.diagnostics.sorted.map { diagnostic -> JSONValue in
            var members: [(String, JSONValue)] = [
                ("severity", .string(diagnostic.severity.rawValue)),
                ("message", .string(diagnostic.message)),
            ]
            if let location = diagnostic.location {
                members += [
                    ("file", .string(location.file)),
                    ("line", .integer(Int64(location.line))),
                    ("column", .integer(Int64(location.column))),
                ]
            }
            return .object(members)
        }
        return .object([
            ("format_version", .string("1.0")),
            ("valid", .bool(loaded.state != nil)),
            ("error_count", .integer(Int64(loaded.diagnostics.errors.count))),
            ("warning_count", .integer(Int64(loaded.diagnostics.warnings.count))),
            ("files", .array(loaded.files.map(JSONValue.string))),
            ("diagnostics", .array(diagnostics)),
        ])
    }
}
