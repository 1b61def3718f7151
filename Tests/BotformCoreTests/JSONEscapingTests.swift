import BotformCore
import Foundation
import Testing

/// Strings without anything to escape are written whole; the rest take the byte-by-byte path. Both
/// must write what a JSON reader reads back to the same string, with the escapes Botform promises.
@Suite("JSON string writing")
struct JSONEscapingTests {
    @Test("plain, escaped and lookalike strings read back unchanged, with the promised escapes")
    func roundTrips() throws {
        let cases: [(String, String)] = [
            ("plain", #""plain""#),
            ("", #""""#),
            ("é ü 漢字 😀", #""é ü 漢字 😀""#),
            ("quote \" and backslash \\", #""quote \" and backslash \\""#),
            ("tab\tnew\nline\r", #""tab\tnew\nline\r""#),
            ("\u{1}\u{1F}\u{7F}", #""\u0001\u001f\u007f""#),
            ("C1 \u{85} and \u{9F}", #""C1 \u0085 and \u009f""#),
            // 0xC2 also leads ordinary characters: only C1 controls are escaped.
            ("\u{A0}£©", "\"\u{A0}£©\""),
            ("separators \u{2028}\u{2029}", #""separators \u2028\u2029""#),
            // 0xE2 also leads ordinary characters: only the two separators are escaped.
            ("€ … ™ \u{2027}\u{202A}", "\"€ … ™ \u{2027}\u{202A}\""),
        ]
        for (text, expected) in cases {
            let written = JSONValue.string(text).serialized(pretty: false)
            #expect(written == expected, "\(text.debugDescription)")
            let read = try JSONSerialization.jsonObject(with: Data("[\(written)]".utf8)) as? [String]
            #expect(read == [text], "\(text.debugDescription)")
        }
    }

    @Test("random strings over the escaping edge cases read back unchanged", arguments: 0..<4)
    func generated(seed: UInt64) throws {
        let alphabet: [String] = [
            "a", "Z", "0", " ", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{7F}", "\u{80}", "\u{85}",
            "\u{9F}", "\u{A0}", "é", "\u{2028}", "\u{2029}", "€", "…", "😀", "/",
        ]
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<500 {
            let text = (0..<(next() % 12)).map { _ in alphabet[next() % alphabet.count] }.joined()
            let written = JSONValue.string(text).serialized(pretty: false)
            let read = try JSONSerialization.jsonObject(with: Data("[\(written)]".utf8)) as? [String]
            #expect(read == [text], "\(text.debugDescription) -> \(written)")
            #expect(!written.utf8.dropFirst().dropLast().contains { $0 < 0x20 }, "no raw control byte")
        }
    }
}
