import BotformCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// One line of `<sealed>.journal`.
struct JournalRecord: Codable, Sendable, Equatable {
    enum Operation: String, Codable, Sendable {
        /// About to send a call that issues a secret (register, reset). Written first, so that a bot the
        /// service created before the run died is known to be Botform's.
        case intent
        /// A secret was issued and is sealed in this record.
        case issued
        case revoked
        case adopted
        case forgotten
        /// The service definitely refused the call an intent announced: the entry is as it was before.
        case aborted
        /// Botform created a bot that holds no secret of its own (a Sym bot).
        case created
    }

    var op: Operation
    var at: Date
    var provider: String
    var bot: String
    var id: String?
    var action: String?
    var permissionsSHA256: String?
    var sealedTo: [String]?
    /// The secret's age file (binary, base64): only in `issued`. Armored when folded into the sealed file.
    var age: String?
    /// A token's label: the record is about `provider/bot/label`.
    var label: String?
    /// `issued`: when the credential expires.
    var expiresAt: Date?
    /// `issued`: the credentials this one replaces, still to be revoked.
    var retiring: [String]?

    init(
        op: Operation, at: Date, provider: String, bot: String, id: String? = nil, action: String? = nil,
        permissionsSHA256: String? = nil, sealedTo: [String]? = nil, age: String? = nil, label: String? = nil,
        expiresAt: Date? = nil, retiring: [String]? = nil
    ) {
        self.op = op
        self.at = at
        self.provider = provider
        self.bot = bot
        self.id = id
        self.action = action
        self.permissionsSHA256 = permissionsSHA256
        self.sealedTo = sealedTo
        self.age = age
        self.label = label
        self.expiresAt = expiresAt
        self.retiring = retiring
    }

    var key: EntryKey { EntryKey(provider: provider, bot: bot, label: label) }

    enum CodingKeys: String, CodingKey {
        case op, at, provider, bot, id, action, age, label, retiring
        case permissionsSHA256 = "permissions_sha256"
        case sealedTo = "sealed_to"
        case expiresAt = "expires_at"
    }

    /// The record as one JSON line (keys sorted), written directly: the journal is on apply's hot path.
    var line: [UInt8] {
        var members: [(String, JSONValue)] = []
        if let action { members.append(("action", .string(action))) }
        members.append(("at", .string(Timestamp.iso8601(at))))
        members.append(("bot", .string(bot)))
        if let expiresAt { members.append(("expires_at", .string(Timestamp.iso8601(expiresAt)))) }
        if let id { members.append(("id", .string(id))) }
        if let label { members.append(("label", .string(label))) }
        members.append(("op", .string(op.rawValue)))
        if let permissionsSHA256 { members.append(("permissions_sha256", .string(permissionsSHA256))) }
        members.append(("provider", .string(provider)))
        if let retiring { members.append(("retiring", .array(retiring.map(JSONValue.string)))) }
        if let sealedTo { members.append(("sealed_to", .array(sealedTo.map(JSONValue.string)))) }
        if let age { members.append(("age", .string(age))) }
        return Array(JSONValue.object(members).serialized(pretty: false).utf8) + [0x0A]
    }
}

