import Foundation

/// A bot as a service reports it.
public struct ObservedBot: Sendable, Hashable {
    public var id: String
    public var name: String
    public var isActive: Bool
    /// What the service says the bot may do; nil when the service does not say.
    public var permissions: Permissions?
    public var createdAt: Date?
    public var lastSeenAt: Date?
    /// FOKS: the role the token's key is provisioned at.
    public var role: FoksRole?
    /// Sym: the bot's live tokens (not revoked, not expired).
    public var tokens: [ObservedToken]

    public init(
        id: String, name: String, isActive: Bool, permissions: Permissions?, createdAt: Date? = nil,
        lastSeenAt: Date? = nil, role: FoksRole? = nil, tokens: [ObservedToken] = []
    ) {
        self.id = id
        self.name = name
        self.isActive = isActive
        self.permissions = permissions
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.role = role
        self.tokens = tokens
    }

    /// What a plan depends on (id, state, permissions, role, tokens), for the digest that tells a saved
    /// plan is stale.
    public var fingerprint: String { fingerprint(permissionsText: permissions?.canonical) }

    /// The fingerprint, given the permissions' canonical text (a planner caches it per grant).
    public func fingerprint(permissionsText: String?) -> String {
        var text = "\(id)|\(isActive)|\(permissionsText ?? "-")"
        if let role { text += "|\(role)" }
        for token in tokens.sorted(by: { $0.id < $1.id }) { text += "|\(token.fingerprint)" }
        return text
    }
}

/// A credential a bot holds beside itself (a Sym token): issued and revoked on its own, with an expiry.
public struct ObservedToken: Sendable, Hashable {
    public var id: String
    public var label: String?
    public var expiresAt: Date?
    /// When the token was issued, when the service says.
    public var createdAt: Date?

    public init(id: String, label: String?, expiresAt: Date?, createdAt: Date? = nil) {
        self.id = id
        self.label = label
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }

    public var fingerprint: String {
        "\(id):\(label ?? "-"):\(expiresAt.map { Int64($0.timeIntervalSince1970) } ?? 0)"
    }
}

/// What a provider can do, as the planner needs to know it.
public struct ProviderCapabilities: Sendable, Hashable, Codable {
    /// The secret can be replaced in place (Fyso admins: reset-secret). Otherwise rotation is a replace.
    public var canResetSecret: Bool
    /// Permissions can change in place. Fyso has no update endpoint: a change is a replace.
    public var canUpdatePermissions: Bool
    /// The observation covers every bot of the scope (a Fyso admin sees the tenant; a user only its own),
    /// so a bot missing from it is not on the service.
    public var seesAllBots: Bool
    /// Who Botform acts as (`admin`, `user`), for the plan's header.
    public var caller: String
    /// Whether a revoked bot's name can be registered again: nil when the service does not say (Fyso),
    /// false when the provider declares it cannot (then a replace is refused at plan time).
    public var revokedNamesReusable: Bool?
    /// The service names bots as declared, so a bot of a declared name is that bot (Fyso, Sym). FOKS
    /// picks a token's name itself: its bots are matched only through the ids in the sealed file.
    public var matchesByName: Bool
    /// Registering a bot issues its secret (Fyso's bot secret, FOKS's token). A Sym bot is a user that
    /// holds no secret itself: its credentials are its tokens.
    public var registerIssuesSecret: Bool
    /// A replacement issues the new credential and seals it before the old one is revoked (FOKS: keys are
    /// not named by the caller, so both may exist at once). Otherwise the old is revoked first (Fyso: a
    /// name is held by one active bot).
    public var replacesNewFirst: Bool
    /// Bots hold labelled, expiring tokens issued and revoked on their own (Sym).
    public var issuesTokens: Bool

    public init(
        canResetSecret: Bool, canUpdatePermissions: Bool, seesAllBots: Bool, caller: String,
        revokedNamesReusable: Bool? = nil, matchesByName: Bool = true, registerIssuesSecret: Bool = true,
        replacesNewFirst: Bool = false, issuesTokens: Bool = false
    ) {
        self.canResetSecret = canResetSecret
        self.canUpdatePermissions = canUpdatePermissions
        self.seesAllBots = seesAllBots
        self.caller = caller
        self.revokedNamesReusable = revokedNamesReusable
        self.matchesByName = matchesByName
        self.registerIssuesSecret = registerIssuesSecret
        self.replacesNewFirst = replacesNewFirst
        self.issuesTokens = issuesTokens
    }

    enum CodingKeys: String, CodingKey {
        case canResetSecret, canUpdatePermissions, seesAllBots, caller, revokedNamesReusable
        case matchesByName, registerIssuesSecret, replacesNewFirst, issuesTokens
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        canResetSecret = try container.decode(Bool.self, forKey: .canResetSecret)
        canUpdatePermissions = try container.decode(Bool.self, forKey: .canUpdatePermissions)
        seesAllBots = try container.decode(Bool.self, forKey: .seesAllBots)
        caller = try container.decode(String.self, forKey: .caller)
        revokedNamesReusable = try container.decodeIfPresent(Bool.self, forKey: .revokedNamesReusable)
        matchesByName = try container.decodeIfPresent(Bool.self, forKey: .matchesByName) ?? true
        registerIssuesSecret = try container.decodeIfPresent(Bool.self, forKey: .registerIssuesSecret) ?? true
        replacesNewFirst = try container.decodeIfPresent(Bool.self, forKey: .replacesNewFirst) ?? false
        issuesTokens = try container.decodeIfPresent(Bool.self, forKey: .issuesTokens) ?? false
    }
}

/// One read of everything relevant in one provider.
public struct ProviderObservation: Sendable {
    public var provider: String
    public var bots: [ObservedBot]
    public var capabilities: ProviderCapabilities
    /// How many list calls the read took (one per page).
    public var listCalls: Int
    /// The service's clock at the read (its responses' `Date` header), when it says: expiry and renewal
    /// are judged by it, not by the runner's clock.
    public var serviceNow: Date?
    /// The account the caller acts in, when the service tells it rather than the configuration (Sym's
    /// org, FOKS's user): part of where entries were issued.
    public var tenant: String?

    public init(
        provider: String, bots: [ObservedBot], capabilities: ProviderCapabilities, listCalls: Int,
        serviceNow: Date? = nil, tenant: String? = nil
    ) {
        self.provider = provider
        self.bots = bots
        self.capabilities = capabilities
        self.listCalls = listCalls
        self.serviceNow = serviceNow
        self.tenant = tenant
    }
}
