import BotformCore
import Foundation

/// What an apply did, per address: `apply --format json` prints it for later CI steps, and the step
/// summary shows it as markdown. Built from the plan, the executor's `ApplyResult` and the sealed file's
/// records (for the ids of bots registered). Addresses, ids and counts only: never a secret.
struct ApplyReport: Encodable, Sendable {
    /// The version of this document's shape (docs/commands.md, docs/apply.schema.json): a new field keeps it, a changed meaning bumps it.
    static let currentFormatVersion = "1.0"

    enum Status: String, Encodable, Sendable {
        /// Every action done (exit 0).
        case complete
        /// Nothing to do (exit 0).
        case noChanges = "no_changes"
        /// Some actions failed; everything issued was sealed, a rerun converges (exit 3).
        case incomplete
        /// The saved plan is stale (exit 4).
        case stale
        /// Another apply holds the lock (exit 5).
        case locked
        /// Refused, or failed before or while applying (exit 1), or a usage error found while running (exit 64).
        case error
    }

    enum Outcome: String, Encodable, Sendable {
        case done
        case failed
        /// The service issued a secret that could not be sealed: it is lost, and the next plan resets it.
        case unsealed
        /// Not attempted (the apply stopped before it).
        case notRun = "not_run"
    }

    struct Entry: Encodable, Sendable {
        var address: String
        var provider: String
        var bot: String
        var action: ActionKind
        var outcome: Outcome
        /// The bot's id on the service after the action (the new bot for register and replace; the bot
        /// revoked or forgotten for those).
        var botID: String?
        /// For replace: the id of the bot revoked.
        var previousBotID: String?
        /// Whether this action issued a secret that is now sealed.
        var secretSealed: Bool
        var error: String?

        enum CodingKeys: String, CodingKey {
            case address, provider, bot, action, outcome, error
            case botID = "bot_id"
            case previousBotID = "previous_bot_id"
            case secretSealed = "secret_sealed"
        }
    }

    struct Summary: Encodable, Sendable {
        var registered = 0
        var replaced = 0
        var reset = 0
        var renewed = 0
        var revoked = 0
        var adopted = 0
        var forgotten = 0
        var rewrapped = 0
        var failed = 0
        var secretsSealed = 0

        enum CodingKeys: String, CodingKey {
            case registered, replaced, reset, renewed, revoked, adopted, forgotten, rewrapped, failed
            case secretsSealed = "secrets_sealed"
        }
    }

    var formatVersion = currentFormatVersion
    var botformVersion = BotformVersion.current
    var status: Status
    var exitCode: Int32
    /// The error that ended the run, as printed on stderr (no secret is ever in one).
    var error: String?
    var configuration: String?
    var planFile: String?
    var sealedFile: String?
    var summary = Summary()
    var actions: [Entry] = []
    /// Sealed entries re-wrapped for the configured recipients.
    var rewrapped: [String] = []

    enum CodingKeys: String, CodingKey {
        case status, error, configuration, summary, actions, rewrapped
        case formatVersion = "format_version"
        case botformVersion = "botform_version"
        case exitCode = "exit_code"
        case planFile = "plan_file"
        case sealedFile = "sealed_file"
    }

    /// A run that ended in an error before or instead of applying.
    init(error: String, status: ExitStatus, configuration: String?, planFile: String?) {
        self.status =
            switch status {
            case .stalePlan: .stale
            case .locked: .locked
            default: .error
            }
        exitCode = status.rawValue
        self.error = error
        self.configuration = configuration
        self.planFile = planFile
    }

    /// A run with nothing to do.
    init(noChangesIn configuration: String, planFile: String?, sealedFile: String?) {
        status = .noChanges
        exitCode = ExitStatus.success.rawValue
        self.configuration = configuration
        self.planFile = planFile
        self.sealedFile = sealedFile
    }

