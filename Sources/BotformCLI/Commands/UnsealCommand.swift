import ArgumentParser
import BotformCore
import BotformSeal
import Foundation

/// `botform unseal`: decrypt sealed secrets with an identity.
struct UnsealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unseal",
        abstract: "Decrypt secrets from a sealed file (needs an identity: -i FILE or BOTFORM_IDENTITY).",
        discussion: """
            Prints secrets on stdout: the one place Botform prints them, because you asked. Formats: env \
            (PROVIDER_BOT_SECRET='…' lines for `source` or a CI secret store), json, or raw (one secret, \
            with --bot). Secrets recorded in the journal by an interrupted apply are included.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case env
        case json
        case raw
    }

    @Argument(help: "The sealed file.")
    var sealed: String

    @Option(
        name: [.customShort("i"), .long],
        help:
            "Identity file (AGE-SECRET-KEY-1…, as botform keygen or age-keygen write); repeatable. Default: BOTFORM_IDENTITY."
    )
    var identity: [String] = []

    @Option(
        name: .customLong("bot"),
        help: "Only this bot (provider/bot, or provider/bot/label); repeatable. Default: every bot with a secret.")
    var bots: [String] = []

    @Option(help: "Output: env, json or raw.")
    var format: Format = .env

    @OptionGroup var output: OutputOptions

    func validate() throws {
        if format == .raw, bots.count != 1 {
            throw ValidationError("--format raw prints one secret: name it with --bot")
        }
    }

    func run() throws {
        let terminal = output.terminal
        do {
            try unseal(terminal)
        } catch let error as CLIError {
            throw terminal.report(error).exitCode
        }
    }

    private func unseal(_ terminal: Terminal) throws {
        guard FileManager.default.fileExists(atPath: sealed) else {
            throw CLIError("no such sealed file: \"\(sealed)\"")
        }
        let identities = try Frontend(terminal: terminal).identities(files: identity)
        guard !identities.isEmpty else { throw CLIError("no identity: pass -i key.txt or set BOTFORM_IDENTITY") }
        let file: SealedFile
        do {
            file = try SealedCustody.read(path: sealed).file
        } catch {
            throw CLIError("cannot read \(sealed): \(error)")
        }
        var addresses = bots
        if addresses.isEmpty {
            addresses = file.entries.values.filter { $0.secret != nil }.map(\.address).sorted()
            if addresses.isEmpty { throw CLIError("\(sealed) holds no secrets") }
        }
        var opened: [(entry: SealedEntry, secret: Secret)] = []
        for address in addresses {
            guard let entry = file.entries[address] else {
                let hint = Suggestion.didYouMean(address, in: file.entries.keys.sorted())
                throw CLIError("\(sealed) has no entry \"\(address)\"\(hint)")
            }
            guard entry.secret != nil else {
                let why =
                    entry.origin == .adopted
                    ? "it was adopted; `botform apply --rotate \(address)` issues one"
                    : "it was lost; the next apply resets it"
                throw CLIError("no secret is held for \(address): \(why)")
            }
            do {
                guard let secret = try file.open(address, identities: identities) else { continue }
                opened.append((entry, secret))
            } catch {
                let holders = entry.sealedTo.map(\.description).joined(separator: ", ")
                throw CLIError(
                    "cannot open the secret of \(address): \(error)"
                        + (holders.isEmpty ? "" : " (it is sealed to \(holders))"))
            }
        }
        switch format {
        case .raw:
            terminal.out(opened.first?.secret.reveal() ?? "")
        case .env:
            for (entry, secret) in opened {
                terminal.out("\(Self.variable(entry.address))=\(Self.shellQuoted(secret.reveal()))")
            }
        case .json:
            let members = opened.map { entry, secret -> (String, JSONValue) in
                (
                    entry.address,
                    .object([
                        ("provider", .string(entry.provider)), ("bot", .string(entry.bot)),
                        ("id", entry.id.map(JSONValue.string) ?? .null),
                        ("secret", .string(secret.reveal())),
                    ])
                )
            }
            terminal.out(JSONValue.object(members).serialized())
        }
    }

    /// `prod/inventory-agent` → `PROD_INVENTORY_AGENT_SECRET`.
    static func variable(_ address: String) -> String {
        let upper = address.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
        return (upper.first?.isNumber == true ? "_" : "") + upper + "_SECRET"
    }

    static func shellQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
