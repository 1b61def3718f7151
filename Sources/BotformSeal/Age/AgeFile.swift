import BotformCore
import Crypto
import Foundation

/// The age file format, version 1 (age-encryption.org/v1), for X25519 recipients: header of recipient
/// stanzas with its MAC, then the payload in ChaCha20-Poly1305 STREAM chunks of 64 KiB.
public enum AgeFile {
    static let versionLine = "age-encryption.org/v1"
    static let chunkSize = 64 * 1_024
    static let x25519Label = "age-encryption.org/v1/X25519"

    // MARK: Encrypt

    /// Encrypts `plaintext` to every recipient; returns the binary age file. Bytes are assembled
    /// directly (no intermediate strings): apply seals one secret per action.
    public static func encrypt(_ plaintext: [UInt8], to recipients: [AgeRecipient]) throws -> [UInt8] {
        precondition(!recipients.isEmpty, "age needs at least one recipient")
        let fileKey = randomBytes(16)
        var output: [UInt8] = []
        output.reserveCapacity(200 + recipients.count * 120 + plaintext.count + (plaintext.count / chunkSize + 1) * 16)
        output += versionLineBytes
        for recipient in recipients {
            let ephemeral = Curve25519.KeyAgreement.PrivateKey()
            let share = Array(ephemeral.publicKey.rawRepresentation)
            let theirs = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: recipient.publicKey)
            let shared = try ephemeral.sharedSecretFromKeyAgreement(with: theirs)
            let wrapKey = hkdf(
                shared.withUnsafeBytes { Array($0) }, salt: share + recipient.publicKey, info: x25519Label)
            let body = try seal(fileKey, key: wrapKey, nonce: zeroNonce)
            output += stanzaPrefix
            output += Base64.encode(share, padded: false).utf8
            output.append(0x0A)
            output += wrap(Base64.encode(body, padded: false)).utf8
        }
        output += macLinePrefix
        let mac = HMAC<SHA256>.authenticationCode(
            for: output, using: SymmetricKey(data: hkdf(fileKey, salt: [], info: "header")))
        output.append(0x20)
        output += Base64.encode(Array(mac), padded: false).utf8
        output.append(0x0A)

