import Foundation

/// The Sym API's JSON, as the symflow CLI parses it (sym-api.md §4): snake_case keys, lowercase UUIDs,
/// UTC datetimes with a `Z`.
enum SymWire {
    struct Users: Encodable {
        var users: [User]
    }

    struct User: Encodable {
        var id: String
        var type: String
        var role: String
        var createdAt: String
        var identities: [Identity]

        enum CodingKeys: String, CodingKey {
            case id, type, role, identities
            case createdAt = "created_at"
        }

        init(_ user: SymUser) {
            id = user.id
            type = user.type
            role = user.role
            createdAt = Timestamp.string(user.createdAt)
            identities = user.identities.map(Identity.init)
        }
    }

    struct Identity: Encodable {
        var service: ServiceRef
        var matcher: [String: JSONAny]
        var profile: [String: JSONAny]

        init(_ identity: SymIdentity) {
            service = ServiceRef(slug: identity.serviceType, externalID: identity.externalID)
            matcher = identity.matcher
            profile = identity.profile
        }
    }

    struct ServiceRef: Encodable {
        var slug: String
        var externalID: String

        enum CodingKeys: String, CodingKey {
            case slug
            case externalID = "external_id"
        }
    }

    struct Services: Encodable {
        var services: [Service]
    }

    struct Service: Encodable {
        var id: String
        var slug: String
        var externalID: String
        var label: String

        enum CodingKeys: String, CodingKey {
            case id, slug, label
            case externalID = "external_id"
        }

        init(_ service: SymService) {
            id = service.id
            slug = service.slug
            externalID = service.externalID
            label = service.label
        }
    }

    struct Tokens: Encodable {
        var tokens: [Token]
    }

    struct Token: Encodable {
        var identifier: String
        var user: UserRef
        var createdBy: UserRef
        var label: String?
        var createdAt: String
        var expiresAt: String
        var updatedAt: String

        enum CodingKeys: String, CodingKey {
            case identifier, user, label
            case createdBy = "created_by"
            case createdAt = "created_at"
            case expiresAt = "expires_at"
            case updatedAt = "updated_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(identifier, forKey: .identifier)
            try container.encode(user, forKey: .user)
            try container.encode(createdBy, forKey: .createdBy)
            // `label: null` when there is none, as Sym's model has it.
            try container.encode(label, forKey: .label)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(updatedAt, forKey: .updatedAt)
        }
    }

    struct UserRef: Encodable {
        var id: String
        var type: String
    }

    struct AccessToken: Encodable {
        var accessToken: String

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
        }
    }

    /// The answer of the bulk calls (`PATCH users`, `users/delete`, `users/identities/delete`).
    struct Outcome: Encodable {
        var succeeded: Int
        var failed: Int
        var errors: [String]
    }

    struct Login: Encodable {
        var organization: String
        var username: String
        var role: String
    }

    struct Empty: Encodable {}

    // MARK: Requests

    struct IdentityIn: Decodable {
        var serviceType: String
        var externalID: String
        var matcher: [String: JSONAny]
        var profile: [String: JSONAny]?

        enum CodingKeys: String, CodingKey {
            case matcher, profile
            case serviceType = "service_type"
            case externalID = "external_id"
        }
    }

    struct PatchUsers: Decodable {
        var users: [PatchUser]
    }

    struct PatchUser: Decodable {
        var id: String?
        var identities: [IdentityIn]?
        var type: String?
    }

    struct DeleteUsers: Decodable {
        var users: [DeleteUser]
    }

    struct DeleteUser: Decodable {
        var id: String?
        var identity: IdentityRef?
    }

    /// An identity named in `users/delete`: `external_id` may be left out.
    struct IdentityRef: Decodable {
        var serviceType: String
        var externalID: String?
        var matcher: [String: JSONAny]

        enum CodingKeys: String, CodingKey {
            case matcher
            case serviceType = "service_type"
            case externalID = "external_id"
        }
    }

    struct DeleteIdentities: Decodable {
        var identities: [DeleteIdentity]
    }

    struct DeleteIdentity: Decodable {
        var userID: String
        var serviceType: String
        var externalID: String

        enum CodingKeys: String, CodingKey {
            case userID = "user_id"
            case serviceType = "service_type"
            case externalID = "external_id"
        }
    }

    struct IssueToken: Decodable {
        var username: String
        /// Any JSON value: checked as a whole number of seconds so every bad value gets one clear message.
        var expiry: JSONAny
        var label: String?
    }

    struct RevokeToken: Decodable {
        var identifier: String
    }
}
