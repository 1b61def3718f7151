import Foundation
import JWTKit

/// The claims of every JWT the sandbox issues. Bot tokens carry `aud: fyso-bot` and `scope: bot`;
/// sessions carry `kind: admin` or `kind: user`. Expiry is checked against the sandbox clock, not here.
struct TokenClaims: JWTPayload {
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var scope: String?
    var kind: String?
    var tenantId: String?
    var tenantSlug: String?
    var name: String?
    var isTenantUser: Bool?

    static let botAudience = "fyso-bot"
    static let sessionAudience = "fyso-api"

    /// Signature is checked by the key collection; audience and expiry by `TokenService` with the
    /// sandbox clock.
    func verify(using algorithm: some JWTAlgorithm) async throws {}

    /// The token's subject: an admin, user or bot id.
    var subject: String { sub.value }

    var isBotToken: Bool { aud.value.contains(Self.botAudience) && scope == "bot" }
}

/// Signs and verifies the sandbox's JWTs (HS256, one key per sandbox; persisted with `--data`).
struct TokenService: Sendable {
    private let keys: JWTKeyCollection
    let clock: SandboxClock

    init(secret: [UInt8], clock: SandboxClock) async {
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        self.clock = clock
    }

    /// Whole seconds: JWT NumericDates with fractions trip some clients.
    private var now: Date { Date(timeIntervalSince1970: clock.now.timeIntervalSince1970.rounded(.down)) }

    func session(kind: String, subject: String, tenant: Tenant?, ttl: Int) async throws -> String {
        let claims = TokenClaims(
            sub: SubjectClaim(value: subject), aud: AudienceClaim(value: [TokenClaims.sessionAudience]),
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(ttl))), iat: IssuedAtClaim(value: now),
            scope: nil, kind: kind, tenantId: tenant?.id, tenantSlug: tenant?.slug, name: nil,
            isTenantUser: kind == "user" ? true : nil)
        return try await keys.sign(claims)
    }

    func botToken(for bot: BotIdentity, tenant: Tenant, ttl: Int) async throws -> String {
        let claims = TokenClaims(
            sub: SubjectClaim(value: bot.id), aud: AudienceClaim(value: [TokenClaims.botAudience]),
            exp: ExpirationClaim(value: now.addingTimeInterval(TimeInterval(ttl))), iat: IssuedAtClaim(value: now),
            scope: "bot", kind: nil, tenantId: tenant.id, tenantSlug: tenant.slug, name: bot.name, isTenantUser: nil)
        return try await keys.sign(claims)
    }

    /// Signs any payload with the sandbox's key (Sym bot tokens use their own claims).
    func sign(_ payload: some JWTPayload) async throws -> String {
        try await keys.sign(payload)
    }

    /// A payload this sandbox signed, signature checked; the caller judges expiry and revocation.
    func decode<Payload: JWTPayload>(_ token: String, as type: Payload.Type) async -> Payload? {
        try? await keys.verify(token, as: Payload.self)
    }

    enum Failure: Error {
        case invalid
        case expired
    }

    /// The claims of a token this sandbox signed and that has not expired by the sandbox clock.
    func verify(_ token: String) async throws(Failure) -> TokenClaims {
        let claims: TokenClaims
        do {
            claims = try await keys.verify(token, as: TokenClaims.self)
        } catch {
            throw .invalid
        }
        guard claims.exp.value > clock.now else { throw .expired }
        return claims
    }
}
