import BotformCore
import Foundation

/// Everything the sandbox holds, with the indexes its endpoints need. Mutations go through `put` and
/// `deleteRecord`, which keep the indexes right and note what changed for persistence.
struct SandboxState: Sendable {
    private(set) var admins: [String: AdminAccount] = [:]
    private(set) var tenants: [String: Tenant] = [:]
    private(set) var users: [String: TenantUser] = [:]
    private(set) var apiKeys: [String: APIKey] = [:]
    private(set) var bots: [String: BotIdentity] = [:]
    private(set) var records: [String: EntityRecord] = [:]
    private(set) var symUsers: [String: SymUser] = [:]
    private(set) var symTokens: [String: SymToken] = [:]

    private var adminIDByEmail: [String: String] = [:]
    private var tenantIDBySlug: [String: String] = [:]
    private var userIDByTenantEmail: [String: String] = [:]
    private var apiKeyIDByHash: [String: String] = [:]
    /// Bot ids per tenant, in creation order.
    private var botIDsByTenant: [String: [String]] = [:]
    /// Bot ids per creator (admin or user id), in creation order.
    private var botIDsByCreator: [String: [String]] = [:]
    /// The active bot of each `tenantID/name`.
    private var activeBotIDByName: [String: String] = [:]
    /// Bot ids per `tenantID/name`, every bot that ever had the name, oldest first.
    private var botIDsByName: [String: [String]] = [:]
    /// Record ids per `tenantID/entity`, in creation order.
    private var recordIDsByEntity: [String: [String]] = [:]
    /// Sym user ids and token identifiers, in creation order.
    private var symUserOrder: [String] = []
    private var symTokenOrder: [String] = []
    /// Sym users that are not deleted, by bot username and by human email (lowercased).
    private var symBotIDByUsername: [String: String] = [:]
    private var symHumanIDByEmail: [String: String] = [:]
    /// Entity ids per `tenantID/entity`, made on first use.
    private(set) var entityIDs: [String: String] = [:]
    /// Each bot as `GET /api/auth/bots` shows it, by id, written whenever the bot or its tenant's slug
    /// changes: a 10,000-bot list is then these joined, not 10,000 copies of `BotIdentity` (a copy
    /// retains a dozen references, and copying cost the list more than writing its JSON).
    private(set) var listedBots: [String: ListedBot] = [:]

    struct ListedBot: Sendable {
        var isActive: Bool
        var json: [UInt8]
    }

    /// What changed since the last `takeChanges()`.
    private(set) var changes = ChangeSet()

    struct ChangeSet: Sendable {
        var upserts: [(kind: StoredKind, id: String)] = []
        var deletedRecords: [String] = []
        var isEmpty: Bool { upserts.isEmpty && deletedRecords.isEmpty }
    }

    enum StoredKind: String, Sendable, CaseIterable {
        case admin, tenant, user, apiKey, bot, record, symUser, symToken
    }

    mutating func takeChanges() -> ChangeSet {
        defer { changes = ChangeSet() }
        return changes
    }

    // MARK: Lookups

    func admin(email: String) -> AdminAccount? { adminIDByEmail[email.lowercased()].flatMap { admins[$0] } }

    /// A tenant by slug or by id (`X-Tenant-ID` carries the slug; the id is accepted too).
    func tenant(slugOrID: String) -> Tenant? {
        tenants[tenantIDBySlug[slugOrID] ?? slugOrID]
    }

    func tenants(ownedBy adminID: String) -> [Tenant] {
        tenants.values.filter { $0.ownerAdminID == adminID }.sorted { $0.createdAt < $1.createdAt }
    }

    func user(tenantID: String, email: String) -> TenantUser? {
        userIDByTenantEmail["\(tenantID)/\(email.lowercased())"].flatMap { users[$0] }
    }

    func apiKey(hash: String) -> APIKey? { apiKeyIDByHash[hash].flatMap { apiKeys[$0] } }

    func bots(inTenant tenantID: String) -> [BotIdentity] {
        (botIDsByTenant[tenantID] ?? []).compactMap { bots[$0] }
    }

    func bots(createdBy creatorID: String) -> [BotIdentity] {
        (botIDsByCreator[creatorID] ?? []).compactMap { bots[$0] }
    }

    /// The ids of a tenant's bots (or a creator's), in the order `bots(inTenant:)` lists them: a page
    /// of the list looks up only its own bots.
    func botIDs(inTenant tenantID: String) -> [String] { botIDsByTenant[tenantID] ?? [] }

    func botIDs(createdBy creatorID: String) -> [String] { botIDsByCreator[creatorID] ?? [] }

    func activeBot(tenantID: String, name: String) -> BotIdentity? {
        activeBotIDByName["\(tenantID)/\(name)"].flatMap { bots[$0] }
    }

    /// Every bot that ever had `name` in the tenant, newest first.
    func bots(tenantID: String, name: String) -> [BotIdentity] {
        (botIDsByName["\(tenantID)/\(name)"] ?? []).reversed().compactMap { bots[$0] }
    }

