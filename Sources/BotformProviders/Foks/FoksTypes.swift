import BotformCore
import Foundation

/// What `foks status` says about the user the agent acts as: who, where, and with which key.
public struct FoksStatus: Sendable, Hashable {
    /// The user's name (`Info.Username.Name`).
    public var user: String
    /// The user's home server as the agent names it (`Info.HostAddr`).
    public var host: String
    /// The role of the key the agent acts with; nil when FOKS reports a role Botform cannot use (`NONE`).
    public var role: FoksRole?
    /// The role as FOKS printed it ("OWNER", "ADMIN", "MEMBER/-5").
    public var roleText: String
    /// The ID of the key the agent acts with, when reported.
    public var keyID: String?
    public var lock: FoksLockState

    public init(user: String, host: String, role: FoksRole?, roleText: String, keyID: String?, lock: FoksLockState) {
        self.user = user
        self.host = host
        self.role = role
        self.roleText = roleText
        self.keyID = keyID
        self.lock = lock
    }

    /// Whether the agent's user lives on `host` (the provider's configured host): compared without case,
    /// a trailing dot or a port, since FOKS may print `HostAddr` as `host:port`.
    public func isOnHost(_ host: String) -> Bool {
        Self.bareHost(self.host) == Self.bareHost(host)
    }

    /// A host name lower-cased, without a port, brackets or a trailing dot.
    static func bareHost(_ text: String) -> String {
        var value = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let colon = value.lastIndex(of: ":"), value.index(after: colon) != value.endIndex,
            value.hasPrefix("[") || value.filter({ $0 == ":" }).count == 1,
            value[value.index(after: colon)...].allSatisfy(\.isNumber)
        {
            value = String(value[..<colon])
        }
        value = value.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        while value.hasSuffix(".") { value.removeLast() }
        return value
    }

    /// Where bot tokens made through this agent are issued: the host and the user. Recorded with each
    /// sealed entry, so pointing the provider at another user or server is refused, not replanned.
    public var origin: ProviderOrigin {
        ProviderOrigin(type: .foks, endpoint: Self.bareHost(host), tenant: user)
    }
}

/// Whether the agent's active key can be used (`LockStatus.Sc` in `foks status`).
public enum FoksLockState: Sendable, Hashable, CustomStringConvertible {
    case unlocked
    /// `PASSPHRASE_LOCKED_ERROR`: the key is encrypted with a passphrase not yet given to the agent.
    case passphraseLocked
    /// `BOT_TOKEN_LOCKED_ERROR`: the agent restarted and no longer holds the bot token it acted with.
    case botTokenLocked
    /// `YUBI_LOCKED_ERROR`.
    case yubiKeyLocked
    /// Any other status code, by name.
    case other(String)

    init(code: String?) {
        switch code {
        case nil, "OK": self = .unlocked
        case "PASSPHRASE_LOCKED_ERROR": self = .passphraseLocked
        case "BOT_TOKEN_LOCKED_ERROR": self = .botTokenLocked
        case "YUBI_LOCKED_ERROR": self = .yubiKeyLocked
        case let code?: self = .other(code)
        }
    }

    public var description: String {
        switch self {
        case .unlocked: "unlocked"
        case .passphraseLocked: "passphrase locked"
        case .botTokenLocked: "bot token locked"
        case .yubiKeyLocked: "YubiKey locked"
        case .other(let code): code
        }
    }
}

/// A bot-token key of the current user as `foks --json key list` shows it (`DeviceType` 4).
public struct FoksBotKey: Sendable, Hashable {
    /// The key ID, `.J` and 43 base-62 characters (`Di.Key.Member.Id.Entity`).
    public var id: String
    /// The token's public 5-character name part, which FOKS uses as the device name (`Di.Dn.Name`).
    public var name: String
    /// `Di.Key.DstRole`.
    public var role: FoksRole
    /// `Di.Status == 1`. Revoked keys stay in the list.
    public var isRevoked: Bool
    /// Whether the agent itself acts with this key (it was loaded with `foks bot use`).
    public var isAgentKey: Bool
    /// `Di.Ctime` (Unix milliseconds).
    public var createdAt: Date?

    public init(id: String, name: String, role: FoksRole, isRevoked: Bool, isAgentKey: Bool, createdAt: Date?) {
        self.id = id
        self.name = name
        self.role = role
        self.isRevoked = isRevoked
        self.isAgentKey = isAgentKey
        self.createdAt = createdAt
    }
}

/// A bot token `foks bot new` just made. The token is shown once: seal it before anything else.
public struct FoksIssuedToken: Sendable {
    /// The whole `name.key` string, checked against the canonical grammar.
    public var token: Secret
    /// The public name part (the first 5 characters), the key's device name.
    public var name: String
    public var role: FoksRole
    /// The new key's ID, found by listing keys after the creation. Nil when that list failed or did not
    /// show the key yet: the token is returned anyway (it must be sealed), and the ID can be found by
    /// `name` at the next observation.
    public var keyID: String?

    public init(token: Secret, name: String, role: FoksRole, keyID: String?) {
        self.token = token
        self.name = name
        self.role = role
        self.keyID = keyID
    }
}

/// What `revoke(keyID:)` found.
public enum FoksRevokeOutcome: Sendable, Hashable {
    /// The key was revoked by this call; `attempts` counts the refusals while the key was not yet in the
    /// server's Merkle tree, plus one.
    case revoked(attempts: Int)
    /// FOKS said "device already revoked": the key was revoked before (by an earlier run, or outside
    /// Botform). The caller can treat it as done.
    case alreadyRevoked
}

/// The canonical grammar of a bot token as `foks bot new` prints it (specs/foks-cli.md §1.1):
/// `^[0-9][0-9a-z]{4}\.[0-9A-Za-f][0-9A-Za-z]{30}$`. A base-36 name of 3 random bytes (so its first
/// character is a digit), a dot, a base-62 key of 23 bytes (so its first character is at most `f`).
public enum FoksTokenGrammar {
    public static let nameLength = 5
    public static let keyLength = 31

    /// Whether text is a bot token in the canonical form. Never echo text that fails: it may be a token.
    public static func isCanonical(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == nameLength + 1 + keyLength, bytes[nameLength] == UInt8(ascii: ".") else { return false }
        let digit = UInt8(ascii: "0")...UInt8(ascii: "9")
        let lower = UInt8(ascii: "a")...UInt8(ascii: "z")
        let upper = UInt8(ascii: "A")...UInt8(ascii: "Z")
        guard digit.contains(bytes[0]), bytes[1..<nameLength].allSatisfy({ digit.contains($0) || lower.contains($0) })
        else { return false }
        let key = bytes[(nameLength + 1)...]
        guard let first = key.first,
            digit.contains(first) || upper.contains(first) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(first)
        else { return false }
        return key.allSatisfy { digit.contains($0) || lower.contains($0) || upper.contains($0) }
    }

    /// The public name part of a token (its first 5 characters).
    public static func name(of token: String) -> String { String(token.prefix(nameLength)) }
}