        let nonce = randomBytes(16)
        let payloadKey = SymmetricKey(data: hkdf(fileKey, salt: nonce, info: "payload"))
        output += nonce
        var counter: UInt64 = 0
        var offset = 0
        repeat {
            let end = min(offset + chunkSize, plaintext.count)
            let box = try ChaChaPoly.seal(
                plaintext[offset..<end], using: payloadKey,
                nonce: ChaChaPoly.Nonce(data: chunkNonce(counter, last: end == plaintext.count)))
            output += box.ciphertext
            output += box.tag
            counter += 1
            offset = end
        } while offset < plaintext.count
        return output
    }

    private static let versionLineBytes = Array("age-encryption.org/v1\n".utf8)
    private static let stanzaPrefix = Array("-> X25519 ".utf8)
    private static let macLinePrefix = Array("---".utf8)
    private static let zeroNonce = [UInt8](repeating: 0, count: 12)

    /// Body lines: 64 columns, then a final shorter line (possibly empty).
    private static func wrap(_ encoded: String) -> String {
        let bytes = Array(encoded.utf8)
        var text = ""
        var index = 0
        while bytes.count - index >= 64 {
            text += String(decoding: bytes[index..<(index + 64)], as: UTF8.self) + "\n"
            index += 64
        }
        return text + String(decoding: bytes[index...], as: UTF8.self) + "\n"
    }

    // MARK: Decrypt

    /// Decrypts a binary or armored age file with the first identity that matches. Plaintext is
    /// appended to `released` chunk by chunk, each only after its tag verified.
    public static func decrypt(_ file: [UInt8], identities: [AgeIdentity], released: inout [UInt8]) throws(AgeError) {
        try decrypt(file, armored: AgeArmor.isArmored(file), identities: identities, released: &released)
    }

    /// Decrypts with the armor decided by the caller (a file declared armored must be armored).
    public static func decrypt(_ file: [UInt8], armored: Bool, identities: [AgeIdentity], released: inout [UInt8])
        throws(AgeError)
    {
        let bytes = armored ? try AgeArmor.dearmor(file) : file
        let header = try Header.parse(bytes)
        let fileKey = try unwrap(header, identities: identities)
        let macKey = SymmetricKey(data: hkdf(fileKey, salt: [], info: "header"))
        guard HMAC<SHA256>.isValidAuthenticationCode(header.mac, authenticating: header.macInput, using: macKey) else {
            throw .hmac
        }
        let rest = bytes[header.length...]
        guard rest.count >= 16 else { throw .header("the payload nonce is missing or short") }
        let payloadKey = hkdf(fileKey, salt: Array(rest.prefix(16)), info: "payload")
        try decryptPayload(Array(rest.dropFirst(16)), key: payloadKey, released: &released)
    }

    /// Decrypts and returns the whole plaintext.
    public static func decrypt(_ file: [UInt8], identities: [AgeIdentity]) throws(AgeError) -> [UInt8] {
        var released: [UInt8] = []
        try decrypt(file, identities: identities, released: &released)
        return released
    }

    private static func unwrap(_ header: Header, identities: [AgeIdentity]) throws(AgeError) -> [UInt8] {
        if header.stanzas.contains(where: { $0.type == "scrypt" }), header.stanzas.count > 1 {
            throw .header("an scrypt stanza must be alone in the header")
        }
        for stanza in header.stanzas where stanza.type == "X25519" {
            guard stanza.arguments.count == 1 else { throw .header("an X25519 stanza takes exactly one argument") }
            guard let share = Base64.decode(Array(stanza.arguments[0].utf8), padded: false), share.count == 32 else {
                throw .header("an X25519 share must be 32 bytes of canonical base64")
            }
            guard stanza.body.count == 32 else { throw .header("an X25519 stanza body must be 32 bytes") }
            for identity in identities {
                guard let ephemeral = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: share) else {
                    throw .header("invalid X25519 share")
                }
                guard let shared = try? identity.privateKey.sharedSecretFromKeyAgreement(with: ephemeral) else {
                    throw .header("the X25519 share is a low-order point")
                }
                let secret = shared.withUnsafeBytes { Array($0) }
                guard secret.contains(where: { $0 != 0 }) else {
                    throw .header("the X25519 shared secret is all zero (low-order share)")
                }
                let recipient = Array(identity.privateKey.publicKey.rawRepresentation)
                let wrapKey = hkdf(secret, salt: share + recipient, info: x25519Label)
                if let fileKey = try? open(stanza.body, key: wrapKey, nonce: [UInt8](repeating: 0, count: 12)) {
                    guard fileKey.count == 16 else { throw .header("the file key must be 16 bytes") }
                    return fileKey
                }
            }
        }
        throw .noMatch
    }

    /// STREAM decryption, releasing each chunk once it authenticates, as the reference does: a chunk
    /// that opens as final but is followed by data, or a last chunk that opens only as non-final, is
    /// released and then reported as the payload failure it is.
    private static func decryptPayload(_ payload: [UInt8], key: [UInt8], released: inout [UInt8]) throws(AgeError) {
        let sealedChunk = chunkSize + 16
        guard !payload.isEmpty else { throw .payload("no chunks") }
        var offset = 0
        var counter: UInt64 = 0
        while offset < payload.count {
            let end = min(offset + sealedChunk, payload.count)
            let chunk = Array(payload[offset..<end])
            guard chunk.count >= 16 else { throw .payload("a chunk is shorter than its tag") }
            let atEnd = end == payload.count
            if let plain = try? open(chunk, key: key, nonce: chunkNonce(counter, last: atEnd)) {
                if atEnd, plain.isEmpty, counter > 0 { throw .payload("the final chunk is empty") }
                released += plain
            } else if !atEnd || chunk.count == sealedChunk,
                let plain = try? open(chunk, key: key, nonce: chunkNonce(counter, last: !atEnd))
            {
                // A short chunk can only be final; a full one at the end may be a truncated file.
                if !atEnd, plain.isEmpty, counter > 0 { throw .payload("the final chunk is empty") }
                released += plain
                throw .payload(
                    atEnd
                        ? "the last chunk is not marked final (the file is truncated)" : "data follows the final chunk")
            } else {
                throw .payload("a chunk failed to authenticate")
            }
            offset = end
            counter += 1
        }
    }

    // MARK: Primitives

    static func hkdf(_ secret: [UInt8], salt: [UInt8], info: String) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret), salt: salt, info: Array(info.utf8), outputByteCount: 32)
        return key.withUnsafeBytes { Array($0) }
    }

    static func chunkNonce(_ counter: UInt64, last: Bool) -> [UInt8] {
        [0, 0, 0] + (0..<8).map { UInt8(truncatingIfNeeded: counter >> UInt64(56 - $0 * 8)) } + [last ? 1 : 0]
    }

    static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8]) throws -> [UInt8] {
        let box = try ChaChaPoly.seal(plaintext, using: SymmetricKey(data: key), nonce: ChaChaPoly.Nonce(data: nonce))
        return Array(box.ciphertext) + Array(box.tag)
    }

    static func open(_ sealed: [UInt8], key: [UInt8], nonce: [UInt8]) throws -> [UInt8] {
        let box = try ChaChaPoly.SealedBox(
            nonce: ChaChaPoly.Nonce(data: nonce), ciphertext: sealed.dropLast(16), tag: sealed.suffix(16))
        return Array(try ChaChaPoly.open(box, using: SymmetricKey(data: key)))
    }

    /// Random bytes from the system's CSPRNG (through BoringSSL: one call, not one per byte).
    static func randomBytes(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        return SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }
}