    func records(tenantID: String, entity: String) -> [EntityRecord] {
        (recordIDsByEntity["\(tenantID)/\(entity)"] ?? []).compactMap { records[$0] }
    }

    /// Every Sym user, deleted ones included, oldest first.
    var symUsersInOrder: [SymUser] { symUserOrder.compactMap { symUsers[$0] } }

    /// Every Sym token, revoked and expired ones included, oldest first.
    var symTokensInOrder: [SymToken] { symTokenOrder.compactMap { symTokens[$0] } }

    /// The bot (not deleted) whose username is exactly `username`.
    func symBot(username: String) -> SymUser? { symBotIDByUsername[username].flatMap { symUsers[$0] } }

    /// The human (not deleted) with this email (case-insensitive).
    func symHuman(email: String) -> SymUser? { symHumanIDByEmail[email.lowercased()].flatMap { symUsers[$0] } }

    // MARK: Mutations

    mutating func put(_ admin: AdminAccount, track: Bool = true) {
        if let old = admins[admin.id] { adminIDByEmail[old.email.lowercased()] = nil }
        admins[admin.id] = admin
        adminIDByEmail[admin.email.lowercased()] = admin.id
        if track { changes.upserts.append((.admin, admin.id)) }
    }

    mutating func put(_ tenant: Tenant, track: Bool = true) {
        let renamed = tenants[tenant.id]?.slug != tenant.slug
        tenants[tenant.id] = tenant
        tenantIDBySlug[tenant.slug] = tenant.id
        if renamed {
            // Its bots' list entries name the slug (and bots loaded before their tenant named none).
            for id in botIDsByTenant[tenant.id] ?? [] {
                if let bot = bots[id] { list(bot) }
            }
        }
        if track { changes.upserts.append((.tenant, tenant.id)) }
    }

    mutating func put(_ user: TenantUser, track: Bool = true) {
        users[user.id] = user
        userIDByTenantEmail["\(user.tenantID)/\(user.email.lowercased())"] = user.id
        if track { changes.upserts.append((.user, user.id)) }
    }

    mutating func put(_ key: APIKey, track: Bool = true) {
        apiKeys[key.id] = key
        apiKeyIDByHash[key.keyHash] = key.id
        if track { changes.upserts.append((.apiKey, key.id)) }
    }

    mutating func put(_ bot: BotIdentity, track: Bool = true) {
        let nameKey = "\(bot.tenantID)/\(bot.name)"
        if bots[bot.id] == nil {
            botIDsByTenant[bot.tenantID, default: []].append(bot.id)
            botIDsByCreator[bot.createdByID, default: []].append(bot.id)
            botIDsByName[nameKey, default: []].append(bot.id)
        }
        bots[bot.id] = bot
        list(bot)
        if bot.isActive {
            activeBotIDByName[nameKey] = bot.id
        } else if activeBotIDByName[nameKey] == bot.id {
            activeBotIDByName[nameKey] = nil
        }
        if track { changes.upserts.append((.bot, bot.id)) }
    }

    private mutating func list(_ bot: BotIdentity) {
        listedBots[bot.id] = ListedBot(
            isActive: bot.isActive, json: BotListBody.item(bot, tenantSlug: tenants[bot.tenantID]?.slug ?? ""))
    }

    mutating func put(_ record: EntityRecord, track: Bool = true) {
        let key = "\(record.tenantID)/\(record.entity)"
        if records[record.id] == nil { recordIDsByEntity[key, default: []].append(record.id) }
        records[record.id] = record
        entityIDs[key] = record.entityID
        if track { changes.upserts.append((.record, record.id)) }
    }

    mutating func put(_ user: SymUser, track: Bool = true) {
        if let old = symUsers[user.id] {
            if let name = old.symIdentifier {
                if symBotIDByUsername[name] == user.id { symBotIDByUsername[name] = nil }
                if symHumanIDByEmail[name.lowercased()] == user.id { symHumanIDByEmail[name.lowercased()] = nil }
            }
        } else {
            symUserOrder.append(user.id)
        }
        symUsers[user.id] = user
        if !user.isDeleted, let name = user.symIdentifier {
            if user.isBot {
                symBotIDByUsername[name] = user.id
            } else {
                symHumanIDByEmail[name.lowercased()] = user.id
            }
        }
        if track { changes.upserts.append((.symUser, user.id)) }
    }

    mutating func put(_ token: SymToken, track: Bool = true) {
        if symTokens[token.identifier] == nil { symTokenOrder.append(token.identifier) }
        symTokens[token.identifier] = token
        if track { changes.upserts.append((.symToken, token.identifier)) }
    }

    mutating func deleteRecord(_ id: String) {
        guard let record = records.removeValue(forKey: id) else { return }
        recordIDsByEntity["\(record.tenantID)/\(record.entity)"]?.removeAll { $0 == id }
        changes.deletedRecords.append(id)
    }

    /// The id of an entity in a tenant, made on first use.
    mutating func entityID(tenantID: String, entity: String) -> String {
        let key = "\(tenantID)/\(entity)"
        if let id = entityIDs[key] { return id }
        let id = UUID().uuidString.lowercased()
        entityIDs[key] = id
        return id
    }
}
