import ArgumentParser
import BotformCore
import Foundation

/// `botform plan`: observe every provider, diff against the configuration, print the plan.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what apply would change: register, replace, reset, revoke, adopt.",
        discussion: """
            Reads the configuration and the sealed file, lists the bots of every provider (one call per page), and \
            prints the plan. Changes nothing. With --detailed-exitcode: 0 when nothing would change and nothing \
            drifted, 2 when there are changes or drift, 1 on error.
            """)

    @Argument(help: "Configuration file or directory (default: botform.yaml).")
    var path: String?

    @Option(help: "Also save the plan (JSON) to this file, for `botform apply FILE` or `botform show FILE`.")
    var out: String?

    @Option(help: "Output format: text, json (the plan document) or markdown (for a pull-request comment).")
    var format: PlanFormat = .text

    @Flag(help: "Exit 2 when the plan has changes or drift, 0 when it has neither.")
    var detailedExitcode = false

    @OptionGroup var selection: PlanSelection
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let terminal = output.terminal
        do {
            let plan = try await Self.makePlan(path: path, selection: selection, terminal: terminal)
            if let out {
                do {
                    try plan.jsonData().write(to: URL(fileURLWithPath: out), options: .atomic)
                } catch {
                    throw CLIError("cannot write the plan to \"\(out)\": \(error.localizedDescription)")
                }
            }
            terminal.out(try terminal.render(plan, as: format))
            if let out, format == .text {
                terminal.err("Saved the plan to \(out); apply it with: botform apply \(out)")
            }
            if detailedExitcode, plan.summary.hasChanges || !plan.drift.isEmpty {
                throw ExitStatus.changesPresent.exitCode
            }
        } catch let error as CLIError {
            throw terminal.report(error).exitCode
        }
    }

    /// Load, connect, observe and plan: shared with apply.
    static func makePlan(path: String?, selection: PlanSelection, terminal: Terminal) async throws -> PlanDocument {
        let frontend = Frontend(terminal: terminal)
        let configuration = try frontend.loadConfiguration(path)
        let ownership = try frontend.ownership(configuration.state)
        let connections = try await frontend.connect(configuration, ownership: ownership)
        do {
            let observations = try await frontend.observe(connections)
            let plan = try frontend.plan(
                configuration, observations: observations, ownership: ownership, connections: connections,
                options: selection.options)
            await connections.close()
            return plan
        } catch {
            await connections.close()
            throw error
        }
    }
}
