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

    public init(
        provider: String, bot: String, id: String?, origin: OwnedBot.Origin, issuedAt: Date?,
        permissionsSHA256: String?,
        sealedTo: [AgeRecipient], secret: String?
    ) {
        self.provider = provider
        self.bot = bot
        self.id = id
        self.origin = origin
        self.issuedAt = issuedAt
        self.permissionsSHA256 = permissionsSHA256
        self.sealedTo = sealedTo
        self.secret = secret
    }

    public var address: String { "\(provider)/\(bot)" }

    public var owned: OwnedBot {
        OwnedBot(
            provider: provider, name: bot, id: id, origin: origin, issuedAt: issuedAt,
            permissionsSHA256: permissionsSHA256,
            secretHeld: secret != nil)
    }
}
