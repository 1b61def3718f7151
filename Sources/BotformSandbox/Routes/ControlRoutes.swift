import BotformCore
import Foundation
import Hummingbird

/// The control API under `/_sandbox/`, for tests and demos; answered only for loopback peers. It can do
/// what Fyso does only through its admin panel (tenants, API keys), move the clock, inject faults and
/// read the request log.
extension SandboxService {
    func addControlRoutes(to router: some RouterMethods<SandboxRequestContext>) {
        let control = router.group("/_sandbox").add(middleware: LoopbackOnlyMiddleware())
        control.get("health") { _, _ in try JSONIO.envelope(Health(status: "ok", now: Timestamp.string(self.clock.now)))
        }
        control.get("tenants") { _, _ in try await self.listTenants() }
        control.post("tenants") { request, context in try await self.createTenant(request, context) }
        control.post("tenants/:slug/api-keys") { request, context in try await self.createAPIKey(request, context) }
        control.post("tenants/:slug/users") { request, context in try await self.controlCreateUser(request, context) }
        control.get("tenants/:slug/bots") { request, context in try await self.inspectBots(request, context) }
        control.post("admins") { request, context in try await self.createAdmin(request, context) }
        control.get("clock") { _, _ in try JSONIO.envelope(self.clockWire) }
        control.post("clock/advance") { request, context in try await self.advanceClock(request, context) }
        control.get("faults") { _, _ in
            try JSONIO.envelope(FaultsWire(settings: self.faults.settings, injected: self.faults.counts))
        }
        control.put("faults") { request, context in try await self.setFaults(request, context) }
        control.delete("faults") { _, _ in
            self.faults.configure(FaultSettings())
            return try JSONIO.envelope(FaultsWire(settings: self.faults.settings, injected: self.faults.counts))
        }
        control.get("settings") { _, _ in try JSONIO.envelope(self.settings) }
        control.put("settings") { request, context in try await self.putSettings(request, context) }
        control.get("requests") { request, _ in try self.requests(request) }
        control.delete("requests") { _, _ in
            self.requestLog.clear()
            return try JSONIO.envelope(Cleared(cleared: true))
        }
        control.get("issued-secrets") { _, _ in
            guard self.settings.recordIssuedSecrets else {
                throw APIError.notFound(
                    "the issued-secrets test hook is off; PUT /_sandbox/settings {\"recordIssuedSecrets\": true} first")
            }
            return try JSONIO.envelope(self.recordedSecrets)
        }
        control.get("openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: SandboxOpenAPI.document.serialized())))
        }
    }

    private struct Health: Encodable {
        var status: String
        var now: String
    }

    private struct Cleared: Encodable {
        var cleared: Bool
    }

    // MARK: Tenants, keys, users, admins

    private struct TenantBody: Decodable {
        var slug: String
        var name: String?
        var owner: String?
    }

    struct TenantWire: Encodable {
        var id: String
        var slug: String
        var name: String
        var owner: String

        init(_ tenant: Tenant, owner: String) {
            id = tenant.id
            slug = tenant.slug
            name = tenant.name
            self.owner = owner
        }
    }

    private func listTenants() async throws -> Response {
        let tenants = await store.read { state in
            state.tenants.values.sorted { $0.createdAt < $1.createdAt }.map {
                TenantWire($0, owner: state.admins[$0.ownerAdminID]?.email ?? "")
            }
        }
        return try JSONIO.envelope(tenants)
    }

