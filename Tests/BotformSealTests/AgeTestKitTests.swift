import BotformCore
import Foundation
import Testing

@testable import BotformSeal

/// One vector of the community age test kit (C2SP CCTV age/testdata), read from `BOTFORM_AGE_TESTKIT`
/// or `../shared/age-testkit`; never copied into this repository.
struct TestKitVector: Sendable, CustomTestStringConvertible {
    var name: String
    var expect: String
    var payloadSHA256: String?
    var identities: [String]
    var passphrases: Int
    var compressed: Bool
    var armored = false
    var unknownKeys: Bool
    var body: [UInt8]

    var testDescription: String { name }

    static let directory: URL? = {
        let environment = ProcessInfo.processInfo.environment["BOTFORM_AGE_TESTKIT"]
        let fallback = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../../shared/age-testkit"
        ).standardized
        let url = environment.map(URL.init(fileURLWithPath:)) ?? fallback
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }()

    static var all: [TestKitVector] {
        guard let directory else { return [] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0 != "README.md" }.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) else {
                return nil
            }
            return parse(name: name, bytes: [UInt8](data))
        }
    }

    static func parse(name: String, bytes: [UInt8]) -> TestKitVector? {
        var vector = TestKitVector(
            name: name, expect: "", payloadSHA256: nil, identities: [], passphrases: 0, compressed: false,
            unknownKeys: false, body: [])
        var position = 0
        while let newline = bytes[position...].firstIndex(of: 0x0A) {
            let line = String(decoding: bytes[position..<newline], as: UTF8.self)
            position = newline + 1
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let key = String(line[..<colon])
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
            switch key {
            case "expect": vector.expect = value
            case "payload": vector.payloadSHA256 = value
            case "identity": vector.identities.append(value)
            case "passphrase": vector.passphrases += 1
            case "compressed": vector.compressed = value == "zlib"
            case "armored": vector.armored = value == "yes"
            case "file key", "comment": break
            default: vector.unknownKeys = true
            }
        }
        vector.body = Array(bytes[position...])
        return vector
    }

    /// Why this implementation does not run the vector, or nil when it does.
    var skipReason: String? {
        if unknownKeys { return "the vector has keys this reader does not know (the kit says: ignore it)" }
        if !identities.contains(where: { $0.hasPrefix("AGE-SECRET-KEY-1") }) {
            return passphrases > 0
                ? "passphrase (scrypt) recipients are not part of Botform"
                : "post-quantum identities are not part of Botform"
        }
        return nil
    }

    /// The age file, inflated when the vector is zlib-compressed.
    func file() throws -> [UInt8] {
        guard compressed else { return body }
        let result = try runTool(
            ["python3", "-c", "import sys, zlib; sys.stdout.buffer.write(zlib.decompress(sys.stdin.buffer.read()))"],
            stdin: body)
        try #require(result.status == 0, "python3 could not inflate \(name): \(result.stderr)")
        return result.stdout
    }
}

@Suite("age test kit")
struct AgeTestKitTests {
    @Test("the test kit, when present, holds the vectors this implementation runs")
    func present() throws {
        // The kit lives outside the repository (../shared/age-testkit); without it, say so and skip.
        if TestKitVector.directory == nil {
            print("skipped: the age test kit is not at BOTFORM_AGE_TESTKIT or ../shared/age-testkit")
            return
        }
        #expect(TestKitVector.all.count > 100)
        #expect(
            TestKitVector.all.filter { $0.skipReason == nil }.count >= 70,
            "most vectors are X25519 vectors this implementation runs")
    }

    @Test("every X25519 vector decrypts or fails exactly as expected", arguments: TestKitVector.all)
    func vector(_ vector: TestKitVector) throws {
        if let reason = vector.skipReason {
            print("skipped \(vector.name): \(reason)")
            return
        }
        let identities = vector.identities.filter { $0.hasPrefix("AGE-SECRET-KEY-1") }.compactMap {
            try? AgeIdentity.parse($0)
        }
        var released: [UInt8] = []
        let outcome: String
        do {
            try AgeFile.decrypt(try vector.file(), armored: vector.armored, identities: identities, released: &released)
            outcome = "success"
        } catch let error as AgeError {
            switch error {
            case .armor: outcome = "armor failure"
            case .header: outcome = "header failure"
            case .hmac: outcome = "HMAC failure"
            case .noMatch: outcome = "no match"
            case .payload: outcome = "payload failure"
            }
        }
        #expect(outcome == vector.expect, "\(vector.name)")
        if let expected = vector.payloadSHA256 {
            #expect(hex(released) == expected, "\(vector.name): released plaintext differs")
        }
    }

    private func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(SHA256Digest.hash(bytes).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }
}
