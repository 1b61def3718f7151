import BotformCore
import Foundation

extension FysoWire.BotList {
    /// A page of the bot list read from its body: by `fast(_:)` when it can, else by JSONDecoder, whose
    /// errors (and tolerance of one bad item) are then exactly what they were before the fast path.
    static func read(_ body: Data) throws -> FysoWire.BotList {
        if let list = fast(body) { return list }
        return try JSONDecoder().decode(FysoWire.BotList.self, from: body)
    }

    /// The page read without JSONDecoder, when every part of it is a case the fast path reads to the
    /// values JSONDecoder would (every item a good bot, no duplicate fields it uses, plain field names);
    /// nil otherwise. JSONDecoder spent 0.13-0.28 s, a fifth of a 10,000-bot plan, on a 2.2 MB list.
    static func fast(_ body: Data) -> FysoWire.BotList? {
        body.withUnsafeBytes { raw in
            var reader = FastListReader(scanner: JSONScanner(raw.bindMemory(to: UInt8.self)))
            return try? reader.list()
        }
    }
}

/// Reads the shapes `FysoWire.BotList` decodes, with the same rules, from a `JSONScanner`. It never
/// produces an error of its own: every rule a value breaks, and every case JSONDecoder might treat
/// differently (a duplicate field: Foundation keeps the first), throws `Unhandled`, so the caller
/// reads the page with JSONDecoder, which judges it and names the item.
private struct FastListReader {
    typealias Unhandled = JSONScanner.Unhandled

    var scanner: JSONScanner
    /// The last permissions object read: where its bytes are and what they read as. Bots of one role
    /// carry the same permissions byte for byte, so most are matched, not read, and share a dictionary.
    private var lastPermissions: (start: Int, count: Int, value: FysoWire.PermissionSet)?

    init(scanner: JSONScanner) {
        self.scanner = scanner
    }

    /// `{"data": [bot] | {"items": [bot], "page", "total", "totalPages", …}, …}` and nothing after it.
    mutating func list() throws(Unhandled) -> FysoWire.BotList {
        var list: FysoWire.BotList?
        guard try scanner.beginObject() else { throw Unhandled() }
        repeat {
            guard try scanner.plainName().spells("data") else {
                try scanner.skipValue()
                continue
            }
            guard list == nil else { throw Unhandled() }
            list = try scanner.peek() == UInt8(ascii: "[") ? FysoWire.BotList(entries: try entries()) : try paged()
        } while try scanner.nextMember()
        guard let list, scanner.isAtEnd() else { throw Unhandled() }
        return list
    }

    /// The records API's paged shape: `items` required, the numbers optional.
    private mutating func paged() throws(Unhandled) -> FysoWire.BotList {
        var entries: [FysoWire.Entry]?
        var page: Int?
        var totalPages: Int?
        var total: Int?
        var seen: UInt8 = 0
        guard try scanner.beginObject() else { throw Unhandled() }
        repeat {
            let name = try scanner.plainName()
            let bit: UInt8 =
                name.spells("items")
                ? 1
                : name.spells("page")
                    ? 2
                    : name.spells("totalPages")
                        ? 4
                        : name.spells("total") ? 8 : 0
            guard bit != 0 else {
                try scanner.skipValue()
                continue
            }
            guard seen & bit == 0 else { throw Unhandled() }
            seen |= bit
            switch bit {
            case 1: entries = try self.entries()
            case 2: page = try optionalInteger()
            case 4: totalPages = try optionalInteger()
            default: total = try optionalInteger()
            }
        } while try scanner.nextMember()
        guard let entries else { throw Unhandled() }
        return FysoWire.BotList(entries: entries, page: page, totalPages: totalPages, total: total)
    }

    private mutating func optionalInteger() throws(Unhandled) -> Int? {
        try scanner.null() ? nil : try scanner.integer()
    }

    private mutating func entries() throws(Unhandled) -> [FysoWire.Entry] {
        var entries: [FysoWire.Entry] = []
        guard try scanner.beginArray() else { return entries }
        repeat {
            entries.append(FysoWire.Entry(try bot()))
        } while try scanner.nextElement()
        return entries
    }

    /// The fields `FysoWire.Bot` reads, by bit, to refuse one given twice.
    private enum Field: UInt8 {
        case id = 1
        case name = 2
        case isActive = 4
        case permissions = 8
        case tenantSlug = 16
        case createdAt = 32
        case lastSeenAt = 64

        init?(_ name: UnsafeBufferPointer<UInt8>) {
            switch name.count {
            case 2 where name.spells("id"): self = .id
            case 4 where name.spells("name"): self = .name
            case 8 where name.spells("isActive"): self = .isActive
            case 9 where name.spells("createdAt"): self = .createdAt
            case 10 where name.spells("tenantSlug"): self = .tenantSlug
            case 10 where name.spells("lastSeenAt"): self = .lastSeenAt
            case 11 where name.spells("permissions"): self = .permissions
            default: return nil
            }
        }
    }

