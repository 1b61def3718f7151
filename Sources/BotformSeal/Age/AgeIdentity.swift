import BotformCore
import Crypto
import Foundation

/// An age X25519 identity (`AGE-SECRET-KEY-1…`): the private key that opens sealed values.
public struct AgeIdentity: Sendable, CustomStringConvertible {
    let privateKey: Curve25519.KeyAgreement.PrivateKey

    /// A new random identity.
    public init() {
        privateKey = Curve25519.KeyAgreement.PrivateKey()
    }

    init(privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.privateKey = privateKey
    }

    /// The recipient (public key) that seals to this identity.
    public var recipient: AgeRecipient { AgeRecipient(publicKey: Array(privateKey.publicKey.rawRepresentation)) }

    /// The `AGE-SECRET-KEY-1…` string. It is a secret: callers decide where it may go.
    public var encoded: Secret {
        Secret(Bech32.encode(hrp: "age-secret-key-", data: Array(privateKey.rawRepresentation)).uppercased())
    }

    /// Never the key itself.
    public var description: String { "AgeIdentity(\(recipient))" }

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Parses one `AGE-SECRET-KEY-1…` string.
    public static func parse(_ text: String) throws(ParseError) -> AgeIdentity {
        guard text.hasPrefix("AGE-SECRET-KEY-1") else {
            if text.hasPrefix("AGE-PLUGIN-") || text.hasPrefix("AGE-SECRET-KEY-PQ-") {
                throw ParseError(
                    description:
                        "plugin and post-quantum identities are not supported; use an X25519 identity (AGE-SECRET-KEY-1…)"
                )
            }
            throw ParseError(description: "not an age identity (expected AGE-SECRET-KEY-1…)")
        }
        let decoded: (hrp: String, data: [UInt8])
        do {
            decoded = try Bech32.decode(text)
        } catch {
            throw ParseError(description: "the age identity is damaged: it \(error)")
        }
        guard decoded.hrp == "age-secret-key-", decoded.data.count == 32,
            let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: decoded.data)
        else { throw ParseError(description: "the age identity is damaged: wrong length") }
        return AgeIdentity(privateKey: key)
    }

    /// Parses an identity file as age-keygen writes it: `#` comments, blank lines, one key per line.
    public static func parseFile(_ text: String) throws(ParseError) -> [AgeIdentity] {
        var identities: [AgeIdentity] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                identities.append(try parse(line))
            } catch {
                throw ParseError(description: "line \(number + 1): \(error.description)")
            }
        }
        guard !identities.isEmpty else { throw ParseError(description: "no identity (AGE-SECRET-KEY-1…) found") }
        return identities
    }

    /// The identity file `botform keygen` writes, like age-keygen's.
    public func fileContents(created: Date = Date()) -> Secret {
        Secret("# created: \(created.formatted(.iso8601))\n# public key: \(recipient)\n\(encoded.reveal())\n")
    }

    /// Writes the identity file to `path` as a new file, mode 0600 from its creation. Returns false, writing
    /// nothing, when `path` exists: a key is never overwritten.
    public func writeNewFile(at path: String, created: Date = Date()) throws -> Bool {
        try AtomicFile.createNew(path, with: Array(fileContents(created: created).reveal().utf8))
    }
}
