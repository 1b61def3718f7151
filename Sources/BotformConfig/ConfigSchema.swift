import BotformCore

/// The configuration language, described once. The loader checks keys against it (unknown keys, "did you
/// mean", keys that do not apply to a provider type) and `botform schema` renders it as JSON Schema, so
/// the editor's view of the language and Botform's cannot drift apart.
public struct SchemaObject: Sendable {
    public var title: String
    public var fields: [SchemaField]

    public func field(_ key: String) -> SchemaField? { fields.first { $0.key == key } }

    /// Keys that apply to `kind` (all keys when nil).
    public func keys(for kind: ProviderKind?) -> [String] {
        fields.filter { field in kind.map { field.applies(to: $0) } ?? true }.map(\.key)
    }
}

public struct SchemaField: Sendable {
    public var key: String
    public var type: SchemaType
    public var description: String
    /// Provider types the key applies to; nil means every type.
    public var kinds: Set<ProviderKind>?
    /// Provider types for which the key is required (`[]` when optional everywhere).
    public var requiredFor: Set<ProviderKind>

    init(
        _ key: String, _ type: SchemaType, _ description: String, kinds: Set<ProviderKind>? = nil,
        requiredFor: Set<ProviderKind> = []
    ) {
        self.key = key
        self.type = type
        self.description = description
        self.kinds = kinds
        self.requiredFor = requiredFor
    }

    public func applies(to kind: ProviderKind) -> Bool { kinds?.contains(kind) ?? true }
}

public indirect enum SchemaType: Sendable {
    case string(pattern: String?)
    case enumeration([String])
    case integer(minimum: Int)
    case versionConstant(Int)
    case boolean
    case duration
    case environmentVariable
    case botName
    case providerName
    case tokenLabel
    case foksRole
    case recipient
    case permissions
    case object(SchemaObject)
    case map(key: SchemaType, value: SchemaType)
    case list(SchemaType)
}

/// Patterns shared by the schema and the documentation.
enum SchemaPattern {
    static let botName = "^[a-z0-9](?:[a-z0-9-]{1,48})[a-z0-9]$"
    static let providerName = "^[a-z][a-z0-9_-]{0,49}$"
    static let tokenLabel = "^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,62}[A-Za-z0-9._-])?$"
    static let duration = "^[1-9][0-9]*(s|m|h|d|w|mo)$"
    static let environmentVariable = "^[A-Za-z_][A-Za-z0-9_]*$"
    static let foksRole = "^(?i:o|owner|a|admin|(?:m|member)/[+-]?[0-9]{1,5})$"
    static let recipient = "^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$"
    static let entity = "^[A-Za-z0-9_-]{1,100}$"

