import BotformCore
import BotformTestSupport
import Foundation
import Testing

@testable import BotformSeal

func mode(_ path: String) throws -> Int {
    try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

@Suite("Sealed file and journal")
struct SealedFileTests {
    let identity = AgeIdentity()
    let secretText = "dK9mXqP3nR8vTw2zAe7yLs4cBhJfGu6i"

    @Test("custody: the journal and the sealed file hold only ciphertext, mode 0600, and age opens the value")
    func custody() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("secrets.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        let permissions = Permissions(["products": [.read]])
        try await custody.recordIntent(.register, provider: "prod", bot: "agent", id: nil, permissions: permissions)
        try await custody.recordIssued(
            provider: "prod", bot: "agent", id: "id-1", permissions: permissions, secret: Secret(secretText), at: Date()
        )
        let journal = try String(contentsOfFile: path + ".journal", encoding: .utf8)
        #expect(!journal.contains(secretText))
        #expect(try mode(path + ".journal") == 0o600)
        try await custody.checkpoint()
        #expect(!FileManager.default.fileExists(atPath: path + ".journal"))
        #expect(try mode(path) == 0o600)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains(secretText))
        let file = try SealedFile.parse(Array(text.utf8), path: path)
        #expect(try file.open("prod/agent", identities: [identity])?.reveal() == secretText)
        let entry = try #require(file.entries["prod/agent"])
        #expect(
            entry.id == "id-1" && entry.permissionsSHA256 == permissions.sha256
                && entry.sealedTo == [identity.recipient])
    }

    @Test("an identity file is created 0600 from its first byte, whatever the umask, and never overwrites")
    func identityFile() throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("key.txt")
        let previous = umask(0)
        defer { umask(previous) }
        #expect(try identity.writeNewFile(at: path))
        #expect(try mode(path) == 0o600)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(try AgeIdentity.parseFile(written).map(\.recipient) == [identity.recipient])
        #expect(try AgeIdentity().writeNewFile(at: path) == false)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == written, "the existing key is untouched")
        #expect(throws: (any Error).self) { try identity.writeNewFile(at: scratch.path("missing/key.txt")) }
    }

    @Test("render and parse round-trip; an unchanged entry renders identically, so diffs show only changes")
    func roundTrip() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("s.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        for name in ["alpha", "beta"] {
            try await custody.recordIssued(
                provider: "prod", bot: name, id: "id-\(name)", permissions: Permissions(), secret: Secret(name),
                at: Date(timeIntervalSince1970: 1_800_000_000))
        }
        try await custody.recordAdopted(provider: "prod", bot: "found", id: "id-found", permissions: nil)
        try await custody.checkpoint()
        let before = try String(contentsOfFile: path, encoding: .utf8)
        let again = try SealedCustody(path: path, recipients: [identity.recipient])
        try await again.recordIssued(
            provider: "prod", bot: "beta", id: "id-beta", permissions: Permissions(), secret: Secret("rotated"),
            at: Date(timeIntervalSince1970: 1_800_000_100))
        try await again.checkpoint()
        let after = try String(contentsOfFile: path, encoding: .utf8)
        let alphaBefore = before.components(separatedBy: "  prod/alpha:")[1].components(separatedBy: "  prod/beta:")[0]
        let alphaAfter = after.components(separatedBy: "  prod/alpha:")[1].components(separatedBy: "  prod/beta:")[0]
        #expect(alphaBefore == alphaAfter, "the untouched entry keeps its ciphertext byte for byte")
        #expect(before != after)
        let parsed = try SealedFile.parse(Array(after.utf8), path: path)
        #expect(parsed.render() == after)
        #expect(parsed.entries["prod/found"]?.origin == .adopted && parsed.entries["prod/found"]?.secret == nil)
    }

    @Test("folding the journal: an intent without its issue leaves a bot whose secret is lost")
    func intentWithoutIssue() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("s.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await custody.recordIssued(
            provider: "prod", bot: "held", id: "id-held", permissions: Permissions(), secret: Secret("x"), at: Date())
        try await custody.recordIntent(.reset, provider: "prod", bot: "held", id: "id-held", permissions: nil)
        try await custody.recordIntent(
            .register, provider: "prod", bot: "new", id: nil, permissions: Permissions(["a": [.read]]))
        // The process "dies" here: no checkpoint. The next run reads the journal.
        let (file, records, torn) = try SealedCustody.read(path: path)
        #expect(records == 3 && !torn)
        let ownership = file.ownership
        #expect(ownership["prod/held"]?.secretLost == true, "a reset that may have happened invalidates the old secret")
        #expect(ownership["prod/held"]?.id == "id-held")
        #expect(ownership["prod/new"]?.secretLost == true && ownership["prod/new"]?.id == nil)
    }

    @Test("replaying a journal over a file that already folded it changes nothing")
    func idempotentReplay() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("s.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await custody.recordIntent(.register, provider: "prod", bot: "a", id: nil, permissions: nil)
        try await custody.recordIssued(
            provider: "prod", bot: "a", id: "id-a", permissions: Permissions(), secret: Secret("s"), at: Date())
        try await custody.recordRevoked(provider: "prod", bot: "gone", id: "id-gone")
        let journal = try Data(contentsOf: URL(fileURLWithPath: path + ".journal"))
        try await custody.checkpoint()
        let folded = try String(contentsOfFile: path, encoding: .utf8)
        // A crash between the rename and removing the journal: the journal is still there.
        try journal.write(to: URL(fileURLWithPath: path + ".journal"))
        #expect(try SealedCustody.read(path: path).file.render() == folded)
    }

    @Test("a torn last journal line is ignored; a damaged earlier line is an error")
    func tornJournal() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("s.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await custody.recordIssued(
            provider: "prod", bot: "a", id: "id-a", permissions: Permissions(), secret: Secret("s"), at: Date())
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path + ".journal"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"op\":\"issued\",\"provi".utf8))
        try handle.close()
        let read = try SealedCustody.read(path: path)
        #expect(read.tornTail && read.journalRecords == 1 && read.file.entries["prod/a"] != nil)
        let damaged = "garbage\n" + (try String(contentsOfFile: path + ".journal", encoding: .utf8))
        try damaged.write(toFile: path + ".journal", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try SealedCustody.read(path: path) }
    }

    @Test("concurrent records share fsyncs (group commit) and none is lost")
    func groupCommit() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("s.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    try await custody.recordIssued(
                        provider: "prod", bot: "bot-\(index)", id: "id-\(index)", permissions: Permissions(),
                        secret: Secret("s\(index)"), at: Date())
                }
            }
            try await group.waitForAll()
        }
        let statistics = await custody.journalStatistics()
        #expect(statistics.records == 200)
        #expect(statistics.syncs < 200, "\(statistics.syncs) fsyncs for 200 records")
        #expect(try SealedCustody.read(path: path).file.entries.count == 200)
    }

    @Test("sealed-file problems are located, e.g. a merge conflict left in it")
    func parseErrors() throws {
        let text = "version: 1\nrecipients: []\nentries:\n<<<<<<< HEAD\n  prod/a:\n"
        do {
            _ = try SealedFile.parse(Array(text.utf8), path: "s.sealed.yaml")
            Issue.record("parsed")
        } catch {
            #expect(error.description.hasPrefix("s.sealed.yaml:"))
        }
        #expect(throws: SealedFileError.self) { try SealedFile.parse(Array("version: 2\n".utf8), path: "s") }
    }

    @Test("changing recipients: re-wrapped with an identity, otherwise reported as still sealed to the old ones")
    func rewrap() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("s.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await custody.recordIssued(
            provider: "prod", bot: "a", id: "id-a", permissions: Permissions(), secret: Secret("value-a"), at: Date())
        let file = await custody.sealedFile
        let newcomer = AgeIdentity()
        let (unchanged, report) = file.rewrapped(for: [newcomer.recipient], identities: [])
        #expect(report.rewrapped.isEmpty && report.unreadable.map(\.address) == ["prod/a"])
        #expect(unchanged.entries["prod/a"]?.sealedTo == [identity.recipient])
        let (rewrapped, done) = file.rewrapped(for: [newcomer.recipient], identities: [identity])
        #expect(done.rewrapped == ["prod/a"])
        #expect(try rewrapped.open("prod/a", identities: [newcomer])?.reveal() == "value-a")
        #expect(throws: AgeError.noMatch) { try rewrapped.open("prod/a", identities: [identity]) }
    }

    @Test("one apply at a time: a second lock attempt fails naming the holder, and succeeds once released")
    func locking() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("s.sealed.yaml")
        let first = try await SealLock.acquire(sealedPath: path, timeout: 0)
        do {
            _ = try await SealLock.acquire(sealedPath: path, timeout: 0.3)
            Issue.record("acquired twice")
        } catch {
            #expect(error.description.contains("pid \(ProcessInfo.processInfo.processIdentifier)"))
        }
        first.release()
        let second = try await SealLock.acquire(sealedPath: path, timeout: 0)
        second.release()
    }
}
