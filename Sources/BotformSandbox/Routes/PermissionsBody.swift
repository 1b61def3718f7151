import BotformCore

/// `{"entities": {"<entity>": ["create", "read", "update", "delete"]}}`, as registration and user
/// creation take it. Decoding keeps raw strings so validation can answer 400 or 403 as Fyso does.
struct PermissionsBody: Decodable, Sendable {
    var entities: [String: [String]]

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        let others = container.allKeys.map(\.stringValue).filter { $0 != "entities" }
        if let first = others.first {
            throw APIError.validation(
                "permissions: unexpected key \"\(first)\"; permissions take the form {\"entities\": {\"<entity>\": [\"read\"]}}"
            )
        }
        entities =
            try container.decodeIfPresent([String: [String]].self, forKey: AnyKey(stringValue: "entities")) ?? [:]
    }

    /// Validated permissions: 400 for an action other than CRUD or an empty entity name, 403 for a
    /// wildcard entity (bots must list entities explicitly).
    func validated(
        wildcardStatus: APIError = .forbidden("wildcard entities are not allowed; list each entity explicitly")
    ) throws -> Permissions {
        var permissions = Permissions()
        for (entity, actions) in entities.sorted(by: { $0.key < $1.key }) {
            guard !entity.isEmpty else { throw APIError.validation("permissions: an entity name is empty") }
            for action in actions where Action(rawValue: action) == nil {
                throw APIError.validation(
                    "permissions: invalid action \"\(action)\" for entity \"\(entity)\"; allowed: create, read, update, delete"
                )
            }
            permissions.grant(ActionSet(actions.compactMap(Action.init(rawValue:))), on: entity)
        }
        if let wildcard = entities.keys.first(where: { $0.contains("*") }) {
            var error = wildcardStatus
            error.message += " (found \"\(wildcard)\")"
            throw error
        }
        return permissions
    }
}

/// The wire form of permissions in responses.
struct PermissionsWire: Encodable, Sendable {
    var entities: [String: [String]]

    init(_ permissions: Permissions) {
        entities = permissions.actionNames
    }
}
