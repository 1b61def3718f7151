import BotformCore
import BotformTestSupport
import Foundation
import Testing

@testable import BotformSeal

/// Runs a tool, feeding stdin; returns its exit status, stdout and stderr.
func runTool(_ arguments: [String], stdin: [UInt8] = [], environment: [String: String]? = nil) throws -> (
    status: Int32, stdout: [UInt8], stderr: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if let environment { process.environment = environment }
    let output = try runToCompletion(process, stdin: Data(stdin))
    return (output.status, [UInt8](output.stdout), String(decoding: output.stderr, as: UTF8.self))
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
        let scratch = try Scratch("age")
        let first = AgeIdentity()
        let second = AgeIdentity()
        let keyFile = scratch.path("key.txt")
        try Data(second.fileContents().reveal().utf8).write(to: URL(fileURLWithPath: keyFile))
        for payload in payloads {
            let binary = try AgeFile.encrypt(payload, to: [first.recipient, second.recipient])
            let armored = Array(AgeArmor.armor(binary).utf8)
            for file in [binary, armored] {
                let result = try runTool(["age", "-d", "-i", keyFile], stdin: file)
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
        let scratch = try Scratch("age")
        let keyFile = scratch.path("key.txt")
        try Data(identity.fileContents().reveal().utf8).write(to: URL(fileURLWithPath: keyFile))
        let encrypted = try runTool(["age", "-r", identity.recipient.description, "-a"], stdin: Array("hello".utf8))
        #expect(try AgeFile.decrypt(encrypted.stdout, identities: [identity]) == Array("hello".utf8))
        let decrypted = try runTool(
            ["age", "-d", "-i", keyFile], stdin: try AgeFile.encrypt(Array("hello".utf8), to: [identity.recipient])
        )
        #expect(decrypted.stdout == Array("hello".utf8))
    }
}

/// True when rage's Python binding (pyrage, a second age implementation, in Rust) is importable; in CI
/// its absence fails the test that asked.
func rageAvailable() throws -> Bool {
    let available = (try? runTool(["python3", "-c", "import pyrage"]).status) == 0
    if !available {
        try #require(
            ProcessInfo.processInfo.environment["CI"] == nil, "CI must have pyrage (python3 -m pip install pyrage)")
        print("skipped: pyrage (rage's Python binding) is not installed")
    }
    return available
}

/// `python3 -c rageScript MODE KEYFILE`: decrypts stdin with the identity in KEYFILE, or encrypts stdin
/// to its public key, using rage.
private let rageScript = """
    import sys, pyrage
    mode, path = sys.argv[1], sys.argv[2]
    line = next(l for l in open(path).read().splitlines() if l.startswith("AGE-SECRET-KEY-"))
    identity = pyrage.x25519.Identity.from_str(line)
    data = sys.stdin.buffer.read()
    if mode == "decrypt":
        sys.stdout.buffer.write(pyrage.decrypt(data, [identity]))
    else:
        sys.stdout.buffer.write(pyrage.encrypt(data, [identity.to_public()]))
    """

@Suite("age interoperability with rage, a second implementation")
struct RageInteropTests {
    @Test("rage opens what Botform seals (armored and binary, several recipients); Botform opens what rage encrypts")
    func bothWays() throws {
        guard try rageAvailable() else { return }
        let scratch = try Scratch("rage")
        let mine = AgeIdentity()
        let keyFile = scratch.path("key.txt")
        try Data(mine.fileContents().reveal().utf8).write(to: URL(fileURLWithPath: keyFile))
        for payload in [[], Array("dK9mXqP3nR8vTw2zAe7yLs4cBhJfGu6i".utf8), AgeFile.randomBytes(150_000)] {
            let binary = try AgeFile.encrypt(payload, to: [AgeIdentity().recipient, mine.recipient])
            for file in [binary, Array(AgeArmor.armor(binary).utf8)] {
                let opened = try runTool(["python3", "-c", rageScript, "decrypt", keyFile], stdin: file)
                #expect(opened.status == 0, "\(opened.stderr)")
                #expect(opened.stdout == payload)
            }
            let encrypted = try runTool(["python3", "-c", rageScript, "encrypt", keyFile], stdin: payload)
            #expect(encrypted.status == 0, "\(encrypted.stderr)")
            #expect(try AgeFile.decrypt(encrypted.stdout, identities: [mine]) == payload)
        }
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
