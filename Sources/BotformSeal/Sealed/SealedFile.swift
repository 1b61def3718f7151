import BotformCore
import Foundation

/// The sealed file: Botform's output and its memory of what it manages. YAML, with plain-text metadata
/// and each secret age-encrypted, so a pull-request diff shows exactly which credentials changed and
/// `age -d` opens any one value.
public struct SealedFile: Sendable, Equatable {
    public static let version = 1

    public var recipients: [AgeRecipient]
    public var entries: [String: SealedEntry]

    public init(recipients: [AgeRecipient] = [], entries: [SealedEntry] = []) {
        self.recipients = recipients
        self.entries = Dictionary(entries.map { ($0.address, $0) }) { _, last in last }
    }

    public var ownership: Ownership { Ownership(entries.values.map(\.owned)) }

    // MARK: Writing

    /// The file's text: deterministic (entries sorted by address), so unchanged entries never show in a diff.
    public func render() -> String {
        var lines = [
            "# Written by botform. Secret values are age-encrypted; metadata is plain text.",
            "# Open one with: botform unseal <this file> -i key.txt --bot <provider/bot>",
            "version: \(Self.version)",
        ]
        if recipients.isEmpty {
            lines.append("recipients: []")
        } else {
            lines.append("recipients:")
            lines += recipients.map { "  - \($0)" }
        }
        if entries.isEmpty {
            lines.append("entries: {}")
        } else {
            lines.append("entries:")
            for entry in entries.values.sorted(by: { $0.address < $1.address }) {
                lines.append("  \(YAMLText.scalar(entry.address)):")
                lines.append("    provider: \(YAMLText.scalar(entry.provider))")
                lines.append("    bot: \(YAMLText.scalar(entry.bot))")
                if let id = entry.id { lines.append("    id: \(YAMLText.scalar(id))") }
                lines.append("    origin: \(entry.origin.rawValue)")
                if let issued = entry.issuedAt { lines.append("    issued_at: \(issued.formatted(.iso8601))") }
                if let hash = entry.permissionsSHA256 { lines.append("    permissions_sha256: \(hash)") }
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
        guard !safe || ambiguous else { return text }
        return JSONValue.string(text).serialized(pretty: false)
    }
}
