import BotformCore
import Foundation

/// Fyso's answers as Botform reads them. Fields Botform does not use are ignored (Fyso adds fields
/// between versions); a field it uses that is missing, null or of another type is an error, so an
/// answer is never half understood. These types are the provider's own: the sandbox has its own.
enum FysoWire {
    /// `{"data": …}`, the envelope of every successful answer.
    struct Envelope<Payload: Decodable>: Decodable {
        var data: Payload
    }

    /// What register and reset-secret answer in `data`; both parts optional, so the caller can say an
    /// answer without them has an unknown outcome rather than fail to decode.
    struct Issued: Decodable {
        var id: String?
        var secret: String?

        enum CodingKeys: String, CodingKey { case id, secret }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try? container.decodeIfPresent(String.self, forKey: .id)
            secret = try? container.decodeIfPresent(String.self, forKey: .secret)
        }
    }

    /// A login answer: the token is in `data.token`; some documentation shows it at the top level.
    struct Login: Decodable {
        var token: String?

        enum CodingKeys: String, CodingKey { case data, token }
        enum DataKeys: String, CodingKey { case token }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let nested = try? container.nestedContainer(keyedBy: DataKeys.self, forKey: .data)
            token =
                (try? nested?.decodeIfPresent(String.self, forKey: .token))
                ?? (try? container.decodeIfPresent(String.self, forKey: .token))
        }
    }

    /// One page of `GET /api/auth/bots`: `{"data": [bot]}` (further pages named by a `Link` header), or
    /// the records API's paged shape `{"data": {"items", "total", "page", "limit", "totalPages"}}`.
    struct BotList: Decodable {
        var entries: [Entry]
        /// For the paged shape: this page and how many there are.
        var page: Int?
        var totalPages: Int?

        enum CodingKeys: String, CodingKey { case data }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let entries = try? container.decode([Entry].self, forKey: .data) {
                self.entries = entries
                return
            }
            let paged = try container.decode(Page.self, forKey: .data)
            entries = paged.items
            page = paged.page
            totalPages = paged.totalPages
        }

        private struct Page: Decodable {
            var items: [Entry]
            var page: Int?
            var totalPages: Int?
        }
    }

    /// One list item, decoded on its own so that one bad item is reported with its position (and
    /// another tenant's item in an admin's list can be skipped before it is judged).
    struct Entry: Decodable {
        /// The tenant the item belongs to, when it says and says it as a string.
        var tenantSlug: String?
        /// The item's name if it has one, to name it in an error.
        var name: String?
        var bot: Result<Bot, any Error>

        enum CodingKeys: String, CodingKey { case tenantSlug, name }

        init(from decoder: any Decoder) {
            let container = try? decoder.container(keyedBy: CodingKeys.self)
            tenantSlug = try? container?.decodeIfPresent(String.self, forKey: .tenantSlug)
            name = try? container?.decodeIfPresent(String.self, forKey: .name)
            bot = Result { try Bot(from: decoder) }
        }
    }

    /// A bot as the list reports it.
    struct Bot: Decodable {
        var id: String
        var name: String
        var isActive: Bool?
        var permissions: PermissionSet?
        var tenantSlug: String?
        var createdAt: String?
        var lastSeenAt: String?

        enum CodingKeys: String, CodingKey { case id, name, isActive, permissions, tenantSlug, createdAt, lastSeenAt }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            name = try container.decode(String.self, forKey: .name)
            for (key, value) in [(CodingKeys.id, id), (.name, name)] where value.isEmpty {
                throw DecodingError.dataCorruptedError(
                    forKey: key, in: container, debugDescription: "empty where a value is needed")
            }
            isActive = try container.decodeIfPresent(Bool.self, forKey: .isActive)
            permissions = try container.decodeIfPresent(PermissionSet.self, forKey: .permissions)
            tenantSlug = try container.decodeIfPresent(String.self, forKey: .tenantSlug)
            createdAt = try container.decodeIfPresent(String.self, forKey: .createdAt)
            lastSeenAt = try container.decodeIfPresent(String.self, forKey: .lastSeenAt)
        }

        /// The bot as the core knows it: no permissions (null or absent) is no grant, not "unknown".
        var observed: ObservedBot {
            ObservedBot(
                id: id, name: name, isActive: isActive ?? true,
                permissions: Permissions((permissions?.entities ?? [:]).mapValues { ActionSet($0.map(\.action)) }),
                createdAt: FysoWire.date(createdAt), lastSeenAt: FysoWire.date(lastSeenAt))
        }
    }

    /// `{"entities": {"products": ["read"]}}`.
    struct PermissionSet: Decodable {
        var entities: [String: [WireAction]]?
    }

    /// One of create, read, update, delete; anything else is an error, not a grant silently dropped.
    struct WireAction: Decodable {
        var action: Action

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let raw = try container.decode(String.self)
            guard let action = Action(rawValue: raw) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "unknown action \"\(raw.prefix(40))\" (expected create, read, update or delete)")
            }
            self.action = action
        }
    }

    /// An ISO 8601 time, with or without fractional seconds; nil when absent or in another format (the
    /// times are shown, never planned on).
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Where and why decoding failed, as `data[3].permissions.entities.products[0]: unknown action "x"`.
    /// Never a value from the answer other than what `WireAction` quotes: an item may carry a secret.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case .valueNotFound(_, let context):
            return "\(path(context.codingPath)): null where a value is needed"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): not \(typeName(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "cannot be read"
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "the answer" : text
    }

    private static func typeName(_ type: Any.Type) -> String {
        if type == String.self { return "a string" }
        if type == Bool.self { return "true or false" }
        if type == Int.self { return "an integer" }
        let name = String(describing: type)
        if name.hasPrefix("Array") { return "a list" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return "of the expected type"
    }
}
