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
            try Frontend.refuseKeyMaterial(planFile)
            let plan = try SavedPlan.read(planFile)
            terminal.out(try terminal.render(plan, as: format))
        } catch let error as CLIError {
            throw terminal.report(error).exitCode
        }
    }
}
