import Foundation

/// What Botform knows about a bot it manages: Botform's memory of the service, kept in the sealed file.
public struct OwnedBot: Sendable, Hashable {
    /// How Botform came to manage the bot.
    public enum Origin: String, Sendable, Hashable, Codable {
        /// Botform registered it (or reset its secret): it issued a secret and must hold it.
        case issued
        /// Botform found it declared and already on the service: it holds no secret unless it resets one.
        case adopted
        /// Botform created it, and it holds no secret of its own (a Sym bot: its credentials are its
        /// tokens, each an entry of its own).
        case created
    }

    public var provider: String
    public var name: String
    /// The service's id; nil when an issue was intended but its answer never came (the id is learned
    /// from the next observation, by name).
    public var id: String?
    public var origin: Origin
    /// When the secret Botform holds (or lost) was issued.
    public var issuedAt: Date?
    /// `Permissions.sha256` of what the bot was registered with.
    public var permissionsSHA256: String?
    /// Whether the sealed file holds the bot's current secret.
    public var secretHeld: Bool
    /// A token of the bot (Sym), addressed `provider/bot/label`; nil for the bot itself.
    public var label: String?
    /// When the held credential expires (Sym tokens).
    public var expiresAt: Date?
    /// Credentials this entry's credential replaced, issued and sealed, whose revoke has not completed
    /// yet (a renewal is: issue the new, seal it, revoke the old). The planner revokes them.
    public var retiring: [String]
    /// When a call that issues a credential was announced and its outcome never recorded: a credential
    /// the service made for it after this moment and that no entry holds is Botform's own, never sealed.
    public var pendingSince: Date?
    /// Every announcement of such a call since the credential was last recorded, oldest first (each run
    /// that died adds one): the credential each made appears in its own window.
    public var pendingTimes: [Date]
    /// Announcements of calls that died unrecorded before the credential now held was issued: a call
    /// still on its way to the service when its run died may make a credential after the next run looked,
    /// so their windows are kept (for an hour) to recognise it later.
    public var lostTimes: [Date] = []

    /// Every announcement whose credential, if the service made one, is Botform's to revoke.
    public var unrecordedTimes: [Date] { pendingTimes + lostTimes }

    public init(
        provider: String, name: String, id: String?, origin: Origin, issuedAt: Date?, permissionsSHA256: String?,
        secretHeld: Bool, label: String? = nil, expiresAt: Date? = nil, retiring: [String] = [],
        pendingSince: Date? = nil, pendingTimes: [Date] = []
    ) {
        self.pendingTimes = pendingTimes.isEmpty ? (pendingSince.map { [$0] } ?? []) : pendingTimes
        self.provider = provider
        self.name = name
        self.id = id
        self.origin = origin
        self.issuedAt = issuedAt
        self.permissionsSHA256 = permissionsSHA256
        self.secretHeld = secretHeld
        self.label = label
        self.expiresAt = expiresAt
        self.retiring = retiring
        self.pendingSince = pendingSince
    }

    public var address: String { EntryKey(provider: provider, bot: name, label: label).address }

    public var key: EntryKey { EntryKey(provider: provider, bot: name, label: label) }

    /// Botform issued this bot a secret that it does not hold: the run that issued it died or lost the
    /// answer. The planner resets it.
    public var secretLost: Bool { origin == .issued && !secretHeld }

    /// What a plan depends on in this record, for a saved plan's staleness check.
    public var fingerprint: String {
        var text =
            "\(id ?? "-")|\(origin.rawValue)|\(Self.decimal(issuedAt?.timeIntervalSince1970 ?? 0))|\(permissionsSHA256 ?? "-")|\(secretHeld)"
        if let expiresAt { text += "|\(expiresAt.timeIntervalSince1970)" }
        if !retiring.isEmpty { text += "|\(retiring.joined(separator: ","))" }
        if let pendingSince { text += "|p\(pendingSince.timeIntervalSince1970)" }
        return text
    }
}

extension OwnedBot {
    /// `"\(seconds)"` of a Double, the fingerprint's spelling, without the shortest-digits search for
    /// whole seconds (every bot's issue time is one): "1764467000.0".
    static func decimal(_ seconds: Double) -> String {
        guard seconds == seconds.rounded(), abs(seconds) < 1e15 else { return "\(seconds)" }
        return "\(Int64(seconds)).0"
    }
}

/// Where an entry of the sealed file sits: a bot (`provider/bot`), or one of its tokens
/// (`provider/bot/label`).
public struct EntryKey: Sendable, Hashable, CustomStringConvertible {
    public var provider: String
    public var bot: String
    public var label: String?

    public init(provider: String, bot: String, label: String? = nil) {
        self.provider = provider
        self.bot = bot
        self.label = label
    }

    public var address: String { label.map { "\(provider)/\(bot)/\($0)" } ?? "\(provider)/\(bot)" }
    public var description: String { address }
}

/// Every bot Botform manages, by address.
public struct Ownership: Sendable {
    public var entries: [String: OwnedBot]
    /// Where each provider's entries were issued, when the sealed file records it.
    public var origins: [String: ProviderOrigin]

    public init(_ entries: [OwnedBot] = [], origins: [String: ProviderOrigin] = [:]) {
        self.entries = Dictionary(entries.map { ($0.address, $0) }) { _, last in last }
        self.origins = origins
    }

    /// Entries already keyed by address (the sealed file's), without keying them again.
    public init(byAddress entries: [String: OwnedBot], origins: [String: ProviderOrigin] = [:]) {
        self.entries = entries
        self.origins = origins
    }

    public subscript(address: String) -> OwnedBot? {
        get { entries[address] }
        set { entries[address] = newValue }
    }

    /// The bots (not their tokens) Botform manages in `provider`.
    public func bots(of provider: String) -> [OwnedBot] {
        bots(of: provider) { _ in true }
    }

    /// The bots of `provider` that pass `include`. Entries are read in place (by index): iterating the
    /// values copies each, and a plan of 10,000 bots spent more on those copies than on planning.
    public func bots(of provider: String, where include: (OwnedBot) -> Bool) -> [OwnedBot] {
        let values = entries.values
        var bots: [OwnedBot] = []
        for index in values.indices
        where values[index].provider == provider && values[index].label == nil && include(values[index]) {
            bots.append(values[index])
        }
        return bots
    }

    /// How many bots (not tokens) Botform manages in `provider`, without copying them.
    public func botCount(of provider: String) -> Int {
        let values = entries.values
        var count = 0
        for index in values.indices where values[index].provider == provider && values[index].label == nil {
            count += 1
        }
        return count
    }

    /// Every id the entries hold.
    public var ids: Set<String> {
        let values = entries.values
        var ids = Set<String>(minimumCapacity: values.count)
        for index in values.indices {
            if let id = values[index].id { ids.insert(id) }
        }
        return ids
    }

    /// Every entry of `provider`, bots and tokens.
    public func entries(of provider: String) -> [OwnedBot] {
        entries.values.filter { $0.provider == provider }
    }
}
