import BotformCore
import Foundation

/// A platform admin: logs in with email and password and owns tenants.
struct AdminAccount: Codable, Sendable {
    var id: String
    var email: String
    var name: String
    var passwordHash: String
}

/// A Fyso tenant (workspace), addressed by slug in `X-Tenant-ID`.
struct Tenant: Codable, Sendable {
    var id: String
    var slug: String
    var name: String
    var ownerAdminID: String
    var createdAt: Date
}

/// A tenant user: logs in to one tenant and holds entity permissions.
struct TenantUser: Codable, Sendable {
    var id: String
    var tenantID: String
    var email: String
    var name: String
    var role: String
    var passwordHash: String
    var permissions: Permissions
    var createdAt: Date
}

/// A tenant API key (`fyso_ak_…`): owner-level access to its tenant; stored as a SHA-256 hash.
struct APIKey: Codable, Sendable {
    var id: String
    var tenantID: String
    var keyHash: String
    var prefix: String
    var label: String
    var createdAt: Date
}

/// Who created a bot: an admin or a tenant user.
enum CreatorKind: String, Codable, Sendable {
    case admin
    case user
}

/// A bot identity. The secret exists only as a bcrypt hash.
struct BotIdentity: Codable, Sendable {
    var id: String
    var tenantID: String
    var name: String
    var secretHash: String
    var permissions: Permissions
    var createdByKind: CreatorKind
    var createdByID: String
    var isActive: Bool
    var createdAt: Date
    var lastSeenAt: Date?
    var revokedAt: Date?
    var failedAttempts: Int
    var lockedUntil: Date?
}

/// A record of an entity, with its fields at the top level (Fyso's flat format since v1.26).
struct EntityRecord: Codable, Sendable {
    var id: String
    var tenantID: String
    var entity: String
    var entityID: String
    var fields: [String: JSONAny]
    var createdAt: Date
    var updatedAt: Date
    var createdBy: String
}
