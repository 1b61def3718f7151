/// What a plan does to one bot, in Terraform's vocabulary.
public enum ActionKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// `+`: create the bot; the service issues its secret.
    case register
    /// `-/+`: revoke the bot, then register it again (the service cannot change it in place).
    case replace
    /// `~`: issue a new secret for the bot (rotation).
    case reset
    /// `+/-`: issue a new credential, seal it, then revoke the old one: never a moment without a working
    /// credential (a Sym token due for renewal; a FOKS token rotated or moved to another role).
    case renew
    /// `-`: revoke the bot.
    case revoke
    /// Start managing a bot that is already on the service (no call; its secret is not held).
    case adopt
    /// Drop a bot that no longer exists from the sealed file (no call).
    case forget

    /// Terraform's symbol; adopt and forget are said in words, as Terraform shows imports.
    public var symbol: String {
        switch self {
        case .register: "+"
        case .replace: "-/+"
        case .reset: "~"
        case .renew: "+/-"
        case .revoke: "-"
        case .adopt: "="
        case .forget: "x"
        }
    }

    /// Revoking or replacing destroys a credential someone may be using.
    public var isDestructive: Bool { self == .revoke || self == .replace }

    /// Whether the action calls the service.
    public var callsService: Bool { self != .adopt && self != .forget }
}

/// Why an action is planned: a stable machine code and a sentence for people.
public struct ActionReason: Sendable, Hashable, Codable {
    public enum Code: String, Sendable, Hashable, Codable, CaseIterable {
        case notOnService = "not_on_service"
        case revokedOutsideBotform = "revoked_outside_botform"
        case missingOutsideBotform = "missing_outside_botform"
        case registrationUnfinished = "registration_unfinished"
        case removedFromConfiguration = "removed_from_configuration"
        case unmanaged
        case permissionsChanged = "permissions_changed"
        case rotationDue = "rotation_due"
        case rotationRequested = "rotation_requested"
        case secretLost = "secret_lost"
        case callerCannotReset = "caller_cannot_reset"
        case existsUnmanaged = "exists_unmanaged"
        case noLongerOnService = "no_longer_on_service"
        /// A token's expiry falls within its `renew_before`, by the service's clock.
        case renewalDue = "renewal_due"
        /// A token Botform holds has expired, by the service's clock.
        case expired
        /// A FOKS token's declared role differs from the role its key is provisioned at.
        case roleChanged = "role_changed"
        /// The service made a credential for a call whose outcome was never recorded: Botform's own,
        /// never sealed, never delivered.
        case issuedUnsealed = "issued_unsealed"
        /// A credential replaced by a renewal that was sealed, whose revoke did not complete.
        case superseded
        /// A token the configuration declares that Botform does not hold yet.
        case tokenDeclared = "token_declared"
    }

    public var code: Code
    public var message: String
    /// For `permissions_changed`: what changes, per entity.
    public var changes: [PermissionChange]?
    /// For `rotation_due`: the secret's age and the rotation period, in seconds.
    public var ageSeconds: Int64?
    public var rotateEverySeconds: Int64?

    public init(
        _ code: Code, _ message: String, changes: [PermissionChange]? = nil, ageSeconds: Int64? = nil,
        rotateEverySeconds: Int64? = nil
    ) {
        self.code = code
        self.message = message
        self.changes = changes
        self.ageSeconds = ageSeconds
        self.rotateEverySeconds = rotateEverySeconds
    }

    enum CodingKeys: String, CodingKey {
        case code, message, changes
        case ageSeconds = "age_seconds"
        case rotateEverySeconds = "rotate_every_seconds"
    }
}

