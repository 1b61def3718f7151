import BotformCore
import Foundation
import Hummingbird

/// `POST /api/auth/login`, `POST /api/auth/tenant/users`, `POST /api/auth/tenant/login`.
extension SandboxService {
    func addAuthRoutes(to router: some RouterMethods<SandboxRequestContext>) {
        router.post("/api/auth/login") { request, context in try await self.adminLogin(request, context) }
        router.post("/api/auth/tenant/users") { request, context in try await self.createTenantUser(request, context) }
        router.post("/api/auth/tenant/login") { request, context in try await self.tenantLogin(request, context) }
    }

    private struct LoginBody: Decodable {
        var email: String
        var password: String
    }

    private struct AdminWire: Encodable {
        var id: String
        var email: String
        var name: String
    }

    private struct AdminLoginWire: Encodable {
        var token: String
        var admin: AdminWire
    }

    func adminLogin(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let body = try await JSONIO.decode(LoginBody.self, from: request, context: context)
        let admin = await store.read { $0.admin(email: body.email) }
        // Verify against a dummy hash when there is no such admin, so timing does not reveal emails.
        let hash = admin?.passwordHash ?? "$2b$04$abcdefghijklmnopqrstuuJ3J9Gm5e5l6dO3tmiV0v1j0E3aGX0Ae"
        guard try await verify(body.password, hash: hash), let admin else {
            throw APIError.unauthorized("invalid email or password")
        }
        context.trace.record(caller: "admin")
        let token = try await tokens.session(kind: "admin", subject: admin.id, tenant: nil, ttl: settings.sessionTTL)
        return try JSONIO.envelope(
            AdminLoginWire(token: token, admin: AdminWire(id: admin.id, email: admin.email, name: admin.name)))
    }

    private struct NewUserBody: Decodable {
        var email: String
        var password: String
        var name: String?
        var role: String?
        var permissions: PermissionsBody?
    }

    struct UserWire: Encodable {
        var id: String
        var email: String
        var name: String
        var role: String
        var permissions: PermissionsWire?

        init(_ user: TenantUser, withPermissions: Bool) {
            id = user.id
            email = user.email
            name = user.name
            role = user.role
            permissions = withPermissions ? PermissionsWire(user.permissions) : nil
        }
    }

    func createTenantUser(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let caller = try await authenticate(request, context)
        guard case .admin = caller else {
            throw APIError.forbidden(
                caller.kind == "bot"
                    ? "bot tokens cannot call admin endpoints" : "only an admin can create tenant users")
        }
        guard let tenant = try await store.read({ try self.tenantContext(request, caller: caller, state: $0) }) else {
            throw APIError.forbidden("invalid tenant context: send X-Tenant-ID with the tenant's slug")
        }
        let body = try await JSONIO.decode(NewUserBody.self, from: request, context: context)
        let user = try await newUser(
            tenant: tenant, email: body.email, password: body.password, name: body.name, role: body.role,
            permissions: body.permissions)
        return try JSONIO.envelope(UserWire(user, withPermissions: true), status: .created)
    }

    /// Creates a tenant user after validating it; shared with the control API.
    func newUser(
        tenant: Tenant, email: String, password: String, name: String?, role: String?, permissions: PermissionsBody?
    ) async throws -> TenantUser {
        guard email.contains("@"), email.count <= 254 else {
            throw APIError.validation("email must be an email address")
        }
        guard password.count >= 8 else { throw APIError.validation("password must be at least 8 characters") }
        let granted =
            try permissions?.validated(
                wildcardStatus: .validation("wildcard entities are not allowed in user permissions")) ?? Permissions()
        let hash = try await self.hash(password)
        let user = TenantUser(
            id: Self.newID(), tenantID: tenant.id, email: email, name: name ?? email, role: role ?? "member",
            passwordHash: hash,
            permissions: granted, createdAt: clock.now)
        return try await store.write { state in
            guard state.user(tenantID: tenant.id, email: email) == nil else {
                throw APIError.conflict("a user with email \"\(email)\" already exists in tenant \"\(tenant.slug)\"")
            }
            state.put(user)
            return user
        }
    }

    private struct TenantLoginWire: Encodable {
        var token: String
        var user: UserWire
    }

    func tenantLogin(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        guard let slug = request.headers[.tenantID] ?? request.headers[.tenantSlug] else {
            throw APIError.validation("the X-Tenant-ID header (the tenant's slug) is required")
        }
        guard let tenant = await store.read({ $0.tenant(slugOrID: slug) }) else {
            throw APIError.forbidden("invalid tenant context: no tenant \"\(slug)\"")
        }
        context.trace.record(tenant: tenant.slug)
        let body = try await JSONIO.decode(LoginBody.self, from: request, context: context)
        let user = await store.read { $0.user(tenantID: tenant.id, email: body.email) }
        let hash = user?.passwordHash ?? "$2b$04$abcdefghijklmnopqrstuuJ3J9Gm5e5l6dO3tmiV0v1j0E3aGX0Ae"
        guard try await verify(body.password, hash: hash), let user else {
            throw APIError.unauthorized("invalid email or password")
        }
        context.trace.record(caller: "user")
        let token = try await tokens.session(kind: "user", subject: user.id, tenant: tenant, ttl: settings.sessionTTL)
        return try JSONIO.envelope(TenantLoginWire(token: token, user: UserWire(user, withPermissions: false)))
    }
}