/// The parsed header: stanzas, the MAC, and where the payload starts.
struct Header {
    struct Stanza {
        var type: String
        var arguments: [String]
        var body: [UInt8]
    }

    var stanzas: [Stanza]
    var mac: [UInt8]
    /// The header bytes the MAC covers (through `---`).
    var macInput: [UInt8]
    /// The header's length in bytes, up to and including the MAC line's newline.
    var length: Int

    /// Parses strictly: LF line ends, the version line, stanzas with canonical base64 bodies in 64-column
    /// lines ending with a short line, and the `--- <MAC>` line.
    static func parse(_ bytes: [UInt8]) throws(AgeError) -> Header {
        var position = 0
        func line() throws(AgeError) -> [UInt8] {
            guard let newline = bytes[position...].firstIndex(of: 0x0A) else {
                throw .header("the header is truncated")
            }
            let text = Array(bytes[position..<newline])
            position = newline + 1
            return text
        }
        guard try line() == Array(AgeFile.versionLine.utf8) else {
            throw .header("unsupported version line (expected \(AgeFile.versionLine))")
        }
        var stanzas: [Stanza] = []
        while true {
            let lineStart = position
            let current = try line()
            if current.starts(with: Array("---".utf8)) {
                guard current.count > 4, current[3] == 0x20 else { throw .header("malformed MAC line") }
                guard let mac = Base64.decode(current[4...], padded: false), mac.count == 32 else {
                    throw .header("the header MAC must be 32 bytes of canonical base64")
                }
                return Header(stanzas: stanzas, mac: mac, macInput: Array(bytes[..<(lineStart + 3)]), length: position)
            }
            guard current.starts(with: Array("-> ".utf8)) else {
                throw .header("expected a stanza (\"-> \") or the MAC line (\"---\")")
            }
            let words = current.dropFirst(3).split(separator: 0x20, omittingEmptySubsequences: false).map { Array($0) }
            guard !words.isEmpty, words.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= 33 && $0 <= 126 } }) else {
                throw .header("stanza arguments must be non-empty printable ASCII")
            }
            var body: [UInt8] = []
            while true {
                let bodyLine = try line()
                guard bodyLine.count <= 64 else { throw .header("a stanza body line is longer than 64 columns") }
                body += bodyLine
                if bodyLine.count < 64 { break }
            }
            guard let decoded = Base64.decode(body, padded: false) else {
                throw .header("a stanza body is not canonical base64")
            }
            stanzas.append(
                Stanza(
                    type: String(decoding: words[0], as: UTF8.self),
                    arguments: words.dropFirst().map { String(decoding: $0, as: UTF8.self) }, body: decoded))
        }
    }
}
