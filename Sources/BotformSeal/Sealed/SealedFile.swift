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
        return entries.values.filter { $0.secret != nil && Set($0.sealedTo) != wanted }.sorted {
            $0.address < $1.address
        }
    }

    // MARK: Writing

    /// The file's text: deterministic (entries sorted by address), so unchanged entries never show in a diff.
    public func render() -> String {
        var lines = [
            "# Written by botform. Secret values are age-encrypted; metadata is plain text.",
            "# Open one with: botform unseal <this file> -i key.txt --bot <provider/bot>",
            "version: \(Self.version)",
        ]
        let header = headerRecipients
        if header.isEmpty {
            lines.append("recipients: []")
        } else {
            lines.append("recipients:")
            lines += header.map { "  - \($0)" }
        }
        let providers = Set(entries.values.map(\.provider))
        let recorded = origins.filter { providers.contains($0.key) }.sorted { $0.key < $1.key }
        if !recorded.isEmpty {
            lines.append("providers:")
            for (name, origin) in recorded {
                lines.append("  \(YAMLText.scalar(name)):")
                lines.append("    type: \(origin.type.rawValue)")
                lines.append("    endpoint: \(YAMLText.scalar(origin.endpoint))")
                if let tenant = origin.tenant { lines.append("    tenant: \(YAMLText.scalar(tenant))") }
            }
        }
        if entries.isEmpty {
            lines.append("entries: {}")
        } else {
            lines.append("entries:")
            for entry in entries.values.sorted(by: { $0.address < $1.address }) {
                lines.append("  \(YAMLText.scalar(entry.address)):")
                lines.append("    provider: \(YAMLText.scalar(entry.provider))")
                lines.append("    bot: \(YAMLText.scalar(entry.bot))")
                if let label = entry.label { lines.append("    label: \(YAMLText.scalar(label))") }
                if let id = entry.id { lines.append("    id: \(YAMLText.scalar(id))") }
                lines.append("    origin: \(entry.origin.rawValue)")
                if let issued = entry.issuedAt { lines.append("    issued_at: \(issued.formatted(.iso8601))") }
                if let hash = entry.permissionsSHA256 { lines.append("    permissions_sha256: \(hash)") }
                if let expires = entry.expiresAt { lines.append("    expires_at: \(expires.formatted(.iso8601))") }
                if !entry.retiring.isEmpty {
                    lines.append("    retiring:")
                    lines += entry.retiring.map { "      - \(YAMLText.scalar($0))" }
                }
                if !entry.lostTimes.isEmpty {
                    lines.append("    unrecorded_since:")
                    lines += entry.lostTimes.map { "      - \($0.formatted(.iso8601))" }
                }
                if let pending = entry.pending {
                    lines.append("    pending: \(pending.rawValue)")
                    if entry.pendingTimes.count == 1, let since = entry.pendingSince {
                        lines.append("    pending_since: \(since.formatted(.iso8601))")
                    } else if entry.pendingTimes.count > 1 {
                        lines.append("    pending_since:")
                        lines += entry.pendingTimes.map { "      - \($0.formatted(.iso8601))" }
                    }
                }
                if !entry.sealedTo.isEmpty {
                    lines.append("    sealed_to:")
                    lines += entry.sealedTo.map { "      - \($0)" }
                }
                if let secret = entry.secret {
                    lines.append("    secret: |")
                    lines += secret.split(separator: "\n").map { "      \($0)" }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
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
