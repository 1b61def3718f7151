import ArgumentParser
import BotformConfig
import BotformCore
import BotformProviders
import Foundation

/// `botform import`: write YAML declaring every bot a provider holds, so a team can adopt Botform on an
/// existing tenant: the next plan adopts each bot and resets no secret.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Write YAML declaring every active bot a provider holds, for adopting an existing tenant.",
        discussion: """
            Reads the provider's bots (the configuration says how to reach it) and writes roles and bots: each \
            bot with the permissions it holds, permission sets shared by several bots as roles. Put the file \
            beside the configuration and plan the directory: every bot is adopted, no secret is reset (--rotate \
            BOT issues one). Bots already declared are left out; bots whose names Botform cannot declare are \
            listed in comments. Changes nothing on the service.
            """)

    @Argument(help: "Configuration file or directory that declares the provider (default: botform.yaml).")
    var path: String?

    @Option(help: "The provider to read, as named in the configuration.")
    var provider: String

    @Option(help: "Write the YAML to this file (atomically) instead of stdout.")
    var out: String?

    @Flag(help: "Overwrite --out if it exists.")
    var force = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let terminal = output.terminal
        do {
            try await importBots(terminal)
        } catch let error as CLIError {
            throw terminal.report(error).exitCode
        }
    }

    private func importBots(_ terminal: Terminal) async throws {
        try Frontend.refuseKeyMaterial(out)
        if let out, !force, FileManager.default.fileExists(atPath: out) {
            throw CLIError("\"\(out)\" exists; botform import does not overwrite a file without --force")
        }
        let frontend = Frontend(terminal: terminal)
        var configuration = try frontend.loadConfiguration(path)
        // Regenerating a file of the configuration itself (--force): its own declarations do not count.
        if let out, force {
            let target = URL(fileURLWithPath: out).standardizedFileURL.path
            func isTarget(_ location: SourceLocation?) -> Bool {
                location.map { URL(fileURLWithPath: $0.file).standardizedFileURL.path == target } ?? false
            }
            // A file that declares providers or the output holds more than bots and roles: overwriting it
            // with imported bots would lose them.
            if configuration.state.providers.contains(where: { isTarget($0.location) }) {
                throw CLIError(
                    "\"\(out)\" declares the providers (and the rest of the configuration); import writes only bots and roles, so it does not overwrite it even with --force: write to a file of its own (a configuration directory reads every *.yaml in it)"
                )
            }
            configuration.state.bots.removeAll { isTarget($0.location) }
            configuration.state.roles.removeAll { isTarget($0.location) }
        }
        let names = configuration.state.providers.map(\.name)
        guard let declared = configuration.state.provider(named: provider) else {
            throw CLIError(
                "--provider \"\(provider)\" names no provider of the configuration\(Suggestion.didYouMean(provider, in: names))",
                status: .usage)
        }
        guard case .fyso(let settings) = declared.settings else {
            throw CLIError(
                "provider \"\(provider)\" is a \(declared.kind.rawValue) provider; import reads fyso providers for now")
        }
        let connections = Frontend.Connections(http: HTTPTransport.makeClient())
        let observation: ProviderObservation
        do {
            connections.providers[provider] = try await frontend.fyso(
                provider, settings, configuration: configuration, connections: connections)
            guard let observed = try await frontend.observe(connections)[provider] else {
                throw CLIError("provider \"\(provider)\" returned no observation")
            }
            observation = observed
            await connections.close()
        } catch {
            await connections.close()
            throw error
        }
        let summary = connections.summaries[provider]
        let imported = ImportedConfiguration(
            provider: provider, observed: observation.bots,
            declaredBots: Dictionary(configuration.state.bots.map { ($0.name, $0.provider) }) { first, _ in first },
            declaredRoles: Set(configuration.state.roles.map(\.name)),
            header: [
                "Written by botform import from provider \"\(provider)\" (\(summary?.endpoint ?? "fyso")\(summary?.tenant.map { ", tenant \($0)" } ?? "")).",
                "Keep it beside the configuration and plan the directory: each bot is adopted as it is, and no",
                "secret is reset (botform apply --rotate BOT issues one). Rename roles freely.",
            ])
        for entry in imported.skipped {
            terminal.warn(
                "\(provider): bot \"\(entry.name.prefix(100))\" (\(entry.id)) is not declared: \(entry.reason)")
        }
        if let out {
            do {
                try Data(imported.text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw CLIError("cannot write \"\(out)\": \(error.localizedDescription)")
            }
        } else {
            terminal.out(imported.text.trimmingSuffixNewlines())
        }
        let already = imported.alreadyDeclared > 0 ? ", \(imported.alreadyDeclared) already declared" : ""
        let skipped = imported.skipped.isEmpty ? "" : ", \(imported.skipped.count) not declared (see the warnings)"
        terminal.err(
            "Imported \(count(imported.bots, "bot")) (\(count(imported.roles, "shared role"))) from \(provider)\(already)\(skipped)\(out.map { " into \($0)" } ?? "")."
        )
    }
}
