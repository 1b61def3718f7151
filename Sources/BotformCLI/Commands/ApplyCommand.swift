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
            Given a configuration, plans and asks for confirmation ("yes"); without --auto-approve it asks on a \
            terminal and refuses when stdin is not one. Given a saved plan (plan --out), checks that nothing changed \
            since planning and applies it without asking: the plan was the review. Sealed secrets whose recipients \
            differ from output.recipients are re-wrapped when an identity is given (-i or BOTFORM_IDENTITY). \
            Exit 0 done, 1 error (including a secret that could not be sealed), 3 incomplete (some actions failed, \
            or secrets could not be re-wrapped; run apply again), 4 saved plan stale, 5 another apply holds the lock. \
            With --format json, a report of what was done per bot (never a secret) goes to stdout, and the plan and \
            progress to stderr.
            """)

    @Argument(help: "Configuration file or directory (default: botform.yaml), or a plan file from plan --out.")
    var path: String?

    @Flag(help: "Apply without asking for confirmation (for CI).")
    var autoApprove = false

    @Option(help: "How many calls each service gets at once, and actions run at once (1-64).")
    var parallelism = 8

    @OptionGroup var lockOptions: LockOptions

    @Option(help: "Output format: text, or json (a report of what was done per bot on stdout, for later CI steps).")
    var format: DiagnosticFormat = .text

    @Option(
        name: [.customShort("i"), .long],
        help:
            "Identity file, to re-wrap sealed secrets when the recipients changed (default: BOTFORM_IDENTITY); repeatable."
    )
    var identity: [String] = []

    @OptionGroup var selection: PlanSelection
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard (1...64).contains(parallelism) else { throw ValidationError("--parallelism must be from 1 to 64") }
    }

    func run() async throws {
        let terminal = output.terminal
        let github = GitHubActions()
        do {
            // The per-action report is built only for a reader: the JSON on stdout or the step summary.
            let report = try await apply(terminal, detailed: format == .json || github.stepSummaryPath != nil)
            publish(report, terminal: terminal, github: github)
            if let error = report.error {
                _ = terminal.report(CLIError(error))
                github.annotate(error: error, terminal: terminal)
            }
            if report.exitCode != ExitStatus.success.rawValue { throw ExitCode(report.exitCode) }
        } catch let error as CLIError {
            let status = terminal.report(error)
            github.annotate(error: error.description, terminal: terminal)
            // A path that looks like a private key was refused unread, and is not repeated in the report.
            let quotable = path.map {
                AgeIdentity.mayHoldKeyMaterial($0) ? "(a path that looks like a private key)" : $0
            }
            let isPlan = quotable == path && ((try? path.flatMap(SavedPlan.load)) ?? nil) != nil
            publish(
                ApplyReport(
                    error: error.description, status: status,
                    configuration: isPlan ? nil : quotable ?? "botform.yaml", planFile: isPlan ? quotable : nil),
                terminal: terminal, github: github)
            throw status.exitCode
        }
    }

    /// The report: on stdout with `--format json`, and in the job's step summary on GitHub Actions.
    private func publish(_ report: ApplyReport, terminal: Terminal, github: GitHubActions) {
        if format == .json { terminal.out(report.json()) }
        github.appendToStepSummary(report.markdown(), terminal: terminal)
    }

    /// Text for people: stdout, unless stdout holds the JSON report.
    private func show(_ text: String, _ terminal: Terminal) {
        if format == .json { terminal.err(text) } else { terminal.out(text) }
    }

    private func apply(_ terminal: Terminal, detailed: Bool) async throws -> ApplyReport {
        var frontend = Frontend(terminal: terminal)
        frontend.parallelism = parallelism
        try Frontend.refuseKeyMaterial(path)
        let saved = try path.flatMap(SavedPlan.load)
        if saved != nil, !selection.targets.isEmpty || !selection.rotate.isEmpty || !selection.allowMove.isEmpty {
            throw CLIError(
                "--target, --rotate and --allow-move shape a plan; a saved plan is applied as it was planned (plan again to change it)",
                status: .usage)
        }
        let configuration = try frontend.loadConfiguration(saved?.configuration.path ?? path)
        if let saved, saved.configuration.sha256 != configuration.sha256 {
            throw CLIError(
                "the saved plan is stale: the configuration at \(saved.configuration.path) changed since planning; run plan again",
                status: .stalePlan)
        }
        let state = configuration.state

        // One apply at a time per sealed file. A journal left by a killed run is read now, folded at the end.
        var lock: SealLock?
        var custody: SealedCustody?
        let recipients = try frontend.recipients(state)
        if let sealedPath = state.output.sealedPath {
            try FileManager.default.createDirectory(
                atPath: (sealedPath as NSString).deletingLastPathComponent.isEmpty
                    ? "." : (sealedPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            lock = try await lockOptions.acquire(sealedPath: sealedPath, terminal: terminal)
            custody = try openCustody(sealedPath, recipients: recipients, terminal: terminal)
        }
        defer { lock?.release() }

        let ownership = await custody?.ownership() ?? Ownership()
        let connections = try await frontend.connect(configuration, ownership: ownership)
        let result: Executed?
        do {
            let observations = try await frontend.observe(connections)
            let change = await custody?.sealedFile.recipientChange(for: recipients)
            func planned(_ options: PlanDocument.Options) throws -> PlanDocument {
                try frontend.plan(
                    configuration, observations: observations, ownership: ownership, connections: connections,
                    options: options, recipients: change)
            }
            var plan = try planned(saved?.options ?? selection.options)
            if let saved {
                // A saved plan is planned again from its own options and must come out the same, blocks
                // included: nothing in the file is trusted, so an edited plan cannot bypass a guard. More
                // --allow-destroy on the command line may then lift blocks, as plan would have.
                try checkStale(saved, against: plan)
                if !selection.allowDestroy.isEmpty {
                    var options = saved.options
                    options.allowDestroy += selection.allowDestroy
                    plan = try planned(options)
                }
            }
            await custody?.recordOrigins(
                Dictionary(
                    uniqueKeysWithValues: state.providers.map { ($0.name, $0.origin(observed: observations[$0.name])) }
                ))
            result = try await execute(
                plan, saved: saved != nil, custody: custody, recipients: recipients, connections: connections,
                terminal: terminal)
        } catch {
            await connections.close()
            // Refused or declined: only what this run recorded is written (a refused issue folds back to
            // the same bytes); a journal left by an earlier run stays as it is.
            try? await custody?.checkpoint()
            throw error
        }
        // The connections close while the sealed file is written (neither needs the other), not before.
        let closing = Task { await connections.close() }
        // A journal an earlier run left is folded now, even when this run had nothing to do.
        do {
            try await custody?.checkpoint(foldingJournal: true)
        } catch {
            await closing.value
            let path = state.output.sealedPath ?? ""
            throw CLIError(
                "cannot write the sealed file \(path): \(error); everything this run issued is in \(path).journal (encrypted, fsync'd): free the space, then run apply again to fold it in"
            )
        }
        await closing.value
        guard let result else {
            return ApplyReport(
                noChangesIn: configuration.path, planFile: saved == nil ? nil : path, sealedFile: custody?.path)
        }
        summarize(
            result.run, plan: result.plan, rewrapped: result.rewrapped, sealedPath: custody?.path, terminal: terminal)
        let outcome = result.run
        var report = ApplyReport(
            plan: result.plan, result: outcome, rewrapped: result.rewrapped,
            ownership: detailed ? await custody?.ownership() : nil, planFile: saved == nil ? nil : path,
            sealedFile: custody?.path, perAction: detailed)
        if !outcome.unsealed.isEmpty {
            let names = outcome.unsealed.sorted()
            report.error =
                "the service issued \(count(names.count, "secret")) that could not be sealed, and \(names.count == 1 ? "it is" : "they are") lost: \(names.prefix(20).joined(separator: ", "))\(names.count > 20 ? ", …" : ""); fix the sealed file's directory (space, permissions), then run plan: it resets \(names.count == 1 ? "it" : "them") (secret_lost)"
        }
        return report
    }

    /// A saved plan is refused when what it was computed from changed: a bot on the service, Botform's
    /// records of one, or the sealed secrets' recipients.
    private func checkStale(_ saved: PlanDocument, against plan: PlanDocument) throws {
        var changed = Set(saved.inputs.keys).union(plan.inputs.keys).filter { saved.inputs[$0] != plan.inputs[$0] }
        if saved.recipients != plan.recipients { changed.insert("(recipients)") }
        // The actions themselves: what the saved plan would do must be what the plan now calls for.
        func acts(_ plan: PlanDocument) -> [String: String] {
            var acts: [String: String] = [:]
            for action in plan.actions {
                let fact = [
                    action.action.rawValue, action.botID ?? "-", action.permissions?.canonical ?? "-",
                    action.previousPermissions?.canonical ?? "-", action.blocked?.code.rawValue ?? "-",
                ].joined(separator: " ")
                // An address twice (a duplicated action) never matches a plan, which has each once.
                acts[action.address] = acts[action.address] == nil ? fact : "(twice)"
            }
            return acts
        }
        let (before, now) = (acts(saved), acts(plan))
        changed.formUnion(Set(before.keys).union(now.keys).filter { before[$0] != now[$0] })
        guard changed.isEmpty else {
            let names = changed.sorted()
            throw CLIError(
                "the saved plan is stale; these changed since it was made: \(names.prefix(20).joined(separator: ", "))\(names.count > 20 ? ", … (\(names.count) in all)" : ""); run plan again",
                status: .stalePlan)
        }
    }

    /// The sealed file with its journal, folded when an earlier run left one.
    private func openCustody(_ path: String, recipients: [AgeRecipient], terminal: Terminal) throws -> SealedCustody {
        let custody: SealedCustody
        let pending: Int
        do {
            // Read once: a 10,000-entry sealed file takes tens of milliseconds to read.
            let read = try SealedCustody.read(path: path)
            pending = read.journalRecords
            custody = SealedCustody(path: path, recipients: recipients, opened: read.file)
        } catch {
            throw CLIError("cannot read the sealed file: \(error)")
        }
        if pending > 0 {
            terminal.warn(
                "\(path).journal holds \(count(pending, "record")) from an interrupted run; they are kept, and folded into the sealed file with this run's changes"
            )
        }
        return custody
    }

    /// What an apply did, summarised once the sealed file is written.
    private struct Executed {
        var plan: PlanDocument
        var run: ApplyResult
        var rewrapped: Int
    }

    private func execute(
        _ plan: PlanDocument, saved: Bool, custody: SealedCustody?, recipients: [AgeRecipient],
        connections: Frontend.Connections, terminal: Terminal
    ) async throws -> Executed? {
        let renderer = PlanTextRenderer(style: terminal.planStyle)
        guard plan.hasChanges else {
            show(renderer.render(plan), terminal)
            return nil
        }
        if plan.isBlocked {
            show(renderer.render(plan), terminal)
            let messages = Set(plan.actions.compactMap { $0.blocked?.message }).sorted()
            throw CLIError(
                "the plan is blocked:\n  " + messages.prefix(20).joined(separator: "\n  ")
                    + (messages.count > 20 ? "\n  … (\(messages.count) in all)" : ""))
        }
        let issuing = plan.actions.filter { [.register, .replace, .reset, .renew].contains($0.action) }.count
        if issuing > 0 {
            guard custody != nil else {
                throw CLIError(
                    "this plan issues \(count(issuing, "secret")), but no sealed output is configured and a secret is shown only once; set output.sealed"
                )
            }
            guard !recipients.isEmpty else {
                throw CLIError(
                    "this plan issues \(count(issuing, "secret")), but there are no recipients to seal them to; set output.recipients, output.recipients_file or BOTFORM_RECIPIENTS"
                )
            }
        }
        // Identities are read (and checked) before anything changes, so a bad key fails the run cleanly.
        let identities =
            plan.recipients == nil && identity.isEmpty
            ? [] : try Frontend(terminal: terminal).identities(files: identity)
        // With nothing to ask and nothing to re-wrap first, the executor gets ready (its tasks, the
        // first intents journaled) while the plan text is rendered and written on another thread (1,000
        // actions take several milliseconds). No call is sent and no progress line written until the
        // plan is out: the output reads plan first, and nothing changes on a service before it is shown.
        let overlapped = (saved || autoApprove) && format == .text && plan.recipients == nil && plan.summary.hasChanges
        var showing: Task<Void, Never>?
        let planShown = Latch()
        if overlapped {
            StderrQueue.shared.open(held: true)
            showing = Task {
                await WorkerThread.once {
                    show(renderer.render(plan), terminal)
                    StderrQueue.shared.release()
                    planShown.open()
                }
            }
        } else {
            show(renderer.render(plan), terminal)
        }
        // A saved plan was the review (as with Terraform): applying it asks nothing.
        if !saved { try confirm(terminal) }

        var result = ApplyResult()
        var rewrapped = 0
        if let change = plan.recipients, let custody {
            let outcome = await Resealing(terminal: terminal).run(
                change, custody: custody, recipients: recipients, identities: identities)
            result.failed += outcome.failures
            rewrapped = outcome.rewrapped
        }
        if plan.summary.hasChanges {
            let progress = ProgressPrinter(terminal: terminal)
            var executor = ApplyExecutor(
                providers: connections.providers, custody: custody ?? NoCustody(), parallelism: parallelism,
                progress: progress.handle)
            executor.clockOffsets = connections.clockOffsets
            if overlapped { executor.firstCall = planShown }
            // Progress lines go out through their own thread while the calls run (not a write per line
            // on the event loops), all of them before the summary.
            if !overlapped { StderrQueue.shared.open() }
            let run = await executor.run(plan)
            await showing?.value
            StderrQueue.shared.close()
            result.completed += run.completed
            result.failed += run.failed
            result.secretsIssued += run.secretsIssued
            result.unsealed += run.unsealed
        }
        return Executed(plan: plan, run: result, rewrapped: rewrapped)
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

    private func summarize(
        _ result: ApplyResult, plan: PlanDocument, rewrapped: Int, sealedPath: String?, terminal: Terminal
    ) {
        let done = Set(result.completed)
        func did(_ kind: ActionKind) -> Int {
            plan.actions.filter { $0.action == kind && done.contains($0.address) }.count
        }
        var parts = [
            "\(did(.register)) registered", "\(did(.replace)) replaced", "\(did(.reset)) reset",
            "\(did(.revoke)) revoked",
        ]
        if did(.renew) > 0 { parts.insert("\(did(.renew)) renewed", at: 3) }
        if did(.adopt) > 0 { parts.append("\(did(.adopt)) adopted") }
        if did(.forget) > 0 { parts.append("\(did(.forget)) forgotten") }
        if rewrapped > 0 { parts.append("\(count(rewrapped, "sealed secret")) re-wrapped") }
        let sealed =
            sealedPath.map {
                result.secretsIssued > 0 ? " \(count(result.secretsIssued, "secret")) sealed in \($0)." : ""
            } ?? ""
        if result.isComplete {
            show(
                "\n" + terminal.paint("Apply complete!", .green) + " " + parts.joined(separator: ", ") + "." + sealed,
                terminal)
        } else {
            let closing =
                result.unsealed.isEmpty
                ? " Everything issued was sealed; run apply again to converge."
                : " Some issued secrets could not be sealed (see below)."
            show(
                "\n" + terminal.paint("Apply incomplete:", .red)
                    + " \(result.completed.count) of \(plan.actions.count) actions done ("
                    + parts.joined(separator: ", ")
                    + "), \(result.failed.count) failed." + sealed + closing, terminal)
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
                let time = Self.seconds(seconds)
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

    /// Seconds with one decimal ("0.3s"), as `%.1f` prints them, without `String(format:)`: a line per
    /// action is printed, and Foundation's formatting took 2% of apply's CPU time in the benchmark.
    static func seconds(_ value: Double) -> String {
        guard value.isFinite, value >= 0, value < 1e15 else { return String(format: "%.1fs", value) }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)s"
    }

    static func verbs(_ kind: ActionKind) -> (doing: String, done: String) {
        switch kind {
        case .register: ("registering", "registered")
        case .replace: ("replacing", "replaced")
        case .reset: ("resetting its secret", "secret reset")
        case .renew: ("renewing", "renewed")
        case .revoke: ("revoking", "revoked")
        case .adopt: ("adopting", "adopted")
        case .forget: ("forgetting", "forgotten")
        }
    }
}

/// Custody for plans that issue nothing (apply refuses issuing plans without a sealed file).
struct NoCustody: SecretCustody {
    func ownership() async -> Ownership { Ownership() }
    func recordIntent(_ intent: IssueIntent, entry: EntryKey, id: String?, permissions: Permissions?)
        async throws
    {}
    func recordIssued(_ issued: IssuedCredential) async throws {
        throw CLIError("no sealed output to hold the secret of \(issued.entry)")
    }
    func recordAborted(_ intent: IssueIntent, entry: EntryKey) async throws {}
    func recordRevoked(entry: EntryKey, id: String) async throws {}
    func recordCreated(provider: String, bot: String, id: String) async throws {}
    func recordAdopted(provider: String, bot: String, id: String, permissions: Permissions?) async throws {}
    func recordForgotten(entry: EntryKey) async throws {}
}