    /// A run that applied `plan`; `ownership` is the sealed file's records after it. Without `perAction`
    /// only the outcome is set (status, exit code): the actions and counts are left out, for a run whose
    /// report nobody reads (1,000 actions took milliseconds at the end of every apply).
    init(
        plan: PlanDocument, result: ApplyResult, rewrapped: Int, ownership: Ownership?, planFile: String?,
        sealedFile: String?, perAction: Bool = true
    ) {
        configuration = plan.configuration.path
        self.planFile = planFile
        self.sealedFile = sealedFile
        if !result.unsealed.isEmpty {
            status = .error
            exitCode = ExitStatus.failure.rawValue
        } else if result.isComplete {
            status = .complete
            exitCode = ExitStatus.success.rawValue
        } else {
            status = .incomplete
            exitCode = ExitStatus.incomplete.rawValue
        }
        guard perAction else { return }
        let done = Set(result.completed)
        let failures = Dictionary(result.failed.map { ($0.address, $0.message) }) { first, _ in first }
        let unsealed = Set(result.unsealed)
        for action in plan.actions {
            let outcome: Outcome =
                unsealed.contains(action.address)
                ? .unsealed
                : done.contains(action.address) ? .done : failures[action.address] != nil ? .failed : .notRun
            // A Sym bot is created without a secret of its own (`origin: created`): nothing sealed for it.
            let issues =
                [.register, .replace, .reset, .renew].contains(action.action)
                && ownership?[action.address]?.origin != .created
            var entry = Entry(
                address: action.address, provider: action.provider, bot: action.bot, action: action.action,
                outcome: outcome, botID: action.botID, previousBotID: nil,
                secretSealed: outcome == .done && issues, error: failures[action.address])
            if outcome == .done, [.register, .replace, .renew].contains(action.action) {
                entry.botID = ownership?[action.address]?.id
                // A token's renewal replaces the token it revokes, not its bot.
                entry.previousBotID =
                    action.action == .register
                    ? nil : action.label != nil ? action.revokeTokenIDs?.first : action.botID
            }
            actions.append(entry)
            guard outcome == .done else { continue }
            switch action.action {
            case .register: summary.registered += 1
            case .replace: summary.replaced += 1
            case .reset: summary.reset += 1
            case .renew: summary.renewed += 1
            case .revoke: summary.revoked += 1
            case .adopt: summary.adopted += 1
            case .forget: summary.forgotten += 1
            }
        }
        summary.failed = result.failed.count
        summary.secretsSealed = result.secretsIssued
        summary.rewrapped = rewrapped
        if rewrapped > 0, let entries = plan.recipients?.entries {
            self.rewrapped = entries.filter { failures[$0] == nil }
        }
    }

    /// Sorted keys, one line per key: stable for `jq` and for diffs.
    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The report for the step summary: the outcome, then one row per action up to a budget.
    func markdown(limit: Int = 60_000) -> String {
        var lines: [String] = []
        let title: String =
            switch status {
            case .complete: "Botform apply: complete"
            case .noChanges: "Botform apply: no changes"
            case .incomplete: "Botform apply: incomplete (exit 3)"
            case .stale: "Botform apply: the saved plan is stale (exit 4)"
            case .locked: "Botform apply: another apply holds the lock (exit 5)"
            case .error: "Botform apply: failed (exit \(exitCode))"
            }
        lines.append("### " + title)
        lines.append("")
        if let error { lines += ["> [!CAUTION]", "> " + cell(error), ""] }
        if status != .noChanges, error == nil || !actions.isEmpty {
            var counts = [
                "\(summary.registered) registered", "\(summary.replaced) replaced", "\(summary.reset) reset",
                "\(summary.revoked) revoked",
            ]
            if summary.renewed > 0 { counts.append("\(summary.renewed) renewed") }
            if summary.adopted > 0 { counts.append("\(summary.adopted) adopted") }
            if summary.forgotten > 0 { counts.append("\(summary.forgotten) forgotten") }
            if summary.rewrapped > 0 { counts.append("\(summary.rewrapped) re-wrapped") }
            if summary.failed > 0 { counts.append("**\(summary.failed) failed**") }
            let sealed = sealedFile.map { " \(count(summary.secretsSealed, "secret")) sealed in `\($0)`." } ?? ""
            lines.append(counts.joined(separator: ", ") + "." + sealed)
            lines.append("")
        }
        if !actions.isEmpty {
            lines += ["| Bot | Action | Outcome | Id |", "|---|---|---|---|"]
            var used = lines.joined(separator: "\n").utf16.count
            // Failures first: they are what the reader of a summary must act on.
            let ordered = actions.filter { $0.outcome != .done } + actions.filter { $0.outcome == .done }
            var listed = 0
            for entry in ordered {
                let outcome = entry.error.map { "\(entry.outcome.rawValue): \(cell($0))" } ?? entry.outcome.rawValue
                let row =
                    "| `\(entry.address)` | \(entry.action.rawValue) | \(outcome) | \(entry.botID.map { "`\($0)`" } ?? "") |"
                guard used + row.utf16.count < limit else { break }
                used += row.utf16.count + 1
                lines.append(row)
                listed += 1
            }
            if listed < ordered.count {
                lines.append("| … | \(ordered.count - listed) more | see the job log and `apply --format json` | |")
            }
            lines.append("")
        }
        if let configuration { lines.append("<sub>Configuration `\(configuration)`</sub>") }
        return lines.joined(separator: "\n") + "\n"
    }

    private func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "<", with: "&lt;")
    }
}
