import Foundation

/// The plan, versioned: what `plan --out` saves, what `show` and `apply` read back, and the one model
/// every rendering (text, JSON, markdown) is derived from, so all formats state the same facts.
public struct PlanDocument: Sendable, Hashable, Codable {
    /// The version of this document's shape. A new field keeps it; a changed meaning bumps it.
    public static let currentFormatVersion = "1.0"

    public var formatVersion: String
    public var botformVersion: String
    public var createdAt: Date
    public var configuration: ConfigurationRef
    public var options: Options
    public var providers: [ProviderSummary]
    public var actions: [PlannedAction]
    public var drift: [DriftItem]
    /// Plan-wide guard messages (max_destroy), also attached to the actions they block.
    public var guards: [ActionBlock]
    public var summary: Summary
    /// Per-address digests of what the plan was computed from (the service's view and Botform's
    /// records); apply recomputes them to refuse a stale saved plan.
    public var inputs: [String: String]
    /// Sealed secrets whose recipients differ from the configured ones: to re-wrap. Absent when none.
    public var recipients: RecipientChange?

    /// Held secrets sealed to another set of recipients than the configured one. Re-wrapping them
    /// (decrypt with an identity, encrypt to the configured recipients) is a planned change like any
    /// other; the header of the sealed file never claims recipients the entries are not sealed to.
    public struct RecipientChange: Sendable, Hashable, Codable {
        /// Addresses of the entries to re-wrap, sorted.
        public var entries: [String]
        /// Configured recipients some of those entries are not sealed to (they will be able to open them).
        public var added: [String]
        /// Recipients some of those entries are sealed to that are no longer configured (they will not
        /// open the re-wrapped values; they keep whatever they could read before).
        public var removed: [String]

        public init(entries: [String], added: [String], removed: [String]) {
            self.entries = entries
            self.added = added
            self.removed = removed
        }

        /// What re-wrapping cannot do, said in the plan: old ciphertexts stay in git history, so a
        /// removed key keeps what it could read until the secrets are rotated.
        public var warning: String? {
            guard !removed.isEmpty else { return nil }
            let flags = entries.prefix(3).map { "--rotate \($0)" }.joined(separator: " ")
            return
                "re-wrapping does not take back what a removed key could already read: the old ciphertexts stay in git history. To cut it off, rotate the bots concerned: botform apply \(flags)\(entries.count > 3 ? " … (one --rotate per entry)" : "")"
        }
    }

    public struct ConfigurationRef: Sendable, Hashable, Codable {
        public var path: String
        public var sha256: String

        public init(path: String, sha256: String) {
            self.path = path
            self.sha256 = sha256
        }
    }

    public struct Options: Sendable, Hashable, Codable {
        public var targets: [String]
        public var rotate: [String]
        public var allowDestroy: [String]
        /// `--allow-move`: providers allowed to point elsewhere than where their entries were issued.
        public var allowMove: [String]

        public init(
            targets: [String] = [], rotate: [String] = [], allowDestroy: [String] = [], allowMove: [String] = []
        ) {
            self.targets = targets
            self.rotate = rotate
            self.allowDestroy = allowDestroy
            self.allowMove = allowMove
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            targets = try container.decode([String].self, forKey: .targets)
            rotate = try container.decode([String].self, forKey: .rotate)
            allowDestroy = try container.decode([String].self, forKey: .allowDestroy)
            allowMove = try container.decodeIfPresent([String].self, forKey: .allowMove) ?? []
        }

        enum CodingKeys: String, CodingKey {
            case targets, rotate
            case allowDestroy = "allow_destroy"
            case allowMove = "allow_move"
        }
    }

    public struct ProviderSummary: Sendable, Hashable, Codable {
        public var name: String
        public var type: String
        public var endpoint: String
        public var tenant: String?
        public var caller: String
        public var observedBots: Int
        public var listCalls: Int

        public init(
            name: String, type: String, endpoint: String, tenant: String?, caller: String, observedBots: Int,
            listCalls: Int
        ) {
            self.name = name
            self.type = type
            self.endpoint = endpoint
            self.tenant = tenant
            self.caller = caller
            self.observedBots = observedBots
            self.listCalls = listCalls
        }

        enum CodingKeys: String, CodingKey {
            case name, type, endpoint, tenant, caller
            case observedBots = "observed_bots"
            case listCalls = "list_calls"
        }
    }

    public struct Summary: Sendable, Hashable, Codable {
        public var register = 0
        public var replace = 0
        public var reset = 0
        public var renew = 0
        public var revoke = 0
        public var adopt = 0
        public var forget = 0
        public var blocked = 0
        public var drift = 0

        public init() {}

        public init(actions: [PlannedAction], drift: [DriftItem]) {
            for action in actions {
                switch action.action {
                case .register: register += 1
                case .replace: replace += 1
                case .reset: reset += 1
                case .renew: renew += 1
                case .revoke: revoke += 1
                case .adopt: adopt += 1
                case .forget: forget += 1
                }
                if action.blocked != nil { blocked += 1 }
            }
            self.drift = drift.count
        }

        /// Anything to apply (adopt and forget included: they change the sealed file).
        public var hasChanges: Bool { register + replace + reset + renew + revoke + adopt + forget > 0 }

