import BotformCore
import Foundation
import Testing

@testable import BotformProviders

/// The bot list's fast path against JSONDecoder, the reader it stands in for: on every input the fast
/// path either reads exactly what JSONDecoder reads or declines (and JSONDecoder reads it). Inputs are
/// generated from a printed seed, so a failure replays.
@Suite("Fyso bot list fast path")
struct FysoFastListTests {
    // MARK: Generated lists

    @Test("generated lists of both shapes read the same both ways, and the fast path takes them", arguments: 0..<24)
    func generatedLists(seed: UInt64) throws {
        var generator = ListGenerator(seed: seed)
        let count = seed < 4 ? 3_000 : Int(generator.random.next() % 200)
        let text = generator.list(bots: count, paged: seed % 3 == 1)
        let body = Data(text.utf8)
        let fast = try #require(FysoWire.BotList.fast(body), "seed \(seed): the fast path declined a clean list")
        let decoded = try JSONDecoder().decode(FysoWire.BotList.self, from: body)
        #expect(fast.entries.count == count, "seed \(seed)")
        #expect(Self.same(fast, decoded), "seed \(seed): \(Self.firstDifference(fast, decoded))")
        #expect(decoded.entries.allSatisfy { (try? $0.bot.get()) != nil }, "seed \(seed): generated a bad item")
        // The provider converts a page's bots with one observer, which reuses the last permissions it saw.
        var observer = FysoWire.Observer()
        for entry in fast.entries {
            let bot = try entry.bot.get()
            #expect(observer.observe(bot) == bot.observed, "seed \(seed): \(bot.name)")
        }
    }

