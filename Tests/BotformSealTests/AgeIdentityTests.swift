import BotformCore
import Foundation
import Testing

@testable import BotformSeal

@Suite("AgeIdentity parsing: every form of key file, and errors that never quote the key")
struct AgeIdentityTests {
    let identity = AgeIdentity()
    var key: String { identity.encoded.reveal() }

    func replacing(_ offset: Int, with character: Character) -> String {
        var characters = Array(key)
        characters[offset] = character
        return String(characters)
    }

    /// The error's text, checked to hold neither the prefix nor 12 characters running of the key's data.
    func reason(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> String {
        do {
            _ = try AgeIdentity.parse(text)
            Issue.record("parsed: a damaged key was accepted", sourceLocation: sourceLocation)
            return ""
        } catch {
            let description = error.description
            #expect(
                !description.uppercased().contains("AGE-SECRET-KEY"), "\(description)", sourceLocation: sourceLocation)
            let data = Array(key.dropFirst(AgeIdentity.prefix.count))
            for start in 0...(data.count - 12) {
                #expect(
                    !description.uppercased().contains(String(data[start..<start + 12])), "\(description)",
                    sourceLocation: sourceLocation)
            }
            return description
        }
    }

    @Test("the encoded key is 74 characters and round-trips, with surrounding whitespace")
    func roundTrip() throws {
        #expect(key.count == AgeIdentity.encodedLength)
        #expect(try AgeIdentity.parse(" \(key)\r\n").recipient == identity.recipient)
        #expect(try AgeIdentity.parse("\u{FEFF}\(key)").recipient == identity.recipient)
    }

    @Test("damaged keys are refused with what is wrong and where, never the key")
    func damaged() {
        let firstLetter = Array(key).indices.first { $0 >= 16 && Array(key)[$0].isLetter } ?? 16
        let at30 = Array(key)[30]
        #expect(reason(replacing(30, with: at30 == "Q" ? "P" : "Q")).contains("checksum"))
        #expect(reason(key.lowercased()).contains("lower case"))
        #expect(
            reason(replacing(firstLetter, with: Character(Array(key)[firstLetter].lowercased()))).contains(
                "mixes upper and lower case"))
        #expect(reason(String(key.prefix(60))).contains("60 characters, not 74 (cut off)"))
        #expect(reason(key + "Q").contains("75 characters, not 74 (something was added)"))
        #expect(reason(replacing(30, with: "O")).contains("character 31 is not one Bech32 uses"))
        #expect(reason(replacing(40, with: " ")).contains("character 41"))
        #expect(reason("\"\(key)\"").contains("something before it"))
        #expect(reason("export K=\(key)").contains("something before it"))
        #expect(reason("AGE-SECRET-KEY-2" + key.dropFirst(16)).contains("prefix is wrong"))
        #expect(reason("AGE-PLUGIN-YUBIKEY-1" + key.dropFirst(16)).contains("not supported"))
        #expect(reason("AGE-SECRT-KEY-1" + key.dropFirst(16)).contains("not an age identity"))
        #expect(reason("").contains("empty"))
        #expect(reason("-----BEGIN OPENSSH PRIVATE KEY-----").contains("SSH"))
    }

    @Test("a recipient where an identity belongs is named, since it is public")
    func recipient() {
        let text = reason(identity.recipient.description)
        #expect(text.hasPrefix("this is a recipient (public key) \(identity.recipient), not an identity"))
    }

    @Test("key files: comments, blank lines, CRLF, a BOM, several keys, with each key's line")
    func files() throws {
        let other = AgeIdentity()
        let text =
            "\u{FEFF}# created: 2026-01-01T00:00:00Z\r\n# public key: \(identity.recipient)\r\n\(key)\r\n\r\n  \(other.encoded.reveal())  \r\n"
        let parsed = try AgeIdentity.parseFileLines(text)
        #expect(parsed.map(\.line) == [3, 5])
        #expect(parsed.map(\.identity.recipient) == [identity.recipient, other.recipient])
        #expect(try AgeIdentity.parseFile(identity.fileContents().reveal()).map(\.recipient) == [identity.recipient])
    }

    @Test("a bad line in a key file is reported by number, without its text")
    func fileErrors() {
        let damaged = replacing(30, with: Array(key)[30] == "Q" ? "P" : "Q")
        #expect(throws: AgeIdentity.ParseError(line: 4, reason(damaged))) {
            try AgeIdentity.parseFile("# a\r\n# b\r\n\r\n\(damaged)\r\n\(key)\r\n")
        }
        #expect(throws: AgeIdentity.ParseError("empty: no identity in it")) {
            try AgeIdentity.parseFile(" \n\r\n")
        }
        #expect(throws: AgeIdentity.ParseError("no identity in it, only comments")) {
            try AgeIdentity.parseFile("# public key: age1…\n")
        }
        #expect(AgeIdentity.ParseError(line: 4, "x").description == "line 4: x")
    }

    @Test("key material is recognised in any case, and in a mangled key; paths are not")
    func keyMaterial() {
        #expect(AgeIdentity.mayHoldKeyMaterial(key))
        #expect(AgeIdentity.mayHoldKeyMaterial(key.lowercased()))
        #expect(AgeIdentity.mayHoldKeyMaterial("AGE-SECRT-KEY-1" + key.dropFirst(16)))
        #expect(AgeIdentity.mayHoldKeyMaterial(String(key.dropFirst(16))))
        #expect(!AgeIdentity.mayHoldKeyMaterial("/home/ci/.config/botform/key.txt"))
        #expect(!AgeIdentity.mayHoldKeyMaterial("/tmp/botform-test-6F1C2B5E-3C1A-4F5B-9D0E-2A7B8C9D0E1F/key.txt"))
    }
}