        /// `Plan: 1 to register, 1 to replace, 1 to reset, 0 to revoke.` (adopt and forget when present)
        public var sentence: String {
            var parts = [
                "\(register) to register", "\(replace) to replace", "\(reset) to reset", "\(revoke) to revoke",
            ]
            if renew > 0 { parts.insert("\(renew) to renew", at: 3) }
            if adopt > 0 { parts.append("\(adopt) to adopt") }
            if forget > 0 { parts.append("\(forget) to forget") }
            return "Plan: " + parts.joined(separator: ", ") + "."
        }

        enum CodingKeys: String, CodingKey {
            case register, replace, reset, renew, revoke, adopt, forget, blocked, drift
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            register = try container.decode(Int.self, forKey: .register)
            replace = try container.decode(Int.self, forKey: .replace)
            reset = try container.decode(Int.self, forKey: .reset)
            renew = try container.decodeIfPresent(Int.self, forKey: .renew) ?? 0
            revoke = try container.decode(Int.self, forKey: .revoke)
            adopt = try container.decode(Int.self, forKey: .adopt)
            forget = try container.decode(Int.self, forKey: .forget)
            blocked = try container.decode(Int.self, forKey: .blocked)
            drift = try container.decode(Int.self, forKey: .drift)
        }

        /// `renew` is written only when there is one, so plans of services without tokens read as before.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(register, forKey: .register)
            try container.encode(replace, forKey: .replace)
            try container.encode(reset, forKey: .reset)
            if renew > 0 { try container.encode(renew, forKey: .renew) }
            try container.encode(revoke, forKey: .revoke)
            try container.encode(adopt, forKey: .adopt)
            try container.encode(forget, forKey: .forget)
            try container.encode(blocked, forKey: .blocked)
            try container.encode(drift, forKey: .drift)
        }
    }

    public init(
        createdAt: Date, configuration: ConfigurationRef, options: Options, providers: [ProviderSummary],
        actions: [PlannedAction],
        drift: [DriftItem], guards: [ActionBlock], inputs: [String: String], recipients: RecipientChange? = nil
    ) {
        formatVersion = Self.currentFormatVersion
        botformVersion = BotformVersion.current
        self.createdAt = createdAt
        self.configuration = configuration
        self.options = options
        self.providers = providers
        self.actions = actions
        self.drift = drift
        self.guards = guards
        summary = Summary(actions: actions, drift: drift)
        self.inputs = inputs
        self.recipients = recipients
    }

    /// Whether any action is blocked (protect, max_destroy): apply refuses to start.
    public var isBlocked: Bool { actions.contains { $0.blocked != nil } }

    /// Anything for apply to do: actions, or sealed secrets to re-wrap.
    public var hasChanges: Bool { summary.hasChanges || recipients != nil }

    enum CodingKeys: String, CodingKey {
        case configuration, options, providers, actions, drift, guards, summary, inputs, recipients
        case formatVersion = "format_version"
        case botformVersion = "botform_version"
        case createdAt = "created_at"
    }

    // MARK: JSON

    /// The document as JSON: stable (sorted keys, ISO-8601 times), for files and machines.
    public func jsonData(pretty: Bool = true) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    public enum ReadError: Error, CustomStringConvertible {
        /// Not a plan at all (another kind of file, such as a configuration).
        case notAPlan(String)
        /// A plan document (it has `format_version`) that does not decode: damaged or edited.
        case invalid(String)
        case unsupportedVersion(String)

        public var description: String {
            switch self {
            case .notAPlan(let detail): "not a Botform plan file: \(detail)"
            case .invalid(let detail): "a damaged Botform plan file (\(detail)); run plan again"
            case .unsupportedVersion(let version):
                "plan format \(version) is not supported by this botform (it reads \(PlanDocument.currentFormatVersion.prefix(1)).x); re-run plan"
            }
        }
    }

    /// Reads a saved plan, refusing other files and other major versions.
    public static func read(_ data: Data) throws(ReadError) -> PlanDocument {
        /// Any object with a `format_version` is a plan (of some version, or damaged); anything else is not.
        struct Header: Decodable {
            var hasVersion: Bool
            var formatVersion: String?
            enum CodingKeys: String, CodingKey { case formatVersion = "format_version" }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                hasVersion = container.contains(.formatVersion)
                formatVersion = try? container.decode(String.self, forKey: .formatVersion)
            }
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: data)
        } catch {
            throw .notAPlan("it is not a JSON object")
        }
        guard header.hasVersion else { throw .notAPlan("it has no format_version") }
        guard let version = header.formatVersion else { throw .invalid("format_version is not a string") }
        guard version.split(separator: ".").first == currentFormatVersion.split(separator: ".").first else {
            throw .unsupportedVersion(version)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            return try decoder.decode(PlanDocument.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalid("no \"\(key.stringValue)\" at \(path(context))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw .invalid("unexpected value at \(path(context))")
        } catch let DecodingError.dataCorrupted(context) {
            throw .invalid("unreadable value at \(path(context))")
        } catch {
            throw .invalid("\(error)")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "the top level" : String(path.drop { $0 == "." })
    }
}
