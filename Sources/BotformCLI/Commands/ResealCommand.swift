import ArgumentParser
import BotformCore
import BotformSeal
import Foundation

/// `botform reseal`: re-wrap sealed secrets for the configured recipients, and nothing else (like
/// `sops updatekeys`). No service is called.
struct ResealCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reseal",
        abstract: "Re-wrap sealed secrets for the configured recipients (after a recipient was added or removed).",
        discussion: """
            Decrypts every held secret that is sealed to other recipients than output.recipients (with an identity: \
            -i FILE or BOTFORM_IDENTITY) and encrypts it to the configured ones. Calls no service. Re-wrapping does \
            not take back what a removed key could already read (old ciphertexts stay in git history): rotate those \
            bots (apply --rotate BOT) to cut it off. Exit 0 done (or nothing to do), 1 error, 3 some secrets could \
            not be opened with the identities given, 5 another apply holds the lock.
            """)

    @Argument(help: "Configuration file or directory (default: botform.yaml).")
    var path: String?

    @Option(
        name: [.customShort("i"), .long],
        help: "Identity file that opens the sealed secrets (default: BOTFORM_IDENTITY); repeatable.")
    var identity: [String] = []

    @OptionGroup var lockOptions: LockOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let terminal = output.terminal
        do {
            try await reseal(terminal)
        } catch let error as CLIError {
            throw terminal.report(error).exitCode
        }
    }

    private func reseal(_ terminal: Terminal) async throws {
        let frontend = Frontend(terminal: terminal)
        let configuration = try frontend.loadConfiguration(path)
        guard let sealedPath = configuration.state.output.sealedPath else {
            throw CLIError("no sealed output is configured (output.sealed): there is nothing to re-wrap")
        }
        let recipients = try frontend.recipients(configuration.state)
        guard !recipients.isEmpty else {
            throw CLIError(
                "no recipients are configured to re-wrap for; set output.recipients, output.recipients_file or BOTFORM_RECIPIENTS"
            )
        }
        let lock = try await lockOptions.acquire(sealedPath: sealedPath, terminal: terminal)
        defer { lock.release() }
        let custody: SealedCustody
        do {
            custody = try SealedCustody(path: sealedPath, recipients: recipients)
        } catch {
            throw CLIError("cannot read the sealed file: \(error)")
        }
        guard let change = await custody.sealedFile.recipientChange(for: recipients) else {
            terminal.out("Nothing to re-wrap: every sealed secret is sealed to the configured recipients.")
            return
        }
        let identities = try frontend.identities(files: identity)
        guard !identities.isEmpty else {
            let absence = IdentitySource(files: identity, environment: frontend.environment).absence
            throw CLIError(
                "\(count(change.entries.count, "sealed secret")) must be re-wrapped, which needs a key that opens them; \(absence)"
            )
        }
        let outcome = await Resealing(terminal: terminal).run(
            change, custody: custody, recipients: recipients, identities: identities)
        do {
            try await custody.checkpoint()
        } catch {
            throw CLIError("cannot write the sealed file: \(error)")
        }
        terminal.out(
            "Re-wrapped \(count(outcome.rewrapped, "sealed secret")) for \(count(recipients.count, "recipient")) in \(sealedPath)."
        )
        if !outcome.failures.isEmpty { throw ExitStatus.incomplete.exitCode }
    }
}
