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

        init(id: String?, secret: String?) {
            self.id = id
            self.secret = secret
        }

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
        /// For the paged shape: this page, how many pages and how many items there are.
        var page: Int?
        var totalPages: Int?
        var total: Int?

        enum CodingKeys: String, CodingKey { case data }

        init(entries: [Entry], page: Int? = nil, totalPages: Int? = nil, total: Int? = nil) {
            self.entries = entries
            self.page = page
            self.totalPages = totalPages
            self.total = total
        }

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
            total = paged.total
        }

        private struct Page: Decodable {
            var items: [Entry]
            var page: Int?
            var totalPages: Int?
            var total: Int?
        }
    }

    /// One list item, decoded on its own so that one bad item is reported with its position (and
    /// another tenant's item in an admin's list can be skipped before it is judged). A good item is
    /// decoded once (the list can hold 10,000); only a bad one is read again, tolerantly, for its name.
    struct Entry: Decodable {
        /// The tenant the item belongs to, when it says and says it as a string.
        var tenantSlug: String?
        /// The item's name if it has one, to name it in an error.
        var name: String?
        /// The item's id if it has one, to count another tenant's item against the list's total.
        var id: String?
        var bot: Result<Bot, any Error>

        enum CodingKeys: String, CodingKey { case tenantSlug, name, id }

        /// A good item.
        init(_ bot: Bot) {
            tenantSlug = bot.tenantSlug
            name = bot.name
            id = bot.id
            self.bot = .success(bot)
        }

        init(from decoder: any Decoder) {
            do {
                let bot = try Bot(from: decoder)
                tenantSlug = bot.tenantSlug
                name = bot.name
                id = bot.id
                self.bot = .success(bot)
            } catch {
                let container = try? decoder.container(keyedBy: CodingKeys.self)
                tenantSlug = try? container?.decodeIfPresent(String.self, forKey: .tenantSlug)
                name = try? container?.decodeIfPresent(String.self, forKey: .name)
                id = try? container?.decodeIfPresent(String.self, forKey: .id)
                bot = .failure(error)
            }
        }
    }

    /// A bot as the list reports it.
    struct Bot: Decodable, Equatable {
        var id: String
        var name: String
        var isActive: Bool?
        var permissions: PermissionSet?
        var tenantSlug: String?
        var createdAt: String?
        var lastSeenAt: String?

        enum CodingKeys: String, CodingKey { case id, name, isActive, permissions, tenantSlug, createdAt, lastSeenAt }

        init(
            id: String, name: String, isActive: Bool?, permissions: PermissionSet?, tenantSlug: String?,
            createdAt: String?, lastSeenAt: String?
        ) {
            self.id = id
            self.name = name
            self.isActive = isActive
            self.permissions = permissions
            self.tenantSlug = tenantSlug
            self.createdAt = createdAt
            self.lastSeenAt = lastSeenAt
        }

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
            var observer = Observer()
            return observer.observe(self)
        }
    }

    /// Turns a page's bots into the core's, remembering the last permissions it converted: bots of one
    /// role follow each other with equal permissions (the fast path even gives them one dictionary), so
    /// most bots of a 10,000-bot list cost a comparison instead of two dictionaries.
    struct Observer {
        private var last: (set: PermissionSet?, permissions: Permissions)?

        mutating func observe(_ bot: Bot) -> ObservedBot {
            let permissions: Permissions
            if let last, last.set == bot.permissions {
                permissions = last.permissions
            } else {
                permissions = Permissions((bot.permissions?.entities ?? [:]).mapValues { ActionSet($0) })
                last = (bot.permissions, permissions)
            }
            return ObservedBot(
                id: bot.id, name: bot.name, isActive: bot.isActive ?? true, permissions: permissions,
                createdAt: FysoWire.date(bot.createdAt), lastSeenAt: FysoWire.date(bot.lastSeenAt))
        }
    }

    /// `{"entities": {"products": ["read"]}}`. Each action is one of create, read, update, delete;
    /// anything else is an error, not a grant silently dropped. The actions are decoded as strings and
    /// then checked (a decoder per action string cost a tenth of a 10,000-bot plan).
    struct PermissionSet: Decodable, Equatable {
        var entities: [String: [Action]]?

        enum CodingKeys: String, CodingKey { case entities }

        init(entities: [String: [Action]]?) {
            self.entities = entities
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            guard let raw = try container.decodeIfPresent([String: [String]].self, forKey: .entities) else {
                entities = nil
                return
            }
            var entities: [String: [Action]] = [:]
            entities.reserveCapacity(raw.count)
            for (entity, names) in raw {
                entities[entity] = try names.enumerated().map { index, name in
                    guard let action = Action(rawValue: name) else {
                        throw DecodingError.dataCorrupted(
                            .init(
                                codingPath: decoder.codingPath + [
                                    CodingKeys.entities, AnyKey(entity), AnyKey(index: index),
                                ],
                                debugDescription:
                                    "unknown action \"\(name.prefix(40))\" (expected create, read, update or delete)"))
                    }
                    return action
                }
            }
            self.entities = entities
        }
    }

    /// A coding key built at run time, to locate an error below a dictionary.
    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int?

        init(_ string: String) {
            stringValue = string
        }

        init(index: Int) {
            stringValue = String(index)
            intValue = index
        }

        init?(stringValue: String) {
            self.stringValue = stringValue
        }

        init?(intValue: Int) {
            self.init(index: intValue)
        }
    }

    /// An ISO 8601 time, with or without fractional seconds; nil when absent or in another format (the
    /// times are shown, never planned on).
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        if let date = utcDate(text) { return date }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// `2026-11-29T23:15:38Z`, with or without fractional seconds: the form Fyso sends, read without a
    /// formatter (20,000 of them in a 10,000-bot list); nil for any other form.
    static func utcDate(_ text: String) -> Date? {
        var text = text
        // A native string's own bytes, not a copy: this runs for every bot.
        return text.withUTF8 { utcDate(bytes: $0) }
    }

    private static func utcDate(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        guard bytes.count >= 20, bytes.count <= 40, bytes[4] == 0x2D, bytes[7] == 0x2D, bytes[10] == 0x54,
            bytes[13] == 0x3A, bytes[16] == 0x3A, bytes[bytes.count - 1] == 0x5A
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if bytes.count > 20 {
            guard bytes[19] == 0x2E, bytes.count > 21, let digits = number(20..<(bytes.count - 1)) else { return nil }
            fraction = Double(digits) / pow(10, Double(bytes.count - 21))
        }
        // Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
        let shifted = month <= 2 ? year - 1 : year
        let era = shifted / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3_600 + minute * 60 + second) + fraction)
    }

    /// Where and why decoding failed, as `data[3].permissions.entities.products[0]: unknown action "x"`.
    /// Never a value from the answer other than the unknown action `PermissionSet` quotes: an item may carry a secret.
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