/// Timestamps as the journal and the sealed file write them: exactly what `Date.formatted(.iso8601)`
/// writes ("2026-11-23T15:04:05Z", UTC, whole seconds), computed directly. Apply writes one per record
/// and the sealed file one or more per entry, and Foundation's formatter cost more than the rest of a
/// record's serialization.
enum Timestamp {
    static func iso8601(_ date: Date) -> String {
        let whole = date.timeIntervalSince1970.rounded(.down)
        // Years 1600 to 9999: four digits, and Gregorian throughout (Foundation writes dates before the
        // 1582 reform in the Julian calendar); anything else is left to Foundation.
        guard whole >= -11_676_096_000, whole < 253_402_300_800 else { return date.formatted(.iso8601) }
        let (days, time) = CivilDate.split(Int(whole))
        let (year, month, day) = CivilDate.date(fromDays: days)
        var bytes = [UInt8](repeating: 0, count: 20)
        func put(_ value: Int, _ digits: Int, at offset: Int) {
            var rest = value
            for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                bytes[index] = UInt8(truncatingIfNeeded: 0x30 + rest % 10)
                rest /= 10
            }
        }
        put(year, 4, at: 0)
        bytes[4] = 0x2D
        put(month, 2, at: 5)
        bytes[7] = 0x2D
        put(day, 2, at: 8)
        bytes[10] = 0x54
        put(time / 3_600, 2, at: 11)
        bytes[13] = 0x3A
        put(time / 60 % 60, 2, at: 14)
        bytes[16] = 0x3A
        put(time % 60, 2, at: 17)
        bytes[19] = 0x5A
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension SealedFile {
    /// Applies one journal record. Replaying a whole journal is idempotent, so a crash between writing
    /// the folded file and removing the journal loses nothing. `sealed` is an `issued` record's secret
    /// already armored and its recipients, from the custody that just encrypted it; a replay decodes the
    /// record's own.
    mutating func apply(_ record: JournalRecord, sealed: (armored: String, to: [AgeRecipient])? = nil) {
        let address = record.key.address
        switch record.op {
        case .intent:
            // Until the matching `issued` (or `aborted`) record, the secret held, if any, may no longer be
            // the bot's. The entry keeps it, so an abort restores the entry exactly.
            var entry =
                entries[address]
                ?? SealedEntry(
                    provider: record.provider, bot: record.bot, id: nil, origin: .issued, issuedAt: nil,
                    permissionsSHA256: record.permissionsSHA256, sealedTo: [], secret: nil, label: record.label)
            entry.pendingBefore = entry.pending
            entry.pendingTimesBefore = entry.pendingTimes
            entry.pending = record.action == "register" ? .register : .reset
            entry.pendingTimes = (entry.pendingBefore == nil ? [] : entry.pendingTimes) + [record.at]
            if entry.id == nil, record.action == "reset" { entry.id = record.id }
            entries[address] = entry
        case .aborted:
            // The refusal settles only the call it answers: if the entry was already pending (an earlier
            // attempt or run whose outcome is unknown), its held secret may still be dead.
            guard var entry = entries[address], entry.pending != nil else { return }
            entry.pending = entry.pendingBefore
            entry.pendingTimes = entry.pending == nil ? [] : entry.pendingTimesBefore
            entry.pendingBefore = nil
            entry.pendingTimesBefore = []
            // An entry that exists only because of the refused call (no bot, no secret) goes with it.
            entries[address] =
                entry.pending == nil && entry.id == nil && entry.secret == nil && entry.retiring.isEmpty ? nil : entry
        case .issued:
            let previous = entries[address]
            var retiring = previous?.retiring ?? []
            for id in record.retiring ?? [] where !retiring.contains(id) { retiring.append(id) }
            retiring.removeAll { $0 == record.id }
            // The announcements of earlier calls that died unrecorded (all but this call's own, the last):
            // kept an hour, in case one of them still made a credential after this run looked.
            var lost = (previous?.lostTimes ?? []) + (previous?.pendingTimes.dropLast() ?? [])
            lost.removeAll { $0 < record.at.addingTimeInterval(-3_600) }
            var issued = SealedEntry(
                provider: record.provider, bot: record.bot, id: record.id, origin: .issued, issuedAt: record.at,
                permissionsSHA256: record.permissionsSHA256 ?? previous?.permissionsSHA256,
                sealedTo: sealed?.to ?? (record.sealedTo ?? []).compactMap { try? AgeRecipient.parse($0) },
                secret: sealed?.armored
                    ?? record.age.flatMap { Base64.decode(Array($0.utf8), padded: true) }.map(AgeArmor.armor),
                label: record.label, expiresAt: record.expiresAt, retiring: retiring)
            issued.lostTimes = lost
            entries[address] = issued
        case .adopted, .created:
            entries[address] = SealedEntry(
                provider: record.provider, bot: record.bot, id: record.id,
                origin: record.op == .created ? .created : .adopted, issuedAt: record.op == .created ? record.at : nil,
                permissionsSHA256: record.permissionsSHA256, sealedTo: [], secret: nil, label: record.label)
        case .revoked:
            guard var entry = entries[address] else { return }
            if let id = record.id, entry.id != id {
                // A credential this entry replaced: its revoke completes the renewal.
                entry.retiring.removeAll { $0 == id }
                entries[address] = entry
                return
            }
            removeEntry(record.key)
        case .forgotten:
            removeEntry(record.key)
        }
    }

    /// Removes an entry. A bot's tokens are removed by records of their own (the custody writes one per
    /// token when it revokes or forgets their bot), so replaying a journal never scans the file.
    private mutating func removeEntry(_ key: EntryKey) {
        entries[key.address] = nil
    }
}

/// Reading a journal: every complete record; a torn last line (a crash mid-write) is ignored.
enum JournalReader {
    struct Corrupt: Error, CustomStringConvertible {
        let description: String
    }

