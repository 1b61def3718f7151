import BotformCore
import Testing

/// Messages that quote what they read never carry a private key on, however its prefix was written.
@Suite("private keys in messages")
struct RedactingKeysTests {
    static let data = "15Z9PQRSTUVWXYZ023456789ACDEFGHJKLMNPQRSTUVWXYZ0234567893"

    @Test("every spelling of the prefix, and what follows it, is replaced")
    func prefixes() {
        for key in [
            "AGE-SECRET-KEY-1\(Self.data)", "AGE-SECRET-KEY=\(Self.data)", "AGE-SECRET-KEY \(Self.data)",
            "age-secret-key-1\(Self.data.lowercased())", "AGE-PLUGIN-YUBIKEY-1\(Self.data)",
            "AGE-SECRET-KEY:\(Self.data)",
        ] {
            let message = Secret.redactingKeys("found the string \"\(key)\" at the top level")
            #expect(message == "found the string \"<a private key, not repeated>\" at the top level", "\(key)")
        }
        #expect(
            Secret.redactingKeys("two: AGE-SECRET-KEY-1AB, AGE-SECRET-KEY-1CD.")
                == "two: <a private key, not repeated>, <a private key, not repeated>.")
    }

    @Test("other text, recipients included, is left as it was")
    func others() {
        for text in [
            "recipient \"age1\(Self.data.lowercased())\" has a bad checksum",
            "invalid bot name \"a\": must be 3-50 characters long (it has 1)", "age-secret is not a key", "",
        ] {
            #expect(Secret.redactingKeys(text) == text)
        }
    }
}
