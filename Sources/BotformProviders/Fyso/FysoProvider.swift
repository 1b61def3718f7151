import AsyncHTTPClient
import BotformCore
import Foundation
import Logging
import NIOHTTP1

/// How Botform authenticates to Fyso, with the secrets already read from the environment or files.
public enum FysoAuth: Sendable {
    case token(Secret)
    case login(email: String, password: Secret)
}

/// The Fyso Bot Identity API as a Botform provider: observe with one list call per page, then register,
/// revoke and reset-secret. `X-Tenant-ID` goes on every tenant-scoped call.
public struct FysoProvider: BotProvider {
    public let name: String
    public let tenant: String
    public let caller: FysoCaller
    /// Whether the service lets a revoked bot's name be registered again; nil when not declared
    /// (Fyso does not document it).
    public let revokedNamesReusable: Bool?
    let transport: HTTPTransport
    let session: FysoSession

    public init(
        name: String, tenant: String, caller: FysoCaller, auth: FysoAuth, transport: HTTPTransport,
        revokedNamesReusable: Bool? = nil
    ) {
        self.name = name
        self.tenant = tenant
        self.caller = caller
        self.revokedNamesReusable = revokedNamesReusable
        self.transport = transport
        session = FysoSession(auth: auth, caller: caller, tenant: tenant, transport: transport)
    }

    public var capabilities: ProviderCapabilities {
        ProviderCapabilities(
            canResetSecret: caller == .admin, canUpdatePermissions: false, seesAllBots: caller == .admin,
            caller: caller.rawValue, revokedNamesReusable: revokedNamesReusable)
    }

    // MARK: Calls

    /// Sends an authenticated, tenant-scoped call; on 401 with login credentials, logs in again once.
    func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, idempotent: Bool)
        async throws(ProviderError) -> APIResponse
    {
        let data = body.map { Data($0.serialized(pretty: false).utf8) }
        var relogged = false
        while true {
            let token = try await session.bearer()
            let request = APIRequest(
                method: method, path: path,
                headers: [("Authorization", "Bearer \(token.reveal())"), ("X-Tenant-ID", tenant)], body: data,
                idempotent: idempotent)
            let response = try await transport.send(request)
            if response.status == 401, !relogged, await session.canLogInAgain {
                await session.invalidate()
                relogged = true
                continue
            }
            if response.status == 401 || response.status == 403 && path == "/api/auth/bots" {
                throw ProviderError(
                    .authentication,
                    "\(name): \(method) \(path) was refused (\(response.status)): \(FysoErrorBody(response.body).summary)"
                )
            }
            return response
        }
    }

    // MARK: Observe

    /// Reads every page of the bot list. An item that cannot be read fails the whole observation: a
    /// plan made from a list with a bot missing would register it again or forget it.
    public func observe() async throws -> ProviderObservation {
        var bots: [ObservedBot] = []
        var next: String? = "/api/auth/bots"
        var calls = 0
        var seen: Set<String> = []
        while let path = next {
            guard seen.insert(path).inserted, calls < 10_000 else {
                throw ProviderError(.badResponse, "\(name): the bot list's pages do not end (page \(path) again)")
            }
            let response = try await call(.GET, path, idempotent: true)
            calls += 1
            guard response.status == 200 else {
                let body = FysoErrorBody(response.body)
                throw ProviderError(
                    .rejected(status: response.status, code: body.code),
                    "\(name): listing bots failed (\(response.status)): \(body.summary)")
            }
            let list: FysoWire.BotList
            do {
                list = try JSONDecoder().decode(FysoWire.BotList.self, from: response.body)
            } catch {
                throw ProviderError(
                    .badResponse,
                    "\(name): page \(calls) of the bot list is not a list of bots: \(FysoWire.describe(error))")
            }
            for entry in list.entries {
                // An admin's list may span tenants; keep (and judge) only this provider's.
                if let slug = entry.tenantSlug, slug != tenant { continue }
                switch entry.bot {
                case .success(let bot):
                    bots.append(bot.observed)
                case .failure(let error):
                    let named = entry.name.map { " \"\($0.prefix(100))\"" } ?? ""
                    throw ProviderError(
                        .badResponse,
                        "\(name): cannot read bot\(named) on page \(calls) of the bot list, "
                            + "\(FysoWire.describe(error)); nothing is planned from a list that is not fully understood"
                    )
                }
            }
            next = Self.nextLink(response.headers.first(name: "Link"))
            if next == nil, let total = list.totalPages, (list.page ?? 1) < total {
                // The records API's paged shape, should a server page bots the same way.
                next = "/api/auth/bots?page=\((list.page ?? 1) + 1)"
            }
        }
        return ProviderObservation(provider: name, bots: bots, capabilities: capabilities, listCalls: calls)
    }

    static func nextLink(_ header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ",") where part.contains("rel=\"next\"") || part.contains("rel=next") {
            guard let start = part.firstIndex(of: "<"), let end = part.firstIndex(of: ">"), start < end else {
                continue
            }
            let target = String(part[part.index(after: start)..<end])
            if let url = URL(string: target), url.scheme != nil {
                return url.path + (url.query.map { "?\($0)" } ?? "")
            }
            return target
        }
        return nil
    }

    // MARK: Execute

    public func execute(_ step: ProviderStep) async throws -> StepOutcome {
        switch step {
        case .register(let botName, let permissions):
            let entities = JSONValue.object(
                permissions.entityNames.map { entity in
                    (entity, .array(permissions.actions(for: entity).sorted.map { .string($0.rawValue) }))
                })
            var fields: [(String, JSONValue)] = [
                ("name", .string(botName)), ("permissions", .object([("entities", entities)])),
            ]
            if caller == .admin { fields.append(("tenantSlug", .string(tenant))) }
            let response = try await call(.POST, "/api/auth/bots/register", body: .object(fields), idempotent: false)
            guard (200...299).contains(response.status) else { throw failure("registering \(botName)", response) }
            // A success without the id and secret: the bot may exist, with a secret nobody holds.
            guard let issued = Self.issued(response), let id = issued.id, !id.isEmpty,
                let secret = issued.secret, !secret.isEmpty
            else {
                throw ProviderError(
                    .outcomeUnknown,
                    "\(name): registering \(botName) answered \(response.status) without an id and secret")
            }
            return .registered(id: id, secret: Secret(secret))
        case .revoke(let id, let botName):
            let response = try await call(.POST, "/api/auth/bots/\(id)/revoke", idempotent: true)
            guard (200...299).contains(response.status) else { throw failure("revoking \(botName)", response) }
            return .revoked
        case .resetSecret(let id, let botName):
            let response = try await call(.POST, "/api/auth/bots/\(id)/reset-secret", idempotent: false)
            guard (200...299).contains(response.status) else {
                throw failure("resetting the secret of \(botName)", response)
            }
            guard let secret = Self.issued(response)?.secret, !secret.isEmpty else {
                throw ProviderError(
                    .outcomeUnknown, "\(name): resetting \(botName) answered \(response.status) without a secret")
            }
            return .reset(secret: Secret(secret))
        }
    }

    static func issued(_ response: APIResponse) -> FysoWire.Issued? {
        (try? JSONDecoder().decode(FysoWire.Envelope<FysoWire.Issued>.self, from: response.body))?.data
    }

    private func failure(_ what: String, _ response: APIResponse) -> ProviderError {
        let body = FysoErrorBody(response.body)
        return ProviderError(
            .rejected(status: response.status, code: body.code),
            "\(name): \(what) failed (\(response.status)): \(body.summary)")
    }
}