    static func read(_ path: String) throws -> (records: [JournalRecord], tornTail: Bool) {
        guard let data = FileManager.default.contents(atPath: path) else { return ([], false) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var records: [JournalRecord] = []
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() where !line.isEmpty {
            let isLast = index == lines.count - 1
            do {
                records.append(try decoder.decode(JournalRecord.self, from: Data(line)))
            } catch {
                // Only the last line can be torn: it was being written when the process died.
                if isLast { return (records, true) }
                throw Corrupt(description: "\(path): line \(index + 1) is not a journal record; the file is damaged")
            }
        }
        return (records, false)
    }
}

/// Appends records to the journal, each durable (fsync'd) before `append` returns. Concurrent appends
/// share an fsync (group commit): while one batch syncs, the next one gathers.
actor JournalWriter {
    private let path: String
    private let fd: Int32
    private var pending: [(line: [UInt8], done: CheckedContinuation<Void, any Error>)] = []
    /// Whether a record pending now has a caller that cannot wait for company (see `append`).
    private var urgent = false
    private var flushing = false
    /// The flush task's wait for company, when it is waiting: ended early by a full batch or an urgent
    /// record. `gatherGeneration` tells a late timer from the one of the current wait.
    private var gathering: CheckedContinuation<Void, Never>?
    private var gatherGeneration = 0
    /// Whether the flush is waiting for company now (for tests).
    var isGathering: Bool { gathering != nil }
    /// How long a batch waits for company; injected (with `sleep`), so tests need no real pauses.
    private let gatherWindow: Duration
    private let sleep: @Sendable (Duration) async -> Void
    /// How many fsyncs were made and how many records they carried (for the benchmark).
    private(set) var syncs = 0
    private(set) var records = 0

    init(
        path: String, gatherWindow: Duration = JournalWriter.gatherWindow,
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    ) throws {
        self.path = path
        self.gatherWindow = gatherWindow
        self.sleep = sleep
        let existed = FileManager.default.fileExists(atPath: path)
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw AtomicFile.Failure(description: "cannot open \(path): \(AtomicFile.errorText())") }
        fchmod(fd, 0o600)
        if existed { try Self.cutTornTail(fd, path: path) }
        if !existed {
            AtomicFile.syncDirectory(
                (path as NSString).deletingLastPathComponent.isEmpty
                    ? "." : (path as NSString).deletingLastPathComponent)
        }
    }

    deinit { close(fd) }

    /// A crash mid-append leaves a last line without its newline. Appending after it would join the next
    /// record to it and make every later read fail, so a torn one is cut off (it was never acknowledged:
    /// its append had not returned) before anything is written, and a whole one gets its newline.
    private static func cutTornTail(_ fd: Int32, path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last, last != 0x0A else {
            return
        }
        let keep = data.lastIndex(of: 0x0A).map { data.distance(from: data.startIndex, to: $0) + 1 } ?? 0
        // A whole record that lacks only its newline is a record the readers accept: end it, don't drop it.
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        if (try? decoder.decode(JournalRecord.self, from: Data(data[(data.startIndex + keep)...]))) != nil {
            try AtomicFile.writeAll(fd, [0x0A], path: path)
            guard fsync(fd) == 0 else {
                throw AtomicFile.Failure(description: "cannot repair \(path): \(AtomicFile.errorText())")
            }
            return
        }
        guard ftruncate(fd, off_t(keep)) == 0, fsync(fd) == 0 else {
            throw AtomicFile.Failure(description: "cannot repair \(path): \(AtomicFile.errorText())")
        }
    }

    /// Appends a record; returns once it is on disk.
    func append(_ record: JournalRecord, urgent: Bool = false) async throws {
        try await append(line: record.line, urgent: urgent)
    }

    /// Appends a record already serialized (`JournalRecord.line`, built by the caller, off this actor);
    /// returns once it is on disk. An `urgent` record's caller holds something scarce while it waits (a
    /// call place): its batch is synced without waiting for company. Others may wait up to
    /// `gatherWindow` for more records to share the fsync.
    func append(line: [UInt8], urgent: Bool = false) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            pending.append((line, continuation))
            if urgent { self.urgent = true }
            if !flushing {
                flushing = true
                Task { await self.flush() }
            } else if urgent || pending.count >= Self.fullBatch {
                endGathering(gatherGeneration)
            }
        }
    }

    /// How long a small batch waits for company before its fsync. Apply journals a registration's intent
    /// while the call before it is still out (and a secret after its call has given its place back), so
    /// this wait is off the critical path, while fewer fsyncs save CPU (about 60 µs each) on the cores the
    /// run shares with the service. A record whose caller holds a call place is urgent and waits for none.
    static let gatherWindow: Duration = .milliseconds(3)
    /// A batch this large stops waiting for company: the fsync is shared widely enough.
    static let fullBatch = 32

    private func endGathering(_ generation: Int) {
        guard generation == gatherGeneration, let gathering else { return }
        self.gathering = nil
        gathering.resume()
    }

    /// Waits for company: until `gatherWindow` passes, the batch fills or an urgent record arrives.
    private func gather() async {
        gatherGeneration += 1
        let generation = gatherGeneration
        let window = gatherWindow
        let sleep = self.sleep
        Task {
            await sleep(window)
            self.endGathering(generation)
        }
        await withCheckedContinuation { gathering = $0 }
    }

    private static func joined(_ lines: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines.reduce(0) { $0 + $1.count })
        for line in lines { bytes += line }
        return bytes
    }

    private func flush() async {
        while !pending.isEmpty {
            if !urgent && gatherWindow > .zero && pending.count < Self.fullBatch { await gather() }
            let batch = pending
            pending = []
            urgent = false
            let bytes = Self.joined(batch.map(\.line))
            let fd = self.fd
            let path = self.path
            let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    do {
                        try AtomicFile.writeAll(fd, bytes, path: path)
                        guard fsync(fd) == 0 else {
                            throw AtomicFile.Failure(description: "cannot sync \(path): \(AtomicFile.errorText())")
                        }
                        continuation.resume(returning: .success(()))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
            }
            syncs += 1
            records += batch.count
            for item in batch { item.done.resume(with: result) }
        }
        flushing = false
    }
}
