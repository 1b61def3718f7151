import BotformCore
import BotformTestSupport
import Foundation
import Testing

@testable import BotformSeal

/// What custody keeps when a call is refused, when a run dies mid-write, and when recipients change.
@Suite("Custody: refusals, torn journals, recipients")
struct CustodyRefusalTests {
    let identity = AgeIdentity()
    let permissions = Permissions(["products": [.read]])

    /// A sealed file holding one issued secret for prod/agent.
    func holding(_ path: String, secret: String = "old-secret-0123456789abcdefghij") async throws -> SealedCustody {
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await custody.recordIntent(.register, provider: "prod", bot: "agent", id: nil, permissions: permissions)
        try await custody.recordIssued(
            provider: "prod", bot: "agent", id: "id-1", permissions: permissions, secret: Secret(secret),
            at: Date(timeIntervalSince1970: 1_800_000_000))
        try await custody.checkpoint()
        return try SealedCustody(path: path, recipients: [identity.recipient])
    }

    @Test("a refused reset leaves the entry exactly as it was, secret included; the file is not rewritten")
    func refusedReset() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("secrets.sealed.yaml")
        _ = try await holding(path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await custody.recordIntent(.reset, provider: "prod", bot: "agent", id: "id-1", permissions: nil)
        // While the call is out, the secret counts as not held (the service may have reset it)...
        #expect(await custody.ownership()["prod/agent"]?.secretLost == true)
        try await custody.recordAborted(.reset, provider: "prod", bot: "agent")
        // ...and once refused, it is held again: nothing for the next plan to reset.
        let owned = try #require(await custody.ownership()["prod/agent"])
        #expect(!owned.secretLost && owned.id == "id-1")
        try await custody.checkpoint()
        let after = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(after == before, "an aborted reset folds back to the same bytes")
        let file = try SealedCustody.read(path: path).file
        #expect(try file.open("prod/agent", identities: [identity])?.reveal() == "old-secret-0123456789abcdefghij")
    }