/// The session: a static token, or a login that is repeated once when the session expires.
actor FysoSession {
    private let auth: FysoAuth
    private let caller: FysoCaller
    private let tenant: String
    private let transport: HTTPTransport
    private var token: Secret?
    private var logins = 0

    init(auth: FysoAuth, caller: FysoCaller, tenant: String, transport: HTTPTransport) {
        self.auth = auth
        self.caller = caller
        self.tenant = tenant
        self.transport = transport
        if case .token(let token) = auth { self.token = token }
    }

    var canLogInAgain: Bool {
        if case .login = auth { return logins < 2 }
        return false
    }

    func invalidate() { token = nil }

    func bearer() async throws(ProviderError) -> Secret {
        if let token { return token }
        guard case .login(let email, let password) = auth else { throw ProviderError(.authentication, "no Fyso token") }
        logins += 1
        let path = caller == .admin ? "/api/auth/login" : "/api/auth/tenant/login"
        let body = Data(
            JSONValue.object([("email", .string(email)), ("password", .string(password.reveal()))]).serialized(
                pretty: false
            ).utf8)
        let headers = caller == .user ? [("X-Tenant-ID", tenant)] : []
        let response = try await transport.send(
            APIRequest(method: .POST, path: path, headers: headers, body: body, idempotent: true))
        guard response.status == 200 else {
            throw ProviderError(
                .authentication,
                "Fyso login as \(caller.rawValue) \(email) failed (\(response.status)): \(FysoErrorBody(response.body).summary)"
            )
        }
        // Nothing but the login was sent, so a login that cannot be read is a definite failure too.
        guard let value = (try? JSONDecoder().decode(FysoWire.Login.self, from: response.body))?.token, !value.isEmpty
        else {
            throw ProviderError(.authentication, "Fyso login answered without a token")
        }
        let fresh = Secret(value)
        token = fresh
        return fresh
    }
}
