import BotformCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The sealed file as secret custody: records go to `<sealed>.journal` (fsync'd, group-committed) as
/// they happen, and are folded into the sealed file (atomic replace, mode 0600) by `checkpoint()`, at
/// the end of apply or at the start of the next. Secrets are encrypted to the recipients before they
/// touch the disk.
public actor SealedCustody: SecretCustody {
    public nonisolated let path: String
    public nonisolated let recipients: [AgeRecipient]
    /// The recipients as every `issued` record names them (`age1…`), encoded once.
    private nonisolated let recipientNames: [String]
    private var file: SealedFile
    private var writer: JournalWriter?
    /// Entries issued this run, rendered on the sealing thread after they were recorded: the fold at the
    /// end of the run copies them (1,000 entries took 8-10 ms to render there, with every call done and
    /// nothing left to overlap).
    private nonisolated let prerendered = Mutex<[String: SealedFile.PrerenderedEntry]>([:])
    /// Token entries by their bot's address, built when a bot is first revoked or forgotten.
    private var tokenIndex: [String: [EntryKey]]?
    /// Whether this run changed anything. A run that changed nothing leaves the file byte for byte as it
    /// was (a declined or refused apply must not rewrite it).
    public private(set) var changed = false

    public var journalPath: String { path + ".journal" }

    /// Opens the sealed file (empty when it does not exist yet) with its journal folded in.
    public init(path: String, recipients: [AgeRecipient]) throws {
        self.init(path: path, recipients: recipients, opened: try Self.read(path: path).file)
    }

    /// Custody of the sealed file at `path` as `read(path:)` just returned it, so a caller that also
    /// needs what the read tells (the journal's records) reads a large file once, not twice.
    public init(path: String, recipients: [AgeRecipient], opened file: SealedFile) {
        self.path = path
        self.recipients = recipients
        recipientNames = recipients.map(\.description)
        self.file = file
        if !recipients.isEmpty { self.file.recipients = recipients }
    }

    /// The sealed file with its journal folded in, read-only (for plan and unseal, which take no lock).
    /// `tornTail` says the journal's last record was cut off by a crash.
    public static func read(path: String) throws -> (file: SealedFile, journalRecords: Int, tornTail: Bool) {
        var file = SealedFile()
        if let bytes = AtomicFile.contents(of: path) {
            file = try SealedFile.parse(bytes, path: path)
        }
        let journal = try JournalReader.read(path + ".journal")
        for record in journal.records { file.apply(record) }
        return (file, journal.records.count, journal.tornTail)
    }

    public var sealedFile: SealedFile { file }

    public func ownership() async -> Ownership { file.ownership }

    /// Journals a record, then applies it. `line` is the record serialized, when the caller built it
    /// already (off this actor); `sealed` the secret of an `issued` record, armored likewise, and its
    /// recipients.
    /// Returns the entry as it now is.
    @discardableResult
    private func append(
        _ record: JournalRecord, line: [UInt8]? = nil, sealed: (armored: String, to: [AgeRecipient])? = nil,
        urgent: Bool = false
    ) async throws -> SealedEntry? {
        if writer == nil { writer = try JournalWriter(path: journalPath) }
        try await writer?.append(line: line ?? record.line, urgent: urgent)
        file.apply(record, sealed: sealed)
        changed = true
        if let label = record.label, tokenIndex != nil, file.entries[record.key.address] != nil {
            let bot = EntryKey(provider: record.provider, bot: record.bot).address
            if !(tokenIndex?[bot]?.contains { $0.label == label } ?? false) {
                tokenIndex?[bot, default: []].append(record.key)
            }
        }
        return file.entries[record.key.address]
    }

    /// Records where the providers of this run issue their entries. Written with the next change, not
    /// on its own: an older file without the record is upgraded when it is next written for a reason.
    public func recordOrigins(_ origins: [String: ProviderOrigin]) {
        for (name, origin) in origins { file.origins[name] = origin }
    }

    /// A reset's intent is written while its call holds a place (the executor announces only new
    /// credentials ahead of their place), so it is synced at once rather than waiting for company.
    public func recordIntent(_ intent: IssueIntent, entry: EntryKey, id: String?, permissions: Permissions?)
        async throws
    {
        try await append(
            JournalRecord(
                op: .intent, at: Date(), provider: entry.provider, bot: entry.bot, id: id, action: intent.rawValue,
                permissionsSHA256: permissions?.sha256, label: entry.label), urgent: intent == .reset)
    }

    public func recordAborted(_ intent: IssueIntent, entry: EntryKey) async throws {
        try await append(
            JournalRecord(
                op: .aborted, at: Date(), provider: entry.provider, bot: entry.bot, action: intent.rawValue,
                label: entry.label))
    }

    /// Encrypts and serializes on the sealing thread (they are most of the work, and every issue passes
    /// here; on the event loops they delayed the calls), then journals and applies the record on the actor.
    public nonisolated func recordIssued(_ issued: IssuedCredential) async throws {
        guard !recipients.isEmpty else {
            throw AtomicFile.Failure(description: "no recipients to seal the secret of \(issued.entry) to")
        }
        let (recipients, names) = (self.recipients, recipientNames)
        let (record, line, armored) = try await WorkerThread.sealing.run {
            let encrypted = try AgeFile.encrypt(Array(issued.secret.reveal().utf8), to: recipients)
            let record = JournalRecord(
                op: .issued, at: issued.at, provider: issued.entry.provider, bot: issued.entry.bot, id: issued.id,
                permissionsSHA256: issued.permissions?.sha256, sealedTo: names,
                age: Base64.encode(encrypted, padded: true), label: issued.entry.label, expiresAt: issued.expiresAt,
                retiring: issued.retiring.isEmpty ? nil : issued.retiring)
            return (record, record.line, AgeArmor.armor(encrypted))
        }
        guard let entry = try await append(record, line: line, sealed: (armored, recipients)) else { return }
        WorkerThread.sealing.enqueue {
            let ahead = SealedFile.PrerenderedEntry(entry)
            self.prerendered.withLock { $0[entry.address] = ahead }
        }
    }

    public func recordRevoked(entry: EntryKey, id: String) async throws {
        let gone = file.entries[entry.address]?.id == id
        try await append(
            JournalRecord(
                op: .revoked, at: Date(), provider: entry.provider, bot: entry.bot, id: id, label: entry.label))
        if gone, entry.label == nil { try await forgetTokens(of: entry) }
    }

    public func recordCreated(provider: String, bot: String, id: String) async throws {
        try await append(JournalRecord(op: .created, at: Date(), provider: provider, bot: bot, id: id))
    }

    public func recordAdopted(provider: String, bot: String, id: String, permissions: Permissions?) async throws {
        try await append(
            JournalRecord(
                op: .adopted, at: Date(), provider: provider, bot: bot, id: id, permissionsSHA256: permissions?.sha256))
    }

    public func recordForgotten(entry: EntryKey) async throws {
        try await append(
            JournalRecord(op: .forgotten, at: Date(), provider: entry.provider, bot: entry.bot, label: entry.label))
        if entry.label == nil { try await forgetTokens(of: entry) }
    }

    /// A bot's tokens die with it (Sym revokes them when it deletes the bot): one record each, so a
    /// replayed journal needs no scan. The token index is built on first use.
    private func forgetTokens(of bot: EntryKey) async throws {
        if tokenIndex == nil {
            var index: [String: [EntryKey]] = [:]
            for entry in file.entries.values where entry.label != nil {
                index[EntryKey(provider: entry.provider, bot: entry.bot).address, default: []].append(entry.key)
            }
            tokenIndex = index
        }
        for token in tokenIndex?[bot.address] ?? [] where file.entries[token.address] != nil {
            try await append(
                JournalRecord(op: .forgotten, at: Date(), provider: token.provider, bot: token.bot, label: token.label))
        }
        tokenIndex?[bot.address] = nil
    }

    /// Replaces the file's entries and recipients (a re-wrap for new recipients), through the journal-free
    /// path: the next checkpoint writes it.
    public func replace(with updated: SealedFile) {
        if updated != file { changed = true }
        file = updated
    }

    /// Folds the journal into the sealed file: atomic replace, then the journal is removed. A crash in
    /// between replays the journal next time, to the same result.
    ///
    /// With `foldingJournal`, a journal left by an earlier run is folded even when this run changed
    /// nothing: an apply that completes must not leave the records of a crash outside the sealed file.
    public func checkpoint(foldingJournal: Bool = false) throws {
        guard changed || (foldingJournal && FileManager.default.fileExists(atPath: journalPath)) else { return }
        let text = file.renderBytes(prerendered: prerendered.withLock { $0 })
        try AtomicFile.replace(path, with: text)
        writer = nil
        if FileManager.default.fileExists(atPath: journalPath) {
            unlink(journalPath)
            AtomicFile.syncDirectory(
                (path as NSString).deletingLastPathComponent.isEmpty
                    ? "." : (path as NSString).deletingLastPathComponent)
        }
    }

    /// How many journal fsyncs this run made, and how many records they carried.
    public func journalStatistics() async -> (syncs: Int, records: Int) {
        guard let writer else { return (0, 0) }
        return (await writer.syncs, await writer.records)
    }
}

extension SealedFile {
    /// What re-wrapping for `recipients` did: entries re-encrypted, and entries that stay sealed to their
    /// old recipients because no identity could open them.
    public struct RewrapReport: Sendable {
        public var rewrapped: [String] = []
        public var unreadable: [(address: String, sealedTo: [AgeRecipient])] = []
    }

    /// Re-encrypts every held secret whose recipients differ from `recipients`, when an identity opens it.
    public func rewrapped(for recipients: [AgeRecipient], identities: [AgeIdentity]) -> (SealedFile, RewrapReport) {
        var updated = self
        updated.recipients = recipients
        var report = RewrapReport()
        let wanted = Set(recipients)
        for (address, entry) in entries.sorted(by: { $0.key < $1.key }) {
            guard let secret = entry.secret, Set(entry.sealedTo) != wanted else { continue }
            if !identities.isEmpty, let plain = try? AgeFile.decrypt(Array(secret.utf8), identities: identities),
                let encrypted = try? AgeFile.encrypt(plain, to: recipients)
            {
                updated.entries[address]?.secret = AgeArmor.armor(encrypted)
                updated.entries[address]?.sealedTo = recipients
                report.rewrapped.append(address)
            } else {
                report.unreadable.append((address, entry.sealedTo))
            }
        }
        return (updated, report)
    }

    /// The re-wrap a plan shows when held secrets are sealed to other recipients than `recipients`;
    /// nil when there is none (or no recipients are configured: there is nothing to re-wrap to).
    public func recipientChange(for recipients: [AgeRecipient]) -> PlanDocument.RecipientChange? {
        guard !recipients.isEmpty else { return nil }
        let stale = entriesToReseal(for: recipients)
        guard !stale.isEmpty else { return nil }
        let wanted = Set(recipients)
        var added = Set<AgeRecipient>()
        var removed = Set<AgeRecipient>()
        for entry in stale {
            added.formUnion(wanted.subtracting(entry.sealedTo))
            removed.formUnion(Set(entry.sealedTo).subtracting(wanted))
        }
        return PlanDocument.RecipientChange(
            entries: stale.map(\.address), added: added.map(\.description).sorted(),
            removed: removed.map(\.description).sorted())
    }

    /// Opens one entry's secret.
    public func open(_ address: String, identities: [AgeIdentity]) throws(AgeError) -> Secret? {
        guard let secret = entries[address]?.secret else { return nil }
        return Secret(String(decoding: try AgeFile.decrypt(Array(secret.utf8), identities: identities), as: UTF8.self))
    }
}
