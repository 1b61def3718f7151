import BotformCore
import Foundation
import HTTPTypes
import Hummingbird

/// The bot identity API: register, identify, list, revoke, reset-secret, with every rule of Fyso's
/// documentation (seed 002).
extension SandboxService {
    func addBotRoutes(to router: some RouterMethods<SandboxRequestContext>) {
        router.post("/api/auth/bots/register") { request, context in try await self.register(request, context) }
        router.post("/api/auth/bots/identify") { request, context in try await self.identify(request, context) }
        router.get("/api/auth/bots") { request, context in try await self.listBots(request, context) }
        router.post("/api/auth/bots/:id/revoke") { request, context in try await self.revoke(request, context) }
        router.post("/api/auth/bots/:id/reset-secret") { request, context in
            try await self.resetSecret(request, context)
        }
    }

    /// Bot endpoints take an admin JWT or a tenant-user JWT, nothing else.
    private func requireAdminOrUser(_ caller: Caller) throws {
        switch caller {
        case .admin, .user: return
        case .apiKey: throw APIError.forbidden("API keys are not accepted here; use an admin or tenant user JWT")
        case .bot: throw APIError.forbidden("bot tokens cannot call admin endpoints")
        }
    }

    /// Fyso's bot name rule: 3-50 characters, lowercase letters, digits and hyphens, not starting or
    /// ending with a hyphen.
    static func isValidBotName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (3...50).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else {
            return false
        }
        return bytes.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "-") }
    }

    // MARK: Register

    private struct RegisterBody: Decodable {
        var name: String
        var tenantSlug: String?
        var permissions: PermissionsBody?
    }

    private struct RegisterWire: Encodable {
        var id: String
        var name: String
        var secret: String
        var tenantSlug: String?
        var tenantId: String?
    }

    func register(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let caller = try await authenticate(request, context)
        try requireAdminOrUser(caller)
        let body = try await JSONIO.decode(RegisterBody.self, from: request, context: context)
        guard Self.isValidBotName(body.name) else {
            throw APIError.validation(
                "name must be 3-50 characters of lowercase letters, digits and hyphens, not starting or ending with a hyphen"
            )
        }
        let permissions = try body.permissions?.validated() ?? Permissions()

        let tenant: Tenant = try await store.read { state in
            switch caller {
            case .admin(let admin):
                guard let slug = body.tenantSlug, !slug.isEmpty else {
                    throw APIError.validation("tenantSlug is required when an admin registers a bot")
                }
                guard let tenant = state.tenant(slugOrID: slug), tenant.ownerAdminID == admin.id else {
                    throw APIError.notFound("tenant \"\(slug)\" not found")
                }
                return tenant
            case .user(let user):
                guard let tenant = state.tenants[user.tenantID] else {
                    throw APIError.forbidden("invalid tenant context")
                }
                if let slug = body.tenantSlug, slug != tenant.slug, slug != tenant.id {
                    throw APIError.forbidden("a tenant user can register bots only in its own tenant")
                }
                if let header = try self.tenantContext(request, caller: caller, state: state), header.id != tenant.id {
                    throw APIError.forbidden("invalid tenant context")
                }
                guard permissions.isSubset(of: user.permissions) else {
                    throw APIError.forbidden(
                        "requested permissions exceed your own; a bot cannot be granted more than its creator holds")
                }
                return tenant
            default:
                throw APIError.forbidden("not allowed")
            }
        }
        context.trace.record(tenant: tenant.slug)

        let secret = SecretGenerator.secret()
        let secretHash = try await hash(secret)
        let (creatorKind, creatorID): (CreatorKind, String) =
            switch caller {
            case .user(let user): (.user, user.id)
            case .admin(let admin): (.admin, admin.id)
            default: (.admin, "")
            }
        let settings = self.settings
        let bot = BotIdentity(
            id: Self.newID(), tenantID: tenant.id, name: body.name, secretHash: secretHash, permissions: permissions,
            createdByKind: creatorKind, createdByID: creatorID, isActive: true, createdAt: clock.now, lastSeenAt: nil,
            revokedAt: nil, failedAttempts: 0, lockedUntil: nil)
        try await store.write { state in
            if creatorKind == .user {
                let active = state.bots(createdBy: creatorID).filter(\.isActive).count
                if active >= settings.botsPerUser {
                    throw APIError(
                        .tooManyRequests, "BOT_LIMIT_REACHED",
                        "bot limit reached: a user may hold \(settings.botsPerUser) active bots; revoke one first")
                }
            }
            if state.activeBot(tenantID: tenant.id, name: body.name) != nil {
                throw APIError.conflict("a bot named \"\(body.name)\" already exists in tenant \"\(tenant.slug)\"")
            }
            if !settings.revokedNamesReusable, !state.bots(tenantID: tenant.id, name: body.name).isEmpty {
                throw APIError.conflict("the name \"\(body.name)\" belonged to a revoked bot and cannot be reused")
            }
            state.put(bot)
        }
        noteIssued(secret)
        let wire =
            creatorKind == .admin
            ? RegisterWire(id: bot.id, name: bot.name, secret: secret, tenantSlug: tenant.slug, tenantId: nil)
            : RegisterWire(id: bot.id, name: bot.name, secret: secret, tenantSlug: nil, tenantId: tenant.id)
        return try JSONIO.envelope(wire, status: .created)
    }

    // MARK: Identify

    private struct IdentifyBody: Decodable {
        var name: String
        var secret: String
    }

    private struct IdentifyWire: Encodable {
        var id: String
        var name: String
        var tenantSlug: String
        var tenantId: String
        var permissions: PermissionsWire
        var token: String?
        var expiresIn: Int?
    }

    /// Lockout after failed identify calls: the 5th failure locks for 1 minute, the 6th 5, the 7th 30,
    /// the 8th an hour, the 9th and later 2 hours.
    static func lockout(afterFailures failures: Int) -> TimeInterval? {
        switch failures {
        case ..<5: nil
        case 5: 60
        case 6: 300
        case 7: 1_800
        case 8: 3_600
        default: 7_200
        }
    }

    func identify(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let caller = try await authenticate(request, context)
        try requireAdminOrUser(caller)
        let body = try await JSONIO.decode(IdentifyBody.self, from: request, context: context)
        let invalid = APIError.unauthorized("invalid bot credentials")
        let (bot, tenant) = try await store.read { state -> (BotIdentity, Tenant) in
            let header = try self.tenantContext(request, caller: caller, state: state)
            let tenants: [Tenant]
            switch caller {
            case .admin(let admin): tenants = header.map { [$0] } ?? state.tenants(ownedBy: admin.id)
            case .user(let user): tenants = state.tenants[user.tenantID].map { [$0] } ?? []
            default: tenants = []
            }
            func visible(_ bot: BotIdentity) -> Bool {
                if case .user(let user) = caller { return bot.createdByKind == .user && bot.createdByID == user.id }
                return true
            }
            let active = tenants.compactMap { tenant in
                state.activeBot(tenantID: tenant.id, name: body.name).map { ($0, tenant) }
            }
            .filter { visible($0.0) }
            if active.count > 1 {
                throw APIError.validation(
                    "bots named \"\(body.name)\" exist in several of your tenants; send X-Tenant-ID")
            }
            if let found = active.first { return found }
            if tenants.contains(where: { tenant in
                state.bots(tenantID: tenant.id, name: body.name).contains(where: visible)
            }) {
                throw APIError.forbidden("bot has been revoked")
            }
            throw invalid
        }
        context.trace.record(tenant: tenant.slug)
        let now = clock.now
        if let lockedUntil = bot.lockedUntil, lockedUntil > now {
            // An attempt while locked is another failure: it extends the lockout.
            let until = try await recordFailure(botID: bot.id, now: now)
            throw APIError.unauthorized(
                "too many failed attempts; the bot is locked until \(Timestamp.string(until ?? lockedUntil))")
        }
        guard try await verify(body.secret, hash: bot.secretHash) else {
            _ = try await recordFailure(botID: bot.id, now: now)
            throw invalid
        }
        let current = try await store.write { state -> BotIdentity in
            guard var current = state.bots[bot.id] else { throw invalid }
            current.failedAttempts = 0
            current.lockedUntil = nil
            current.lastSeenAt = now
            state.put(current)
            return current
        }
        let settings = self.settings
        let token =
            settings.identifyReturnsToken
            ? try await tokens.botToken(for: current, tenant: tenant, ttl: settings.botTokenTTL) : nil
        return try JSONIO.envelope(
            IdentifyWire(
                id: current.id, name: current.name, tenantSlug: tenant.slug, tenantId: tenant.id,
                permissions: PermissionsWire(current.permissions), token: token,
                expiresIn: token == nil ? nil : settings.botTokenTTL))
    }

    /// Counts a failed identify and returns when the bot is locked until, if it is.
    private func recordFailure(botID: String, now: Date) async throws -> Date? {
        try await store.write { state in
            guard var bot = state.bots[botID] else { return nil }
            bot.failedAttempts += 1
            if let duration = Self.lockout(afterFailures: bot.failedAttempts) {
                bot.lockedUntil = now.addingTimeInterval(duration)
            }
            state.put(bot)
            return bot.lockedUntil
        }
    }

    // MARK: List

    func listBots(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let caller = try await authenticate(request, context)
        try requireAdminOrUser(caller)
        let settings = self.settings
        let page = max(1, Int(request.uri.queryParameters.get("page") ?? "1") ?? 1)
        // Only the page asked for is joined, as a database would fetch only its rows; each bot's JSON was
        // written when it last changed (`SandboxState.listedBots`).
        let (body, total): ([UInt8], Int) = try await store.read { state in
            let header = try self.tenantContext(request, caller: caller, state: state)
            let ids: [String]
            switch caller {
            case .admin(let admin):
                // One tenant's ids are its stored array, not a copy of 10,000 strings.
                ids =
                    header.map { state.botIDs(inTenant: $0.id) }
                    ?? state.tenants(ownedBy: admin.id).flatMap { state.botIDs(inTenant: $0.id) }
            case .user(let user):
                ids = state.botIDs(createdBy: user.id)
            default:
                ids = []
            }
            // Revoked bots listed too (the default; bots are never deleted): a page is a slice of the ids,
            // and only its own bots are looked up.
            let listed =
                settings.listIncludesRevoked ? ids : ids.filter { state.listedBots[$0]?.isActive == true }
            var slice = listed[...]
            if let pageSize = settings.botListPageSize {
                let start = min((page - 1) * pageSize, listed.count)
                slice = listed[start..<min(start + pageSize, listed.count)]
            }
            return (BotListBody.list(slice, from: state.listedBots), listed.count)
        }
        guard let pageSize = settings.botListPageSize else { return JSONIO.json(bytes: body) }
        let start = min((page - 1) * pageSize, total)
        var headers: HTTPFields = [.totalCount: String(total)]
        if start + pageSize < total {
            headers[.link] = "<\(request.uri.path)?page=\(page + 1)>; rel=\"next\""
        }
        return JSONIO.json(bytes: body, headers: headers)
    }

    // MARK: Revoke and reset

    /// The bot at `:id` if the caller may manage it: an admin, bots of its tenants; a user, its own.
    private func managedBot(_ request: Request, _ context: SandboxRequestContext, caller: Caller) async throws -> (
        BotIdentity, Tenant
    ) {
        let id = context.parameters.get("id") ?? ""
        let notFound = APIError.notFound("bot not found")
        return try await store.read { state in
            let header = try self.tenantContext(request, caller: caller, state: state)
            guard let bot = state.bots[id], let tenant = state.tenants[bot.tenantID] else { throw notFound }
            if let header, header.id != tenant.id { throw notFound }
            switch caller {
            case .admin(let admin): guard tenant.ownerAdminID == admin.id else { throw notFound }
            case .user(let user): guard bot.createdByKind == .user, bot.createdByID == user.id else { throw notFound }
            default: throw notFound
            }
            return (bot, tenant)
        }
    }

    private struct RevokeWire: Encodable {
        var revoked: Bool
    }

    func revoke(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let caller = try await authenticate(request, context)
        try requireAdminOrUser(caller)
        let (bot, tenant) = try await managedBot(request, context, caller: caller)
        context.trace.record(tenant: tenant.slug)
        let now = clock.now
        try await store.write { state in
            guard var current = state.bots[bot.id], current.isActive else { return }
            current.isActive = false
            current.revokedAt = now
            state.put(current)
        }
        return try JSONIO.envelope(RevokeWire(revoked: true))
    }

    private struct ResetWire: Encodable {
        var id: String
        var name: String
        var secret: String
    }

    func resetSecret(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let caller = try await authenticate(request, context)
        switch caller {
        case .admin: break
        case .user:
            throw APIError.forbidden(
                "reset-secret is admin-only; a tenant user can revoke the bot and register a new one")
        case .apiKey: throw APIError.forbidden("API keys are not accepted here; use an admin JWT")
        case .bot: throw APIError.forbidden("bot tokens cannot call admin endpoints")
        }
        let (bot, tenant) = try await managedBot(request, context, caller: caller)
        context.trace.record(tenant: tenant.slug)
        guard bot.isActive else { throw APIError.notFound("bot not found or revoked") }
        let secret = SecretGenerator.secret()
        let secretHash = try await hash(secret)
        try await store.write { state in
            guard var current = state.bots[bot.id], current.isActive else {
                throw APIError.notFound("bot not found or revoked")
            }
            current.secretHash = secretHash
            current.failedAttempts = 0
            current.lockedUntil = nil
            state.put(current)
        }
        noteIssued(secret)
        return try JSONIO.envelope(ResetWire(id: bot.id, name: bot.name, secret: secret))
    }
}
