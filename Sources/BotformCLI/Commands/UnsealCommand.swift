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
            "Identity file (AGE-SECRET-KEY-1…, as botform keygen or age-keygen write), or - for stdin; repeatable. Never the key itself. Default: BOTFORM_IDENTITY (a key file's path, a key, or a key file's text)."
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
        if AgeIdentity.mayHoldKeyMaterial(sealed) {
            throw CLIError(
                "the sealed file argument looks like a key, not a path (it is not shown); usage: botform unseal SEALED -i KEYFILE"
            )
        }
        // An apply that could not write the sealed file leaves everything in its journal: read that too.
        guard
            FileManager.default.fileExists(atPath: sealed)
                || FileManager.default.fileExists(atPath: sealed + ".journal")
        else {
            throw CLIError("no such sealed file: \"\(sealed)\"")
        }
        let file = try read()
        let source = IdentitySource(files: identity, environment: ProcessInfo.processInfo.environment)
        let loaded = try source.load()
        guard !loaded.isEmpty else { throw CLIError(source.absence) }
        let identities = loaded.map(\.identity)
        var addresses = bots
        if addresses.isEmpty {
            addresses = file.entries.values.filter { $0.secret != nil }.map(\.address).sorted()
            if addresses.isEmpty { throw CLIError("\(sealed) holds no secrets") }
        }
        var opened: [(entry: SealedEntry, secret: Secret)] = []
        for address in addresses {
            guard let entry = file.entries[address] else {
                guard !AgeIdentity.mayHoldKeyMaterial(address) else {
                    throw CLIError(
                        "--bot takes an address (provider/bot); this one looks like key material (not shown)")
                }
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
            if let pending = entry.pending {
                terminal.warn(
                    "\(address): a \(pending.rawValue == "reset" ? "reset of its secret" : "registration") was sent and its outcome is unknown, so this secret may no longer work; the next plan issues a new one (secret_lost)"
                )
            }
            do {
                guard let secret = try file.open(address, identities: identities) else { continue }
                opened.append((entry, secret))
            } catch {
                let holders = entry.sealedTo.map(\.description).joined(separator: ", ")
                var message = "cannot open the secret of \(address): \(error)"
                if error == .noMatch {
                    let tried = loaded.map { "\($0.identity.recipient) (\($0.origin))" }.joined(separator: ", ")
                    message += "; tried \(tried)"
                }
                throw CLIError(message + (holders.isEmpty ? "" : "; it is sealed to \(holders)"))
            }
        }
        switch format {
        case .raw:
            terminal.out(opened.first?.secret.reveal() ?? "")
        case .env:
            // Two addresses that make one variable name (`a-b/c` and `a/b-c`, `Ci` and `ci`) would leave
            // only the last when sourced: refuse before printing anything.
            let names = Dictionary(grouping: opened.map(\.0.address)) { Self.variable($0) }
            if let (name, clash) = names.first(where: { $0.value.count > 1 }) {
                throw CLIError(
                    "\(clash.sorted().map { "\"\($0)\"" }.joined(separator: " and ")) would all be \(name); choose one with --bot, or use --format json"
                )
            }
            for (entry, secret) in opened {
                terminal.out("\(Self.variable(entry.address))=\(Self.shellQuoted(secret.reveal()))")
            }
        case .json:
            let members = opened.map { entry, secret -> (String, JSONValue) in
                (
                    entry.address,
                    .object([
                        ("provider", .string(entry.provider)), ("bot", .string(entry.bot)),
                        ("label", entry.label.map(JSONValue.string) ?? .null),
                        ("id", entry.id.map(JSONValue.string) ?? .null),
                        ("secret", .string(secret.reveal())),
                    ])
                )
            }
            terminal.out(JSONValue.object(members).serialized())
        }
    }

    /// The sealed file, refusing a key file given in its place: its parse errors could quote the key.
    private func read() throws -> SealedFile {
        if case .text(let text) = IdentitySource.readFile(sealed), Secret.namesPrivateKey(text) {
            throw CLIError(
                "\(sealed) is an identity file, not a sealed file; the sealed file comes first: botform unseal SEALED -i KEYFILE"
            )
        }
        do {
            return try SealedCustody.read(path: sealed).file
        } catch {
            let description = "\(error)"
            guard !Secret.namesPrivateKey(description) else {
                throw CLIError("cannot read \(sealed): it is not a valid sealed file")
            }
            throw CLIError("cannot read \(sealed): \(description)")
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