    /// A tenant slug: 1-100 lowercase letters, digits, hyphens and underscores, not starting with - or _.
    static func isValidSlug(_ slug: String) -> Bool {
        let bytes = Array(slug.utf8)
        guard (1...100).contains(bytes.count), let first = bytes.first, first != UInt8(ascii: "-"),
            first != UInt8(ascii: "_")
        else {
            return false
        }
        return bytes.allSatisfy {
            (97...122).contains($0) || (48...57).contains($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
        }
    }

    private func createTenant(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let body = try await JSONIO.decode(TenantBody.self, from: request, context: context)
        guard Self.isValidSlug(body.slug) else {
            throw APIError.validation("slug must be lowercase letters, digits, hyphens and underscores")
        }
        let now = clock.now
        let wire = try await store.write { state -> TenantWire in
            let owner: AdminAccount?
            if let email = body.owner {
                owner = state.admin(email: email)
            } else {
                owner = state.admins.values.sorted { $0.email < $1.email }.first
            }
            guard let owner else { throw APIError.validation("no admin \"\(body.owner ?? "")\" to own the tenant") }
            guard state.tenant(slugOrID: body.slug) == nil else {
                throw APIError.conflict("tenant \"\(body.slug)\" exists")
            }
            let tenant = Tenant(
                id: Self.newID(), slug: body.slug, name: body.name ?? body.slug, ownerAdminID: owner.id, createdAt: now)
            state.put(tenant)
            return TenantWire(tenant, owner: owner.email)
        }
        return try JSONIO.envelope(wire, status: .created)
    }

    private func tenant(_ context: SandboxRequestContext) async throws -> Tenant {
        let slug = context.parameters.get("slug") ?? ""
        guard let tenant = await store.read({ $0.tenant(slugOrID: slug) }) else {
            throw APIError.notFound("tenant \"\(slug)\" not found")
        }
        return tenant
    }

    private struct APIKeyBody: Decodable {
        var label: String?
    }

    private struct APIKeyWire: Encodable {
        var id: String
        var key: String
        var prefix: String
        var label: String
    }

    private func createAPIKey(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let tenant = try await tenant(context)
        var request = request
        let buffer = try await request.collectBody(upTo: context.maxUploadSize)
        let label =
            buffer.readableBytes == 0
            ? nil : try JSONDecoder().decode(APIKeyBody.self, from: Data(buffer.readableBytesView)).label
        let key = APIKeys.prefix + SecretGenerator.secret(length: 40)
        let record = APIKey(
            id: Self.newID(), tenantID: tenant.id, keyHash: APIKeys.hash(key), prefix: String(key.prefix(12)),
            label: label ?? "",
            createdAt: clock.now)
        try await store.write { state in state.put(record) }
        return try JSONIO.envelope(
            APIKeyWire(id: record.id, key: key, prefix: record.prefix, label: record.label), status: .created)
    }

    private struct UserBody: Decodable {
        var email: String
        var password: String
        var name: String?
        var role: String?
        var permissions: PermissionsBody?
    }

    private func controlCreateUser(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let tenant = try await tenant(context)
        let body = try await JSONIO.decode(UserBody.self, from: request, context: context)
        let user = try await newUser(
            tenant: tenant, email: body.email, password: body.password, name: body.name, role: body.role,
            permissions: body.permissions)
        return try JSONIO.envelope(UserWire(user, withPermissions: true), status: .created)
    }

    private struct AdminBody: Decodable {
        var email: String
        var password: String
        var name: String?
    }

    private struct AdminWire: Encodable {
        var id: String
        var email: String
    }

    private func createAdmin(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let body = try await JSONIO.decode(AdminBody.self, from: request, context: context)
        guard body.password.count >= 8 else { throw APIError.validation("password must be at least 8 characters") }
        let hash = try await hash(body.password)
        let admin = try await store.write { state -> AdminAccount in
            guard state.admin(email: body.email) == nil else {
                throw APIError.conflict("admin \"\(body.email)\" exists")
            }
            let admin = AdminAccount(
                id: Self.newID(), email: body.email, name: body.name ?? body.email, passwordHash: hash)
            state.put(admin)
            return admin
        }
        return try JSONIO.envelope(AdminWire(id: admin.id, email: admin.email), status: .created)
    }

    /// Bots of a tenant as the service holds them, for tests: creator, lockout state, never the hash.
    private struct BotStateWire: Encodable {
        var id: String
        var name: String
        var isActive: Bool
        var createdByKind: String
        var createdById: String
        var failedAttempts: Int
        var lockedUntil: String?
        var createdAt: String
        var revokedAt: String?
        var permissions: PermissionsWire
    }

    private func inspectBots(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let tenant = try await tenant(context)
        let bots = await store.read { state in
            state.bots(inTenant: tenant.id).map {
                BotStateWire(
                    id: $0.id, name: $0.name, isActive: $0.isActive, createdByKind: $0.createdByKind.rawValue,
                    createdById: $0.createdByID,
                    failedAttempts: $0.failedAttempts, lockedUntil: $0.lockedUntil.map(Timestamp.string),
                    createdAt: Timestamp.string($0.createdAt), revokedAt: $0.revokedAt.map(Timestamp.string),
                    permissions: PermissionsWire($0.permissions))
            }
        }
        return try JSONIO.envelope(bots)
    }

    // MARK: Clock, faults, settings, request log

    private struct ClockWire: Encodable {
        var now: String
        var offsetSeconds: Double
    }

    private var clockWire: ClockWire { ClockWire(now: Timestamp.string(clock.now), offsetSeconds: clock.offsetSeconds) }

    private struct AdvanceBody: Decodable {
        var seconds: Double
    }

    private func advanceClock(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let body = try await JSONIO.decode(AdvanceBody.self, from: request, context: context)
        guard body.seconds >= 0, body.seconds.isFinite else { throw APIError.validation("seconds must be 0 or more") }
        clock.advance(by: body.seconds)
        try persistence?.setMeta("clock-offset", String(clock.offsetSeconds))
        return try JSONIO.envelope(clockWire)
    }

    private struct FaultsWire: Encodable {
        var settings: FaultSettings
        var injected: FaultCounts
    }

    private func setFaults(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let settings = try await JSONIO.decode(FaultSettings.self, from: request, context: context)
        if let problem = settings.problem { throw APIError.validation(problem) }
        faults.configure(settings)
        return try JSONIO.envelope(FaultsWire(settings: faults.settings, injected: faults.counts))
    }

    /// Applies the keys given over the current settings; unknown keys and bad values are 400s.
    private func putSettings(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let patch = try await JSONIO.decode([String: JSONAny].self, from: request, context: context)
        let known = Set(SandboxSettings.CodingKeys.allCases.map(\.rawValue))
        if let unknown = patch.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.validation(
                "unknown setting \"\(unknown)\"; settings are \(known.sorted().joined(separator: ", "))")
        }
        let updated = try updateSettings { settings in
            var merged = try JSONDecoder().decode([String: JSONAny].self, from: JSONEncoder().encode(settings))
            merged.merge(patch) { $1 }
            do {
                settings = try JSONDecoder().decode(SandboxSettings.self, from: JSONEncoder().encode(merged))
            } catch {
                throw APIError.validation("invalid settings: \(error)")
            }
        }
        return try JSONIO.envelope(updated)
    }

    private struct RequestsWire: Encodable {
        var items: [RequestLogEntry]
        var next: Int
    }

    private func requests(_ request: Request) throws -> Response {
        let query = request.uri.queryParameters
        let since = Int(query.get("since") ?? "0") ?? 0
        let limit = min(max(Int(query.get("limit") ?? "10000") ?? 10_000, 1), RequestLog.capacity)
        let items = requestLog.entries(since: since, limit: limit)
        return try JSONIO.envelope(RequestsWire(items: items, next: items.last?.seq ?? since))
    }
}
