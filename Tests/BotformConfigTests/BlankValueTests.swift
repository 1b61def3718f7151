import BotformConfig
import BotformCore
import Foundation
import Testing

/// A value made only of whitespace is empty: the check runs per scalar (without Foundation's string
/// bridging) and must blank exactly what `trimmingCharacters(in: .whitespaces)` blanks.
@Suite("Blank values")
struct BlankValueTests {
    @Test(
        "output.sealed of whitespace only is an error, whichever whitespace",
        arguments: [
            "\t", " \u{3000}", "\u{00A0}", "\u{2003}", "\u{2009}", "\u{200B}", "\u{180E}", "\u{0085}",
        ])
    func blankSealedPath(_ blank: String) {
        let quoted = blank.unicodeScalars.map { String(format: "\\u%04X", $0.value) }.joined()
        let text = """
            version: 1
            providers:
              prod: {type: fyso, url: embedded, tenant: t}
            bots:
              agent: {}
            output:
              sealed: "\(quoted)"

            """
        let loaded = ConfigLoader.load(sources: [ConfigSource(path: "botform.yaml", text: text)], baseDirectory: ".")
        let expectBlank = blank.trimmingCharacters(in: .whitespaces).isEmpty
        let reported = loaded.diagnostics.errors.contains { $0.message.contains("\"sealed\" must not be empty") }
        #expect(reported == expectBlank, "\(quoted): \(loaded.diagnostics.all.map(\.description))")
    }
}
