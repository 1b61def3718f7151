/// Behaviours where Fyso's sources disagree or leave room, each a switch so tests can exercise both
/// sides. Defaults follow the seed document, then the newest documented behaviour.
struct SandboxSettings: Codable, Sendable, Equatable {
    /// Active bots a tenant user may hold (seed: 5); the next registration gets 429.
    var botsPerUser = 5
    /// Seed: a revoked bot's live JWTs stay valid until they expire. Changelog v1.30 says bots are
    /// revocation-checked on each request; true switches to that.
    var revocationEndsSessions = false
    /// Undocumented: whether a revoked bot's name can be registered again. Botform's replace (revoke,
    /// then register) needs it, so true by default.
    var revokedNamesReusable = true
    /// Seed: `GET /api/auth/bots` returns one array. When set, it returns pages of this size (`?page=N`),
    /// with `X-Total-Count` and a `Link: <…>; rel="next"` header while more remain.
    var botListPageSize: Int?
    /// Whether `GET /api/auth/bots` lists revoked bots (with `isActive: false`).
    var listIncludesRevoked = true
    /// Identify has returned a JWT since v1.30; older servers returned none.
    var identifyReturnsToken = true
    /// Bot JWT lifetime in seconds (seed: 3600).
    var botTokenTTL = 3_600
    /// Admin and tenant-user session lifetime in seconds (docs: "default 24h").
    var sessionTTL = 86_400
    /// The rate limiter's 429 body: `string` (`{error: "RATE_LIMITED"}`, changelog v1.34) or `object`.
    var rateLimitErrorForm = "string"
    /// A test hook, off by default: keep every secret the sandbox issues, in memory, for
    /// `GET /_sandbox/issued-secrets`, so tests can search a client's output and disk for them.
    var recordIssuedSecrets = false

    enum CodingKeys: String, CodingKey, CaseIterable {
        case botsPerUser, revocationEndsSessions, revokedNamesReusable, botListPageSize, listIncludesRevoked
        case identifyReturnsToken, botTokenTTL, sessionTTL, rateLimitErrorForm, recordIssuedSecrets
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(botsPerUser, forKey: .botsPerUser)
        try container.encode(revocationEndsSessions, forKey: .revocationEndsSessions)
        try container.encode(revokedNamesReusable, forKey: .revokedNamesReusable)
        try container.encode(botListPageSize, forKey: .botListPageSize)
        try container.encode(listIncludesRevoked, forKey: .listIncludesRevoked)
        try container.encode(identifyReturnsToken, forKey: .identifyReturnsToken)
        try container.encode(botTokenTTL, forKey: .botTokenTTL)
        try container.encode(sessionTTL, forKey: .sessionTTL)
        try container.encode(rateLimitErrorForm, forKey: .rateLimitErrorForm)
        try container.encode(recordIssuedSecrets, forKey: .recordIssuedSecrets)
    }

    init() {}

    /// Why these settings cannot be used, or nil.
    var problem: String? {
        if botsPerUser < 0 { return "botsPerUser must be 0 or more" }
        if let size = botListPageSize, size < 1 { return "botListPageSize must be 1 or more, or null" }
        if botTokenTTL < 1 || sessionTTL < 1 { return "TTLs must be at least 1 second" }
        if !["string", "object"].contains(rateLimitErrorForm) {
            return "rateLimitErrorForm must be \"string\" or \"object\""
        }
        return nil
    }
}
