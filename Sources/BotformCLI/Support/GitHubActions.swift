import BotformCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// GitHub Actions as a command sees it: the job's step summary (`GITHUB_STEP_SUMMARY`) and workflow
/// commands (`::error file=…,line=…,col=…::message`), which the runner reads from a step's output and
/// turns into annotations on the pull request's changed lines. What goes there is a plan, an apply
/// report or a diagnostic, none of which ever holds a secret.
struct GitHubActions: Sendable {
    var environment: [String: String]
    var workingDirectory: String

    init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath
    ) {
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// On a GitHub runner (`GITHUB_ACTIONS=true`), where workflow commands become annotations.
    var isRunner: Bool { environment["GITHUB_ACTIONS"] == "true" }

    /// The job's step summary file, when the runner gives one.
    var stepSummaryPath: String? {
        guard let path = environment["GITHUB_STEP_SUMMARY"], !path.isEmpty else { return nil }
        return path
    }

    /// Appends `markdown` to the step summary. A summary that cannot be written is a warning: the plan or
    /// apply it describes has happened, and its exit status must say so, not the summary's.
    /// The markdown is rendered only when there is a summary to write: a plan of 10,000 changes is not
    /// rendered twice outside GitHub Actions.
    func appendToStepSummary(_ markdown: @autoclosure () -> String, terminal: Terminal) {
        guard let path = stepSummaryPath else { return }
        let markdown = markdown()
        let text = markdown.hasSuffix("\n") ? markdown + "\n" : markdown + "\n\n"
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            terminal.warn(
                "cannot write the step summary \"\(path)\" (GITHUB_STEP_SUMMARY): \(String(cString: strerror(errno)))")
            return
        }
        defer { close(descriptor) }
        Terminal.write(text, to: descriptor)
    }

    /// Each located diagnostic as a workflow command, on stderr (the runner reads both streams; stdout
    /// holds only the artefact). Off a runner, nothing.
    func annotate(_ diagnostics: [Diagnostic], terminal: Terminal) {
        guard isRunner else { return }
        for diagnostic in diagnostics { terminal.err(annotation(diagnostic)) }
    }

    /// A command's error as an annotation on the run (it has no place in a file).
    func annotate(error message: String, terminal: Terminal) {
        guard isRunner else { return }
        terminal.err(Self.command("error", properties: [("title", "botform")], message: message))
    }

    /// `::error file=botform.yaml,line=3,col=5::unknown key …` (warnings as `::warning`, notes as `::notice`).
    func annotation(_ diagnostic: Diagnostic) -> String {
        let name: String
        switch diagnostic.severity {
        case .error: name = "error"
        case .warning: name = "warning"
        case .note: name = "notice"
        }
        var properties: [(String, String)] = []
        if let location = diagnostic.location {
            properties = [
                ("file", repositoryPath(location.file)), ("line", String(location.line)),
                ("col", String(location.column)),
            ]
        }
        return Self.command(name, properties: properties, message: diagnostic.message)
    }

    /// A path as GitHub places annotations: relative to the repository's root (`GITHUB_WORKSPACE`), so a
    /// step with another working directory still points at the right file.
    func repositoryPath(_ file: String) -> String {
        guard let workspace = environment["GITHUB_WORKSPACE"], !workspace.isEmpty else { return file }
        let absolute = file.hasPrefix("/") ? file : (workingDirectory as NSString).appendingPathComponent(file)
        let standardized = (absolute as NSString).standardizingPath
        let root = (workspace as NSString).standardizingPath
        guard standardized.hasPrefix(root + "/") else { return file }
        return String(standardized.dropFirst(root.count + 1))
    }

    /// `::name key=value,…::message`, escaped as the runner unescapes it.
    static func command(_ name: String, properties: [(String, String)], message: String) -> String {
        let list = properties.map { "\($0.0)=\(escapeProperty($0.1))" }.joined(separator: ",")
        return "::\(name)\(list.isEmpty ? "" : " " + list)::\(escapeData(message))"
    }

    /// A message: `%`, CR and LF would end or bend the command.
    static func escapeData(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    /// A property value: also `:` (ends the properties) and `,` (separates them).
    static func escapeProperty(_ text: String) -> String {
        escapeData(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }
}

extension Terminal {
    /// Diagnostics as the compiler prints them, in order, and on a GitHub runner as annotations too.
    func emit(_ diagnostics: [Diagnostic], github: GitHubActions = GitHubActions()) {
        for diagnostic in diagnostics { err(render(diagnostic)) }
        github.annotate(diagnostics, terminal: self)
    }
}
