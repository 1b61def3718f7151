import Foundation
import Testing

@testable import BotformConfig

/// The byte checks that stand in for two of the schema's regular expressions (compiling one cost
/// milliseconds on every run) accept exactly what the expressions accept, except that `$` also matched
/// before a final newline, which no name may end with.
@Suite("schema patterns checked on bytes")
struct SchemaPatternTests {
    static let tenantPattern = "^[a-z0-9][a-z0-9_-]{0,99}$"

    static func matches(_ text: String, _ pattern: String) -> Bool {
        text.range(of: pattern, options: .regularExpression) != nil
    }

    @Test("environment variable names and tenant slugs: the same answers as the regular expressions")
    func sameAnswers() {
        let alphabet = Array("aAzZ09_-. é\t\n$".map(String.init))
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(truncatingIfNeeded: state & 0x7FFF_FFFF)
        }
        var samples = [
            "", "A", "_", "a1", "1a", "FYSO_TOKEN", "fyso-token", "É", "a b", "a\n", "\na", "tenant", "t",
            "my_tenant-1", "-x", "_x", "Upper", String(repeating: "a", count: 100),
            String(repeating: "a", count: 101),
        ]
        for _ in 0..<3_000 {
            let length = next() % 6 == 0 ? 95 + next() % 10 : next() % 8
            samples.append((0..<length).map { _ in alphabet[next() % alphabet.count] }.joined())
        }
        for text in samples {
            let newlineEnded = text.hasSuffix("\n")
            let environment = SchemaPattern.isEnvironmentVariable(text)
            let slug = SchemaPattern.isTenantSlug(text)
            if newlineEnded {
                #expect(!environment && !slug, "\(text.debugDescription) ends with a newline")
            } else {
                #expect(
                    environment == Self.matches(text, SchemaPattern.environmentVariable), "\(text.debugDescription)")
                #expect(slug == Self.matches(text, Self.tenantPattern), "\(text.debugDescription)")
            }
        }
    }
}