/// Why a destructive action may not run yet.
public struct ActionBlock: Sendable, Hashable, Codable {
    public enum Code: String, Sendable, Hashable, Codable {
        /// The bot has `protect: true`.
        case protected
        /// The plan destroys more than `policy.max_destroy` bots.
        case maxDestroy = "max_destroy"
        /// A replace on a service that keeps revoked names taken: the bot must be renamed instead.
        case nameNotReusable = "name_not_reusable"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

/// One action of a plan.
public struct PlannedAction: Sendable, Hashable, Codable {
    public var address: String
    public var provider: String
    public var bot: String
    public var action: ActionKind
    /// The existing bot acted on (revoke, replace, reset, adopt, forget).
    public var botID: String?
    /// The permissions the bot is registered with (register, replace) or holds.
    public var permissions: Permissions?
    /// The permissions the bot has on the service now (replace).
    public var previousPermissions: Permissions?
    public var reasons: [ActionReason]
    public var blocked: ActionBlock?
    /// A token of the bot (Sym): the action issues, renews or revokes the token of this label.
    public var label: String?
    /// Token: how long the issued token lives, in seconds.
    public var lifetimeSeconds: Int64?
    /// Token: the tokens this action revokes (after the new one is sealed, when it issues one).
    public var revokeTokenIDs: [String]?
    /// FOKS: the role the token is issued at (register, renew) and the role it has now (renew).
    public var role: FoksRole?
    public var previousRole: FoksRole?

    public init(
        address: String, provider: String, bot: String, action: ActionKind, botID: String? = nil,
        permissions: Permissions? = nil,
        previousPermissions: Permissions? = nil, reasons: [ActionReason], blocked: ActionBlock? = nil,
        label: String? = nil, lifetimeSeconds: Int64? = nil, revokeTokenIDs: [String]? = nil, role: FoksRole? = nil,
        previousRole: FoksRole? = nil
    ) {
        self.address = address
        self.provider = provider
        self.bot = bot
        self.action = action
        self.botID = botID
        self.permissions = permissions
        self.previousPermissions = previousPermissions
        self.reasons = reasons
        self.blocked = blocked
        self.label = label
        self.lifetimeSeconds = lifetimeSeconds
        self.revokeTokenIDs = revokeTokenIDs
        self.role = role
        self.previousRole = previousRole
    }

    /// The sealed-file entry the action is about.
    public var entry: EntryKey { EntryKey(provider: provider, bot: bot, label: label) }

    /// The reasons as one sentence: `permissions changed: products +update`.
    public var reasonText: String { reasons.map(\.message).joined(separator: "; ") }

    enum CodingKeys: String, CodingKey {
        case address, provider, bot, action, reasons, blocked, permissions, label, role
        case botID = "bot_id"
        case previousPermissions = "previous_permissions"
        case lifetimeSeconds = "lifetime_seconds"
        case revokeTokenIDs = "revoke_token_ids"
        case previousRole = "previous_role"
    }
}

/// A difference between the service and Botform's records that Botform did not cause.
public struct DriftItem: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// On the service, not declared and not created by Botform.
        case unmanaged
        /// Managed by Botform, revoked by someone else.
        case revokedOutsideBotform = "revoked_outside_botform"
        /// Managed by Botform, gone from the service.
        case missingOutsideBotform = "missing_outside_botform"
        /// Managed by Botform, its permissions changed by someone else.
        case changedOutsideBotform = "changed_outside_botform"
        /// Managed by Botform, replaced by another bot of the same name.
        case replacedOutsideBotform = "replaced_outside_botform"
        /// Managed by Botform, not in the view of a caller that sees only some bots: unknown, not gone.
        case notVisible = "not_visible"
        /// Sealed entries of a provider that is no longer configured (one item per provider).
        case providerRemoved = "provider_removed"
        /// A token Botform holds expired (by the service's clock) before it was renewed.
        case expired
    }

    public var address: String
    public var provider: String
    public var bot: String
    public var kind: Kind
    public var botID: String?
    public var message: String

    public init(address: String, provider: String, bot: String, kind: Kind, botID: String?, message: String) {
        self.address = address
        self.provider = provider
        self.bot = bot
        self.kind = kind
        self.botID = botID
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case address, provider, bot, kind, message
        case botID = "bot_id"
    }
}
