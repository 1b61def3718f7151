import BotformCore
import BotformSeal
import Foundation

/// Re-wrapping held secrets for the configured recipients, as `apply` (the plan's `recipients` part)
/// and `reseal` do it. A secret is decrypted with an identity and encrypted to the configured
/// recipients; the header is derived from what the entries are sealed to, so it is never rewritten
/// alone.
struct Resealing {
    let terminal: Terminal

    /// What is left undone: addresses not re-wrapped, with why and what to pass.
    struct Outcome {
        var rewrapped = 0
        var failures: [(address: String, message: String)] = []
    }

    func run(
        _ change: PlanDocument.RecipientChange, custody: SealedCustody, recipients: [AgeRecipient],
        identities: [AgeIdentity]
    ) async -> Outcome {
        var outcome = Outcome()
        let file = await custody.sealedFile
        let wanted = Set(change.entries)
        guard !identities.isEmpty else {
            let message =
                "\(count(change.entries.count, "sealed secret")) \(change.entries.count == 1 ? "is" : "are") sealed to other recipients than output.recipients; pass -i KEY_FILE (or set BOTFORM_IDENTITY) with a key that opens them to re-wrap them, or run botform reseal -i KEY_FILE"
            terminal.err("(recipients): \(terminal.paint("not done", .red, stderr: true)): \(message)")
            outcome.failures.append(("(recipients)", message))
            return outcome
        }
        var subset = file
        subset.entries = file.entries.filter { wanted.contains($0.key) }
        let (rewrapped, report) = subset.rewrapped(for: recipients, identities: identities)
        var updated = file
        for address in report.rewrapped { updated.entries[address] = rewrapped.entries[address] }
        await custody.replace(with: updated)
        outcome.rewrapped = report.rewrapped.count
        let groups = Dictionary(grouping: report.unreadable) {
            $0.sealedTo.map(\.description).sorted().joined(separator: ", ")
        }
        for (holders, entries) in groups.sorted(by: { $0.key < $1.key }) {
            let names = entries.map(\.address).prefix(5).joined(separator: ", ") + (entries.count > 5 ? ", …" : "")
            let message =
                "\(count(entries.count, "secret")) sealed to \(holders) could not be opened with the identities given (\(names)); pass -i with a key that opens them, or rotate them (--rotate BOT)"
            terminal.err("(recipients): \(terminal.paint("not done", .red, stderr: true)): \(message)")
            outcome.failures.append(("(recipients)", message))
        }
        if let warning = change.warning { terminal.warn(warning) }
        return outcome
    }
}
