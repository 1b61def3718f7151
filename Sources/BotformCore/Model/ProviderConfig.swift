import Foundation

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

    /// The endpoint as compared between runs: `embedded` as such; a URL with its scheme and host
    /// lower-cased, the scheme's default port and any trailing slash dropped. Two spellings of one
    /// service compare equal, so a cosmetic edit of `url` is not taken for a move to another service.
    public var normalized: String {
        guard case .url(let text) = self else { return "embedded" }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host?.lowercased()
        else { return text }
        var port = ""
        if let number = components.port, !(scheme == "https" && number == 443) && !(scheme == "http" && number == 80) {
            port = ":\(number)"
        }
        var path = components.percentEncodedPath
        while path.hasSuffix("/") { path.removeLast() }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)\(port)\(path)"
    }
}

/// Where a provider's entries were issued: its type, normalised endpoint and tenant (Fyso's tenant
/// slug, Sym's org, FOKS's user). Recorded in the sealed file, so that pointing a provider at another
/// service is refused instead of planned as "register everything again".
public struct ProviderOrigin: Sendable, Hashable, Codable, CustomStringConvertible {
    public var type: ProviderKind
    public var endpoint: String
    public var tenant: String?

    public init(type: ProviderKind, endpoint: String, tenant: String?) {
        self.type = type
        self.endpoint = endpoint
        self.tenant = tenant
    }

    public var description: String {
        "\(type.rawValue) at \(endpoint)" + (tenant.map { ", tenant \"\($0)\"" } ?? "")
    }

    /// The same service and account. A tenant not known on one side (a Sym org the service did not
    /// name, a file written before it was recorded) does not make two origins differ.
    public func sameService(as other: ProviderOrigin) -> Bool {
        guard type == other.type, endpoint == other.endpoint else { return false }
        guard let tenant, let otherTenant = other.tenant else { return true }
        return tenant == otherTenant
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
    /// Whether the service lets a revoked bot's name be registered again. Fyso does not document it:
    /// nil means unknown (a replace is tried, and a 409 after its revoke is explained); false makes the
    /// planner refuse a replace, which would leave the bot revoked and its name taken.
    public var revokedNamesReusable: Bool?

    public init(
        endpoint: ServiceEndpoint, tenant: String, credentials: FysoCredentials?, timeout: BotformDuration,
        revokedNamesReusable: Bool? = nil
    ) {
        self.endpoint = endpoint
        self.tenant = tenant
        self.credentials = credentials
        self.timeout = timeout
        self.revokedNamesReusable = revokedNamesReusable
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

    /// The host as compared between runs: lower-case, without a scheme, FOKS's default port (443), a
    /// trailing dot or slash.
    public static func normalizedHost(_ host: String) -> String {
        var text = host.lowercased().trimmingCharacters(in: .whitespaces)
        if let range = text.range(of: "://") { text = String(text[range.upperBound...]) }
        while text.hasSuffix("/") { text.removeLast() }
        if text.hasSuffix(":443") { text.removeLast(4) }
        while text.hasSuffix(".") { text.removeLast() }
        return text
    }

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

    /// Where this provider's entries are issued, with the account the service says the caller acts in
    /// when the configuration does not name it (Sym's org, FOKS's user).
    public func origin(observed: ProviderObservation?) -> ProviderOrigin {
        var origin = self.origin
        if origin.tenant == nil, let tenant = observed?.tenant { origin.tenant = tenant }
        return origin
    }

    /// Where this provider's entries are issued (see `ProviderOrigin`).
    public var origin: ProviderOrigin {
        switch settings {
        case .fyso(let fyso): ProviderOrigin(type: .fyso, endpoint: fyso.endpoint.normalized, tenant: fyso.tenant)
        case .sym(let sym): ProviderOrigin(type: .sym, endpoint: sym.endpoint.normalized, tenant: nil)
        case .foks(let foks): ProviderOrigin(type: .foks, endpoint: FoksSettings.normalizedHost(foks.host), tenant: nil)
        }
    }
}
