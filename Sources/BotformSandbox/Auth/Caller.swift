import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Who sent a request, after the credential was checked.
enum Caller: Sendable {
    case admin(AdminAccount)
    case user(TenantUser)
    case bot(TokenClaims)
    case apiKey(APIKey)

    /// For the request log.
    var kind: String {
        switch self {
        case .admin: "admin"
        case .user: "user"
        case .bot: "bot"
        case .apiKey: "api-key"
        }
    }

    /// The tenant the credential itself is bound to (users, bots, API keys; admins are bound to none).
    var boundTenantID: String? {
        switch self {
        case .admin: nil
        case .user(let user): user.tenantID
        case .bot(let claims): claims.tenantId
        case .apiKey(let key): key.tenantID
        }
    }
}

// swift-format-ignore: NeverForceUnwrap
// Literal, valid header names: the initializer fails only for invalid tokens.
extension HTTPField.Name {
    static let tenantID = HTTPField.Name("X-Tenant-ID")!
    static let tenantSlug = HTTPField.Name("X-Tenant-Slug")!
    static let apiKey = HTTPField.Name("X-API-Key")!
    static let totalCount = HTTPField.Name("X-Total-Count")!
    static let link = HTTPField.Name("Link")!
}

enum APIKeys {
    static let prefix = "fyso_ak_"

    /// SHA-256 of a key, hex: keys are looked up by hash and never stored in the clear.
    static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Random secrets, as Fyso's documentation shows them: 32 letters and digits.
enum SecretGenerator {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    static func secret(length: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
