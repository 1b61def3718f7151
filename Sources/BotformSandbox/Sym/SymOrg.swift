import Crypto
import Foundation

/// Where the Sym API lives on the sandbox's port.
enum SymAPI {
    static let pathPrefix = "/api/v1/"
    /// Issued tokens live at least a second and at most five years (of 365 days): the sandbox's choice,
    /// since Sym's own limit is unknown and the CLI sends whatever its parser allows (up to 86399999913600).
    static let maxExpirySeconds = 5 * 365 * 86_400
}

/// The sandbox's one Sym org: its slug, the human admin the org token stands for, and the org admin
/// token itself, kept only as a SHA-256 digest.
struct SymOrg: Sendable {
    let slug: String
    let adminUserID: String
    private let adminTokenDigest: [UInt8]

    init(slug: String, adminToken: String, adminUserID: String) {
        self.slug = slug
        self.adminUserID = adminUserID
        adminTokenDigest = Array(SHA256.hash(data: Data(adminToken.utf8)))
    }

    /// Compares digests in time independent of where they differ.
    func isAdminToken(_ token: String) -> Bool {
        let digest = Array(SHA256.hash(data: Data(token.utf8)))
        return zip(digest, adminTokenDigest).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A token a shell and an HTTP header carry unchanged: 1-4096 visible ASCII characters.
    static func isUsableToken(_ token: String) -> Bool {
        (1...4_096).contains(token.utf8.count) && token.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }
}
