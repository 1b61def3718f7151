import BotformCore
import Foundation
import Testing

@testable import BotformSeal

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a tool, feeding stdin; returns stdout (stderr on failure, in the error).
func runTool(_ arguments: [String], stdin: [UInt8] = [], environment: [String: String]? = nil) throws -> (
    status: Int32, stdout: [UInt8], stderr: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let environment { process.environment = environment }
    let input = Pipe()
    let output = Pipe()
    let errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    // Feed stdin and drain stdout on their own threads: a streaming tool blocks on a full pipe otherwise.
    nonisolated(unsafe) var outData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        try? input.fileHandleForWriting.writeRetrying(Data(stdin))
        try? input.fileHandleForWriting.close()
        group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
        outData = output.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let errData = errors.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, [UInt8](outData), String(decoding: errData, as: UTF8.self))
}

/// True when the `age` tools are installed; in CI their absence fails the test that asked.
func ageToolsAvailable() throws -> Bool {
    let available =
        (try? runTool(["age", "--version"]).status) == 0 && (try? runTool(["age-keygen", "--version"]).status) == 0
    if !available {
        try #require(
            ProcessInfo.processInfo.environment["CI"] == nil, "CI must have the age tools (apt-get install age)")
        print("skipped: the age and age-keygen tools are not installed")
    }
    return available
}

@Suite("age interoperability with the age tools")
struct AgeInteropTests {
    let payloads: [[UInt8]] = [
        [], Array("dK9mXqP3nR8vTw2zAe7yLs4cBhJfGu6i".utf8), AgeFile.randomBytes(64 * 1_024),
        AgeFile.randomBytes(200_003),
    ]

    @Test("what Botform seals opens with `age -d`, armored and binary, for one and several recipients")
    func botformToAge() throws {
        guard try ageToolsAvailable() else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "botform-age-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = AgeIdentity()
        let second = AgeIdentity()
        let keyFile = directory.appendingPathComponent("key.txt")
        try Data(second.fileContents().reveal().utf8).write(to: keyFile)
        for payload in payloads {
            let binary = try AgeFile.encrypt(payload, to: [first.recipient, second.recipient])
            let armored = Array(AgeArmor.armor(binary).utf8)
            for file in [binary, armored] {
                let result = try runTool(["age", "-d", "-i", keyFile.path], stdin: file)
                #expect(result.status == 0, "\(result.stderr)")
                #expect(result.stdout == payload)
            }
        }
    }

    @Test("what `age` encrypts opens with Botform, and age-keygen identities work in Botform")
    func ageToBotform() throws {
        guard try ageToolsAvailable() else { return }
        let generated = try runTool(["age-keygen"])
        #expect(generated.status == 0)
        let identityText = String(decoding: generated.stdout, as: UTF8.self)
        let identities = try AgeIdentity.parseFile(identityText)
        let publicKey = try #require(
            identityText.split(separator: "\n").first { $0.hasPrefix("# public key: ") }?.dropFirst(
                "# public key: ".count))
        #expect(
            identities.first?.recipient.description == String(publicKey),
            "Botform derives the same public key as age-keygen")
        for payload in payloads {
            for armor in [true, false] {
                let encrypted = try runTool(["age", "-r", String(publicKey)] + (armor ? ["-a"] : []), stdin: payload)
                #expect(encrypted.status == 0, "\(encrypted.stderr)")
                #expect(try AgeFile.decrypt(encrypted.stdout, identities: identities) == payload)
            }
        }
    }

    @Test("a Botform identity works with age, and age-keygen -y agrees on its public key")
    func botformKeysInAge() throws {
        guard try ageToolsAvailable() else { return }
        let identity = AgeIdentity()
        let derived = try runTool(["age-keygen", "-y"], stdin: Array(identity.fileContents().reveal().utf8))
        #expect(
            String(decoding: derived.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                == identity.recipient.description)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "botform-age-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keyFile = directory.appendingPathComponent("key.txt")
        try Data(identity.fileContents().reveal().utf8).write(to: keyFile)
        let encrypted = try runTool(["age", "-r", identity.recipient.description, "-a"], stdin: Array("hello".utf8))
        #expect(try AgeFile.decrypt(encrypted.stdout, identities: [identity]) == Array("hello".utf8))
        let decrypted = try runTool(
            ["age", "-d", "-i", keyFile.path], stdin: try AgeFile.encrypt(Array("hello".utf8), to: [identity.recipient])
        )
        #expect(decrypted.stdout == Array("hello".utf8))
    }
}

@Suite("age format")
struct AgeFormatTests {
    @Test(
        "round trip across chunk boundaries, including empty and exact multiples of 64 KiB",
        arguments: [0, 1, 65_535, 65_536, 65_537, 131_072, 300_000])
    func roundTrip(size: Int) throws {
        let identity = AgeIdentity()
        let payload = AgeFile.randomBytes(size)
        let file = try AgeFile.encrypt(payload, to: [identity.recipient])
        #expect(try AgeFile.decrypt(file, identities: [identity]) == payload)
        #expect(try AgeFile.decrypt(Array(AgeArmor.armor(file).utf8), identities: [identity]) == payload)
    }

    @Test("the wrong identity does not match; a flipped byte anywhere is detected")
    func tampering() throws {
        let identity = AgeIdentity()
        let file = try AgeFile.encrypt(Array("secret".utf8), to: [identity.recipient])
        #expect(throws: AgeError.noMatch) { try AgeFile.decrypt(file, identities: [AgeIdentity()]) }
        for index in stride(from: 0, to: file.count, by: 7) {
            var damaged = file
            damaged[index] ^= 0x01
            #expect(throws: AgeError.self) { try AgeFile.decrypt(damaged, identities: [identity]) }
        }
    }

    @Test("identities: Bech32 round trip, damaged keys refused with a reason")
    func identities() throws {
        let identity = AgeIdentity()
        let text = identity.encoded.reveal()
        #expect(text.hasPrefix("AGE-SECRET-KEY-1") && text == text.uppercased())
        #expect(try AgeIdentity.parse(text).recipient == identity.recipient)
        #expect("\(identity)".contains("age1") && !"\(identity)".contains("AGE-SECRET-KEY"))
        var damaged = Array(text)
        damaged[20] = damaged[20] == "Q" ? "P" : "Q"
        #expect(throws: AgeIdentity.ParseError.self) { try AgeIdentity.parse(String(damaged)) }
        #expect(throws: AgeIdentity.ParseError.self) { try AgeIdentity.parseFile("# only comments\n") }
    }
}

extension FileHandle {
    /// Writes all of `data`, retrying when a signal (a child exiting) interrupts the call: Foundation's
    /// non-throwing `write` traps on EINTR.
    func writeRetrying(_ data: Data) throws {
        var rest = data[...]
        while !rest.isEmpty {
            let written = rest.withUnsafeBytes { Glibc.write(fileDescriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw CocoaError(.fileWriteUnknown)
            }
            rest = rest.dropFirst(written)
        }
    }
}
