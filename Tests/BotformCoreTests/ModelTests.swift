import BotformCore
import Testing

@Suite("Names")
struct NameTests {
    @Test(
        "Fyso's bot name rule",
        arguments: [
            ("inventory-agent", true), ("abc", true), ("a1-b2", true), ("000", true),
            (String(repeating: "a", count: 50), true), (String(repeating: "a", count: 51), false),
            ("ab", false), ("-abc", false), ("abc-", false), ("Abc", false), ("a_b", false), ("a b", false),
            ("ab.c", false), ("", false), ("ünï", false),
        ])
    func botNames(name: String, valid: Bool) {
        #expect((Name.problem(withBotName: name) == nil) == valid, "\(name)")
    }

    @Test("provider names may be short but start with a letter")
    func providerNames() {
        #expect(Name.problem(withProviderName: "qa") == nil)
        #expect(Name.problem(withProviderName: "prod_eu-1") == nil)
        #expect(Name.problem(withProviderName: "1prod") != nil)
        #expect(Name.problem(withProviderName: "Prod") != nil)
        #expect(Name.problem(withProviderName: "") != nil)
    }

    @Test("entity names refuse wildcards anywhere")
    func entities() {
        #expect(Name.problem(withEntityName: "products") == nil)
        #expect(Name.problem(withEntityName: "*")?.contains("wildcard") == true)
        #expect(Name.problem(withEntityName: "prod*")?.contains("wildcard") == true)
        #expect(Name.problem(withEntityName: "a/b") != nil)
    }
}

@Suite("Durations")
struct DurationTests {
    @Test(
        "valid durations and their seconds",
        arguments: [
            ("30s", 30), ("15m", 900), ("12h", 43_200), ("90d", 7_776_000), ("2w", 1_209_600), ("3mo", 7_776_000),
            ("1s", 1), ("9000d", 777_600_000),
        ] as [(String, Int64)])
    func valid(text: String, seconds: Int64) throws {
        #expect(try BotformDuration.parse(text).seconds == seconds)
    }

    @Test("m is minutes and mo is thirty days, as Sym reads them")
    func minutesAndMonths() throws {
        #expect(try BotformDuration.parse("1m").seconds == 60)
        #expect(try BotformDuration.parse("1mo").seconds == 30 * 86_400)
    }

    @Test(
        "invalid durations explain themselves",
        arguments: [
            ("", "a duration is a positive whole number"), ("d", "a duration is a positive whole number"),
            ("90", "has no unit"), ("0d", "greater than zero"), ("1y", "unknown duration unit \"y\""),
            ("5days", "did you mean \"d\"?"), ("1.5d", "write e.g. \"36h\""), ("-1d", "a duration is a positive"),
            ("9001d", "too large"), ("99999999999999999d", "too large"), ("5D", "did you mean \"d\"?"),
            ("1 d", "unknown duration unit"),
        ])
    func invalid(text: String, fragment: String) {
        do {
            _ = try BotformDuration.parse(text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.description.contains(fragment), "\(text): \(error)")
        }
    }

    @Test("durations compare by length, not spelling")
    func equality() throws {
        #expect(try BotformDuration.parse("2w") == BotformDuration.parse("14d"))
        #expect(try BotformDuration.parse("1h") < BotformDuration.parse("61m"))
    }

    @Test("humanized ages read naturally")
    func humanize() {
        #expect(BotformDuration.humanize(seconds: 97 * 86_400 + 5) == "97d")
        #expect(BotformDuration.humanize(seconds: 36 * 3_600) == "36h")
        #expect(BotformDuration.humanize(seconds: 150) == "2m")
        #expect(BotformDuration.humanize(seconds: 40) == "40s")
    }
}

@Suite("FOKS roles")
struct FoksRoleTests {
    @Test(
        "FOKS's grammar",
        arguments: [
            ("owner", FoksRole.owner), ("o", .owner), ("OWNER", .owner), ("admin", .admin), ("a", .admin),
            ("member/0", .member(0)), ("m/-1", .member(-1)), ("member/+5", .member(5)), ("m/32767", .member(32_767)),
            ("m/-32768", .member(-32_768)),
        ])
    func valid(text: String, role: FoksRole) throws {
        #expect(try FoksRole.parse(text) == role)
    }

    @Test(
        "reader, bare member, none and out-of-range levels are not roles",
        arguments: ["reader", "member", "m", "none", "n", "m/32768", "member/", "m/x", "member(2)", "guest", ""])
    func invalid(text: String) {
        #expect(throws: FoksRole.ParseError.self) { try FoksRole.parse(text) }
    }

    @Test("order: owner > admin > member/n > member/m for n > m")
    func order() {
        #expect(FoksRole.admin < .owner)
        #expect(FoksRole.member(32_767) < .admin)
        #expect(FoksRole.member(-1) < .member(0))
        #expect(!(FoksRole.member(1) < .member(0)))
        #expect(!(FoksRole.owner < .owner))
    }

    @Test("the argument form is what foks bot new --role takes")
    func arguments() {
        #expect(FoksRole.member(-1).argument == "m/-1")
        #expect(FoksRole.owner.argument == "o")
        #expect(FoksRole.member(-1).description == "member/-1")
    }
}