    /// `environmentVariable`, checked on bytes: a regular expression costs milliseconds to compile
    /// on first use, and every run reads a configuration.
    static func isEnvironmentVariable(_ text: String) -> Bool {
        guard let first = text.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return text.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || isDigit($0) }
    }

    /// `^[a-z0-9][a-z0-9_-]{0,99}$`: a Fyso tenant slug, checked on bytes.
    static func isTenantSlug(_ text: String) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.first, bytes.count <= 100, isLower(first) || isDigit(first) else { return false }
        return bytes.allSatisfy {
            isLower($0) || isDigit($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    private static func isLower(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
    private static func isLetter(_ byte: UInt8) -> Bool {
        isLower(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}

extension SchemaObject {
    static let fysoOrSym: Set<ProviderKind> = [.fyso, .sym]

    public static let credentials = SchemaObject(
        title: "credentials",
        fields: [
            SchemaField(
                "token_env", .environmentVariable,
                "Environment variable holding a bearer token: for fyso an admin or tenant-user JWT or a tenant developer token; for sym a bot or admin JWT.",
                kinds: fysoOrSym),
            SchemaField(
                "token_file", .string(pattern: nil), "File holding the bearer token (trailing whitespace is trimmed).",
                kinds: fysoOrSym),
            SchemaField(
                "email_env", .environmentVariable, "Environment variable holding the login email (fyso).",
                kinds: [.fyso]),
            SchemaField("email_file", .string(pattern: nil), "File holding the login email (fyso).", kinds: [.fyso]),
            SchemaField(
                "password_env", .environmentVariable, "Environment variable holding the login password (fyso).",
                kinds: [.fyso]),
            SchemaField(
                "password_file", .string(pattern: nil), "File holding the login password (fyso).", kinds: [.fyso]),
            SchemaField(
                "caller", .enumeration(FysoCaller.allCases.map(\.rawValue)),
                "Who Botform acts as on Fyso: admin (POST /api/auth/login; may reset secrets) or user (POST /api/auth/tenant/login; sees and manages only its own bots, and replaces instead of resetting). Default admin.",
                kinds: [.fyso]),
        ])

    public static let provider = SchemaObject(
        title: "provider",
        fields: [
            SchemaField(
                "type", .enumeration(ProviderKind.allCases.map(\.rawValue)), "The service: fyso, sym or foks.",
                requiredFor: Set(ProviderKind.allCases)),
            SchemaField(
                "url", .string(pattern: nil),
                "Base URL of the service (https://…), or `embedded` to run Botform's sandbox in-process with its state under .botform/ beside the configuration. fyso: required; sym: default https://api.symops.com/api/v1.",
                kinds: fysoOrSym, requiredFor: [.fyso]),
            SchemaField(
                "tenant", .string(pattern: nil),
                "Fyso tenant slug: sent as tenantSlug by admin callers and as X-Tenant-ID on every tenant-scoped call. Required unless url is embedded (default: sandbox).",
                kinds: [.fyso]),
            SchemaField(
                "credentials", .object(.credentials),
                "How Botform authenticates. Secrets are named by environment variable or file, never written here.",
                kinds: fysoOrSym),
            SchemaField("timeout", .duration, "Per-request timeout (default 30s).", kinds: fysoOrSym),
            SchemaField(
                "revoked_names_reusable", .boolean,
                "Whether the service lets a revoked bot's name be registered again (Fyso does not document it). false: plan refuses to replace a bot and advises renaming it; unset: Botform tries, and explains a 409 after the revoke.",
                kinds: [.fyso]),
            SchemaField(
                "host", .string(pattern: nil), "FOKS server host name, e.g. myorg.foks.app.", kinds: [.foks],
                requiredFor: [.foks]),
            SchemaField(
                "binary", .string(pattern: nil),
                "The foks executable: a name looked up on PATH or a path (default foks).", kinds: [.foks]),
            SchemaField(
                "home", .string(pattern: nil), "Passed to foks as --home, to use an isolated agent state directory.",
                kinds: [.foks]),
        ])

    public static let role = SchemaObject(
        title: "role",
        fields: [
            SchemaField("description", .string(pattern: nil), "Free text for readers of the configuration."),
            SchemaField(
                "include", .list(.botName),
                "Roles whose permissions this role also grants (transitively; cycles are errors)."),
            SchemaField(
                "permissions", .permissions,
                "Entity permissions: entity name to a list of create, read, update, delete."),
        ])

    public static let token = SchemaObject(
        title: "token",
        fields: [
            SchemaField(
                "expires_in", .duration, "Lifetime of each issued token, e.g. 90d. Required.",
                requiredFor: Set(ProviderKind.allCases)),
            SchemaField(
                "renew_before", .duration,
                "Issue a replacement when less than this remains (default: a third of expires_in)."),
        ])

    public static let bot = SchemaObject(
        title: "bot",
        fields: [
            SchemaField(
                "provider", .providerName,
                "The provider the bot lives in; optional when exactly one provider is declared."),
            SchemaField(
                "description", .string(pattern: nil), "Free text for readers of the configuration and the plan."),
            SchemaField("roles", .list(.botName), "Roles whose permissions the bot holds (fyso).", kinds: [.fyso]),
            SchemaField(
                "permissions", .permissions, "Permissions the bot holds beyond its roles (fyso).", kinds: [.fyso]),
            SchemaField(
                "rotate_every", .duration, "Rotate the secret when it is older than this, e.g. 90d (fyso, foks).",
                kinds: [.fyso, .foks]),
            SchemaField("protect", .boolean, "Never revoke or replace this bot unless it is named in --allow-destroy."),
            SchemaField(
                "role", .foksRole,
                "FOKS role of the bot token: owner, admin or member/N (default owner, which can manage every key of the user).",
                kinds: [.foks]),
            SchemaField(
                "tokens", .map(key: .tokenLabel, value: .object(.token)), "Tokens the bot holds, by label (sym).",
                kinds: [.sym]),
        ])

    public static let policy = SchemaObject(
        title: "policy",
        fields: [
            SchemaField(
                "unmanaged", .enumeration(UnmanagedPolicy.allCases.map(\.rawValue)),
                "Bots on a service that Botform never created: report (default; shown as drift), revoke, or ignore."),
            SchemaField(
                "max_destroy", .integer(minimum: 0),
                "Apply refuses to revoke or replace more bots than this in one run without --allow-destroy."),
        ])

    public static let output = SchemaObject(
        title: "output",
        fields: [
            SchemaField(
                "sealed", .string(pattern: nil),
                "The sealed file secrets are written to, relative to the configuration's directory."),
            SchemaField(
                "recipients", .list(.recipient), "age X25519 recipients (age1…) that can open the sealed file."),
            SchemaField(
                "recipients_file", .string(pattern: nil),
                "A file of recipients, one age1… per line; # starts a comment."),
        ])

    public static let ignoreEntry = SchemaObject(
        title: "ignore entry",
        fields: [
            SchemaField(
                "bot", .string(pattern: nil),
                "The bot whose drift findings are accepted: provider/bot, or a bot name (every provider's bot of that name; also a name Botform could not declare). Required.",
                requiredFor: Set(ProviderKind.allCases)),
            SchemaField(
                "reason", .string(pattern: nil),
                "Why the findings are accepted, for reviewers and the drift report. Required.",
                requiredFor: Set(ProviderKind.allCases)),
        ])

    public static let root = SchemaObject(
        title: "Botform configuration",
        fields: [
            SchemaField("version", .versionConstant(1), "Configuration language version. Must be 1."),
            SchemaField(
                "providers", .map(key: .providerName, value: .object(.provider)), "Services to manage bots in, by name."
            ),
            SchemaField("roles", .map(key: .botName, value: .object(.role)), "Named permission bundles, by name."),
            SchemaField("bots", .map(key: .botName, value: .object(.bot)), "Bots, by name."),
            SchemaField("policy", .object(.policy), "Rules for unmanaged bots and destructive changes."),
            SchemaField("output", .object(.output), "Where issued secrets are sealed, and for whom."),
            SchemaField(
                "ignore", .list(.object(.ignoreEntry)),
                "Drift findings the team accepts (a known legacy bot), each with a reason: botform drift lists them apart and they do not fail the check."
            ),
        ])
}
