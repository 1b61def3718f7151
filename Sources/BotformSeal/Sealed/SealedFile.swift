import BotformCore
import Foundation

/// The sealed file: Botform's output and its memory of what it manages. YAML, with plain-text metadata
/// and each secret age-encrypted, so a pull-request diff shows exactly which credentials changed and
/// `age -d` opens any one value.
public struct SealedFile: Sendable, Equatable {
    public static let version = 1

    /// The configured recipients. The header written is `headerRecipients`: it never claims a
    /// recipient that the entries are not sealed to.
    public var recipients: [AgeRecipient]
    public var entries: [String: SealedEntry]
    /// Where each provider's entries were issued (endpoint and tenant), by provider name.
    public var origins: [String: ProviderOrigin] = [:]

    public init(recipients: [AgeRecipient] = [], entries: [SealedEntry] = []) {
        self.recipients = recipients
        self.entries = Dictionary(entries.map { ($0.address, $0) }) { _, last in last }
    }

    /// What the planner knows of the entries. They are keyed by address already (`parse` checks each
    /// entry's address against its provider, bot and label).
    public var ownership: Ownership { Ownership(byAddress: entries.mapValues(\.owned), origins: origins) }

    /// The recipients the held secrets are sealed to: the configured ones when every secret is sealed to
    /// exactly them (or none is held), otherwise every recipient some secret is sealed to, configured
    /// ones first. A reader of the header is never told a key opens what it cannot.
    public var headerRecipients: [AgeRecipient] {
        var seen = Set<AgeRecipient>()
        var sets = Set<Set<AgeRecipient>>()
        for entry in entries.values where entry.secret != nil {
            sets.insert(Set(entry.sealedTo))
            seen.formUnion(entry.sealedTo)
        }
        if sets.isEmpty || sets == [Set(recipients)] { return recipients }
        let configured = recipients.filter(seen.contains)
        return configured + seen.subtracting(configured).sorted { $0.description < $1.description }
    }

    /// Held secrets sealed to a set of recipients other than `recipients`, by address.
    public func entriesToReseal(for recipients: [AgeRecipient]) -> [SealedEntry] {
        let wanted = Set(recipients)
        // Most entries list exactly the configured recipients, in order: no set is built for those.
        return entries.values.filter {
            $0.secret != nil && $0.sealedTo != recipients && Set($0.sealedTo) != wanted
        }.sorted { $0.address < $1.address }
    }

    // MARK: Writing

    /// The file's text: deterministic (entries sorted by address), so unchanged entries never show in a diff.
    /// Written into one string (each entry's address computed once for the sort, each provider's name
    /// quoted once): apply renders the whole file at its end, with every run's entries in it.
    public func render() -> String {
        var text = ""
        text.reserveCapacity(512 + entries.count * 900)
        func line(_ content: String) {
            text += content
            text += "\n"
        }
        line("# Written by botform. Secret values are age-encrypted; metadata is plain text.")
        line("# Open one with: botform unseal <this file> -i key.txt --bot <provider/bot>")
        line("version: \(Self.version)")
        let header = headerRecipients
        if header.isEmpty {
            line("recipients: []")
        } else {
            line("recipients:")
            for recipient in header { line("  - \(recipient)") }
        }
        let providers = Set(entries.values.map(\.provider))
        let recorded = origins.filter { providers.contains($0.key) }.sorted { $0.key < $1.key }
        if !recorded.isEmpty {
            line("providers:")
            for (name, origin) in recorded {
                line("  \(YAMLText.scalar(name)):")
                line("    type: \(origin.type.rawValue)")
                line("    endpoint: \(YAMLText.scalar(origin.endpoint))")
                if let tenant = origin.tenant { line("    tenant: \(YAMLText.scalar(tenant))") }
            }
        }
        if entries.isEmpty {
            line("entries: {}")
            return text
        }
        line("entries:")
        var providerScalars: [String: String] = [:]
        var recipientTexts: [AgeRecipient: String] = [:]
        for (address, entry) in entries.values.map({ ($0.address, $0) }).sorted(by: { $0.0 < $1.0 }) {
            let provider =
                providerScalars[entry.provider]
                ?? {
                    let scalar = YAMLText.scalar(entry.provider)
                    providerScalars[entry.provider] = scalar
                    return scalar
                }()
            line("  \(YAMLText.scalar(address)):")
            line("    provider: \(provider)")
            line("    bot: \(YAMLText.scalar(entry.bot))")
            if let label = entry.label { line("    label: \(YAMLText.scalar(label))") }
            if let id = entry.id { line("    id: \(YAMLText.scalar(id))") }
            line("    origin: \(entry.origin.rawValue)")
            if let issued = entry.issuedAt { line("    issued_at: \(Timestamp.iso8601(issued))") }
            if let hash = entry.permissionsSHA256 { line("    permissions_sha256: \(hash)") }
            if let expires = entry.expiresAt { line("    expires_at: \(Timestamp.iso8601(expires))") }
            if !entry.retiring.isEmpty {
                line("    retiring:")
                for id in entry.retiring { line("      - \(YAMLText.scalar(id))") }
            }
            if !entry.lostTimes.isEmpty {
                line("    unrecorded_since:")
                for time in entry.lostTimes { line("      - \(Timestamp.iso8601(time))") }
            }
            if let pending = entry.pending {
                line("    pending: \(pending.rawValue)")
                if entry.pendingTimes.count == 1, let since = entry.pendingSince {
                    line("    pending_since: \(Timestamp.iso8601(since))")
                } else if entry.pendingTimes.count > 1 {
                    line("    pending_since:")
                    for time in entry.pendingTimes { line("      - \(Timestamp.iso8601(time))") }
                }
            }
            if !entry.sealedTo.isEmpty {
                line("    sealed_to:")
                for recipient in entry.sealedTo {
                    let described =
                        recipientTexts[recipient]
                        ?? {
                            let described = recipient.description
                            recipientTexts[recipient] = described
                            return described
                        }()
                    line("      - \(described)")
                }
            }
            if let secret = entry.secret {
                line("    secret: |")
                for part in secret.split(separator: "\n") {
                    text += "      "
                    text += part
                    text += "\n"
                }
            }
        }
        return text
    }
}

/// Plain YAML scalars when safe, double-quoted (JSON escapes) otherwise.
enum YAMLText {
    static func scalar(_ text: String) -> String {
        let safe = text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "._/@+-".unicodeScalars.contains($0)
        }
        let ambiguous =
            ["", "null", "true", "false", "yes", "no", "on", "off", "~"].contains(text.lowercased())
            || Double(text) != nil || text.hasPrefix("-") || text.hasPrefix(".")
            // `@` is reserved: YAML cannot start a plain scalar with it.
            || text.hasPrefix("@")
        guard !safe || ambiguous else { return text }
        return JSONValue.string(text).serialized(pretty: false)
    }
}
