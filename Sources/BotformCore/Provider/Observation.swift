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

    public init(
        id: String, name: String, isActive: Bool, permissions: Permissions?, createdAt: Date? = nil,
        lastSeenAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.isActive = isActive
        self.permissions = permissions
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }

    /// What a plan depends on (id, state, permissions), for the digest that tells a saved plan is stale.
    public var fingerprint: String {
        "\(id)|\(isActive)|\(permissions?.canonical ?? "-")"
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

    public init(
        canResetSecret: Bool, canUpdatePermissions: Bool, seesAllBots: Bool, caller: String,
        revokedNamesReusable: Bool? = nil
    ) {
        self.canResetSecret = canResetSecret
        self.canUpdatePermissions = canUpdatePermissions
        self.seesAllBots = seesAllBots
        self.caller = caller
        self.revokedNamesReusable = revokedNamesReusable
    }
}

/// One read of everything relevant in one provider.
public struct ProviderObservation: Sendable {
    public var provider: String
    public var bots: [ObservedBot]
    public var capabilities: ProviderCapabilities
    /// How many list calls the read took (one per page).
    public var listCalls: Int

    public init(provider: String, bots: [ObservedBot], capabilities: ProviderCapabilities, listCalls: Int) {
        self.provider = provider
        self.bots = bots
        self.capabilities = capabilities
        self.listCalls = listCalls
    }
}
