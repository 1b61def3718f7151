import Foundation
import HTTPTypes
import Hummingbird

/// Who called the Sym API: the org admin (the org token) or a bot (one of its live tokens).
enum SymCaller: Sendable {
    case admin(userID: String)
    case bot(SymUser)

    var userID: String {
        switch self {
        case .admin(let id): id
        case .bot(let user): user.id
        }
    }
}

extension APIError {
    /// Sym's answer to a missing, unknown, revoked or expired token (the CLI exits 22 on it).
    static var symInvalidToken: APIError {
        var error = APIError(.unauthorized, "UNAUTHORIZED", "Invalid token.")
        error.symForm = true
        error.symCode = "Authentication:INVALID_JWT"
        return error
    }

    /// A Sym error with its message (Sym's own style: a sentence).
    static func sym(_ status: HTTPResponse.Status, _ message: String) -> APIError {
        var error = APIError(status, status == .notFound ? "NOT_FOUND" : "VALIDATION_ERROR", message)
        error.symForm = true
        return error
    }
}

extension SandboxService {
    /// Checks `Authorization: Bearer <token>`: the org admin token, or a bot token that is signed by this
    /// sandbox, known, not revoked, not expired by the sandbox clock, and whose bot still exists. A bot
    /// token's use is recorded (Sym's `updated_at`, "Last Used").
    func symAuthenticate(_ request: Request, _ context: SandboxRequestContext) async throws -> SymCaller {
        guard let header = request.headers[.authorization] else { throw APIError.symInvalidToken }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw APIError.symInvalidToken }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        context.trace.record(tenant: sym.slug)
        if sym.isAdminToken(token) {
            context.trace.record(caller: "admin")
            return .admin(userID: sym.adminUserID)
        }
        guard let claims = await tokens.decode(token, as: SymTokenClaims.self),
            claims.isForSym, claims.org == sym.slug
        else {
            throw APIError.symInvalidToken
        }
        let now = clock.now
        let identifier = claims.identifier
        let subject = claims.subject
        let bot = try await store.write { state -> SymUser? in
            guard var stored = state.symTokens[identifier], stored.isLive(at: now), stored.userID == subject,
                let bot = state.symUsers[subject], !bot.isDeleted
            else {
                return nil
            }
            stored.lastUsedAt = now
            state.put(stored)
            return bot
        }
        guard let bot else { throw APIError.symInvalidToken }
        context.trace.record(caller: "bot")
        return .bot(bot)
    }
}
