import BotformCore
import Foundation

/// One bot in the sealed file: plain-text metadata and, when held, its secret as an armored age file.
public struct SealedEntry: Sendable, Equatable {
    public var provider: String
    public var bot: String
    public var id: String?
    public var origin: OwnedBot.Origin
    public var issuedAt: Date?
    public var permissionsSHA256: String?
    /// The recipients the secret is sealed to (public keys), so a change of recipients can say which
    /// entries stay readable by whom.
    public var sealedTo: [AgeRecipient]
    /// The armored age file holding the secret, kept verbatim so an unchanged entry is never re-encrypted.
    public var secret: String?
    /// A call that issues a secret (register, reset) was sent for this bot and its outcome is not known
    /// yet. The entry keeps what it held, so a definite refusal (recorded as an abort) restores it
    /// exactly; until then (or for good, if the run died) the held secret may be stale: `secret_lost`.
    public var pending: IssueIntent?
    /// What `pending` was before the latest intent, so that an abort restores it: a call refused after an
    /// earlier attempt (or an earlier run) left the outcome unknown must not clear that. Not written: a
    /// re-read entry that is pending stays pending whatever is refused next.
    var pendingBefore: IssueIntent?
    /// When the latest unfinished intent was recorded (see `OwnedBot.pendingSince`).
    public var pendingSince: Date? { pendingTimes.first }
    /// Every announcement since the credential was last recorded (see `OwnedBot.pendingTimes`).
    public var pendingTimes: [Date] = []
    var pendingTimesBefore: [Date] = []
    /// Announcements of calls that died unrecorded before the held credential was issued (see
    /// `OwnedBot.lostTimes`).
    public var lostTimes: [Date] = []
    /// A token of the bot (Sym): the entry is `provider/bot/label`.
    public var label: String?
    /// When the held credential expires (Sym tokens), as the service said when it issued it.
    public var expiresAt: Date?
    /// Credentials this one replaced whose revoke has not completed (see `OwnedBot.retiring`).
    public var retiring: [String] = []

    public init(
        provider: String, bot: String, id: String?, origin: OwnedBot.Origin, issuedAt: Date?,
        permissionsSHA256: String?,
        sealedTo: [AgeRecipient], secret: String?, pending: IssueIntent? = nil, label: String? = nil,
        expiresAt: Date? = nil, retiring: [String] = [], pendingTimes: [Date] = []
    ) {
        self.label = label
        self.expiresAt = expiresAt
        self.retiring = retiring
        self.pendingTimes = pendingTimes
        self.provider = provider
        self.bot = bot
        self.id = id
        self.origin = origin
        self.issuedAt = issuedAt
        self.permissionsSHA256 = permissionsSHA256
        self.sealedTo = sealedTo
        self.secret = secret
        self.pending = pending
    }

    public var address: String { key.address }
    public var key: EntryKey { EntryKey(provider: provider, bot: bot, label: label) }

    /// What the planner knows of this entry. An unfinished registration has no known id yet (the
    /// service's bot of that name, if any, is the one it created); an unfinished issue of either kind
    /// means the secret held may no longer be the bot's: it counts as not held.
    public var owned: OwnedBot {
        var owned = OwnedBot(
            provider: provider, name: bot, id: pending == .register ? nil : id,
            origin: pending != nil ? .issued : origin, issuedAt: issuedAt,
            permissionsSHA256: pending == .register ? nil : permissionsSHA256,
            secretHeld: secret != nil && pending == nil, label: label, expiresAt: expiresAt, retiring: retiring,
            pendingSince: pending != nil ? pendingSince : nil, pendingTimes: pending != nil ? pendingTimes : [])
        owned.lostTimes = lostTimes
        return owned
    }
}
