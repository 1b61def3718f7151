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

    static let listPath = "/api/auth/bots"
    /// How many times the whole list is read when its pages do not add up to the total it reports
    /// (bots registered or revoked while it was read), before observing fails rather than plan on it.
    static let listRounds = 4

    /// Reads every page of the bot list. Once the first page tells how many bots there are (`X-Total-Count`,
    /// or the paged shape's `total`), the other pages are read concurrently, `transport.concurrency` at a
    /// time; pages named only by a cursor are followed one after another. When the bots read do not add up
    /// to the total the service reported (the list changed between pages, so a bot may have slid from one
    /// page to another unseen), the list is read again. An item that cannot be read fails the whole
    /// observation: a plan made from a list with a bot missing would register it again or forget it.
    public func observe() async throws -> ProviderObservation {
        var calls = 0
        for round in 1...Self.listRounds {
            let listing = try await list()
            calls += listing.calls
            if let mismatch = listing.mismatch {
                guard round < Self.listRounds else {
                    throw ProviderError(
                        .badResponse,
                        "\(name): the bot list kept changing while it was read (\(round) times; last: \(mismatch)); nothing is planned from a list that may miss bots, run again"
                    )
                }
                transport.logger.info("bot list changed while read; reading it again", metadata: ["why": "\(mismatch)"])
                continue
            }
            return ProviderObservation(
                provider: name, bots: listing.bots, capabilities: capabilities, listCalls: calls,
                serviceNow: listing.serviceNow)
        }
        throw ProviderError(.badResponse, "\(name): the bot list could not be read")
    }

    /// One reading of the whole list.
    struct Listing: Sendable {
        var bots: [ObservedBot]
        var calls: Int
        /// Why the pages do not add up to the reported total; nil when they do (or no total was given).
        var mismatch: String?
        /// The service's clock (the first page's `Date` header): rotation ages are judged by it.
        var serviceNow: Date?
    }

    /// One page of the list, read and judged.
    struct ListPage: Sendable {
        var number: Int
        /// This provider's bots on the page.
        var bots: [ObservedBot]
        /// Every item's id (another tenant's item without one: its position), to count against the total.
        var keys: [String]
        /// How many bots the service says there are: `X-Total-Count`, or the paged shape's `total`.
        var total: Int?
        /// The next page: `Link: <…>; rel="next"`, or the paged shape's next page number.
        var next: String?
        /// The answer's `Date` header.
        var serviceNow: Date?
    }

    func list() async throws -> Listing {
        let first = try await listPage(Self.listPath, number: 1)
        var pages = [first]
        if let total = first.total, first.keys.count > 0, total > first.keys.count,
            let template = Self.pageTemplate(first.next)
        {
            // Page numbers are known: read the rest concurrently.
            let count = (total + first.keys.count - 1) / first.keys.count
            guard count <= 10_000 else {
                throw ProviderError(.badResponse, "\(name): the bot list claims \(count) pages; refusing to read them")
            }
            pages += try await withThrowingTaskGroup(of: ListPage.self) { group in
                var numbers = (2...count).makeIterator()
                var read: [ListPage] = []
                for _ in 0..<transport.concurrency {
                    guard let number = numbers.next() else { break }
                    group.addTask { try await listPage(template(number), number: number) }
                }
                while let page = try await group.next() {
                    read.append(page)
                    if let number = numbers.next() {
                        group.addTask { try await listPage(template(number), number: number) }
                    }
                }
                return read.sorted { $0.number < $1.number }
            }
        } else {
            var seen: Set<String> = [Self.listPath]
            var next = first.next
            while let path = next {
                guard seen.insert(path).inserted, pages.count < 10_000 else {
                    throw ProviderError(.badResponse, "\(name): the bot list's pages do not end (page \(path) again)")
                }
                let page = try await listPage(path, number: pages.count + 1)
                pages.append(page)
                next = page.next
            }
        }
        return Listing(
            bots: pages.flatMap(\.bots), calls: pages.count, mismatch: Self.mismatch(pages),
            serviceNow: first.serviceNow)
    }

    /// Why the pages do not add up to the total the first one reported; nil when they do, or when the
    /// service gave no total to check against.
    static func mismatch(_ pages: [ListPage]) -> String? {
        guard let total = pages.first?.total else { return nil }
        if let page = pages.first(where: { $0.total != nil && $0.total != total }) {
            return "page 1 counted \(total) bots, page \(page.number) \(page.total ?? 0)"
        }
        let keys = pages.flatMap(\.keys)
        let distinct = Set(keys).count
        if distinct != keys.count { return "\(keys.count - distinct) bots appeared on two pages" }
        if keys.count != total { return "the service counted \(total) bots, its pages held \(keys.count)" }
        return nil
    }

    /// The path of page N, when the next link numbers its pages (`?page=2`); nil for a cursor.
    static func pageTemplate(_ next: String?) -> (@Sendable (Int) -> String)? {
        guard let next, var components = URLComponents(string: next),
            let items = components.queryItems, items.contains(where: { $0.name == "page" })
        else { return nil }
        let path = components.path.isEmpty ? listPath : components.path
        components.scheme = nil
        components.host = nil
        components.port = nil
        let relative = components
        return { number in
            var numbered = relative
            numbered.path = path
            numbered.queryItems = items.map {
                $0.name == "page" ? URLQueryItem(name: "page", value: String(number)) : $0
            }
            return numbered.string ?? "\(path)?page=\(number)"
        }
    }

    /// Reads page `number` of the list at `path`.
    func listPage(_ path: String, number: Int) async throws -> ListPage {
        let response = try await call(.GET, path, idempotent: true)
        guard response.status == 200 else {
            let body = FysoErrorBody(response.body)
            throw ProviderError(
                .rejected(status: response.status, code: body.code),
                "\(name): listing bots failed (\(response.status)): \(body.summary)")
        }
        let list: FysoWire.BotList
        do {
            list = try FysoWire.BotList.read(response.body)
        } catch {
            throw ProviderError(
                .badResponse,
                "\(name): page \(number) of the bot list is not a list of bots: \(FysoWire.describe(error))")
        }
        var page = ListPage(number: number, bots: [], keys: [], total: nil, next: nil)
        page.bots.reserveCapacity(list.entries.count)
        page.keys.reserveCapacity(list.entries.count)
        var observer = FysoWire.Observer()
        for (index, entry) in list.entries.enumerated() {
            // An admin's list may span tenants; keep (and judge) only this provider's.
            if let slug = entry.tenantSlug, slug != tenant {
                page.keys.append(entry.id ?? "#\(number).\(index)")
                continue
            }
            switch entry.bot {
            case .success(let bot):
                page.bots.append(observer.observe(bot))
                page.keys.append(bot.id)
            case .failure(let error):
                let named = entry.name.map { " \"\($0.prefix(100))\"" } ?? ""
                throw ProviderError(
                    .badResponse,
                    "\(name): cannot read bot\(named) on page \(number) of the bot list, "
                        + "\(FysoWire.describe(error)); nothing is planned from a list that is not fully understood"
                )
            }
        }
        page.total =
            response.headers.first(name: "X-Total-Count").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            ?? list.total
        page.next = Self.nextLink(response.headers.first(name: "Link"))
        page.serviceNow = response.headers.first(name: "Date").flatMap(HTTPTransport.httpDate)
        if page.next == nil, let pages = list.totalPages, (list.page ?? 1) < pages {
            // The records API's paged shape, should a server page bots the same way.
            page.next = "\(Self.listPath)?page=\((list.page ?? 1) + 1)"
        }
        return page
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
        case .register(let botName, let permissions, _):
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
        case .issueToken, .revokeToken:
            throw ProviderError(.rejected(status: 400, code: nil), "\(name): fyso bots hold no tokens (\(step))")
        }
    }

    static func issued(_ response: APIResponse) -> FysoWire.Issued? {
        FysoWire.Issued.read(response.body)
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
