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

    /// Why text is not an identity. It never quotes the text (a damaged key is still most of a key), nor even
    /// names the key prefix, so that a search of logs for that prefix finds only real leaks.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// The 1-based line of an identity file (`parseFile`), or nil for a single key or a whole file.
        public var line: Int?
        /// What is wrong and, when known, what to do.
        public var reason: String

        public init(line: Int? = nil, _ reason: String) {
            self.line = line
            self.reason = reason
        }

        public var description: String { line.map { "line \($0): \(reason)" } ?? reason }
    }

    /// The prefix of every X25519 identity.
    public static let prefix = "AGE-SECRET-KEY-1"
    /// The length of an encoded X25519 identity: the prefix, 52 data characters and a 6-character checksum.
    static let encodedLength = 74

    /// Parses one `AGE-SECRET-KEY-1…` string (surrounding whitespace ignored).
    public static func parse(_ text: String) throws(ParseError) -> AgeIdentity {
        let key = text.trimmingCharacters(in: .whitespacesAndNewlines.union(["\u{FEFF}"]))
        let upper = key.uppercased()
        guard !key.isEmpty else { throw ParseError("empty; expected an age identity") }
        if upper.hasPrefix("AGE-PLUGIN-") || upper.hasPrefix("AGE-SECRET-KEY-PQ-") {
            throw ParseError(
                "plugin and post-quantum identities are not supported; use an X25519 identity, as botform keygen makes")
        }
        if let recipient = try? AgeRecipient.parse(key) {
            throw ParseError(
                "this is a recipient (public key) \(recipient), not an identity; use the secret key line of the file botform keygen or age-keygen wrote"
            )
        }
        if key.hasPrefix("-----BEGIN") || key.hasPrefix("ssh-") {
            throw ParseError("SSH and PEM keys are not supported; use an age X25519 identity, as botform keygen makes")
        }
        guard upper.hasPrefix("AGE-SECRET-KEY-") else {
            throw ParseError(
                upper.contains("AGE-SECRET-KEY-")
                    ? "an age identity with something before it on the line (quotes, a name, a prefix?); put the key alone on its line"
                    : "not an age identity (a secret key line, as botform keygen or age-keygen write)")
        }
        guard upper.hasPrefix(prefix) else {
            throw ParseError("the age identity is damaged: its prefix is wrong")
        }
        if key != upper {
            throw ParseError(
                key == key.lowercased()
                    ? "the age identity is in lower case; age identities are upper case"
                    : "the age identity mixes upper and lower case; age identities are upper case")
        }
        let alphabet = Set("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")
        if let index = key.dropFirst(prefix.count).firstIndex(where: { !alphabet.contains($0) }) {
            let position = key.distance(from: key.startIndex, to: index) + 1
            throw ParseError(
                "the age identity is damaged: character \(position) is not one Bech32 uses (a typo, or a space or quote picked up in copying?)"
            )
        }
        guard key.count == encodedLength else {
            throw ParseError(
                "the age identity is damaged: it has \(key.count) characters, not \(encodedLength) (\(key.count < encodedLength ? "cut off" : "something was added"))"
            )
        }
        let decoded: (hrp: String, data: [UInt8])
        do {
            decoded = try Bech32.decode(key)
        } catch {
            throw ParseError(
                error == .badChecksum
                    ? "the age identity is damaged: its checksum does not match (a character was mistyped or changed)"
                    : "the age identity is damaged: it \(error)")
        }
        guard decoded.hrp == "age-secret-key-", decoded.data.count == 32,
            let privateKey = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: decoded.data)
        else { throw ParseError("the age identity is damaged: wrong length") }
        return AgeIdentity(privateKey: privateKey)
    }

    /// Parses an identity file as age-keygen writes it: `#` comments, blank lines, one key per line, LF or CRLF.
    public static func parseFile(_ text: String) throws(ParseError) -> [AgeIdentity] {
        try parseFileLines(text).map(\.identity)
    }

    /// Parses an identity file like `parseFile`, with the 1-based line each identity is on.
    public static func parseFileLines(_ text: String) throws(ParseError) -> [(line: Int, identity: AgeIdentity)] {
        var identities: [(line: Int, identity: AgeIdentity)] = []
        // Splitting on `isNewline` (not "\n") also splits CRLF, which Swift holds as one Character.
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines.union(["\u{FEFF}"]))
            if line.isEmpty || line.hasPrefix("#") { continue }
            do {
                identities.append((number + 1, try parse(line)))
            } catch {
                throw ParseError(line: number + 1, error.reason)
            }
        }
        guard !identities.isEmpty else {
            let blank = text.trimmingCharacters(in: .whitespacesAndNewlines.union(["\u{FEFF}"])).isEmpty
            throw ParseError(
                blank
                    ? "empty: no identity in it"
                    : "no identity in it, only comments")
        }
        return identities
    }

    /// Whether text may hold (part of) a private key, so that a message must not quote it: it names an age
    /// secret or plugin key, or has a run of 40 or more letters and digits, as a mangled key would.
    public static func mayHoldKeyMaterial(_ text: String) -> Bool {
        Secret.mayHoldKeyMaterial(text)
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
