import Foundation

/// What Botform knows about a bot it manages: Botform's memory of the service, kept in the sealed file.
public struct OwnedBot: Sendable, Hashable {
    /// How Botform came to manage the bot.
    public enum Origin: String, Sendable, Hashable, Codable {
        /// Botform registered it (or reset its secret): it issued a secret and must hold it.
        case issued
        /// Botform found it declared and already on the service: it holds no secret unless it resets one.
        case adopted
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

    public init(
        provider: String, name: String, id: String?, origin: Origin, issuedAt: Date?, permissionsSHA256: String?,
        secretHeld: Bool
    ) {
        self.provider = provider
        self.name = name
        self.id = id
        self.origin = origin
        self.issuedAt = issuedAt
        self.permissionsSHA256 = permissionsSHA256
        self.secretHeld = secretHeld
    }

    public var address: String { "\(provider)/\(name)" }

    /// Botform issued this bot a secret that it does not hold: the run that issued it died or lost the
    /// answer. The planner resets it.
    public var secretLost: Bool { origin == .issued && !secretHeld }

    /// What a plan depends on in this record, for a saved plan's staleness check.
    public var fingerprint: String {
        "\(id ?? "-")|\(origin.rawValue)|\(issuedAt?.timeIntervalSince1970 ?? 0)|\(permissionsSHA256 ?? "-")|\(secretHeld)"
    }
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

    public subscript(address: String) -> OwnedBot? {
        get { entries[address] }
        set { entries[address] = newValue }
    }

    public func bots(of provider: String) -> [OwnedBot] {
        entries.values.filter { $0.provider == provider }
    }
}
