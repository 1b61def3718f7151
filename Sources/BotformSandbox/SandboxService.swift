import Foundation
import HummingbirdBcrypt
import Logging
import NIOPosix
import Synchronization

/// The sandbox's shared parts: state, tokens, clock, settings, faults and the request log. Routes are
/// extensions of it, one file per area of the API.
final class SandboxService: Sendable {
    let store: SandboxStore
    let tokens: TokenService
    let clock: SandboxClock
    let persistence: SandboxPersistence?
    let faults: FaultInjector
    let requestLog: RequestLog
    let bcryptCost: UInt8
    let logger: Logger
    /// The Sym org the `/api/v1/` routes serve.
    let sym: SymOrg
    private let settingsState: Mutex<SandboxSettings>
    private let issuedSecrets = Mutex<[String]>([])

    init(
        store: SandboxStore, tokens: TokenService, clock: SandboxClock, persistence: SandboxPersistence?,
        settings: SandboxSettings, bcryptCost: UInt8, sym: SymOrg, logger: Logger
    ) {
        self.store = store
        self.tokens = tokens
        self.clock = clock
        self.persistence = persistence
        self.bcryptCost = bcryptCost
        self.sym = sym
        self.logger = logger
        settingsState = Mutex(settings)
        faults = FaultInjector()
        requestLog = RequestLog()
    }

    var settings: SandboxSettings { settingsState.withLock { $0 } }

    func updateSettings(_ update: (inout SandboxSettings) throws -> Void) throws -> SandboxSettings {
        let updated = try settingsState.withLock { settings -> SandboxSettings in
            var copy = settings
            try update(&copy)
            if let problem = copy.problem { throw APIError.validation(problem) }
            settings = copy
            return copy
        }
        if let persistence, let data = try? JSONEncoder().encode(updated) {
            try persistence.setMeta("settings", String(decoding: data, as: UTF8.self))
        }
        return updated
    }

    /// Keeps an issued secret for the test hook, when it is on.
    func noteIssued(_ secret: String) {
        if settings.recordIssuedSecrets { issuedSecrets.withLock { $0.append(secret) } }
    }

    var recordedSecrets: [String] { issuedSecrets.withLock { $0 } }

    /// bcrypt, off the cooperative pool: a cost-10 hash takes tens of milliseconds.
    func hash(_ secret: String) async throws -> String {
        let cost = bcryptCost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(secret, cost: cost) }
    }

    func verify(_ secret: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(secret, hash: hash) }
    }

    static func newID() -> String { UUID().uuidString.lowercased() }
}
