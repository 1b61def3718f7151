/// An age X25519 recipient (`age1…`): the public key secrets are sealed to.
public struct AgeRecipient: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The 32-byte X25519 public key.
    public let publicKey: [UInt8]

    public init(publicKey: [UInt8]) {
        precondition(publicKey.count == 32, "an X25519 public key is 32 bytes")
        self.publicKey = publicKey
    }

    /// The canonical `age1…` form.
    public var description: String { Bech32.encode(hrp: "age", data: publicKey) }

    /// Parses an `age1…` string, explaining what is wrong when it is not a valid recipient.
    public static func parse(_ text: String) throws(RecipientError) -> AgeRecipient {
        if text.hasPrefix("AGE-SECRET-KEY-") {
            throw RecipientError(
                "this is a secret key (an identity), not a recipient; give its public key, which `botform keygen` and `age-keygen -y` print"
            )
        }
        if text.hasPrefix("ssh-") {
            throw RecipientError("ssh recipients are not supported; use an age X25519 recipient (age1…)")
        }
        let decoded: (hrp: String, data: [UInt8])
        do {
            decoded = try Bech32.decode(text)
        } catch {
            throw RecipientError("not a valid age recipient: it \(error)")
        }
        guard text == text.lowercased() else {
            throw RecipientError("an age recipient is written in lower case")
        }
        if decoded.hrp.hasPrefix("age1") {
            throw RecipientError(
                "age plugin recipients are not supported; use an X25519 recipient (age1…, from `botform keygen` or `age-keygen`)"
            )
        }
        guard decoded.hrp == "age" else {
            throw RecipientError("an age X25519 recipient starts with \"age1\" (found \"\(decoded.hrp)1\")")
        }
        guard decoded.data.count == 32 else {
            throw RecipientError("not a valid age recipient: it holds \(decoded.data.count) bytes, not 32")
        }
        return AgeRecipient(publicKey: decoded.data)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try AgeRecipient.parse(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Why a string is not an age recipient.
public struct RecipientError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
