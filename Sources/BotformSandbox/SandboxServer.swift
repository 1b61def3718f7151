import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// How to run a sandbox.
public struct SandboxOptions: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 0
    /// SQLite file for state that survives restarts; in memory when nil.
    public var dataPath: String?
    /// bcrypt cost for secrets and passwords (4-31).
    public var bcryptCost: UInt8 = 10
    public var adminEmail = "admin@sandbox.local"
    /// A random password is made (and printed) when nil.
    public var adminPassword: String?
    /// The tenant made at start when it does not exist.
    public var tenant = "sandbox"
    /// Log every request (to stderr) instead of only warnings.
    public var verbose = false
    /// The Sym org admin token (`Authorization: Bearer` on `/api/v1/`); a random one is made (and
    /// printed by `botform sandbox`) when nil.
    public var symToken: String?
    /// The Sym org's slug (`symflow status` shows it).
    public var symOrg = "sandbox-org"

    public init() {}

    /// Options with the admin email, password, tenant and Sym org token taken from
    /// `BOTFORM_SANDBOX_ADMIN_EMAIL`, `BOTFORM_SANDBOX_ADMIN_PASSWORD`, `BOTFORM_SANDBOX_TENANT` and
    /// `BOTFORM_SANDBOX_SYM_TOKEN` when they are set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> SandboxOptions
    {
        var options = SandboxOptions()
        if let email = environment["BOTFORM_SANDBOX_ADMIN_EMAIL"], !email.isEmpty { options.adminEmail = email }
        if let password = environment["BOTFORM_SANDBOX_ADMIN_PASSWORD"], !password.isEmpty {
            options.adminPassword = password
        }
        if let tenant = environment["BOTFORM_SANDBOX_TENANT"], !tenant.isEmpty { options.tenant = tenant }
        if let token = environment["BOTFORM_SANDBOX_SYM_TOKEN"], !token.isEmpty { options.symToken = token }
        return options
    }
}

/// Why a sandbox could not start.
public struct SandboxError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A running (or ready to run) sandbox: the Fyso bot API on loopback, in memory or backed by SQLite.
public final class SandboxServer: Sendable {
    public let options: SandboxOptions
    /// The admin password in effect (the one given, or the random one made at start).
    public let adminPassword: String
    /// The Sym org admin token in effect (the one given, or the random one made at start).
    public let symToken: String
    let service: SandboxService
    private let adminID: String
    private let running = RunningState()

    private init(
        options: SandboxOptions, adminPassword: String, symToken: String, service: SandboxService, adminID: String
    ) {
        self.options = options
        self.adminPassword = adminPassword
        self.symToken = symToken
        self.service = service
        self.adminID = adminID
    }

    /// Opens the state (creating or migrating the SQLite file), sets the admin's password and makes the
    /// default tenant. Nothing listens until `start()` or `run(onRunning:)`.
    public static func make(_ options: SandboxOptions) async throws -> SandboxServer {
        guard (4...31).contains(options.bcryptCost) else { throw SandboxError("bcrypt cost must be from 4 to 31") }
        guard SandboxService.isValidSlug(options.tenant) else {
            throw SandboxError(
                "tenant \"\(options.tenant)\" is not a valid slug (lowercase letters, digits, hyphens, underscores)")
        }
        if let token = options.symToken, !SymOrg.isUsableToken(token) {
            throw SandboxError(
                "the Sym org token (BOTFORM_SANDBOX_SYM_TOKEN) must be 1-4096 visible ASCII characters, without spaces")
        }
        guard SandboxService.isValidSlug(options.symOrg) else {
            throw SandboxError("Sym org \"\(options.symOrg)\" is not a valid slug")
        }
        var logger = Logger(label: "botform.sandbox")
        logger.logLevel = options.verbose ? .info : .warning
        let persistence: SandboxPersistence?
        if let path = options.dataPath {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            do {
                persistence = try SandboxPersistence(path: path)
            } catch {
                throw SandboxError("cannot open sandbox state \"\(path)\": \(error)")
            }
        } else {
            persistence = nil
        }
        let secret: [UInt8]
        if let stored = try persistence?.meta("jwt-secret"), let data = Data(base64Encoded: stored) {
            secret = [UInt8](data)
        } else {
            var generator = SystemRandomNumberGenerator()
            secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try persistence?.setMeta("jwt-secret", Data(secret).base64EncodedString())
        }
        let clock = SandboxClock(offset: try persistence?.meta("clock-offset").flatMap(TimeInterval.init) ?? 0)
        var settings = SandboxSettings()
        if let stored = try persistence?.meta("settings"),
            let decoded = try? JSONDecoder().decode(SandboxSettings.self, from: Data(stored.utf8))
        {
            settings = decoded
        }
        let store = try SandboxStore(persistence: persistence)
        let tokens = await TokenService(secret: secret, clock: clock)
        let symToken = options.symToken ?? "sym_sandbox_" + SecretGenerator.secret(length: 40)
        let symAdminID = try await Self.ensureSymAdmin(email: options.adminEmail, store: store, now: clock.now)
        let service = SandboxService(
            store: store, tokens: tokens, clock: clock, persistence: persistence, settings: settings,
            bcryptCost: options.bcryptCost,
            sym: SymOrg(slug: options.symOrg, adminToken: symToken, adminUserID: symAdminID),
            logger: logger)

        let password = options.adminPassword ?? SecretGenerator.secret(length: 20)
        let hash = try await service.hash(password)
        let now = clock.now
        let adminID = try await store.write { state -> String in
            var admin =
                state.admin(email: options.adminEmail)
                ?? AdminAccount(
                    id: SandboxService.newID(), email: options.adminEmail, name: "Sandbox admin", passwordHash: hash)
            admin.passwordHash = hash
            state.put(admin)
            if state.tenant(slugOrID: options.tenant) == nil {
                state.put(
                    Tenant(
                        id: SandboxService.newID(), slug: options.tenant, name: options.tenant, ownerAdminID: admin.id,
                        createdAt: now))
            }
            return admin.id
        }
        return SandboxServer(
            options: options, adminPassword: password, symToken: symToken, service: service, adminID: adminID)
    }