    @Test("a run that dies after the intent: the old secret is kept, marked pending, and counts as lost")
    func unknownOutcome() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("secrets.sealed.yaml")
        let custody = try await holding(path)
        try await custody.recordIntent(.reset, provider: "prod", bot: "agent", id: "id-1", permissions: nil)
        // No checkpoint: the process "dies"; the next reader folds the journal.
        let read = try SealedCustody.read(path: path).file
        let entry = try #require(read.entries["prod/agent"])
        #expect(entry.pending == .reset && entry.secret != nil)
        #expect(read.ownership["prod/agent"]?.secretLost == true)
        // The pending mark survives a checkpoint and a parse.
        let reopened = try SealedCustody(path: path, recipients: [identity.recipient])
        try await reopened.recordRevoked(provider: "prod", bot: "other", id: "x")
        try await reopened.checkpoint()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("    pending: reset"))
        #expect(try SealedFile.parse(Array(text.utf8), path: path).entries["prod/agent"]?.pending == .reset)
    }

    @Test("a refusal after an attempt whose outcome is unknown, or after a crashed run, keeps the entry pending")
    func refusalAfterUnknown() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("secrets.sealed.yaml")
        let custody = try await holding(path)
        // Attempt 1 is lost in transit (the service may have reset the secret); attempt 2 is refused.
        try await custody.recordIntent(.reset, provider: "prod", bot: "agent", id: "id-1", permissions: nil)
        try await custody.recordIntent(.reset, provider: "prod", bot: "agent", id: "id-1", permissions: nil)
        try await custody.recordAborted(.reset, provider: "prod", bot: "agent")
        #expect(await custody.ownership()["prod/agent"]?.secretLost == true, "the first attempt may have killed it")

        // A run that died after its intent; the next run's reset is refused (its session expired).
        let next = try SealedCustody(path: path, recipients: [identity.recipient])
        try await next.recordIntent(.reset, provider: "prod", bot: "agent", id: "id-1", permissions: nil)
        try await next.recordAborted(.reset, provider: "prod", bot: "agent")
        #expect(await next.ownership()["prod/agent"]?.secretLost == true)
        try await next.checkpoint()
        #expect(try SealedCustody.read(path: path).file.entries["prod/agent"]?.pending == .reset)
    }

    @Test("a refused registration of a new bot leaves no entry behind")
    func refusedRegistration() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("secrets.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await custody.recordIntent(.register, provider: "prod", bot: "fresh", id: nil, permissions: permissions)
        try await custody.recordAborted(.register, provider: "prod", bot: "fresh")
        #expect(await custody.ownership()["prod/fresh"] == nil)
    }

    @Test("a torn last journal line is cut off before the next append, so every record reads back")
    func tornTail() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("secrets.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await custody.recordAdopted(provider: "prod", bot: "one", id: "id-1", permissions: nil)
        // A crash in the middle of the next record's write.
        let handle = try #require(FileHandle(forWritingAtPath: path + ".journal"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"at":"2026-11-29T00:00:00Z","bot":"tw"#.utf8))
        try handle.close()
        let torn = try SealedCustody.read(path: path)
        #expect(torn.tornTail && torn.journalRecords == 1)

        let next = try SealedCustody(path: path, recipients: [identity.recipient])
        try await next.recordAdopted(provider: "prod", bot: "two", id: "id-2", permissions: nil)
        let read = try SealedCustody.read(path: path)
        #expect(!read.tornTail)
        #expect(read.journalRecords == 2)
        #expect(Set(read.file.entries.keys) == ["prod/one", "prod/two"])
    }

    @Test("a whole last record that lacks only its newline is kept, not cut, when the next run appends")
    func wholeRecordWithoutNewline() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("secrets.sealed.yaml")
        let custody = try SealedCustody(path: path, recipients: [identity.recipient])
        try await custody.recordAdopted(provider: "prod", bot: "one", id: "id-1", permissions: nil)
        let journal = path + ".journal"
        var data = try Data(contentsOf: URL(fileURLWithPath: journal))
        #expect(data.last == 0x0A)
        data.removeLast()
        try data.write(to: URL(fileURLWithPath: journal))
        #expect(try SealedCustody.read(path: path).journalRecords == 1, "readers accept it")
        let next = try SealedCustody(path: path, recipients: [identity.recipient])
        try await next.recordAdopted(provider: "prod", bot: "two", id: "id-2", permissions: nil)
        #expect(Set(try SealedCustody.read(path: path).file.entries.keys) == ["prod/one", "prod/two"])
    }

    @Test("the header lists only recipients the held secrets are sealed to")
    func headerRecipients() async throws {
        let scratch = try Scratch("seal")
        let path = scratch.path("secrets.sealed.yaml")
        _ = try await holding(path)
        let newcomer = AgeIdentity()
        // Configured for the newcomer only, the old entry still sealed to the old key: both are listed,
        // the old one because an entry is sealed to it. After a re-wrap, only the newcomer.
        let custody = try SealedCustody(path: path, recipients: [newcomer.recipient])
        try await custody.recordAdopted(provider: "prod", bot: "other", id: "id-9", permissions: nil)
        var file = await custody.sealedFile
        #expect(file.headerRecipients == [identity.recipient])
        let change = try #require(file.recipientChange(for: [newcomer.recipient]))
        #expect(change.entries == ["prod/agent"])
        #expect(change.added == [newcomer.recipient.description] && change.removed == [identity.recipient.description])
        #expect(change.warning?.contains("git history") == true)
        file = file.rewrapped(for: [newcomer.recipient], identities: [identity]).0
        #expect(file.headerRecipients == [newcomer.recipient])
        #expect(file.recipientChange(for: [newcomer.recipient]) == nil)
        #expect(throws: AgeError.self) { try file.open("prod/agent", identities: [identity]) }
        #expect(try file.open("prod/agent", identities: [newcomer]) != nil)
    }
}

@Suite("Custody: a journal left by a crash")
struct LeftJournalTests {
    @Test("an apply that completes folds a journal an earlier run left, even with nothing to do itself")
    func foldsLeftJournal() async throws {
        let identity = AgeIdentity()
        let scratch = try Scratch("seal")
        let path = scratch.path("secrets.sealed.yaml")
        let crashed = try SealedCustody(path: path, recipients: [identity.recipient])
        try await crashed.recordAdopted(provider: "prod", bot: "one", id: "id-1", permissions: nil)
        // The process dies: no checkpoint. The next apply changes nothing.
        let next = try SealedCustody(path: path, recipients: [identity.recipient])
        try await next.checkpoint()
        #expect(FileManager.default.fileExists(atPath: path + ".journal"), "a refused run leaves it")
        try await next.checkpoint(foldingJournal: true)
        #expect(!FileManager.default.fileExists(atPath: path + ".journal"))
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(try SealedFile.parse(Array(text.utf8), path: path).entries["prod/one"]?.id == "id-1")
    }
}
