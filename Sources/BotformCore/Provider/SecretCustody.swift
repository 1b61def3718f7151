import Foundation

/// Where issued secrets and Botform's records of what it manages are kept. Every `record…` call
/// returns only once the record is durable: an issued secret is on disk, encrypted, before its action
/// counts as done. The sealed file implements it; the planner sees only the `Ownership` it returns.
public protocol SecretCustody: Sendable {
    /// What Botform manages, including everything recorded so far in this run.
    func ownership() async -> Ownership
    /// Before a call that issues a secret: the bot the service may create or change is Botform's.
    func recordIntent(_ intent: IssueIntent, provider: String, bot: String, id: String?, permissions: Permissions?)
        async throws
    /// The service definitely refused the call announced by `recordIntent`: what was held is held again.
    func recordAborted(_ intent: IssueIntent, provider: String, bot: String) async throws
    /// A secret the service issued, to be sealed.
    func recordIssued(provider: String, bot: String, id: String, permissions: Permissions, secret: Secret, at: Date)
        async throws
    func recordRevoked(provider: String, bot: String, id: String) async throws
    func recordAdopted(provider: String, bot: String, id: String, permissions: Permissions?) async throws
    func recordForgotten(provider: String, bot: String) async throws
}

/// The call an intent announces.
public enum IssueIntent: String, Sendable {
    case register
    case reset
}