    /// One item, held to `FysoWire.Bot`'s rules: id and name non-empty strings, the rest absent, null or
    /// of their type.
    private mutating func bot() throws(Unhandled) -> FysoWire.Bot {
        var id: String?
        var name: String?
        var isActive: Bool?
        var permissions: FysoWire.PermissionSet?
        var tenantSlug: String?
        var createdAt: String?
        var lastSeenAt: String?
        var seen: UInt8 = 0
        if try scanner.beginObject() {
            repeat {
                guard let field = Field(try scanner.plainName()) else {
                    try scanner.skipValue()
                    continue
                }
                guard seen & field.rawValue == 0 else { throw Unhandled() }
                seen |= field.rawValue
                switch field {
                case .id: id = try scanner.string()
                case .name: name = try scanner.string()
                case .isActive: isActive = try scanner.null() ? nil : try scanner.bool()
                case .permissions: permissions = try scanner.null() ? nil : try repeatedPermissionSet()
                case .tenantSlug: tenantSlug = try optionalString()
                case .createdAt: createdAt = try optionalString()
                case .lastSeenAt: lastSeenAt = try optionalString()
                }
            } while try scanner.nextMember()
        }
        guard let id, let name, !id.isEmpty, !name.isEmpty else { throw Unhandled() }
        return FysoWire.Bot(
            id: id, name: name, isActive: isActive, permissions: permissions, tenantSlug: tenantSlug,
            createdAt: createdAt, lastSeenAt: lastSeenAt)
    }

    private mutating func optionalString() throws(Unhandled) -> String? {
        try scanner.null() ? nil : try scanner.string()
    }

    /// A permissions object: the last one's value when these are its bytes again (the same bytes read the
    /// same way), else read.
    private mutating func repeatedPermissionSet() throws(Unhandled) -> FysoWire.PermissionSet {
        if let last = lastPermissions, scanner.repeats(last.start, count: last.count) {
            scanner.skip(last.count)
            return last.value
        }
        let start = scanner.offset
        let value = try permissionSet()
        lastPermissions = (start, scanner.offset - start, value)
        return value
    }

    /// `{"entities": {entity: [action]}}`: entity names of any spelling (a repeated one, in Swift's
    /// sense of equal strings, is left to JSONDecoder), actions exactly as `Action` spells them.
    private mutating func permissionSet() throws(Unhandled) -> FysoWire.PermissionSet {
        var entities: [String: [Action]]?
        var seen = false
        guard try scanner.beginObject() else { return FysoWire.PermissionSet(entities: nil) }
        repeat {
            guard try scanner.plainName().spells("entities") else {
                try scanner.skipValue()
                continue
            }
            guard !seen else { throw Unhandled() }
            seen = true
            if try scanner.null() { continue }
            // Room for a few entities up front: growing a dictionary rehashes it, and most bots hold few.
            var map = [String: [Action]](minimumCapacity: 4)
            if try scanner.beginObject() {
                repeat {
                    let entity = try scanner.name()
                    guard map.updateValue(try actions(), forKey: entity) == nil else { throw Unhandled() }
                } while try scanner.nextMember()
            }
            entities = map
        } while try scanner.nextMember()
        return FysoWire.PermissionSet(entities: entities)
    }

    private mutating func actions() throws(Unhandled) -> [Action] {
        var actions: [Action] = []
        guard try scanner.beginArray() else { return actions }
        repeat {
            let word = try scanner.plainString()
            switch word.count {
            case 4 where word.spells("read"): actions.append(.read)
            case 6 where word.spells("create"): actions.append(.create)
            case 6 where word.spells("update"): actions.append(.update)
            case 6 where word.spells("delete"): actions.append(.delete)
            default: throw Unhandled()
            }
        } while try scanner.nextElement()
        return actions
    }
}

extension FysoWire.Issued {
    /// The `data` of a register or reset-secret answer, nil when there is none to read: by a
    /// `JSONScanner` when the answer is in the strict form it reads, else by JSONDecoder, exactly as
    /// before. Every registration reads one, on the event loop that serves the next call.
    static func read(_ body: Data) -> FysoWire.Issued? {
        if let issued = fast(body) { return issued }
        return (try? JSONDecoder().decode(FysoWire.Envelope<FysoWire.Issued>.self, from: body))?.data
    }

    /// The answer read by the fast path; nil when it declines (and JSONDecoder decides).
    static func fast(_ body: Data) -> FysoWire.Issued? {
        body.withUnsafeBytes { raw in
            var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
            return try? envelope(&scanner)
        }
    }

    /// `{"data": {"id": string | null, "secret": string | null, …}, …}` and nothing after it. Anything
    /// else (no `data`, a `data` that is not an object, an id that is not a string, a field twice) is
    /// left to JSONDecoder.
    private static func envelope(_ scanner: inout JSONScanner) throws(JSONScanner.Unhandled) -> FysoWire.Issued {
        var issued: FysoWire.Issued?
        guard try scanner.beginObject() else { throw JSONScanner.Unhandled() }
        repeat {
            guard try scanner.plainName().spells("data") else {
                try scanner.skipValue()
                continue
            }
            guard issued == nil, try scanner.peek() == UInt8(ascii: "{") else { throw JSONScanner.Unhandled() }
            issued = try fields(&scanner)
        } while try scanner.nextMember()
        guard let issued, scanner.isAtEnd() else { throw JSONScanner.Unhandled() }
        return issued
    }

    private static func fields(_ scanner: inout JSONScanner) throws(JSONScanner.Unhandled) -> FysoWire.Issued {
        var issued = FysoWire.Issued(id: nil, secret: nil)
        var seen: (id: Bool, secret: Bool) = (false, false)
        guard try scanner.beginObject() else { return issued }
        repeat {
            let name = try scanner.plainName()
            if name.spells("id") {
                guard !seen.id else { throw JSONScanner.Unhandled() }
                seen.id = true
                issued.id = try stringOrNull(&scanner)
            } else if name.spells("secret") {
                guard !seen.secret else { throw JSONScanner.Unhandled() }
                seen.secret = true
                issued.secret = try stringOrNull(&scanner)
            } else {
                try scanner.skipValue()
            }
        } while try scanner.nextMember()
        return issued
    }

    private static func stringOrNull(_ scanner: inout JSONScanner) throws(JSONScanner.Unhandled) -> String? {
        if try scanner.null() { return nil }
        return try scanner.string()
    }
}
