import BotformConfig
import BotformCore
import Foundation
import Testing

/// The loader must never crash, hang or balloon, whatever it is given; each case ends in located
/// diagnostics (or a clean result).
@Suite("Loader robustness", .timeLimit(.minutes(1)))
struct RobustnessTests {
    func load(_ bytes: [UInt8], name: String = "input.yaml") -> LoadedConfig {
        ConfigLoader.load(sources: [ConfigSource(path: name, bytes: bytes)], baseDirectory: ".")
    }

    func load(_ text: String) -> LoadedConfig { load(Array(text.utf8)) }

    func messages(_ loaded: LoadedConfig) -> [String] { loaded.diagnostics.all.map(\.description) }

    @Test("an empty file is an empty configuration, missing only its version")
    func emptyFile() {
        for text in ["", "\n\n", "# only a comment\n", "---\n", "~\n"] {
            let loaded = load(text)
            #expect(
                messages(loaded) == [
                    #"input.yaml:1:1: error: missing required key "version"; add "version: 1" at the top"#
                ], "\(text.debugDescription)")
        }
    }

    @Test("a file with only a version is a valid, empty configuration")
    func onlyVersion() throws {
        let state = try #require(load("version: 1\n").state)
        #expect(state.bots.isEmpty && state.providers.isEmpty)
    }

    @Test("binary garbage gives a located error, never a crash")
    func binaryGarbage() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 1...4096, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
            let loaded = load(bytes)
            #expect(loaded.state == nil)
            #expect(loaded.diagnostics.errors.allSatisfy { $0.location != nil })
        }
    }

    @Test("a NUL byte is reported where it is")
    func nulByte() {
        let loaded = load(Array("version: 1\nbots:\n  a\u{0}b: {}\n".utf8))
        #expect(
            messages(loaded) == [
                "input.yaml:3:4: error: file contains a control character (byte 0x00); is it a binary file?"
            ])
    }

    @Test("non-UTF-8 text is reported at the offending byte")
    func latin1() {
        var bytes = Array("version: 1\nbots:\n  caf".utf8)
        bytes += [0xE9] + Array(": {}\n".utf8)
        #expect(
            messages(load(bytes)) == ["input.yaml:3:6: error: file is not valid UTF-8 (byte 0xE9); save it as UTF-8"])
    }

    @Test("UTF-16 is recognised and refused with the fix")
    func utf16() {
        let bytes: [UInt8] = [0xFF, 0xFE] + Array("version: 1".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(messages(load(bytes)) == ["input.yaml:1:1: error: file is UTF-16; save it as UTF-8"])
    }

    @Test("a UTF-8 byte order mark is accepted")
    func byteOrderMark() {
        #expect(load([0xEF, 0xBB, 0xBF] + Array("version: 1\n".utf8)).state != nil)
    }

    @Test("deep flow nesting is refused by the parser, without recursion")
    func deepFlowNesting() {
        let loaded = load("version: 1\nbots: " + String(repeating: "[", count: 200_000))
        #expect(loaded.state == nil)
        #expect(messages(loaded).contains { $0.contains("nesting is too deep") })
    }

    @Test("deep block nesting is refused by the parser")
    func deepBlockNesting() {
        var text = "version: 1\nroles:\n"
        for depth in 0..<3_000 { text += String(repeating: " ", count: depth + 1) + "k:\n" }
        let loaded = load(text)
        #expect(loaded.state == nil)
        #expect(loaded.diagnostics.errors.count < 10)
    }

    @Test("a file over the size limit is refused before parsing")
    func hugeFile() {
        let bytes = [UInt8](repeating: UInt8(ascii: "#"), count: (64 << 20) + 1)
        #expect(
            messages(load(bytes)) == [
                "input.yaml:1:1: error: file is 64 MiB; configuration files are limited to 64 MiB"
            ])
    }

    @Test("a very long scalar is fine")
    func longScalar() {
        let text =
            "version: 1\nproviders: {local: {type: fyso, url: embedded}}\nbots:\n  agent:\n"
            + "    permissions: {products: [read]}\n    description: \(String(repeating: "x", count: 5_000_000))\n"
        let state = load(text).state
        #expect(state?.bots.first?.description?.count == 5_000_000)
    }

    static let billionLaughs = """
        version: 1
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
        bots: *i

        """

    @Test("a billion-laughs alias bomb is refused at the alias that crosses the limit")
    func billionLaughs() {
        let loaded = load(Self.billionLaughs)
        #expect(loaded.state == nil)
        let errors = loaded.diagnostics.errors
        #expect(errors.count == 1)
        #expect(errors.first?.message.contains("alias bomb") == true)
        #expect(errors.first?.location?.line == 7)
    }

    @Test("an alias bomb used as a mapping key is refused too")
    func aliasBombAsKey() {
        let text = Self.billionLaughs.replacingOccurrences(of: "bots: *i", with: "roles:\n  ? *i\n  : x")
        let loaded = load(text)
        #expect(loaded.state == nil)
        #expect(loaded.diagnostics.errors.contains { $0.message.contains("alias bomb") })
    }

    @Test("many small aliases add up and are refused")
    func quadraticAliases() {
        var text = "version: 1\nx: &x [" + Array(repeating: "a", count: 1_000).joined(separator: ",") + "]\ny: ["
        text += Array(repeating: "*x", count: 500).joined(separator: ",") + "]\n"
        #expect(load(text).diagnostics.errors.contains { $0.message.contains("alias bomb") })
    }

    @Test("random damage to a valid file never crashes and every diagnostic is located inside the file")
    func mutations() throws {
        let fixture = Fixture.root.appendingPathComponent("valid/every-feature.yaml")
        let original = try [UInt8](Data(contentsOf: fixture))
        var generator = SplitMix64(seed: 7)
        let alphabet = Array(" \n\t:-[]{}#&*!|>'\",?%@`abcz019".utf8)
        for _ in 0..<1_500 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes.remove(at: index)
                case 1: bytes.insert(alphabet.randomElement(using: &generator) ?? 32, at: index)
                default: bytes[index] = alphabet.randomElement(using: &generator) ?? 32
                }
            }
            let lines = bytes.filter { $0 == 10 }.count + 1
            let loaded = load(bytes)
            for diagnostic in loaded.diagnostics.all {
                let location = try #require(diagnostic.location, "\(diagnostic)")
                #expect((1...lines).contains(location.line) && location.column >= 1, "\(diagnostic)")
            }
        }
    }
}
