import Foundation

/// A credential value. Its descriptions are redacted, so interpolating it into a log line, an error or
/// a test failure message shows `<redacted>`; only `reveal()` gives the value, at the few places that
/// must have it (encryption, the HTTP body of identify, `botform unseal`).
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The secret itself. Every call site is a place a secret can leave the process.
    public func reveal() -> String { value }

    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}

extension Secret {
    /// Whether text names an age private key (an identity or a plugin identity), in any case: such text
    /// is refused wherever it is given by mistake, and never quoted back in a message.
    public static func namesPrivateKey(_ text: String) -> Bool {
        let upper = text.uppercased()
        return upper.contains("AGE-SECRET-KEY") || upper.contains("AGE-PLUGIN-")
    }

    /// Whether text may hold key material: it names a private key, or has a run of 40 or more letters
    /// and digits (a key's data part, a token), which paths and names never have.
    public static func mayHoldKeyMaterial(_ text: String) -> Bool {
        namesPrivateKey(text) || longestAlphanumericRun(text) >= 40
    }

    /// The longest run of ASCII letters and digits in text: keys and tokens have long ones, paths and
    /// names do not.
    public static func longestAlphanumericRun(_ text: String) -> Int {
        var run = 0
        var longest = 0
        for character in text {
            run = character.isASCII && (character.isLetter || character.isNumber) ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }

    /// Text with every age private key in it (`AGE-SECRET-KEY…`, `AGE-PLUGIN…`, in any case, whatever
    /// follows the prefix: `-`, `=`, a blank) replaced by `<a private key, not repeated>`: messages that
    /// quote what they were given (a scalar of a file that is not a configuration, a path) never carry a
    /// key on.
    public static func redactingKeys(_ text: String) -> String {
        guard namesPrivateKey(text) else { return text }
        var out = ""
        var rest = Substring(text)
        while let range = ["AGE-SECRET-KEY", "AGE-PLUGIN"].compactMap({ rest.range(of: $0, options: .caseInsensitive) })
            .min(by: { $0.lowerBound < $1.lowerBound })
        {
            out += rest[..<range.lowerBound]
            out += "<a private key, not repeated>"
            // The separator as given (or mangled), then the key's data.
            rest = rest[range.upperBound...].drop { "-=_: \t".contains($0) }
                .drop { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
        return out + rest
    }
}