@Suite("Bech32 and age recipients")
struct Bech32Tests {
    @Test("BIP 173 test vectors decode")
    func bip173() throws {
        for valid in ["A12UEL5L", "a12uel5l", "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "?1ezyfcl"] {
            _ = try Bech32.decode(valid)
        }
        for invalid in ["A1G7SGD8", "10a06t8", "1qzzfhee", "x1b4n0q5v", "li1dgmt3", "A12uEL5L"] {
            #expect(throws: Bech32.DecodeError.self, "\(invalid)") { try Bech32.decode(invalid) }
        }
    }

    @Test("an age-keygen recipient round-trips")
    func ageRecipient() throws {
        let text = "age14qpvnskj0hth8lg8y3vrjjq8cknugnpshtzhpq88pe80mk8tzpns8uuvnx"
        let recipient = try AgeRecipient.parse(text)
        #expect(recipient.publicKey.count == 32)
        #expect(recipient.description == text)
        #expect(Bech32.encode(hrp: "age", data: recipient.publicKey) == text)
    }

    @Test("recipient errors say what is wrong")
    func recipientErrors() {
        func message(_ text: String) -> String {
            do {
                _ = try AgeRecipient.parse(text)
                return ""
            } catch {
                return error.description
            }
        }
        #expect(message("age14qpvnskj0hth8lg8y3vrjjq8cknugnpshtzhpq88pe80mk8tzpns8uuvny").contains("bad checksum"))
        #expect(message("AGE14QPVNSKJ0HTH8LG8Y3VRJJQ8CKNUGNPSHTZHPQ88PE80MK8TZPNS8UUVNX").contains("lower case"))
        #expect(message("AGE-SECRET-KEY-1XYZ").contains("secret key"))
        #expect(
            message(Bech32.encode(hrp: "age", data: [UInt8](repeating: 7, count: 20))).contains(
                "holds 20 bytes, not 32"))
    }
}

@Suite("Permissions")
struct PermissionsTests {
    let reader = Permissions(["products": [.read], "orders": [.read]])
    let writer = Permissions(["products": [.update, .read]])

    @Test("union merges per entity")
    func union() {
        #expect(reader.union(writer) == Permissions(["products": [.read, .update], "orders": [.read]]))
        #expect(writer.union(reader) == reader.union(writer))
        #expect(reader.union(Permissions()) == reader)
    }

    @Test("subset means every grant is also granted")
    func subset() {
        #expect(Permissions(["products": [.read]]).isSubset(of: writer))
        #expect(!reader.isSubset(of: writer))
        #expect(Permissions().isSubset(of: reader))
    }

    @Test("changes list additions and removals per entity, in order")
    func changes() {
        let changes = writer.changes(from: reader)
        #expect(changes.map(\.summary) == ["orders -read", "products +update"])
    }

    @Test("empty grants vanish, so they never differ from absent ones")
    func emptyGrant() {
        #expect(Permissions(["products": [Action]()]) == Permissions())
    }

    @Test("the canonical form is sorted and stable")
    func canonical() {
        #expect(reader.union(writer).canonical == "orders:read;products:read,update")
    }
}

@Suite("Text")
struct TextTests {
    @Test("suggestions catch typos, swaps and truncations, and not unrelated words")
    func suggestions() {
        let keys = ["permissions", "roles", "provider", "rotate_every", "protect", "description"]
        #expect(Suggestion.closest(to: "permisions", in: keys) == "permissions")
        #expect(Suggestion.closest(to: "roels", in: keys) == "roles")
        #expect(Suggestion.closest(to: "protcet", in: keys) == "protect")
        #expect(Suggestion.closest(to: "desc", in: keys) == "description")
        #expect(Suggestion.closest(to: "colour", in: keys) == nil)
        #expect(Suggestion.closest(to: "pro", in: keys) == nil, "ambiguous prefix")
    }

    @Test("JSON strings escape quotes, control characters and line separators")
    func jsonEscaping() {
        let value = JSONValue.object([
            ("k\"", .string("a\nb\u{1}\u{2028}é")), ("n", .null), ("list", .array([.integer(1), .bool(false)])),
        ])
        #expect(value.serialized(pretty: false) == #"{"k\"":"a\nb\u0001\u2028é","n":null,"list":[1,false]}"#)
    }

    @Test("diagnostics sort by file, line and column, unlocated last")
    func diagnosticOrder() {
        var diagnostics = Diagnostics()
        diagnostics.error("c", at: SourceLocation(file: "b.yaml", line: 1, column: 1))
        diagnostics.error("z", at: nil)
        diagnostics.warning("b", at: SourceLocation(file: "a.yaml", line: 10, column: 2))
        diagnostics.error("a", at: SourceLocation(file: "a.yaml", line: 2, column: 5))
        #expect(diagnostics.sorted.map(\.message) == ["a", "b", "c", "z"])
        #expect(diagnostics.sorted.first?.description == "a.yaml:2:5: error: a")
    }
}