    @Test("a 10,000-bot list like the sandbox's reads the same both ways")
    func sandboxSizedList() throws {
        let items = (0..<10_000).map { index in
            #"{"id":"\#(UUID().uuidString.lowercased())","name":"bot-\#(index)","tenantSlug":"plan","isActive":true,"#
                + #""lastSeenAt":null,"permissions":{"entities":{"orders":["read"],"products":["read"]}},"#
                + #""createdAt":"2026-11-30T02:22:21Z"}"#
        }
        let body = Data(#"{"success":true,"data":[\#(items.joined(separator: ","))]}"#.utf8)
        let fast = try #require(FysoWire.BotList.fast(body))
        let decoded = try JSONDecoder().decode(FysoWire.BotList.self, from: body)
        #expect(fast.entries.count == 10_000)
        #expect(Self.same(fast, decoded), "\(Self.firstDifference(fast, decoded))")
    }

    // MARK: Inputs left to JSONDecoder

    /// Inputs the fast path must decline, each with why; JSONDecoder reads some (leniently, or with a
    /// per-item error) and refuses others, and either way its answer is the one used.
    static let declined: [(why: String, body: String)] = [
        ("not JSON", "<html>maintenance</html>"),
        ("empty", ""),
        ("a list at the top", #"[{"id":"a","name":"b"}]"#),
        ("no data", #"{"success":true}"#),
        ("data twice (Foundation keeps the first)", #"{"data":[],"data":[{"id":"a","name":"b"}]}"#),
        ("data of another type", #"{"data":"none"}"#),
        ("paged without items", #"{"data":{"total":0}}"#),
        ("paged items twice", #"{"data":{"items":[],"items":[]}}"#),
        ("paged page twice", #"{"data":{"items":[],"page":1,"page":2}}"#),
        ("paged page a string", #"{"data":{"items":[],"page":"1"}}"#),
        ("paged page a fraction", #"{"data":{"items":[],"page":1.0}}"#),
        ("paged page an exponent", #"{"data":{"items":[],"page":1e0}}"#),
        ("paged page negative", #"{"data":{"items":[],"page":-1}}"#),
        ("paged page too long", #"{"data":{"items":[],"total":1234567890123456789}}"#),
        ("an item that is not an object", #"{"data":["s3cret"]}"#),
        ("an item that is null", #"{"data":[null]}"#),
        ("id missing", #"{"data":[{"name":"b"}]}"#),
        ("id null", #"{"data":[{"id":null,"name":"b"}]}"#),
        ("id empty", #"{"data":[{"id":"","name":"b"}]}"#),
        ("name empty", #"{"data":[{"id":"a","name":""}]}"#),
        ("id a number", #"{"data":[{"id":7,"name":"b"}]}"#),
        ("id twice (Foundation keeps the first)", #"{"data":[{"id":"a","name":"b","id":"c"}]}"#),
        ("name spelled with an escape", #"{"data":[{"id":"a","n\u0061me":"b"}]}"#),
        ("a non-ASCII field name", #"{"data":[{"id":"a","name":"b","é":1}]}"#),
        ("isActive a string", #"{"data":[{"id":"a","name":"b","isActive":"yes"}]}"#),
        ("isActive a number", #"{"data":[{"id":"a","name":"b","isActive":1}]}"#),
        ("tenantSlug a number", #"{"data":[{"id":"a","name":"b","tenantSlug":3}]}"#),
        ("another tenant's odd item", #"{"data":[{"id":"a","name":"b","tenantSlug":"x","isActive":"?"}]}"#),
        ("permissions a string", #"{"data":[{"id":"a","name":"b","permissions":"all"}]}"#),
        ("entities a list", #"{"data":[{"id":"a","name":"b","permissions":{"entities":[]}}]}"#),
        ("entities twice", #"{"data":[{"id":"a","name":"b","permissions":{"entities":{},"entities":null}}]}"#),
        ("an action list a string", #"{"data":[{"id":"a","name":"b","permissions":{"entities":{"p":"read"}}}]}"#),
        ("an unknown action", #"{"data":[{"id":"a","name":"b","permissions":{"entities":{"p":["admin"]}}}]}"#),
        ("an action upper-case", #"{"data":[{"id":"a","name":"b","permissions":{"entities":{"p":["READ"]}}}]}"#),
        ("an escaped action", #"{"data":[{"id":"a","name":"b","permissions":{"entities":{"p":["r\u0065ad"]}}}]}"#),
        ("an action null", #"{"data":[{"id":"a","name":"b","permissions":{"entities":{"p":[null]}}}]}"#),
        ("an entity twice", #"{"data":[{"id":"a","name":"b","permissions":{"entities":{"p":[],"p":["read"]}}}]}"#),
        (
            "an entity twice, canonically",
            "{\"data\":[{\"id\":\"a\",\"name\":\"b\",\"permissions\":{\"entities\":"
                + "{\"\u{E9}\":[],\"e\u{301}\":[\"read\"]}}}]}"
        ),
        ("a trailing comma in an array", #"{"data":[{"id":"a","name":"b","x":[1,]}]}"#),
        ("a trailing comma in an object", #"{"data":[{"id":"a","name":"b",}]}"#),
        ("a leading zero", #"{"data":[{"id":"a","name":"b","x":01}]}"#),
        ("a bare fraction point", #"{"data":[{"id":"a","name":"b","x":1.}]}"#),
        ("a raw tab in a string", "{\"data\":[{\"id\":\"a\",\"name\":\"b\t\"}]}"),
        ("a lone high surrogate", #"{"data":[{"id":"a","name":"b","x":"\ud800"}]}"#),
        ("a lone low surrogate", #"{"data":[{"id":"a","name":"b\udc00"}]}"#),
        ("a reversed surrogate pair", #"{"data":[{"id":"a","name":"\ude00\ud83d"}]}"#),
        ("an unknown escape", #"{"data":[{"id":"a","name":"b\x"}]}"#),
        ("a short unicode escape", #"{"data":[{"id":"a","name":"b\u12"}]}"#),
        ("a byte-order mark", "\u{FEFF}{\"data\":[]}"),
        ("content after the list", #"{"data":[]} x"#),
        ("a NUL after the list", "{\"data\":[]}\u{0}"),
        ("an unterminated string", #"{"data":[{"id":"a","name":"b}]}"#),
        ("an unclosed list", #"{"data":[{"id":"a","name":"b"}"#),
        ("a comment", #"{"data":[] /* none */}"#),
        ("single quotes", #"{'data':[]}"#),
        ("NaN", #"{"data":[],"x":NaN}"#),
        (
            "deep nesting",
            #"{"data":[],"x":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        ),
    ]

    @Test("odd inputs are declined, and the list reads as JSONDecoder reads it", arguments: declined)
    func declinedInput(why: String, body: String) {
        let data = Data(body.utf8)
        #expect(FysoWire.BotList.fast(data) == nil, "\(why)")
        let decoded = Result { try JSONDecoder().decode(FysoWire.BotList.self, from: data) }
        let read = Result { try FysoWire.BotList.read(data) }
        switch (decoded, read) {
        case (.success(let decoded), .success(let read)):
            #expect(Self.same(decoded, read, failuresAlike: true), "\(why)")
        case (.failure(let decoded), .failure(let read)):
            #expect(FysoWire.describe(decoded) == FysoWire.describe(read), "\(why)")
        default:
            Issue.record("\(why): JSONDecoder \(decoded), read \(read)")
        }
    }

    @Test("invalid UTF-8 in a string is declined, even in a field nobody reads")
    func invalidUTF8() {
        for bytes: [UInt8] in [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0xE2, 0x82]] {
            for field in ["name", "x"] {
                let body =
                    Data(#"{"data":[{"id":"a","name":"b","\#(field)":""#.utf8) + Data(bytes) + Data(#""}]}"#.utf8)
                #expect(FysoWire.BotList.fast(body) == nil, "\(bytes) in \(field)")
            }
        }
    }

    @Test("values JSONDecoder reads in unusual spellings read the same on the fast path")
    func spellings() throws {
        let body = Data(
            """
             \r\n\t{ "meta" : { "a" : [ 1 , -0 , 0.5e-3 , 1E+400 , 123456789012345678901234567890 , true , false , null ] },
              "data" : { "limit" : 100 , "items" : [ { "id" : "\\u0041\\u00e9\\ud83d\\ude00\\/\\\\\\"\\b\\f\\n\\r\\t\\u0000" ,
              "name" : "\u{E9}\u{1F600}\u{301}\u{2028}\u{7F}" , "isActive" : false , "tenantSlug" : null ,
              "permissions" : { "x" : { "entities" : 1 } , "entities" : { "\\u00e9" : [ ] , "x" : [ "read" , "read" ] } } ,
              "createdAt" : "2026-01-01T00:00:00Z" , "lastSeenAt" : null , "extra" : { "" : "" , "k" : { "k" : [ [ ] , { } ] } } } ] ,
              "total" : 1 , "page" : 0 , "totalPages" : null } } \n
            """.utf8)
        let fast = try #require(FysoWire.BotList.fast(body))
        let decoded = try JSONDecoder().decode(FysoWire.BotList.self, from: body)
        #expect(Self.same(fast, decoded), "\(Self.firstDifference(fast, decoded))")
        let bot = try #require(try fast.entries.first?.bot.get())
        #expect(bot.id == "A\u{E9}\u{1F600}/\\\"\u{8}\u{C}\n\r\t\u{0}")
        #expect(bot.permissions?.entities == ["\u{E9}": [], "x": [.read, .read]])
        #expect(fast.total == 1 && fast.page == 0 && fast.totalPages == nil)
    }

    // MARK: Mutations

    @Test("a mutated list is read as JSONDecoder reads it, or declined", arguments: 0..<8)
    func mutatedLists(seed: UInt64) throws {
        var generator = ListGenerator(seed: 1_000 + seed)
        let original = Array(generator.list(bots: 6, paged: seed.isMultiple(of: 2)).utf8)
        var random = SplitMix64(seed: 2_000 + seed)
        var accepted = 0
        let rounds = 2_500
        for round in 0..<rounds {
            var bytes = original
            for _ in 0...(random.next() % 3) { Self.mutate(&bytes, &random) }
            let body = Data(bytes)
            guard let fast = FysoWire.BotList.fast(body) else { continue }
            accepted += 1
            let decoded = Result { try JSONDecoder().decode(FysoWire.BotList.self, from: body) }
            guard case .success(let decoded) = decoded else {
                Issue.record("seed \(seed) round \(round): fast path read what JSONDecoder refuses: \(decoded)")
                continue
            }
            #expect(
                Self.same(fast, decoded),
                "seed \(seed) round \(round): \(Self.firstDifference(fast, decoded)) in \(String(decoding: bytes, as: UTF8.self))"
            )
        }
        // Some mutations keep the list valid (whitespace, a digit in a number, a letter in a string): they
        // must be taken, or this test would pass on a fast path that declines everything.
        #expect(accepted > rounds / 20, "seed \(seed): only \(accepted) of \(rounds) mutations were read")
        #expect(accepted < rounds, "seed \(seed): every mutation was read")
    }

    /// One random edit: a byte deleted, inserted, replaced or doubled, a span repeated, or the end cut.
    static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        guard !bytes.isEmpty else { return }
        let alphabet = Array(#"{}[],:"\/ 0123456789-+.eEtrufalsn\#t\#nbxé😀"#.utf8) + [0x00, 0x1F, 0x7F, 0xFF, 0xC3]
        let at = Int(random.next() % UInt64(bytes.count))
        let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
        switch random.next() % 7 {
        case 0: bytes.remove(at: at)
        case 1: bytes.insert(byte, at: at)
        case 2: bytes[at] = byte
        case 3: bytes.insert(bytes[at], at: at)
        case 4:
            let end = min(bytes.count, at + 1 + Int(random.next() % 40))
            bytes.insert(contentsOf: bytes[at..<end], at: end)
        case 5: bytes.removeSubrange(at..<min(bytes.count, at + 1 + Int(random.next() % 8)))
        default: bytes.removeSubrange(at...)
        }
    }

    // MARK: Comparing

    /// Whether two readings agree on every item, its summary fields and the page numbers. Failed items
    /// (only JSONDecoder produces them) agree when `failuresAlike` and their errors read the same.
    static func same(_ a: FysoWire.BotList, _ b: FysoWire.BotList, failuresAlike: Bool = false) -> Bool {
        guard a.entries.count == b.entries.count, a.page == b.page, a.total == b.total,
            a.totalPages == b.totalPages
        else { return false }
        return zip(a.entries, b.entries).allSatisfy { x, y in
            guard x.tenantSlug == y.tenantSlug, x.name == y.name, x.id == y.id else { return false }
            switch (x.bot, y.bot) {
            case (.success(let x), .success(let y)): return x == y
            case (.failure(let x), .failure(let y)):
                return failuresAlike && FysoWire.describe(x) == FysoWire.describe(y)
            default: return false
            }
        }
    }

    static func firstDifference(_ a: FysoWire.BotList, _ b: FysoWire.BotList) -> String {
        if a.entries.count != b.entries.count { return "\(a.entries.count) items vs \(b.entries.count)" }
        if a.page != b.page || a.total != b.total || a.totalPages != b.totalPages { return "page numbers differ" }
        for (index, (x, y)) in zip(a.entries, b.entries).enumerated()
        where !same(.init(entries: [x]), .init(entries: [y])) {
            return "item \(index): \(x.bot) vs \(y.bot)"
        }
        return "none"
    }
}

/// Writes random bot lists in every form JSONDecoder reads to a good bot: string values escaped at random
/// (surrogate pairs, short escapes, `\/`), unicode names, nulls and absent optional fields, unknown
/// fields holding nested values, fields in random order, random whitespace, both list shapes.
struct ListGenerator {
    var random: SplitMix64
    var lastPermissions: String?

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    mutating func chance(_ probability: Double) -> Bool { random.nextUnit() < probability }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    mutating func space() -> String { chance(0.8) ? "" : pick([" ", "\n", "\t", "\r\n", "  "]) }

    mutating func list(bots: Int, paged: Bool) -> String {
        let items = (0..<bots).map { index in bot(index) }.joined(separator: "," + space())
        let array = "[" + space() + items + space() + "]"
        var top: [(String, String)]
        if paged {
            var fields = [("items", array), ("limit", "100")]
            for key in ["page", "total", "totalPages"] where chance(0.8) {
                fields.append((key, chance(0.2) ? "null" : String(random.next() % 1_000)))
            }
            top = [("data", object(fields))]
        } else {
            top = [("success", "true"), ("data", array)]
        }
        if chance(0.5) { top.append(("meta", unknownValue(depth: 0))) }
        return space() + object(top) + space()
    }

    mutating func bot(_ index: Int) -> String {
        var fields: [(String, String)] = [
            ("id", string(chance(0.9) ? UUID().uuidString.lowercased() : "id-\(index)-" + text())),
            ("name", string("bot-\(index)" + (chance(0.3) ? text() : ""))),
        ]
        if chance(0.8) { fields.append(("isActive", pick(["true", "false", "null"]))) }
        if chance(0.8) {
            fields.append(("tenantSlug", chance(0.1) ? "null" : string(pick(["sandbox", "plan", text()]))))
        }
        for key in ["createdAt", "lastSeenAt"] where chance(0.8) {
            fields.append(
                (
                    key,
                    chance(0.3) ? "null" : string(pick(["2026-11-30T02:22:21Z", "2024-05-01T10:00:00.123Z", "soon"]))
                ))
        }
        if chance(0.9) {
            // Often the last bot's permissions again, as bots of one role have them: the fast path reuses
            // the reading of bytes it has read before.
            let text = lastPermissions.flatMap { chance(0.5) ? $0 : nil } ?? permissions()
            lastPermissions = text
            fields.append(("permissions", text))
        }
        for number in 0..<Int(random.next() % 3) { fields.append(("extra\(number)", unknownValue(depth: 0))) }
        for index in fields.indices.reversed() {
            fields.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        return object(fields)
    }

    mutating func permissions() -> String {
        switch random.next() % 6 {
        case 0: return "null"
        case 1: return "{}"
        case 2: return object([("entities", "null")])
        default:
            var seen = Set<String>()
            var entities: [(String, String)] = []
            for _ in 0..<Int(random.next() % 5) {
                let entity = pick([
                    "products", "orders", "inventory", "caf\u{E9}", "cafe\u{301}", "\u{65E5}\u{672C}", text(),
                ])
                guard seen.insert(entity).inserted else { continue }
                let actions = (0..<Int(random.next() % 5)).map { _ in
                    "\"" + pick(["create", "read", "update", "delete"]) + "\""
                }
                entities.append((entity, "[" + actions.joined(separator: "," + space()) + "]"))
            }
            var fields = [("entities", object(entities))]
            if chance(0.2) { fields.append(("version", unknownValue(depth: 1))) }
            return object(fields)
        }
    }

    /// Some text with the characters that need care: quotes, backslashes, controls, non-ASCII.
    mutating func text() -> String {
        let pieces = [
            "a", "Z", "-", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{7F}", "\u{E9}", "e\u{301}", "\u{2028}",
            "\u{1F600}", "\u{FFFF}", "\u{10FFFF}", "\u{0}",
        ]
        return (0..<Int(1 + random.next() % 6)).map { _ in pick(pieces) }.joined()
    }

    mutating func unknownValue(depth: Int) -> String {
        switch random.next() % (depth > 3 ? 5 : 7) {
        case 0: return pick(["0", "-1", "3.25", "1e10", "-0.5E-3", "12345678901234567890", "-0"])
        case 1: return string(text())
        case 2: return pick(["true", "false"])
        case 3: return "null"
        case 4: return string("")
        case 5:
            let count = Int(random.next() % 4)
            return "[" + (0..<count).map { _ in unknownValue(depth: depth + 1) }.joined(separator: "," + space()) + "]"
        default:
            let count = Int(random.next() % 4)
            return object(
                (0..<count).map { index in (pick(["k", "id", "name", "k\(index)"]), unknownValue(depth: depth + 1)) })
        }
    }

    /// An object; names of ASCII letters and digits are written plainly, as servers write field names
    /// (the fast path leaves an escaped field name to JSONDecoder), others as any string.
    mutating func object(_ fields: [(String, String)]) -> String {
        var members: [String] = []
        for (key, value) in fields {
            let name =
                key.unicodeScalars.allSatisfy { $0.isASCII && $0.properties.isAlphabetic || ("0"..."9").contains($0) }
                ? "\"\(key)\"" : string(key)
            members.append(space() + name + space() + ":" + space() + value + space())
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// A JSON string for `value`, each scalar written raw or escaped at random.
    mutating func string(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/": out += chance(0.5) ? "\\/" : "/"
            case "\n": out += chance(0.5) ? "\\n" : "\\u000a"
            case "\t": out += chance(0.5) ? "\\t" : "\\u0009"
            case _ where scalar.value < 0x20: out += escaped(scalar.value)
            default:
                if !chance(0.2) || scalar.isASCII && !chance(0.1) {
                    out.unicodeScalars.append(scalar)
                } else if scalar.value > 0xFFFF {
                    let offset = scalar.value - 0x10000
                    out += escaped(0xD800 + (offset >> 10)) + escaped(0xDC00 + (offset & 0x3FF))
                } else {
                    out += escaped(scalar.value)
                }
            }
        }
        return out + "\""
    }

    mutating func escaped(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: chance(0.5))
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
