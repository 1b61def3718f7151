import ArgumentParser
import BotformCore
import Foundation

/// `botform show PLANFILE`: a saved plan, rendered.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print a saved plan (from plan --out) as text, JSON or markdown.")

    @Argument(help: "A plan file written by `botform plan --out`.")
    var planFile: String

    @Option(help: "Output format: text, json or markdown.")
    var format: PlanFormat = .text

    @OptionGroup var output: OutputOptions

    func run() throws {
        let terminal = output.terminal
        do {
            let plan = try SavedPlan.read(planFile)
            terminal.out(try terminal.render(plan, as: format))
        } catch let error as CLIError {
            throw terminal.report(error).exitCode
        }
    }
}

enum SavedPlan {
    /// Whether the file is a saved plan (a JSON object with `format_version`), rather than configuration.
    static func isPlan(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = String(decoding: (try? handle.read(upToCount: 4_096)) ?? Data(), as: UTF8.self)
        return head.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{")
            && head.contains("\"format_version\"")
    }

    static func read(_ path: String) throws -> PlanDocument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the plan file \"\(path)\"")
        }
        do {
            return try PlanDocument.read(data)
        } catch {
            throw CLIError("\(path): \(error.description)")
        }
    }
}
