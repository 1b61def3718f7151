import Foundation
import JWTKit

/// The payload of a Sym bot token the sandbox issues (HS256, the sandbox's key). `jti` is the token's
/// identifier (what `tokens list` shows and `tokens revoke` takes), so a client that just issued a token
/// can learn its identifier from the token itself. Revocation and expiry are checked against the
/// sandbox's store and clock, not here.
struct SymTokenClaims: JWTPayload {
    var jti: IDClaim
    /// The bot user's id.
    var sub: SubjectClaim
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var aud: AudienceClaim
    /// The org's slug.
    var org: String
    /// The bot's username when the token was issued.
    var username: String

    static let audience = "sym-api"

    init(token: SymToken, org: String, username: String) {
        jti = IDClaim(value: token.identifier)
        sub = SubjectClaim(value: token.userID)
        iat = IssuedAtClaim(value: token.createdAt)
        exp = ExpirationClaim(value: token.expiresAt)
        aud = AudienceClaim(value: [Self.audience])
        self.org = org
        self.username = username
    }

    var identifier: String { jti.value }
    var subject: String { sub.value }
    var isForSym: Bool { aud.value.contains(Self.audience) }

    /// Signature is checked by the key collection; the rest by the Sym authentication with the store.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