    /// The human Sym user the org admin token stands for (the sandbox admin's email), made at first start.
    private static func ensureSymAdmin(email: String, store: SandboxStore, now: Date) async throws -> String {
        try await store.write { state in
            if let admin = state.symHuman(email: email) { return admin.id }
            let admin = SymUser(
                id: SandboxService.newID(), type: SymUser.normal, role: "admin", identities: [.sym(email: email)],
                createdAt: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)))
            state.put(admin)
            return admin.id
        }
    }

    private func application(onRunning: @escaping @Sendable (Int) async -> Void) -> SandboxHTTPServer {
        SandboxHTTPServer(
            responder: service.router().buildResponder(),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "botform-sandbox"),
            dateHeader: HTTPDateHeader(clock: service.clock), logger: service.logger,
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) })
    }

    /// Serves in the foreground until SIGINT or SIGTERM; `onRunning` gets the base URL once listening.
    public func run(onRunning: @escaping @Sendable (URL) async -> Void) async throws {
        let host = options.host
        let app = application { port in
            await onRunning(Self.url(host: host, port: port))
        }
        let group = ServiceGroup(
            services: [app], gracefulShutdownSignals: [.sigterm, .sigint], cancellationSignals: [],
            logger: service.logger)
        try await group.run()
    }

    /// Starts serving in the background and returns the base URL once the server listens.
    @discardableResult
    public func start() async throws -> URL {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = application { port in continuation.yield(port) }
        let group = ServiceGroup(
            services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: service.logger)
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = stream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            _ = await task.result
            if case .failure(let error) = await task.result {
                throw SandboxError("cannot listen on \(options.host):\(options.port): \(error)")
            }
            throw SandboxError("cannot listen on \(options.host):\(options.port)")
        }
        let url = Self.url(host: options.host, port: port)
        running.set(task: task, group: group, url: url)
        return url
    }

    /// The base URL while started.
    public var url: URL? { running.url }

    /// The Sym API's base URL while started (`http://127.0.0.1:PORT/api/v1`), for `SYM_API_URL`.
    public var symURL: URL? { running.url.map(Self.symURL(base:)) }

    /// The Sym API's base URL on a sandbox whose base URL is `base`.
    public static func symURL(base: URL) -> URL { base.appendingPathComponent("api/v1") }

    /// Stops a server started with `start()`: a graceful shutdown (requests in flight finish), then waits.
    public func stop() async {
        guard let (task, group) = running.take() else { return }
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Makes a tenant owned by the admin, unless it exists (for several embedded providers).
    public func ensureTenant(_ slug: String) async throws {
        guard SandboxService.isValidSlug(slug) else { throw SandboxError("tenant \"\(slug)\" is not a valid slug") }
        let adminID = self.adminID
        let now = service.clock.now
        try await service.store.write { state in
            if state.tenant(slugOrID: slug) == nil {
                state.put(
                    Tenant(id: SandboxService.newID(), slug: slug, name: slug, ownerAdminID: adminID, createdAt: now))
            }
        }
    }

    /// Every route the server answers, as `METHOD /path/{param}` (for the OpenAPI test).
    var servedRoutes: [String] {
        service.router().routes.map { route in
            let path = route.path.description.split(separator: "/", omittingEmptySubsequences: false).map { segment in
                segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
            }.joined(separator: "/")
            return "\(route.method.rawValue.uppercased()) \(path)"
        }.sorted()
    }

    /// An admin session token, for in-process use (`url: embedded`), without a password.
    public func adminToken() async throws -> String {
        try await service.tokens.session(kind: "admin", subject: adminID, tenant: nil, ttl: service.settings.sessionTTL)
    }

    private static func url(host: String, port: Int) -> URL {
        let shown = host.contains(":") ? "[\(host)]" : host
        return URL(string: "http://\(shown):\(port)") ?? URL(fileURLWithPath: "/")
    }
}

/// The background task of a started server, and the service group that stops it.
private final class RunningState: Sendable {
    private let state = Mutex<(task: Task<Void, any Error>, group: ServiceGroup, url: URL)?>(nil)

    func set(task: Task<Void, any Error>, group: ServiceGroup, url: URL) { state.withLock { $0 = (task, group, url) } }
    var url: URL? { state.withLock { $0?.url } }
    func take() -> (Task<Void, any Error>, ServiceGroup)? {
        state.withLock { state in
            defer { state = nil }
            return state.map { ($0.task, $0.group) }
        }
    }
}

extension SandboxService {
    /// Every route, with the error envelope outermost; the API routes also pass the request log and
    /// fault injection, the control routes only the loopback check.
    func router() -> Router<SandboxRequestContext> {
        let router = Router(context: SandboxRequestContext.self)
        router.add(middleware: ErrorEnvelopeMiddleware())
        let api = router.group().add(middleware: RequestLogMiddleware(service: self)).add(
            middleware: FaultMiddleware(service: self))
        addAuthRoutes(to: api)
        addBotRoutes(to: api)
        addRecordRoutes(to: api)
        addSymRoutes(to: api)
        addControlRoutes(to: router)
        return router
    }
}
