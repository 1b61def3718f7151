import Foundation

/// A service Botform manages bots in. The planner knows providers only through their observations and
/// capabilities; the executor carries out one step at a time through this protocol.
public protocol BotProvider: Sendable {
    var name: String { get }
    /// What the provider can do as the caller it is configured as.
    var capabilities: ProviderCapabilities { get }
    /// One read of everything relevant, paginated as the service pages.
    func observe() async throws -> ProviderObservation
    /// Carries out one step. Throws `ProviderError`.
    func execute(_ step: ProviderStep) async throws -> StepOutcome
}

/// One call to a service.
public enum ProviderStep: Sendable, Hashable, CustomStringConvertible {
    /// Creates the bot. `role` is FOKS's (the role its token is provisioned at); permissions are Fyso's.
    case register(name: String, permissions: Permissions, role: FoksRole? = nil)
    case revoke(id: String, name: String)
    case resetSecret(id: String, name: String)
    /// Issues a token to a bot (Sym): the label it carries and how long it lives.
    case issueToken(bot: String, label: String, lifetimeSeconds: Int64)
    /// Revokes one token of a bot (Sym).
    case revokeToken(id: String, bot: String)

    /// Whether sending the step twice has the effect of sending it once.
    public var isIdempotent: Bool {
        switch self {
        case .revoke, .revokeToken: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .register(let name, _, _): "register \(name)"
        case .revoke(let id, let name): "revoke \(name) (\(id))"
        case .resetSecret(let id, let name): "reset-secret \(name) (\(id))"
        case .issueToken(let bot, let label, _): "issue token \(bot)/\(label)"
        case .revokeToken(let id, let bot): "revoke token \(id) of \(bot)"
        }
    }
}

/// What a step produced.
public enum StepOutcome: Sendable {
    /// The bot exists; `secret` is nil when the service issues none on creation (a Sym bot).
    case registered(id: String, secret: Secret?)
    case revoked
    case reset(secret: Secret)
    case tokenIssued(id: String, secret: Secret, expiresAt: Date?)
}

/// Why a step or an observation failed. Messages never contain secrets.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The service refused (4xx): retrying will not help.
        case rejected(status: Int, code: String?)
        /// The service could not be reached or kept failing (5xx, network) within the retry budget.
        case unavailable
        /// A non-idempotent step was sent and no answer came back: the service may or may not have
        /// carried it out. The executor re-observes and decides.
        case outcomeUnknown
        /// Credentials are missing or refused.
        case authentication
        /// The answer could not be understood.
        case badResponse
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The service definitely did not carry the step out: it refused (4xx, 401), or it could not be
    /// reached before the request was sent, or it kept rate-limiting. What Botform holds stays as it was.
    /// Only `outcomeUnknown` (and an answer that could not be understood) may have changed the service.
    public var isDefiniteRefusal: Bool {
        switch kind {
        case .rejected, .unavailable, .authentication: true
        case .outcomeUnknown, .badResponse: false
        }
    }
}
