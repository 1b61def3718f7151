import BotformCore
import Foundation

/// The body of `GET /api/auth/bots`, `{"success":true,"data":[bot, …]}`, written straight to bytes, one
/// bot at a time when the bot changes (`SandboxState.listedBots`), the list by joining them. A
/// 10,000-bot list built as `JSONValue`s and serialised took the sandbox 0.1-0.2 s, which a benchmarked
/// `botform plan` waited for. The bytes are exactly `JSONValue`'s compact serialisation of the same
/// shape (a test holds the two together): each bot is `{"id","name","tenantSlug","isActive",
/// "lastSeenAt","permissions":{"entities":{…}},"createdAt"}`, entities by name, actions in CRUD order,
/// strings escaped as `JSONValue` escapes them.
struct BotListBody {
    private(set) var bytes: [UInt8] = []

    /// One bot as the list shows it: never its secret.
    static func item(_ bot: BotIdentity, tenantSlug: String) -> [UInt8] {
        var body = BotListBody()
        body.write(bot, tenantSlug: tenantSlug)
        return body.bytes
    }

    /// The list of the bots `ids` names, from their entries in `listed` (each written by `item`), in its
    /// envelope; an id without an entry is left out.
    static func list(_ ids: some Collection<String>, from listed: [String: SandboxState.ListedBot]) -> [UInt8] {
        var body = BotListBody()
        // About 225 bytes a bot with two entities; growing past the estimate costs one copy.
        body.bytes.reserveCapacity(32 + ids.count * 256)
        body.append(#"{"success":true,"data":["#)
        var first = true
        for id in ids {
            guard let item = listed[id] else { continue }
            if !first { body.append(",") }
            first = false
            body.bytes.append(contentsOf: item.json)
        }
        body.append("]}")
        return body.bytes
    }

    private mutating func write(_ bot: BotIdentity, tenantSlug: String) {
        append(#"{"id":"#)
        write(bot.id)
        append(#","name":"#)
        write(bot.name)
        append(#","tenantSlug":"#)
        write(tenantSlug)
        append(bot.isActive ? #","isActive":true,"lastSeenAt":"# : #","isActive":false,"lastSeenAt":"#)
        if let lastSeenAt = bot.lastSeenAt {
            write(Timestamp.string(lastSeenAt))
        } else {
            append("null")
        }
        append(#","permissions":{"entities":{"#)
        for (index, (entity, actions)) in bot.permissions.entities.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { append(",") }
            write(entity)
            append(":[")
            var first = true
            for action in Action.allCases where actions.contains(action) {
                if !first { append(",") }
                first = false
                append(Self.quoted(action))
            }
            append("]")
        }
        append(#"}},"createdAt":"#)
        write(Timestamp.string(bot.createdAt))
        append("}")
    }

    private static func quoted(_ action: Action) -> StaticString {
        switch action {
        case .create: #""create""#
        case .read: #""read""#
        case .update: #""update""#
        case .delete: #""delete""#
        }
    }

    private mutating func append(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// A JSON string, escaped exactly as `JSONValue` escapes: `"`, `\`, `\n`, `\r`, `\t` by their short
    /// forms; the other C0 controls, DEL, the C1 controls, U+2028 and U+2029 as `\u` and four lower-case
    /// hex digits; everything else as it is.
    private mutating func write(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(UInt8(ascii: "\""))
            var runStart = 0
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                var escape: UInt32?
                var short: UInt8?
                var width = 1
                switch byte {
                case 0x22: short = UInt8(ascii: "\"")
                case 0x5C: short = UInt8(ascii: "\\")
                case 0x0A: short = UInt8(ascii: "n")
                case 0x0D: short = UInt8(ascii: "r")
                case 0x09: short = UInt8(ascii: "t")
                case 0x00..<0x20, 0x7F: escape = UInt32(byte)
                case 0xC2 where index + 1 < utf8.count && (0x80...0x9F).contains(utf8[index + 1]):
                    escape = UInt32(utf8[index + 1])
                    width = 2
                case 0xE2
                where index + 2 < utf8.count && utf8[index + 1] == 0x80
                    && (utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9):
                    escape = utf8[index + 2] == 0xA8 ? 0x2028 : 0x2029
                    width = 3
                default: break
                }
                if short != nil || escape != nil {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    bytes.append(UInt8(ascii: "\\"))
                    if let short {
                        bytes.append(short)
                    } else if let escape {
                        bytes.append(UInt8(ascii: "u"))
                        for shift in stride(from: 12, through: 0, by: -4) {
                            bytes.append(Self.hexDigits[Int((escape >> UInt32(shift)) & 0xF)])
                        }
                    }
                    runStart = index + width
                }
                index += width
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
            bytes.append(UInt8(ascii: "\""))
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
