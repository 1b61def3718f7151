import Foundation

/// Where issued secrets and Botform's records of what it manages are kept. Every `record…` call
/// returns only once the record is durable: an issued secret is on disk, encrypted, before its action
/// counts as done. The sealed file implements it; the planner sees only the `Ownership` it returns.
///
/// Entries are addressed by `EntryKey`: a bot (`provider/bot`) or one of its tokens (`provider/bot/label`).
public protocol SecretCustody: Sendable {
    /// What Botform manages, including everything recorded so far in this run.
    func ownership() async -> Ownership
    /// Before a call that issues a secret: the bot (or token) the service may create or change is
    /// Botform's.
    func recordIntent(_ intent: IssueIntent, entry: EntryKey, id: String?, permissions: Permissions?) async throws
    /// The service definitely refused the call announced by `recordIntent`: what was held is held again.
    func recordAborted(_ intent: IssueIntent, entry: EntryKey) async throws
    /// A secret the service issued, to be sealed.
    func recordIssued(_ issued: IssuedCredential) async throws
    /// A credential revoked. For a bot, its tokens go with it; for a credential an entry's current one
    /// replaced (`retiring`), the entry stays.
    func recordRevoked(entry: EntryKey, id: String) async throws
    /// A bot Botform created that holds no secret of its own (a Sym bot).
    func recordCreated(provider: String, bot: String, id: String) async throws
    func recordAdopted(provider: String, bot: String, id: String, permissions: Permissions?) async throws
    /// An entry dropped (its bot or token no longer exists); a bot's tokens go with it.
    func recordForgotten(entry: EntryKey) async throws
}

/// A credential the service issued, as custody records it.
public struct IssuedCredential: Sendable {
    public var entry: EntryKey
    public var id: String
    public var permissions: Permissions?
    public var secret: Secret
    public var at: Date
    /// When the credential expires (Sym tokens).
    public var expiresAt: Date?
    /// The credentials this one replaces, revoked next (a renewal).
    public var retiring: [String]

    public init(
        entry: EntryKey, id: String, permissions: Permissions?, secret: Secret, at: Date, expiresAt: Date? = nil,
        retiring: [String] = []
    ) {
        self.entry = entry
        self.id = id
        self.permissions = permissions
        self.secret = secret
        self.at = at
        self.expiresAt = expiresAt
        self.retiring = retiring
    }
}

/// The call an intent announces.
public enum IssueIntent: String, Sendable {
    case register
    case reset
}

/// The bot-level calls, spelled by provider and bot name.
extension SecretCustody {
    public func recordIntent(
        _ intent: IssueIntent, provider: String, bot: String, id: String?, permissions: Permissions?
    ) async throws {
        try await recordIntent(intent, entry: EntryKey(provider: provider, bot: bot), id: id, permissions: permissions)
    }

    public func recordAborted(_ intent: IssueIntent, provider: String, bot: String) async throws {
        try await recordAborted(intent, entry: EntryKey(provider: provider, bot: bot))
    }

    public func recordIssued(
        provider: String, bot: String, id: String, permissions: Permissions, secret: Secret, at: Date
    ) async throws {
        try await recordIssued(
            IssuedCredential(
                entry: EntryKey(provider: provider, bot: bot), id: id, permissions: permissions, secret: secret, at: at)
        )
    }

    public func recordRevoked(provider: String, bot: String, id: String) async throws {
        try await recordRevoked(entry: EntryKey(provider: provider, bot: bot), id: id)
    }

    public func recordForgotten(provider: String, bot: String) async throws {
        try await recordForgotten(entry: EntryKey(provider: provider, bot: bot))
    }
}
