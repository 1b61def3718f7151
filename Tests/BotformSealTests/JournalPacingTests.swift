import BotformCore
import BotformTestSupport
import Foundation
import Testing

@testable import BotformSeal

/// When the journal syncs: a record whose caller holds a call place is not kept waiting for company, a
/// full batch goes at once, and timestamps are written exactly as Foundation writes them.
@Suite("Journal pacing and timestamps", .timeLimit(.minutes(1)))
struct JournalPacingTests {
    /// A gather window that never ends by itself: only an urgent record or a full batch can end it.
    static let never: @Sendable (Duration) async -> Void = { _ in
        await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
    }

    static func record(_ index: Int) -> JournalRecord {
        JournalRecord(
            op: .intent, at: Date(timeIntervalSince1970: 1_800_000_000), provider: "prod", bot: "bot-\(index)",
            action: "register")
    }

    @Test("an urgent record is synced without waiting for the gather window, and takes the waiting ones along")
    func urgentDoesNotWait() async throws {
        let scratch = try Scratch("journal")
        let writer = try JournalWriter(
            path: scratch.path("j.journal"), gatherWindow: .seconds(3_600), sleep: Self.never)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.append(Self.record(0)) }
            // The first record is pending behind a window that never ends...
            while !(await writer.isGathering) { await Task.yield() }
            // ...until a record whose caller cannot wait arrives: both are synced, in one fsync.
            group.addTask { try await writer.append(Self.record(1), urgent: true) }
            try await group.waitForAll()
        }
        let (syncs, records) = (await writer.syncs, await writer.records)
        #expect(syncs == 1 && records == 2)
        let read = try JournalReader.read(scratch.path("j.journal"))
        #expect(read.records.map(\.bot).sorted() == ["bot-0", "bot-1"])
    }

    @Test("a full batch is synced without waiting for the gather window")
    func fullBatchDoesNotWait() async throws {
        let scratch = try Scratch("journal")
        let writer = try JournalWriter(
            path: scratch.path("j.journal"), gatherWindow: .seconds(3_600), sleep: Self.never)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<JournalWriter.fullBatch { group.addTask { try await writer.append(Self.record(index)) } }
            try await group.waitForAll()
        }
        #expect(await writer.records == JournalWriter.fullBatch)
        #expect(try JournalReader.read(scratch.path("j.journal")).records.count == JournalWriter.fullBatch)
    }

    @Test("a record that is not urgent waits for the window, then is synced")
    func windowEnds() async throws {
        let scratch = try Scratch("journal")
        let slept = Counter()
        let writer = try JournalWriter(path: scratch.path("j.journal"), gatherWindow: .milliseconds(3)) { _ in
            await slept.add()
        }
        try await writer.append(Self.record(0))
        let (sleeps, syncs) = (await slept.value, await writer.syncs)
        #expect(sleeps == 1 && syncs == 1)
        try await writer.append(Self.record(1), urgent: true)
        #expect(await slept.value == 1, "an urgent record waits for no window")
    }

    @Test("timestamps are written as Date.formatted(.iso8601) writes them")
    func timestamps() {
        var generator = SystemRandomNumberGenerator()
        var dates = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: 951_782_400),
            Date(timeIntervalSince1970: 1_800_000_000.999), Date(timeIntervalSince1970: -0.5),
            Date(timeIntervalSince1970: 253_402_300_799), Date(timeIntervalSince1970: -30_610_224_000),
            Date(timeIntervalSince1970: 4_107_542_400),
        ]
        for _ in 0..<2_000 {
            dates.append(
                Date(timeIntervalSince1970: Double.random(in: -30_000_000_000...250_000_000_000, using: &generator)))
        }
        for date in dates {
            #expect(Timestamp.iso8601(date) == date.formatted(.iso8601), "\(date.timeIntervalSince1970)")
        }
    }
}

actor Counter {
    private(set) var value = 0
    func add() { value += 1 }
}
