/// A named bundle of permissions; roles may include other roles.
public struct RoleDefinition: Sendable, Hashable {
    public var name: String
    public var includes: [String]
    public var permissions: Permissions
    /// Own permissions plus those of every included role, transitively.
    public var effectivePermissions: Permissions
    public var location: SourceLocation?

    public init(
        name: String, includes: [String], permissions: Permissions, effectivePermissions: Permissions,
        location: SourceLocation? = nil
    ) {
        self.name = name
        self.includes = includes
        self.permissions = permissions
        self.effectivePermissions = effectivePermissions
        self.location = location
    }
}

/// A Sym token a bot should hold: its label, lifetime and when to renew it.
public struct DesiredToken: Sendable, Hashable, Codable {
    public var label: String
    public var expiresIn: BotformDuration
    /// Re-issue the token when less than this remains before it expires.
    public var renewBefore: BotformDuration

    public init(label: String, expiresIn: BotformDuration, renewBefore: BotformDuration) {
        self.label = label
        self.expiresIn = expiresIn
        self.renewBefore = renewBefore
    }
}

/// A bot as the configuration declares it, with everything resolved (provider, effective permissions).
public struct DesiredBot: Sendable, Hashable {
    public var name: String
    public var provider: String
    public var description: String?
    public var roles: [String]
    public var permissions: Permissions
    /// The union of the bot's roles (transitively) and its own permissions: what the service is asked for.
    public var effectivePermissions: Permissions
    public var rotateEvery: BotformDuration?
    /// A protected bot is never revoked or replaced unless named in `--allow-destroy`.
    public var protect: Bool
    /// FOKS only: the role the token is provisioned at.
    public var foksRole: FoksRole?
    /// Sym only: the tokens the bot should hold.
    public var tokens: [DesiredToken]
    public var location: SourceLocation?

    public init(
        name: String, provider: String, description: String? = nil, roles: [String] = [],
        permissions: Permissions = Permissions(), effectivePermissions: Permissions = Permissions(),
        rotateEvery: BotformDuration? = nil, protect: Bool = false, foksRole: FoksRole? = nil,
        tokens: [DesiredToken] = [], location: SourceLocation? = nil
    ) {
        self.name = name
        self.provider = provider
        self.description = description
        self.roles = roles
        self.permissions = permissions
        self.effectivePermissions = effectivePermissions
        self.rotateEvery = rotateEvery
        self.protect = protect
        self.foksRole = foksRole
        self.tokens = tokens
        self.location = location
    }

    /// `provider/bot`, the address used in plans, the sealed file and `--target`.
    public var address: String { "\(provider)/\(name)" }
}

/// What to do with bots found on a service that Botform never created.
public enum UnmanagedPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Show them as drift, touch nothing (the default).
    case report
    /// Revoke them (subject to `protect`-free `max_destroy`).
    case revoke
    /// Say nothing about them.
    case ignore
}

public struct Policy: Sendable, Hashable, Codable {
    public var unmanaged: UnmanagedPolicy
    /// Apply refuses to revoke or replace more bots than this without `--allow-destroy`; nil is no limit.
    public var maxDestroy: Int?

    public init(unmanaged: UnmanagedPolicy = .report, maxDestroy: Int? = nil) {
        self.unmanaged = unmanaged
        self.maxDestroy = maxDestroy
    }
}

public struct OutputSettings: Sendable, Hashable, Codable {
    /// The sealed file, resolved against the configuration's directory; nil when none is configured.
    public var sealedPath: String?
    public var recipients: [AgeRecipient]
    /// A file of recipients (one `age1…` per line, `#` comments), resolved like `sealedPath`.
    public var recipientsFile: String?

    public init(sealedPath: String? = nil, recipients: [AgeRecipient] = [], recipientsFile: String? = nil) {
        self.sealedPath = sealedPath
        self.recipients = recipients
        self.recipientsFile = recipientsFile
    }
}

/// Everything the configuration declares, validated and resolved.
public struct DesiredState: Sendable, Hashable {
    /// The directory relative paths in the configuration are resolved against.
    public var baseDirectory: String
    public var providers: [ProviderConfig]
    public var roles: [RoleDefinition]
    public var bots: [DesiredBot]
    public var policy: Policy
    public var output: OutputSettings
    /// Drift findings the team accepted (`ignore:`), each with its reason; `botform drift` lists them apart.
    public var ignore: [DriftIgnore]

    public init(
        baseDirectory: String, providers: [ProviderConfig] = [], roles: [RoleDefinition] = [],
        bots: [DesiredBot] = [], policy: Policy = Policy(), output: OutputSettings = OutputSettings(),
        ignore: [DriftIgnore] = []
    ) {
        self.baseDirectory = baseDirectory
        self.providers = providers.sorted { $0.name < $1.name }
        self.roles = roles.sorted { $0.name < $1.name }
        self.bots = bots.sorted { ($0.provider, $0.name) < ($1.provider, $1.name) }
        self.policy = policy
        self.output = output
        self.ignore = ignore
    }

    public func provider(named name: String) -> ProviderConfig? {
        providers.first { $0.name == name }
    }

    public func bots(of provider: String) -> [DesiredBot] {
        bots.filter { $0.provider == provider }
    }
}
