import BotformCore
import BotformYAML
import Foundation

/// Why a sealed file could not be read.
public struct SealedFileError: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [Diagnostic]

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

extension SealedFile {
    /// Reads a sealed file. Problems are located (`file:line:column`), so a bad merge of the file in git
    /// points at the conflict.
    public static func parse(_ bytes: [UInt8], path: String) throws(SealedFileError) -> SealedFile {
        if let file = parseCanonical(bytes) { return file }
        return try parseYAML(bytes, path: path)
    }

    /// Reads any YAML form of the file: what `parseCanonical` does not take (a file edited by hand or
    /// merged), and every damaged file, whose problems it locates.
    static func parseYAML(_ bytes: [UInt8], path: String) throws(SealedFileError) -> SealedFile {
        var diagnostics = Diagnostics()
        let root = YAMLComposer.compose(bytes, file: path, diagnostics: &diagnostics)
        var reader = Reader(path: path, diagnostics: diagnostics)
        let file = root.flatMap { reader.file($0) }
        if reader.diagnostics.hasErrors || file == nil {
            var all = reader.diagnostics
            if all.all.isEmpty { all.error("the sealed file is empty", at: .start(of: path)) }
            throw SealedFileError(diagnostics: all.errors)
        }
        return file ?? SealedFile()
    }

    private struct Reader {
        let path: String
        var diagnostics: Diagnostics

        mutating func error(_ message: String, _ node: YAMLNode) {
            diagnostics.error(message, at: node.location(in: path))
        }

        func pairs(_ node: YAMLNode) -> [String: YAMLNode]? {
            guard case .mapping(let pairs) = node.content else { return nil }
            return Dictionary(pairs.compactMap { pair in pair.key.scalarText.map { ($0, pair.value) } }) { first, _ in
                first
            }
        }

        mutating func file(_ root: YAMLNode) -> SealedFile? {
            guard let fields = pairs(root) else {
                error("a sealed file is a mapping with version, recipients and entries", root)
                return nil
            }
            guard let version = fields["version"], version.scalarValue == .integer(SealedFile.version) else {
                error(
                    "unsupported sealed file version (this botform reads version \(SealedFile.version))",
                    fields["version"] ?? root)
                return nil
            }
            var file = SealedFile()
            if let list = fields["recipients"] { file.recipients = recipients(list) }
            if let origins = fields["providers"] { file.origins = providers(origins) }
            if let entries = fields["entries"] {
                if case .mapping(let pairs) = entries.content {
                    for pair in pairs {
                        guard let address = pair.key.scalarText, let entry = entry(address, pair.value) else {
                            continue
                        }
                        file.entries[address] = entry
                    }
                } else if !entries.isNull {
                    error("entries must be a mapping of address to entry", entries)
                }
            }
            return file
        }

        mutating func recipients(_ node: YAMLNode) -> [AgeRecipient] {
            guard case .sequence(let items) = node.content else {
                if !node.isNull { error("expected a list of age recipients", node) }
                return []
            }
            return items.compactMap { item in
                guard let text = item.scalarText else { return nil }
                do {
                    return try AgeRecipient.parse(text)
                } catch {
                    self.error("invalid recipient: \(error)", item)
                    return nil
                }
            }
        }

        /// Where each provider's entries were issued. A file written before this record existed has none,
        /// and is read as before.
        mutating func providers(_ node: YAMLNode) -> [String: ProviderOrigin] {
            guard case .mapping(let pairs) = node.content else {
                if !node.isNull { error("providers must be a mapping of provider name to origin", node) }
                return [:]
            }
            var origins: [String: ProviderOrigin] = [:]
            for pair in pairs {
                guard let name = pair.key.scalarText, let fields = self.pairs(pair.value),
                    let type = fields["type"]?.scalarText.flatMap(ProviderKind.init(rawValue:)),
                    let endpoint = fields["endpoint"]?.scalarText
                else {
                    error("provider origin needs type (fyso, sym, foks) and endpoint", pair.value)
                    continue
                }
                origins[name] = ProviderOrigin(type: type, endpoint: endpoint, tenant: fields["tenant"]?.scalarText)
            }
            return origins
        }

        mutating func entry(_ address: String, _ node: YAMLNode) -> SealedEntry? {
            guard let fields = pairs(node) else {
                error("entry \"\(address)\" must be a mapping", node)
                return nil
            }
            func text(_ key: String) -> String? { fields[key]?.scalarText }
            guard let provider = text("provider"), let bot = text("bot") else {
                error("entry \"\(address)\" needs provider and bot", node)
                return nil
            }
            let label = text("label")
            guard EntryKey(provider: provider, bot: bot, label: label).address == address else {
                error(
                    "entry \"\(address)\" says provider \"\(provider)\" and bot \"\(bot)\"\(label.map { " and label \"\($0)\"" } ?? "")",
                    node)
                return nil
            }
            let origin = text("origin").flatMap(OwnedBot.Origin.init(rawValue:)) ?? .issued
            var issuedAt: Date?
            if let issued = fields["issued_at"] {
                issuedAt = issued.scalarText.flatMap { try? Date($0, strategy: .iso8601) }
                if issuedAt == nil { error("issued_at must be an ISO 8601 time", issued) }
            }
            func time(_ key: String) -> Date? {
                guard let value = fields[key], !value.isNull else { return nil }
                let parsed = value.scalarText.flatMap { try? Date($0, strategy: .iso8601) }
                if parsed == nil { error("\(key) must be an ISO 8601 time", value) }
                return parsed
            }
            // One time, or a list of them (each unfinished announcement).
            func times(_ key: String) -> [Date] {
                guard let value = fields[key], !value.isNull else { return [] }
                if case .sequence(let items) = value.content {
                    let parsed = items.compactMap { $0.scalarText.flatMap { try? Date($0, strategy: .iso8601) } }
                    if parsed.count != items.count { error("\(key) must be ISO 8601 times", value) }
                    return parsed
                }
                return time(key).map { [$0] } ?? []
            }
            var retiring: [String] = []
            if let value = fields["retiring"], !value.isNull {
                if case .sequence(let items) = value.content {
                    retiring = items.compactMap(\.scalarText)
                } else {
                    error("retiring must be a list of credential ids", value)
                }
            }
            var pending: IssueIntent?
            if let value = fields["pending"], !value.isNull {
                pending = value.scalarText.flatMap(IssueIntent.init(rawValue:))
                if pending == nil { error("pending must be register or reset", value) }
            }
            var secret: String?
            if let value = fields["secret"], !value.isNull {
                guard let armored = value.scalarText, AgeArmor.isArmored(Array(armored.utf8)) else {
                    error("secret must be an armored age file", value)
                    return nil
                }
                secret = armored.hasSuffix("\n") ? armored : armored + "\n"
            }
            var entry = SealedEntry(
                provider: provider, bot: bot, id: text("id"), origin: origin, issuedAt: issuedAt,
                permissionsSHA256: text("permissions_sha256"),
                sealedTo: fields["sealed_to"].map { recipients($0) } ?? [], secret: secret, pending: pending,
                label: label, expiresAt: time("expires_at"), retiring: retiring,
                pendingTimes: times("pending_since"))
            entry.lostTimes = times("unrecorded_since")
            return entry
        }
    }
}
