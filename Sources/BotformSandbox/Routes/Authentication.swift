import Foundation
import HTTPTypes
import Hummingbird

extension SandboxService {
    /// Checks the request's credential: `Authorization: Bearer <JWT or fyso_ak_…>` or `X-API-Key`.
    func authenticate(_ request: Request, _ context: SandboxRequestContext) async throws -> Caller {
        var token: String?
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw APIError.unauthorized("expected an \"Authorization: Bearer <token>\" header")
            }
            token = Self.trimmed(parts[1])
        } else if let key = request.headers[.apiKey] {
            token = Self.trimmed(Substring(key))
        }
        guard let token, !token.isEmpty else {
            throw APIError.unauthorized("missing credentials: send \"Authorization: Bearer <token>\"")
        }
        let caller = try await caller(for: token)
        context.trace.record(caller: caller.kind)
        return caller
    }

    /// Spaces and tabs trimmed, without Foundation's CharacterSet (it shows in profiles of hot paths).
    private static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    private func caller(for token: String) async throws -> Caller {
        if token.hasPrefix(APIKeys.prefix) {
            let hash = APIKeys.hash(token)
            guard let key = await store.read({ $0.apiKey(hash: hash) }) else {
                throw APIError.unauthorized("invalid API key")
            }
            return .apiKey(key)
        }
        let claims: TokenClaims
        do {
            claims = try await tokens.verify(token)
        } catch .expired {
            throw APIError.unauthorized("token expired")
        } catch {
            throw APIError.unauthorized("invalid token")
        }
        let subject = claims.subject
        if claims.isBotToken {
            let revocationEnds = settings.revocationEndsSessions
            let bot = await store.read { $0.bots[subject] }
            guard let bot, !(revocationEnds && !bot.isActive) else {
                throw APIError.unauthorized(bot == nil ? "invalid token" : "bot has been revoked")
            }
            return .bot(claims)
        }
        switch claims.kind {
        case "admin":
            guard let admin = await store.read({ $0.admins[subject] }) else {
                throw APIError.unauthorized("invalid token")
            }
            return .admin(admin)
        case "user":
            guard let user = await store.read({ $0.users[subject] }) else {
                throw APIError.unauthorized("invalid token")
            }
            return .user(user)
        default:
            throw APIError.unauthorized("invalid token")
        }
    }

    /// The tenant a request acts on: `X-Tenant-ID`, then `X-Tenant-Slug`, then the credential's own
    /// tenant. A header naming an unknown tenant, a tenant the admin does not own, or another tenant than
    /// the credential's is an invalid tenant context (403).
    func tenantContext(_ request: Request, caller: Caller, state: SandboxState) throws -> Tenant? {
        if let value = request.headers[.tenantID] ?? request.headers[.tenantSlug] {
            guard let tenant = state.tenant(slugOrID: value) else {
                throw APIError.forbidden("invalid tenant context: no tenant \"\(value)\"")
            }
            if let bound = caller.boundTenantID, bound != tenant.id {
                throw APIError.forbidden("invalid tenant context: the credential belongs to another tenant")
            }
            if case .admin(let admin) = caller, tenant.ownerAdminID != admin.id {
                throw APIError.forbidden("invalid tenant context: tenant \"\(value)\" is not one of yours")
            }
            return tenant
        }
        return caller.boundTenantID.flatMap { state.tenants[$0] }
    }
}
