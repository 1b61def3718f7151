import BotformCore
import Foundation
import Logging
import NIOHTTP1

/// Sym's bots and their tokens as a Botform provider, through the REST API `symflow` uses
/// (../shared/specs/sym-api.md): bots are users of type bot, created with `PATCH users` and deleted
/// with `POST users/delete` (which revokes their tokens); tokens are issued with `POST tokens` (shown
/// once), listed with `GET tokens` and revoked with `POST tokens/delete`.
///
/// Expiry is judged by the service's clock: the observation carries the `Date` of Sym's answer.
public struct SymProvider: BotProvider {
    public let name: String
    let token: Secret
    let transport: HTTPTransport
    /// Makes a new user's id (`symflow bots create` sends a client-made uuid4 too); injectable for tests.
    let newID: @Sendable () -> String

    public init(
        name: String, token: Secret, transport: HTTPTransport,
        newID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() }
    ) {
        self.name = name
        self.token = token
        self.transport = transport
        self.newID = newID
    }

    public var capabilities: ProviderCapabilities {
        ProviderCapabilities(
            canResetSecret: false, canUpdatePermissions: false, seesAllBots: true, caller: "admin",
            matchesByName: true, registerIssuesSecret: false, replacesNewFirst: false, issuesTokens: true)
    }

    // MARK: Calls

    func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, idempotent: Bool)
        async throws(ProviderError) -> APIResponse
    {
        let request = APIRequest(
            method: method, path: path,
            headers: [("Authorization", "Bearer \(token.reveal())"), ("Accept", "application/json")]
                + (body == nil ? [] : [("Content-Type", "application/json")]),
            body: body.map { Data($0.serialized(pretty: false).utf8) }, idempotent: idempotent)
        let response = try await transport.send(request)
        if response.status == 401 {
            throw ProviderError(
                .authentication,
                "\(name): \(method) \(path) was refused (401): \(SymWire.ErrorBody(response.body).summary); check the provider's token (an org admin's Sym token)"
            )
        }
        return response
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: APIResponse, _ what: String) throws(ProviderError)
        -> T
    {
        guard (200...299).contains(response.status) else { throw failure(what, response) }
        do {
            return try SymWire.decoder.decode(type, from: response.body)
        } catch {
            throw ProviderError(
                .badResponse, "\(name): \(what) answered \(response.status) with JSON it could not read")
        }
    }

    private func failure(_ what: String, _ response: APIResponse) -> ProviderError {
        let body = SymWire.ErrorBody(response.body)
        return ProviderError(
            .rejected(status: response.status, code: body.code),
            "\(name): \(what) failed (\(response.status)): \(body.summary)")
    }

    // MARK: Observe

    /// Reads the bots, then the tokens (one call each: Sym does not page them), and the org the token
    /// acts in. Tokens past their expiry by the service's clock are not live, whether or not it lists them.
    public func observe() async throws -> ProviderObservation {
        let usersResponse = try await call(.GET, "/users?type=bot", idempotent: true)
        let users = try decode(SymWire.Users.self, usersResponse, "listing bots")
        let tokensResponse = try await call(.GET, "/tokens", idempotent: true)
        let tokens = try decode(SymWire.Tokens.self, tokensResponse, "listing tokens")
        let serviceNow = (tokensResponse.headers.first(name: "Date") ?? usersResponse.headers.first(name: "Date"))
            .flatMap(HTTPTransport.httpDate)
        let now = serviceNow ?? Date()
        var byUser: [String: [ObservedToken]] = [:]
        for token in tokens.tokens where token.expiresAt.map({ $0 > now }) ?? true {
            byUser[token.user.id.lowercased(), default: []].append(
                ObservedToken(
                    id: token.identifier.lowercased(), label: token.label, expiresAt: token.expiresAt,
                    createdAt: token.createdAt))
        }
        var bots: [ObservedBot] = []
        for user in users.users where user.type == nil || user.type == "bot" {
            guard let username = user.username else {
                throw ProviderError(
                    .badResponse,
                    "\(name): bot user \(user.id) has no sym identity (username); nothing is planned from a list that cannot name a bot"
                )
            }
            let id = user.id.lowercased()
            bots.append(
                ObservedBot(
                    id: id, name: username, isActive: true, permissions: nil, createdAt: user.createdAt,
                    tokens: (byUser[id] ?? []).sorted { $0.id < $1.id }))
        }
        let org = try await organization()
        return ProviderObservation(
            provider: name, bots: bots, capabilities: capabilities, listCalls: 2, serviceNow: serviceNow, tenant: org)
    }

    /// The org the token acts in (`GET auth/login`, as `symflow status` asks): part of where entries are
    /// issued. Nil when the service does not say.
    func organization() async throws -> String? {
        let response = try await call(.GET, "/auth/login", idempotent: true)
        // Without the org, a token of another org could not be told from this one: refuse to plan.
        guard (200...299).contains(response.status) else {
            throw failure("asking which org the token acts in", response)
        }
        return (try? SymWire.decoder.decode(SymWire.Login.self, from: response.body))?.organization
    }

    // MARK: Execute

    public func execute(_ step: ProviderStep) async throws -> StepOutcome {
        switch step {
        case .register(let bot, _, _):
            // An upsert keyed by the id Botform makes: sending it twice creates one bot.
            let id = newID()
            let identity = JSONValue.object([
                ("service_type", .string("sym")), ("external_id", .string("cloud")),
                ("matcher", .object([("username", .string(bot))])), ("profile", .object([])),
            ])
            let body = JSONValue.object([
                (
                    "users",
                    .array([
                        .object([("id", .string(id)), ("identities", .array([identity])), ("type", .string("bot"))])
                    ])
                )
            ])
            let response = try await call(.PATCH, "/users", body: body, idempotent: true)
            guard (200...299).contains(response.status) else { throw failure("creating bot \(bot)", response) }
            return .registered(id: id, secret: nil)
        case .revoke(_, let bot):
            let body = JSONValue.object([
                (
                    "users",
                    .array([
                        .object([
                            (
                                "identity",
                                .object([
                                    ("service_type", .string("sym")),
                                    ("matcher", .object([("username", .string(bot))])),
                                ])
                            )
                        ])
                    ])
                )
            ])
            let response = try await call(.POST, "/users/delete", body: body, idempotent: true)
            // Gone already: what a revoke wants.
            guard (200...299).contains(response.status) || response.status == 404 else {
                throw failure("deleting bot \(bot)", response)
            }
            return .revoked
        case .issueToken(let bot, let label, let lifetime):
            let body = JSONValue.object([
                ("username", .string(bot)), ("expiry", .integer(lifetime)), ("label", .string(label)),
            ])
            let response = try await call(.POST, "/tokens", body: body, idempotent: false)
            guard (200...299).contains(response.status) else {
                throw failure("issuing token \(bot)/\(label)", response)
            }
            guard let issued = try? SymWire.decoder.decode(SymWire.Issued.self, from: response.body),
                !issued.accessToken.isEmpty
            else {
                throw ProviderError(
                    .outcomeUnknown,
                    "\(name): issuing token \(bot)/\(label) answered \(response.status) without a token")
            }
            let claims = SymWire.claims(of: issued.accessToken)
            let serviceNow = response.headers.first(name: "Date").flatMap(HTTPTransport.httpDate)
            let expiresAt = claims.expiresAt ?? serviceNow.map { $0.addingTimeInterval(Double(lifetime)) }
            if let id = claims.id {
                return .tokenIssued(id: id.lowercased(), secret: Secret(issued.accessToken), expiresAt: expiresAt)
            }
            // A token that does not carry its id: the newest live token of this bot and label is it.
            let found = try await observe().bots.first { $0.name == bot }?.tokens.filter { $0.label == label }
                .max { ($0.expiresAt ?? .distantPast) < ($1.expiresAt ?? .distantPast) }
            guard let found else {
                throw ProviderError(
                    .outcomeUnknown,
                    "\(name): token \(bot)/\(label) was issued but neither it nor the token list names its id")
            }
            return .tokenIssued(
                id: found.id, secret: Secret(issued.accessToken), expiresAt: found.expiresAt ?? expiresAt)
        case .revokeToken(let id, let bot):
            let response = try await call(
                .POST, "/tokens/delete", body: .object([("identifier", .string(id))]), idempotent: true)
            guard (200...299).contains(response.status) || response.status == 404 else {
                throw failure("revoking token \(id) of \(bot)", response)
            }
            return .revoked
        case .resetSecret(_, let bot):
            throw ProviderError(
                .rejected(status: 400, code: nil), "\(name): a sym bot holds no secret of its own to reset (\(bot))")
        }
    }
}
