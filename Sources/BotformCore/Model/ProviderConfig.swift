/// The services Botform manages bots in.
public enum ProviderKind: String, Sendable, Hashable, Codable, CaseIterable {
    case fyso
    case sym
    case foks
}

/// Where a secret-bearing value (a token, a password) comes from. Secrets never appear in configuration.
public enum CredentialSource: Sendable, Hashable, Codable, CustomStringConvertible {
    case environment(String)
    case file(String)

    public var description: String {
        switch self {
        case .environment(let name): "environment variable \(name)"
        case .file(let path): "file \(path)"
        }
    }
}

/// A service's base URL, or the sandbox built into Botform.
public enum ServiceEndpoint: Sendable, Hashable, Codable, CustomStringConvertible {
    case embedded
    case url(String)

    public var description: String {
        switch self {
        case .embedded: "embedded"
        case .url(let url): url
        }
    }
}

/// Who Botform acts as on Fyso: an admin (may reset secrets) or a tenant user (may not).
public enum FysoCaller: String, Sendable, Hashable, Codable, CaseIterable {
    case admin
    case user
}

/// How Botform authenticates to Fyso.
public enum FysoCredentials: Sendable, Hashable, Codable {
    /// A ready JWT (admin, tenant user, or a tenant developer token). `caller` says which, when known.
    case token(CredentialSource, caller: FysoCaller?)
    /// Email and password, exchanged for a session at `POST /api/auth/login` (admin) or
    /// `POST /api/auth/tenant/login` (user).
    case login(email: CredentialSource, password: CredentialSource, caller: FysoCaller)
}

public struct FysoSettings: Sendable, Hashable, Codable {
    public var endpoint: ServiceEndpoint
    /// The tenant slug: sent as `tenantSlug` by admin callers and as `X-Tenant-ID` on every call.
    public var tenant: String
    /// Nil only for `embedded`, where Botform logs in to its own sandbox.
    public var credentials: FysoCredentials?
    public var timeout: BotformDuration

    public init(endpoint: ServiceEndpoint, tenant: String, credentials: FysoCredentials?, timeout: BotformDuration) {
        self.endpoint = endpoint
        self.tenant = tenant
        self.credentials = credentials
        self.timeout = timeout
    }
}

public struct SymSettings: Sendable, Hashable, Codable {
    public static let defaultURL = "https://api.symops.com/api/v1"
    public var endpoint: ServiceEndpoint
    public var token: CredentialSource?
    public var timeout: BotformDuration

    public init(endpoint: ServiceEndpoint, token: CredentialSource?, timeout: BotformDuration) {
        self.endpoint = endpoint
        self.token = token
        self.timeout = timeout
    }
}

public struct FoksSettings: Sendable, Hashable, Codable {
    /// The FOKS server, e.g. `myorg.foks.app`.
    public var host: String
    /// The `foks` executable (a name looked up on PATH, or a path).
    public var binary: String
    /// Passed as `foks --home` when set, to isolate the agent's state.
    public var home: String?

    public init(host: String, binary: String, home: String?) {
        self.host = host
        self.binary = binary
        self.home = home
    }
}

public enum ProviderSettings: Sendable, Hashable, Codable {
    case fyso(FysoSettings)
    case sym(SymSettings)
    case foks(FoksSettings)

    public var kind: ProviderKind {
        switch self {
        case .fyso: .fyso
        case .sym: .sym
        case .foks: .foks
        }
    }
}

/// A declared provider: a name the bots refer to, and how to reach the service.
public struct ProviderConfig: Sendable, Hashable, Codable {
    public var name: String
    public var settings: ProviderSettings
    public var location: SourceLocation?

    public init(name: String, settings: ProviderSettings, location: SourceLocation? = nil) {
        self.name = name
        self.settings = settings
        self.location = location
    }

    public var kind: ProviderKind { settings.kind }
}
