import ArgumentParser
import BotformCore
import BotformRender
import BotformSeal
import Foundation

/// `botform drift`: only what changed outside Botform, with stable fingerprints, for a scheduled job.
struct DriftCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drift",
        abstract: "Report only what changed outside Botform (for a scheduled check); changes nothing.",
        discussion: """
            Reads the configuration, the sealed file and every provider, and reports unmanaged bots, managed bots \
            revoked, gone or changed outside Botform, secrets past rotate_every, tokens expired or due for renewal, \
            and sealed entries whose recipients differ from the configuration; each finding has a stable \
            fingerprint. Findings the configuration's ignore list covers are listed apart. With --verify, each \
            sealed credential is also presented to its service once (Fyso: identify); a refusal is a finding. \
            Exit 0 no drift, 2 drift, 1 error, 64 usage.
            """)

    @Argument(help: "Configuration file or directory (default: botform.yaml).")
    var path: String?

    @Option(help: "Output format: text, json (the drift report) or markdown (an issue body, with a hidden marker).")
    var format: PlanFormat = .text

    @Flag(help: "Also prove each sealed credential still works: one identify per bot, never retried (needs -i).")
    var verify = false

    @Option(
        name: [.customShort("i"), .long],
        help: "Identity file that opens the sealed secrets, for --verify (default: BOTFORM_IDENTITY); repeatable.")
    var identity: [String] = []

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if !identity.isEmpty, !verify {
            throw ValidationError("-i/--identity is used only with --verify (drift reads no secret without it)")
        }
    }

    func run() async throws {
        let terminal = output.terminal
        let github = GitHubActions()
        do {
            try await drift(terminal, github: github)
        } catch let error as CLIError {
            let status = terminal.report(error)
            github.annotate(error: error.description, terminal: terminal)
            throw status.exitCode
        }
    }

    private func drift(_ terminal: Terminal, github: GitHubActions) async throws {
        let frontend = Frontend(terminal: terminal)
        let configuration = try frontend.loadConfiguration(path)
        let identities = verify ? try frontend.identities(files: identity) : []
        if verify, identities.isEmpty {
            throw CLIError(
                "--verify opens the sealed secrets, which needs a key; "
                    + IdentitySource(files: identity, environment: frontend.environment).absence)
        }
        let sealed = try frontend.sealedFile(configuration.state)
        let ownership = sealed?.ownership ?? Ownership()
        let connections = try await frontend.connect(configuration, ownership: ownership)
        let plan: PlanDocument
        var verification: CredentialVerification.Outcome?
        do {
            let observations = try await frontend.observe(connections)
            let recipients = try sealed?.recipientChange(for: frontend.recipients(configuration.state))
            plan = try frontend.plan(
                configuration, observations: observations, ownership: ownership, connections: connections,
                options: PlanDocument.Options(), recipients: recipients)
            if verify, let sealed {
                verification = await CredentialVerification(terminal: terminal).run(
                    sealed, identities: identities, providers: connections.providers, observations: observations)
            }
            await connections.close()
        } catch {
            await connections.close()
            throw error
        }
        if verify, sealed == nil {
            terminal.warn("no sealed output is configured (output.sealed): there is no credential to verify")
        }
        let report = DriftReport(
            createdAt: Date(), configuration: configuration.path, providers: plan.providers,
            findings: DriftReport.findings(from: plan, ownership: ownership) + (verification?.findings ?? []),
            ignore: configuration.state.ignore, verification: verification?.summary)
        switch format {
        case .text: terminal.out(DriftRenderer(style: terminal.planStyle).text(report))
        case .json: terminal.out(String(decoding: try report.jsonData(), as: UTF8.self))
        case .markdown: terminal.out(DriftRenderer().markdown(report).trimmingSuffixNewlines())
        }
        github.appendToStepSummary(DriftRenderer().markdown(report), terminal: terminal)
        for entry in DriftReport.unused(configuration.state.ignore, by: report) {
            let place = entry.location.map { "\($0): " } ?? "botform: "
            terminal.err(
                Secret.redactingKeys(
                    "\(place)note: ignore entry \"\(entry.bot)\" matched no finding; remove it once it is not needed"))
        }
        if let unverified = verification?.unknown, !unverified.isEmpty {
            throw CLIError(
                "could not verify \(count(unverified.count, "credential")) (no definite answer from the service): "
                    + unverified.prefix(5).joined(separator: "; ") + (unverified.count > 5 ? "; …" : ""))
        }
        if !report.isClean { throw ExitStatus.changesPresent.exitCode }
    }
}
