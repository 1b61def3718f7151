import BotformCore
import Foundation
import Testing

@testable import BotformSeal

/// `renderBytes()` writes the sealed file into one byte buffer. These hold it to what the String-built
/// render wrote before, reproduced here as the reference: plain-or-quoted scalars, the header's
/// recipients, and a secret's lines (split by Character, which differs from bytes only at "\r\n").
@Suite("sealed file rendered as bytes")
struct RenderBytesTests {
    /// The scalar rule as it was written before (Character and String based).
    static func referenceScalar(_ text: String) -> String {
        let safe = text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || "._/@+-".unicodeScalars.contains($0)
        }
        let ambiguous =
            ["", "null", "true", "false", "yes", "no", "on", "off", "~"].contains(text.lowercased())
            || Double(text) != nil || text.hasPrefix("-") || text.hasPrefix(".") || text.hasPrefix("@")
        guard !safe || ambiguous else { return text }
        return JSONValue.string(text).serialized(pretty: false)
    }

    /// The header's recipients as computed before (a set per entry).
    static func referenceHeader(_ file: SealedFile) -> [AgeRecipient] {
        var seen = Set<AgeRecipient>()
        var sets = Set<Set<AgeRecipient>>()
        for entry in file.entries.values where entry.secret != nil {
            sets.insert(Set(entry.sealedTo))
            seen.formUnion(entry.sealedTo)
        }
        if sets.isEmpty || sets == [Set(file.recipients)] { return file.recipients }
        let configured = file.recipients.filter(seen.contains)
        return configured + seen.subtracting(configured).sorted { $0.description < $1.description }
    }

    @Test("scalars: plain or quoted exactly as before, keywords, numbers and YAML indicators included")
    func scalars() {
        var samples = [
            "", "bot", "prod/bot-01", "null", "NULL", "Null", "true", "False", "yes", "NO", "on", "Off", "~", "1",
            "01", "1.5", "1e5", "1E+5", "+1", "-1", ".5", "5.", "0x1p3", "0x10", "inf", "Inf", "-inf", "infinity",
            "INFINITY", "nan", "NaN", "nan1", "infinit", "n", "i", "in", "no1", "onx", "@x", "x@", "-x", ".x", "x.",
            "a b", "é", "a:b", "#a", "a#", "[a]", "{a}", "'a'", "\"a\"", "a\nb", "_a", "a_b", "+a", "a+", "/a",
            "1_000", "12345678901234567890", "1e400", "e5", "x1", "N0", "I9",
        ]
        let alphabet = Array("aiInN0159eExp+-._/@ :#~".map(String.init))
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<5_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            var text = ""
            var bits = state
            for _ in 0..<Int(bits % 7) {
                bits >>= 5
                text += alphabet[Int(bits % UInt64(alphabet.count))]
            }
            samples.append(text)
        }
        for text in samples {
            #expect(YAMLText.scalar(text) == Self.referenceScalar(text), "\(text.debugDescription)")
        }
    }

    @Test("the header's recipients: as before, whether entries are sealed to the configured ones or not")
    func header() {
        let keys = (0..<4).map { _ in AgeIdentity().recipient }
        let layouts: [[[AgeRecipient]]] = [
            [], [[keys[0]]], [[keys[0]], [keys[0]]], [[keys[1]]], [[keys[0]], [keys[1]]],
            [[keys[0], keys[1]], [keys[1], keys[0]]], [[keys[2], keys[3]], [keys[0]]], [[keys[3]], [keys[2]]],
        ]
        for configured in [[keys[0]], [keys[0], keys[1]], []] {
            for layout in layouts {
                let entries = layout.enumerated().map { index, sealedTo in
                    SealedEntry(
                        provider: "prod", bot: "bot-\(index)", id: "id-\(index)", origin: .issued, issuedAt: nil,
                        permissionsSHA256: nil, sealedTo: sealedTo, secret: "secret")
                }
                let file = SealedFile(recipients: configured, entries: entries)
                #expect(file.headerRecipients == Self.referenceHeader(file), "\(configured) \(layout)")
            }
        }
    }

    @Test("a secret's lines: indented by bytes, and a carriage return kept as the Character split kept it")
    func secretLines() {
        for secret in [
            "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n", "one line", "a\n\nb\n",
            "\n", "", "crlf\r\nlines\r\n", "lone\rreturn\nx", "é\n漢字",
        ] {
            let entry = SealedEntry(
                provider: "prod", bot: "bot", id: "id", origin: .issued, issuedAt: nil, permissionsSHA256: nil,
                sealedTo: [], secret: secret)
            let text = SealedFile(recipients: [], entries: [entry]).render()
            let lines = secret.split(separator: "\n").map { "      \($0)\n" }.joined()
            #expect(text.hasSuffix("    secret: |\n" + lines), "\(secret.debugDescription)")
            #expect(SealedFile(recipients: [], entries: [entry]).renderBytes() == Array(text.utf8))
        }
    }

    @Test("a file of 519 entries writes each entry as a file of that entry alone does")
    func halves() throws {
        let keys = (0..<3).map { _ in AgeIdentity().recipient }
        let base = Date(timeIntervalSince1970: 1_796_000_000)
        var entries: [SealedEntry] = []
        for index in 0..<519 {
            var entry = SealedEntry(
                provider: index % 3 == 0 ? "prod" : "staging eu", bot: "bot-\(index)", id: "id-\(index)",
                origin: index % 5 == 0 ? .adopted : .issued, issuedAt: base.addingTimeInterval(Double(index)),
                permissionsSHA256: index % 2 == 0 ? String(repeating: "ab", count: 32) : nil,
                sealedTo: index % 4 == 0 ? [keys[1], keys[2]] : [keys[0]],
                secret: index % 7 == 0
                    ? nil : "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\(index)\n-----END AGE ENCRYPTED FILE-----\n",
                label: index % 6 == 0 ? "ci" : nil, retiring: index % 9 == 0 ? ["old-\(index)"] : [])
            if index % 11 == 0 { entry.lostTimes = [base] }
            entries.append(entry)
        }
        let file = SealedFile(recipients: [keys[0]], entries: entries)
        #expect(file.entries.count == 519)
        let whole = String(decoding: file.renderBytes(), as: UTF8.self)
        let body = try #require(whole.range(of: "\nentries:\n")).upperBound
        var expected = ""
        for entry in entries.sorted(by: { $0.address < $1.address }) {
            let alone = String(
                decoding: SealedFile(recipients: [keys[0]], entries: [entry]).renderBytes(), as: UTF8.self)
            expected += String(alone[try #require(alone.range(of: "\nentries:\n")).upperBound...])
        }
        #expect(String(whole[body...]) == expected)
    }

    @Test("entries rendered ahead are used only while unchanged: the file is the same bytes either way")
    func prerendered() {
        let key = AgeIdentity().recipient
        let entries = (0..<300).map { index in
            SealedEntry(
                provider: "prod", bot: "bot-\(index)", id: "id-\(index)", origin: .issued, issuedAt: nil,
                permissionsSHA256: nil, sealedTo: [key], secret: "armored \(index)\n")
        }
        var file = SealedFile(recipients: [key], entries: entries)
        var ahead: [String: SealedFile.PrerenderedEntry] = [:]
        for entry in entries { ahead[entry.address] = SealedFile.PrerenderedEntry(entry) }
        #expect(file.renderBytes(prerendered: ahead) == file.renderBytes())
        // Entries that changed after they were rendered ahead (a later record): rendered as they now are.
        file.entries["prod/bot-3"]?.id = "changed"
        file.entries["prod/bot-200"]?.secret = nil
        file.entries["prod/bot-7"] = nil
        let plain = file.renderBytes()
        #expect(file.renderBytes(prerendered: ahead) == plain)
        #expect(String(decoding: plain, as: UTF8.self).contains("id: changed"))
        // A small file the same.
        let small = SealedFile(recipients: [key], entries: Array(entries.prefix(3)))
        #expect(small.renderBytes(prerendered: ahead) == small.renderBytes())
    }
}
