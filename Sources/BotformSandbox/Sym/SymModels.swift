import Foundation

/// A user of the sandbox's Sym org: a bot (named by its sym identity's `username`) or a human (named by
/// its `email`). Deleted users are kept, marked, so the tokens they issued still resolve their creator.
struct SymUser: Codable, Sendable {
    var id: String
    /// `bot` or `normal`.
    var type: String
    var role: String
    var identities: [SymIdentity]
    var createdAt: Date
    var deletedAt: Date?

    var isBot: Bool { type == SymUser.bot }
    var isDeleted: Bool { deletedAt != nil }

    /// The sym identity (`sym:cloud`), which carries the user's name.
    var symIdentity: SymIdentity? {
        identities.first { $0.serviceType == SymService.symSlug && $0.externalID == SymService.symExternalID }
    }

    /// The bot's username or the human's email: the first value of the sym identity's matcher.
    var symIdentifier: String? {
        guard let matcher = symIdentity?.matcher else { return nil }
        if case .string(let name)? = matcher["username"] ?? matcher["email"] { return name }
        return nil
    }

    static let bot = "bot"
    static let normal = "normal"
}

/// One identity of a Sym user on a service, as Sym's API takes it (`service_type`) and gives it
/// (`service.slug`).
struct SymIdentity: Codable, Sendable, Equatable {
    var serviceType: String
    var externalID: String
    var matcher: [String: JSONAny]
    var profile: [String: JSONAny]

    static func sym(username: String) -> SymIdentity {
        SymIdentity(
            serviceType: SymService.symSlug, externalID: SymService.symExternalID,
            matcher: ["username": .string(username)], profile: [:])
    }

    static func sym(email: String) -> SymIdentity {
        SymIdentity(
            serviceType: SymService.symSlug, externalID: SymService.symExternalID,
            matcher: ["email": .string(email)], profile: [:])
    }
}

/// A bot token. The JWT itself is never stored: its `jti` is `identifier`.
struct SymToken: Codable, Sendable {
    var identifier: String
    var userID: String
    var createdByID: String
    var label: String?
    var createdAt: Date
    var expiresAt: Date
    /// The last time the token authenticated a request (Sym's `updated_at`, shown as "Last Used").
    var lastUsedAt: Date
    var revokedAt: Date?

    func isLive(at now: Date) -> Bool { revokedAt == nil && expiresAt > now }
}

/// A service registered in the org. Fixed: the sandbox has the sym service and one Slack workspace.
struct SymService: Sendable {
    var id: String
    var slug: String
    var externalID: String
    var label: String

    static let symSlug = "sym"
    static let symExternalID = "cloud"

    static let registered: [SymService] = [
        SymService(id: "5e1d6b8a-0c1f-4d7e-9a43-000000000001", slug: symSlug, externalID: symExternalID, label: "Sym"),
        SymService(
            id: "5e1d6b8a-0c1f-4d7e-9a43-000000000002", slug: "slack", externalID: "T0SANDBOX",
            label: "Slack (sandbox workspace)"),
    ]

    static func isRegistered(slug: String, externalID: String) -> Bool {
        registered.contains { $0.slug == slug && $0.externalID == externalID }
    }
}
