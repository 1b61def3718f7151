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
    let transport: HTTPTransport
    let session: FysoSession

    public init(name: String, tenant: String, caller: FysoCaller, auth: FysoAuth, transport: HTTPTransport) {
        self.name = name
        self.tenant = tenant
        self.caller = caller
        self.transport = transport
        session = FysoSession(auth: auth, caller: caller, tenant: tenant, transport: transport)
    }

    public var capabilities: ProviderCapabilities {
        ProviderCapabilities(
            canResetSecret: caller == .admin, canUpdatePermissions: false, seesAllBots: caller == .admin,
            caller: caller.rawValue)
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

    static func json(_ response: APIResponse) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any]
    }

    // MARK: Observe

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
            guard response.status == 200, let object = Self.json(response) else {
                throw ProviderError(
                    .rejected(status: response.status, code: FysoErrorBody(response.body).code),
                    "\(name): listing bots failed (\(response.status)): \(FysoErrorBody(response.body).summary)")
            }
            next = nil
            let items: [[String: Any]]
            if let list = object["data"] as? [[String: Any]] {
                items = list
                next = Self.nextLink(response.headers.first(name: "Link"))
            } else if let page = object["data"] as? [String: Any], let list = page["items"] as? [[String: Any]] {
                // The records API's paged shape, should a server page bots the same way.
                items = list
                let current = page["page"] as? Int ?? 1
                if let total = page["totalPages"] as? Int, current < total {
                    next = "/api/auth/bots?page=\(current + 1)"
                }
            } else {
                throw ProviderError(.badResponse, "\(name): the bot list is not a list")
            }
            for item in items {
                guard let bot = Self.bot(item) else { continue }
                // An admin's list may span tenants; keep this provider's.
                if let slug = item["tenantSlug"] as? String, slug != tenant { continue }
                bots.append(bot)
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

    static func bot(_ item: [String: Any]) -> ObservedBot? {
        guard let id = item["id"] as? String, let name = item["name"] as? String else { return nil }
        var permissions: Permissions?
        if let wrapper = item["permissions"] as? [String: Any] {
            let entities = wrapper["entities"] as? [String: [String]] ?? [:]
            permissions = Permissions(entities.mapValues { ActionSet($0.compactMap(Action.init(rawValue:))) })
        } else if item["permissions"] == nil || item["permissions"] is NSNull {
            permissions = Permissions()
        }
        return ObservedBot(
            id: id, name: name, isActive: item["isActive"] as? Bool ?? true, permissions: permissions,
            createdAt: (item["createdAt"] as? String).flatMap { try? Date($0, strategy: .iso8601) },
            lastSeenAt: (item["lastSeenAt"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
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
            guard response.status == 201 || response.status == 200 else {
                throw failure("registering \(botName)", response)
            }
            guard let data = Self.json(response)?["data"] as? [String: Any], let id = data["id"] as? String,
                let secret = data["secret"] as? String, !secret.isEmpty
            else {
                throw ProviderError(
                    .outcomeUnknown, "\(name): registering \(botName) answered without an id and secret")
            }
            return .registered(id: id, secret: Secret(secret))
        case .revoke(let id, let botName):
            let response = try await call(.POST, "/api/auth/bots/\(id)/revoke", idempotent: true)
            guard response.status == 200 else { throw failure("revoking \(botName)", response) }
            return .revoked
        case .resetSecret(let id, let botName):
            let response = try await call(.POST, "/api/auth/bots/\(id)/reset-secret", idempotent: false)
            guard response.status == 200 else { throw failure("resetting the secret of \(botName)", response) }
            guard let data = Self.json(response)?["data"] as? [String: Any], let secret = data["secret"] as? String,
                !secret.isEmpty
            else {
                throw ProviderError(.outcomeUnknown, "\(name): resetting \(botName) answered without a secret")
            }
            return .reset(secret: Secret(secret))
        }
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
        guard response.status == 200, let object = FysoProvider.json(response) else {
            throw ProviderError(
                .authentication,
                "Fyso login as \(caller.rawValue) \(email) failed (\(response.status)): \(FysoErrorBody(response.body).summary)"
            )
        }
        // The token is in `data.token`; some documentation shows it at the top level.
        guard let value = (object["data"] as? [String: Any])?["token"] as? String ?? object["token"] as? String else {
            throw ProviderError(.authentication, "Fyso login answered without a token")
        }
        let fresh = Secret(value)
        token = fresh
        return fresh
    }
}
