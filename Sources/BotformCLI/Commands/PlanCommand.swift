import ArgumentParser
import BotformCore
import BotformRender
import BotformSeal
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

    @Option(help: "How many calls each service gets at once, e.g. pages of its bot list read together (1-64).")
    var parallelism = 8

    @OptionGroup var selection: PlanSelection
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...64).contains(parallelism) else { throw ValidationError("--parallelism must be from 1 to 64") }
    }

    func run() async throws {
        let terminal = output.terminal
        let github = GitHubActions()
        do {
            // A key where the plan file's name goes is refused before anything is read, and not repeated.
            if let out, AgeIdentity.mayHoldKeyMaterial(out) {
                throw CLIError(
                    "--out looks like a private key; it is not repeated here. Name the plan file (plan.json), and keep keys in files",
                    status: .usage)
            }
            let plan = try await Self.makePlan(
                path: path, selection: selection, terminal: terminal, parallelism: parallelism)
            if let out {
                do {
                    try plan.jsonData().write(to: URL(fileURLWithPath: out), options: .atomic)
                } catch {
                    throw CLIError("cannot write the plan to \"\(out)\": \(error.localizedDescription)")
                }
            }
            terminal.out(try terminal.render(plan, as: format))
            // On GitHub Actions, the job's page shows the plan as the pull request would.
            github.appendToStepSummary(PlanMarkdownRenderer().render(plan), terminal: terminal)
            if let out, format == .text {
                terminal.err("Saved the plan to \(out); apply it with: botform apply \(out)")
            }
            Retained.keep(plan)
            if detailedExitcode, plan.hasChanges || !plan.drift.isEmpty {
                throw ExitStatus.changesPresent.exitCode
            }
        } catch let error as CLIError {
            let status = terminal.report(error)
            github.annotate(error: error.description, terminal: terminal)
            throw status.exitCode
        }
    }

    /// Load, connect, observe and plan. The sealed file is read while the services are being observed:
    /// both take time (a large sealed file is megabytes of YAML), and they do not depend on each other.
    static func makePlan(path: String?, selection: PlanSelection, terminal: Terminal, parallelism: Int = 8)
        async throws -> PlanDocument
    {
        var settings = Frontend(terminal: terminal)
        settings.parallelism = parallelism
        let frontend = settings
        // The sealed file is read from the moment its path is known, while the bots are still resolved.
        let early = EarlyRead()
        let configuration = try frontend.loadConfiguration(path) { output in
            let path = output.sealedPath
            early.start(path) { Task { try await offload { try frontend.readSealedFile(at: path) } } }
        }
        let wanted = configuration.state.output.sealedPath
        let reading =
            early.task(for: wanted) ?? Task { try await offload { try frontend.readSealedFile(at: wanted) } }
        let connections: Frontend.Connections
        let observations: [String: ProviderObservation]
        let ownership: Ownership
        do {
            connections = try await frontend.connect(configuration, ownership: Ownership())
        } catch {
            reading.cancel()
            throw error
        }
        do {
            observations = try await frontend.observe(connections)
            let sealed = frontend.noted(try await reading.value)
            ownership = sealed?.ownership ?? Ownership()
            let recipients = try sealed?.recipientChange(for: frontend.recipients(configuration.state))
            // Providers with bots only in the sealed file (all removed from configuration) are read too.
            let added = try await frontend.connect(configuration, ownership: ownership, into: connections)
            var all = observations
            if !added.isEmpty {
                for (name, observation) in try await frontend.observe(connections, only: added) {
                    all[name] = observation
                }
            }
            let plan = try frontend.plan(
                configuration, observations: all, ownership: ownership, connections: connections,
                options: selection.options, recipients: recipients)
            Retained.keep((configuration, all, sealed as Any, ownership))
            await connections.close()
            return plan
        } catch {
            await connections.close()
            throw error
        }
    }
}
