import ArgumentParser
import BotformCore
import BotformRender
import BotformSeal
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `botform apply`: carry out a plan, sealing every secret the services issue.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Carry out the plan: register, replace, reset and revoke bots, sealing every issued secret.",
        discussion: """
            Given a configuration, plans and asks for confirmation ("yes"); given a saved plan (plan --out), checks \
            that nothing changed since planning and applies it. Without --auto-approve, apply asks on a terminal and \
            refuses when stdin is not one. Exit 0 done, 1 error, 3 incomplete (some actions failed; everything issued \
            was sealed; run apply again), 4 saved plan stale, 5 another apply holds the lock.
            """)

    @Argument(help: "Configuration file or directory (default: botform.yaml), or a plan file from plan --out.")
    var path: String?

    @Flag(help: "Apply without asking for confirmation (for CI).")
    var autoApprove = false

    @Option(help: "How many actions run at once (1-64).")
    var parallelism = 8

    @Option(help: "How long to wait for another apply's lock on the sealed file, e.g. 30s or 5m.")
    var lockTimeout = "0s"

    @Option(
        name: [.customShort("i"), .long],
        help: "Identity file to re-wrap sealed secrets when the recipients changed (or BOTFORM_IDENTITY); repeatable.")
    var identity: [String] = []

    @OptionGroup var selection: PlanSelection
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...64).contains(parallelism) else { throw ValidationError("--parallelism must be from 1 to 64") }
        if lockTimeout != "0", lockTimeout != "0s", (try? BotformDuration.parse(lockTimeout)) == nil {
            throw ValidationError("--lock-timeout takes a duration such as 30s or 5m")
        }
    }

    private var lockSeconds: TimeInterval {
        (try? BotformDuration.parse(lockTimeout)).map { TimeInterval($0.seconds) } ?? 0
    }

    func run() async throws {
        let terminal = output.terminal
        do {
            try await apply(terminal)
        } catch let error as CLIError {
            throw terminal.report(error).exitCode
        }
    }

    private func apply(_ terminal: Terminal) async throws {
        let frontend = Frontend(terminal: terminal)
        let saved: PlanDocument? = try path.flatMap { SavedPlan.isPlan($0) ? try SavedPlan.read($0) : nil }
        if saved != nil, !selection.targets.isEmpty || !selection.rotate.isEmpty {
            throw CLIError(
                "--target and --rotate shape a plan; a saved plan is applied as it was planned (plan again to change it)",
                status: .usage)
        }
        let configuration = try frontend.loadConfiguration(saved?.configuration.path ?? path)
        if let saved, saved.configuration.sha256 != configuration.sha256 {
            throw CLIError(
                "the saved plan is stale: the configuration at \(saved.configuration.path) changed since planning; run plan again",
                status: .stalePlan)
        }
        let state = configuration.state

        // One apply at a time per sealed file; a journal left by a killed run is folded first.
        var lock: SealLock?
        var custody: SealedCustody?
        let recipients = try frontend.recipients(state)
        if let sealedPath = state.output.sealedPath {
            try FileManager.default.createDirectory(
                atPath: (sealedPath as NSString).deletingLastPathComponent.isEmpty
                    ? "." : (sealedPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            do {
                lock = try await SealLock.acquire(sealedPath: sealedPath, timeout: lockSeconds)
            } catch {
                // `acquire` throws only LockError (typed), so `error` is one.
                throw CLIError(error.description, status: .locked)
            }
            if let previous = lock?.previousHolder {
                terminal.warn("an earlier apply (\(previous)) did not finish; anything it recorded is kept")
            }
            custody = try openCustody(sealedPath, recipients: recipients, frontend: frontend, terminal: terminal)
        }
        defer { lock?.release() }

        let ownership = await custody?.ownership() ?? Ownership()
        let connections = try await frontend.connect(configuration, ownership: ownership)
        let result: ApplyResult?
        do {
            let observations = try await frontend.observe(connections)
            let options = saved?.options ?? selection.options
            var plan = try frontend.plan(
                configuration, observations: observations, ownership: ownership, connections: connections,
                options: options)
            if let saved {
                let changed = Set(saved.inputs.keys).union(plan.inputs.keys).filter {
                    saved.inputs[$0] != plan.inputs[$0]
                }.sorted()
                guard changed.isEmpty else {
                    throw CLIError(
                        "the saved plan is stale; these bots changed since it was made: \(changed.joined(separator: ", ")); run plan again",
                        status: .stalePlan)
                }
                plan = saved
                unblock(&plan, allowed: selection.allowDestroy)
            }
            result = try await execute(
                plan, custody: custody, recipients: recipients, connections: connections, terminal: terminal)
            await connections.close()
        } catch {
            await connections.close()
            try? await custody?.checkpoint()
            throw error
        }
        try await custody?.checkpoint()
        guard let result else { return }
        if !result.isComplete { throw ExitStatus.incomplete.exitCode }
    }

    /// The sealed file with its journal, folded when an earlier run left one; re-wrapped for new recipients.
    private func openCustody(_ path: String, recipients: [AgeRecipient], frontend: Frontend, terminal: Terminal) throws
        -> SealedCustody
    {
        let custody: SealedCustody
        let pending: Int
        do {
            pending = try SealedCustody.read(path: path).journalRecords
            custody = try SealedCustody(path: path, recipients: recipients)
        } catch {
            throw CLIError("cannot read the sealed file: \(error)")
        }
        if pending > 0 {
            terminal.warn(
                "\(path).journal holds \(count(pending, "record")) from an interrupted run; folding them into the sealed file"
            )
        }
        return custody
    }

    /// `--allow-destroy` on a saved plan lifts the blocks of the bots it names.
    private func unblock(_ plan: inout PlanDocument, allowed: [String]) {
        guard !allowed.isEmpty else { return }
        for index in plan.actions.indices where plan.actions[index].blocked != nil {
            let action = plan.actions[index]
            if allowed.contains(action.address) || allowed.contains(action.bot) { plan.actions[index].blocked = nil }
        }
        plan.summary = PlanDocument.Summary(actions: plan.actions, drift: plan.drift)
    }

    private func execute(
        _ plan: PlanDocument, custody: SealedCustody?, recipients: [AgeRecipient], connections: Frontend.Connections,
        terminal: Terminal
    ) async throws -> ApplyResult? {
        let renderer = PlanTextRenderer(style: terminal.planStyle)
        guard plan.summary.hasChanges else {
            terminal.out(renderer.render(plan))
            return nil
        }
        if plan.isBlocked {
            terminal.out(renderer.render(plan))
            let messages = Set(plan.actions.compactMap { $0.blocked?.message }).sorted()
            throw CLIError("the plan is blocked:\n  " + messages.joined(separator: "\n  "))
        }
        let issuing = plan.actions.filter { [.register, .replace, .reset].contains($0.action) }.count
        if issuing > 0 {
            guard let custody else {
                throw CLIError(
                    "this plan issues \(count(issuing, "secret")), but no sealed output is configured and a secret is shown only once; set output.sealed"
                )
            }
            guard !recipients.isEmpty else {
                throw CLIError(
                    "this plan issues \(count(issuing, "secret")), but there are no recipients to seal them to; set output.recipients, output.recipients_file or BOTFORM_RECIPIENTS"
                )
            }
            try await rewrap(custody, recipients: recipients, terminal: terminal)
        }
        terminal.out(renderer.render(plan))
        try confirm(terminal)

        let progress = ProgressPrinter(terminal: terminal)
        let executor = ApplyExecutor(
            providers: connections.providers, custody: custody ?? NoCustody(), parallelism: parallelism,
            progress: progress.handle)
        let result = await executor.run(plan)
        summarize(result, plan: plan, sealedPath: custody?.path, terminal: terminal)
        return result
    }

    private func rewrap(_ custody: SealedCustody, recipients: [AgeRecipient], terminal: Terminal) async throws {
        let file = await custody.sealedFile
        let stale = file.entries.values.filter { $0.secret != nil && Set($0.sealedTo) != Set(recipients) }
        guard !stale.isEmpty else { return }
        let identities = try Frontend(terminal: terminal).identities(files: identity)
        let (updated, report) = file.rewrapped(for: recipients, identities: identities)
        await custody.replace(with: updated)
        if !report.rewrapped.isEmpty {
            terminal.err("Re-wrapped \(count(report.rewrapped.count, "sealed secret")) for the new recipients.")
        }
        if !report.unreadable.isEmpty {
            let groups = Dictionary(grouping: report.unreadable) {
                $0.sealedTo.map(\.description).sorted().joined(separator: ", ")
            }
            for (holders, entries) in groups.sorted(by: { $0.key < $1.key }) {
                terminal.warn(
                    "\(count(entries.count, "secret")) stay readable only by \(holders): \(entries.map(\.address).prefix(5).joined(separator: ", "))\(entries.count > 5 ? ", …" : ""); pass -i (or BOTFORM_IDENTITY) to re-wrap them, or --rotate them"
                )
            }
        }
    }

    private func confirm(_ terminal: Terminal) throws {
        guard !autoApprove else { return }
        guard Terminal.stdinIsTerminal else {
            throw CLIError(
                "apply needs confirmation, and stdin is not a terminal; pass --auto-approve to apply without asking")
        }
        terminal.err("\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n")
        Terminal.write("  Enter a value: ", to: STDERR_FILENO)
        guard readLine(strippingNewline: true) == "yes" else { throw CLIError("apply cancelled") }
        terminal.err("")
    }

    private func summarize(_ result: ApplyResult, plan: PlanDocument, sealedPath: String?, terminal: Terminal) {
        let done = Set(result.completed)
        func did(_ kind: ActionKind) -> Int {
            plan.actions.filter { $0.action == kind && done.contains($0.address) }.count
        }
        var parts = [
            "\(did(.register)) registered", "\(did(.replace)) replaced", "\(did(.reset)) reset",
            "\(did(.revoke)) revoked",
        ]
        if did(.adopt) > 0 { parts.append("\(did(.adopt)) adopted") }
        if did(.forget) > 0 { parts.append("\(did(.forget)) forgotten") }
        let sealed =
            sealedPath.map {
                result.secretsIssued > 0 ? " \(count(result.secretsIssued, "secret")) sealed in \($0)." : ""
            } ?? ""
        if result.isComplete {
            terminal.out(
                "\n" + terminal.paint("Apply complete!", .green) + " " + parts.joined(separator: ", ") + "." + sealed)
        } else {
            terminal.out(
                "\n" + terminal.paint("Apply incomplete:", .red)
                    + " \(result.completed.count) of \(plan.actions.count) actions done ("
                    + parts.joined(separator: ", ")
                    + "), \(result.failed.count) failed." + sealed
                    + " Everything issued was sealed; run apply again to converge.")
            for failure in result.failed.sorted(by: { $0.address < $1.address }) {
                terminal.err("  \(failure.address): \(failure.message)")
            }
        }
    }
}

/// One progress line per action on stderr.
struct ProgressPrinter: Sendable {
    let terminal: Terminal

    var handle: @Sendable (ApplyEvent) -> Void {
        let terminal = self.terminal
        return { event in
            switch event {
            case .started(let action):
                terminal.err("\(action.address): \(Self.verbs(action.action).doing)...")
            case .finished(let action, let seconds, let detail):
                let time = String(format: "%.1fs", seconds)
                terminal.err(
                    "\(action.address): \(Self.verbs(action.action).done) after \(time)"
                        + (detail.isEmpty ? "" : " [\(detail)]"))
            case .failed(let action, let message):
                terminal.err("\(action.address): \(terminal.paint("failed", .red, stderr: true)): \(message)")
            case .note(let message):
                terminal.err("  \(message)")
            }
        }
    }

    static func verbs(_ kind: ActionKind) -> (doing: String, done: String) {
        switch kind {
        case .register: ("registering", "registered")
        case .replace: ("replacing", "replaced")
        case .reset: ("resetting its secret", "secret reset")
        case .revoke: ("revoking", "revoked")
        case .adopt: ("adopting", "adopted")
        case .forget: ("forgetting", "forgotten")
        }
    }
}

/// Custody for plans that issue nothing (apply refuses issuing plans without a sealed file).
struct NoCustody: SecretCustody {
    func ownership() async -> Ownership { Ownership() }
    func recordIntent(_ intent: IssueIntent, provider: String, bot: String, id: String?, permissions: Permissions?)
        async throws
    {}
    func recordIssued(provider: String, bot: String, id: String, permissions: Permissions, secret: Secret, at: Date)
        async throws
    {
        throw CLIError("no sealed output to hold the secret of \(provider)/\(bot)")
    }
    func recordRevoked(provider: String, bot: String, id: String) async throws {}
    func recordAdopted(provider: String, bot: String, id: String, permissions: Permissions?) async throws {}
    func recordForgotten(provider: String, bot: String) async throws {}
}
