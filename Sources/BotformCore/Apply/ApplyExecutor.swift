import Foundation

/// What the executor reports as it goes, for the progress lines on stderr. Never a secret.
public enum ApplyEvent: Sendable {
    case started(PlannedAction)
    case finished(PlannedAction, seconds: Double, detail: String)
    case failed(PlannedAction, message: String)
    case note(String)
}

/// The outcome of an apply.
public struct ApplyResult: Sendable {
    public var completed: [String] = []
    public var failed: [(address: String, message: String)] = []
    public var secretsIssued = 0
    /// Actions whose secret the service issued but that could not be sealed (addresses). Not an
    /// incomplete run that a rerun converges: these secrets are lost, and the run is an error.
    public var unsealed: [String] = []

    public init() {}

    public var isComplete: Bool { failed.isEmpty }
}

/// Carries out a plan: each secret is sealed (durably) before its action counts as done, and a call
/// whose outcome is unknown is never blindly resent: the executor re-observes and then decides.
public struct ApplyExecutor: Sendable {
    let providers: [String: any BotProvider]
    let custody: any SecretCustody
    let parallelism: Int
    let progress: @Sendable (ApplyEvent) -> Void
    /// The clock the records are stamped with, and the pause between recovery attempts: injected, so
    /// fault tests run without real pauses.
    let now: @Sendable () -> Date
    let pause: @Sendable (Duration) async -> Void
    /// Each provider's clock against this machine's: what is recorded as issued is stamped in the
    /// service's time, as rotation ages are judged by the service's clock.
    public var clockOffsets: [String: TimeInterval] = [:]
    /// When set, no call is sent before it opens (everything before a call, its intent journaled
    /// included, goes ahead): apply opens it once the plan text is out, so no service changes before the
    /// plan is shown, while the run gets ready beside the writing.
    public var firstCall: Latch?
    private let observers: [String: Reobserver]
    /// Limits calls in flight to the services to `parallelism`. Actions waiting on the journal (an intent,
    /// or a secret being made durable) do not hold a place, so disk latency overlaps service latency.
    private let calls: AsyncSemaphore
    /// Limits the calls announced ahead of their place (see `Announcement.ahead`) to `parallelism`: the
    /// next round of registrations is durable on disk while the current one is out, so a place that frees
    /// sends its next call at once instead of after a journal write (a group-commit wait and an fsync,
    /// about 4 ms of a 50 ms round).
    private let ahead: AsyncSemaphore

    /// How many times one action tries a step whose outcome keeps coming back unknown (each time after
    /// re-observing, so never blindly). A flaky service should not cost a second run: at a 44% failure
    /// rate per call (the fault test's), eight attempts leave one action in 700 for the next run.
    static let recoveryAttempts = 8

    /// The pause before recovery attempt `attempt` (2 and on): 100 ms doubling, at most 1.6 s.
    static func recoveryPause(_ attempt: Int) -> Duration {
        .milliseconds(100 << min(max(attempt - 2, 0), 4))
    }

    public init(
        providers: [String: any BotProvider], custody: any SecretCustody, parallelism: Int,
        progress: @escaping @Sendable (ApplyEvent) -> Void, now: @escaping @Sendable () -> Date = { Date() },
        pause: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    ) {
        self.providers = providers
        self.custody = custody
        self.parallelism = max(1, parallelism)
        self.progress = progress
        self.now = now
        self.pause = pause
        observers = providers.mapValues(Reobserver.init)
        calls = AsyncSemaphore(self.parallelism)
        ahead = AsyncSemaphore(self.parallelism)
    }

    /// The intent that announces a call issuing a credential, journaled before the call is sent.
    struct Announcement: Sendable {
        let record: @Sendable () async throws -> Void
        /// Whether it may be journaled before the call holds a place. Only an announcement of a new
        /// credential may: after a crash it marks an entry that holds no secret (a bot or token registered
        /// anew), so a call that never left costs nothing but a "registration unfinished" register in the
        /// next plan, which would register it anyway (for a token, the window in which a token the service
        /// made counts as Botform's opens at most one call earlier). An announced reset puts the secret held
        /// at risk (it counts as lost until the outcome is recorded), so it is journaled only once its call
        /// has a place: a crash never marks a secret lost that a still-waiting call never replaced.
        let ahead: Bool
    }

    /// One step, holding one of the `parallelism` places for the duration of the call. A reset's intent
    /// is journaled once the place is held, just before the call is sent. A registration's intent is
    /// journaled ahead, while at most `parallelism` others wait announced: a crash leaves at most that many
    /// announced calls unsent, each waiting for a place no longer than one call in flight takes.
    private func call(
        _ provider: any BotProvider, _ step: ProviderStep, announcing intent: Announcement? = nil
    ) async throws -> StepOutcome {
        if let intent, intent.ahead {
            await ahead.acquire()
            do {
                try await intent.record()
            } catch {
                ahead.release()
                throw error
            }
            await calls.acquire()
            ahead.release()
        } else {
            await calls.acquire()
            do {
                try await intent?.record()
            } catch {
                calls.release()
                throw error
            }
        }
        defer { calls.release() }
        await firstCall?.wait()
        return try await provider.execute(step)
    }

    /// The announcement of a call that issues a credential for `action`'s entry: a new one (`id` nil,
    /// `.register`) is announced ahead of its place; one that replaces the credential held is not.
    private func announcement(
        _ intent: IssueIntent, _ action: PlannedAction, id: String?, permissions: Permissions?
    ) -> Announcement {
        let custody = self.custody
        let entry = action.entry
        return Announcement(
            record: { try await custody.recordIntent(intent, entry: entry, id: id, permissions: permissions) },
            ahead: intent == .register)
    }

    /// Runs every action: revokes of bots first (they free names and per-user slots), then the other bot
    /// actions, then tokens (Sym), whose bots exist by then.
    public func run(_ plan: PlanDocument) async -> ApplyResult {
        let revokes = plan.actions.filter { $0.action == .revoke && $0.label == nil && $0.revokeTokenIDs == nil }
        let others = plan.actions.filter { $0.action != .revoke && $0.label == nil }
        let tokens = plan.actions.filter { $0.label != nil || ($0.action == .revoke && $0.revokeTokenIDs != nil) }
        var result = ApplyResult()
        for phase in [revokes, others, tokens] where !phase.isEmpty {
            await withTaskGroup(of: (String, Result<Int, ActionFailure>).self) { group in
                var iterator = phase.makeIterator()
                var running = 0
                func startNext() {
                    guard let action = iterator.next() else { return }
                    running += 1
                    group.addTask { (action.address, await self.perform(action)) }
                }
                // More actions than call places, so some can wait on the journal while others call.
                for _ in 0..<(parallelism * 4) { startNext() }
                while running > 0, let (address, outcome) = await group.next() {
                    running -= 1
                    switch outcome {
                    case .success(let issued):
                        result.completed.append(address)
                        result.secretsIssued += issued
                    case .failure(let failure):
                        result.failed.append((address, failure.message))
                        if failure.unsealed { result.unsealed.append(address) }
                    }
                    startNext()
                }
            }
        }
        return result
    }

    struct ActionFailure: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
        /// The service issued a secret that could not be sealed.
        var unsealed = false
    }

    /// One action; returns how many secrets it sealed.
    private func perform(_ action: PlannedAction) async -> Result<Int, ActionFailure> {
        progress(.started(action))
        let started = ContinuousClock.now
        guard let provider = providers[action.provider] else {
            return fail(action, "no provider \(action.provider)")
        }
        do {
            var issued = 0
            var detail = ""
            switch action.action {
            case .register where action.label != nil:
                let id = try await issueToken(action, provider)
                issued = 1
                detail = "token \(id)"
            case .register:
                let (id, sealed) = try await register(action, provider)
                issued = sealed ? 1 : 0
                detail = sealed ? "id \(id)" : "id \(id), no secret of its own"
            case .replace:
                if let id = action.botID { try await revoke(action, id: id, provider) }
                let id: String
                do {
                    id = try await register(action, provider).id
                } catch let error as ProviderError {
                    guard case .rejected(409, _) = error.kind, action.botID != nil else { throw error }
                    throw ActionFailure(
                        message:
                            "\(error.message); the bot was revoked, and the service keeps a revoked bot's name taken: rename the bot in the configuration (and set revoked_names_reusable: false on provider \"\(action.provider)\", so plan says so before revoking)"
                    )
                }
                issued = 1
                detail = "id \(id)"
            case .renew where action.label != nil:
                let id = try await issueToken(action, provider)
                issued = 1
                detail = "token \(id); the old one revoked"
            case .renew:
                // A new credential, sealed, before the old one is revoked (FOKS): never a moment without one.
                guard let old = action.botID else { throw ActionFailure(message: "no credential id to renew") }
                let id = try await registerOnce(action, provider, retiring: [old], replacing: old)
                do {
                    try await revoke(action, id: old, provider)
                } catch {
                    throw ActionFailure(
                        message:
                            "the new credential (\(id)) is sealed, but revoking the old one (\(old)) failed: \(error); the next apply revokes it"
                    )
                }
                issued = 1
                detail = "id \(id); \(old) revoked"
            case .reset:
                guard let id = action.botID else { throw ActionFailure(message: "no bot id to reset") }
                try await reset(action, id: id, provider)
                issued = 1
                detail = "id \(id)"
            case .revoke where action.revokeTokenIDs != nil:
                try await revokeTokens(action, action.revokeTokenIDs ?? [], provider)
            case .revoke:
                guard let id = action.botID else { throw ActionFailure(message: "no bot id to revoke") }
                try await revoke(action, id: id, provider)
            case .adopt:
                guard let id = action.botID else { throw ActionFailure(message: "no bot id to adopt") }
                try await custody.recordAdopted(
                    provider: action.provider, bot: action.bot, id: id, permissions: action.permissions)
                detail = "id \(id), secret not held"
            case .forget:
                try await custody.recordForgotten(entry: action.entry)
            }
            let elapsed = ContinuousClock.now - started
            progress(
                .finished(
                    action, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                    detail: detail))
            return .success(issued)
        } catch let failure as ActionFailure {
            progress(.failed(action, message: failure.message))
            return .failure(failure)
        } catch {
            return fail(action, "\(error)")
        }
    }

    private func fail(_ action: PlannedAction, _ message: String) -> Result<Int, ActionFailure> {
        progress(.failed(action, message: message))
        return .failure(ActionFailure(message: message))
    }

    // MARK: Steps

    /// Registers the bot and seals its secret (when the service issues one on creation); returns the
    /// bot's id and whether a secret was sealed. When the answer is lost, re-observes: a bot the service
    /// created gets its (lost) secret reset; a bot it did not create is registered again.
    private func register(_ action: PlannedAction, _ provider: any BotProvider) async throws -> (
        id: String, sealed: Bool
    ) {
        let permissions = action.permissions ?? Permissions()
        let capabilities = provider.capabilities
        for attempt in 1...Self.recoveryAttempts {
            let outcome: StepOutcome
            do {
                outcome = try await issuing(.register, action) {
                    try await call(
                        provider, .register(name: action.bot, permissions: permissions, role: action.role),
                        announcing: announcement(.register, action, id: nil, permissions: permissions))
                }
            } catch let error as ProviderError where error.kind == .outcomeUnknown {
                guard capabilities.matchesByName else {
                    // A service that names bots itself: what it made cannot be told from others by name. The
                    // intent on record makes the next plan revoke it, and register once more.
                    throw ActionFailure(
                        message:
                            "\(error.message); whether the service made it is unknown: the next plan revokes anything it made and registers again"
                    )
                }
                progress(.note("\(action.address): \(error.message); checking what the service holds"))
                let observed = try await observers[action.provider]?.fresh()
                if let created = observed?.bots.first(where: { $0.name == action.bot && $0.isActive }) {
                    guard capabilities.registerIssuesSecret else {
                        try await custody.recordCreated(provider: action.provider, bot: action.bot, id: created.id)
                        return (created.id, false)
                    }
                    progress(
                        .note(
                            "\(action.address): the service did register it (id \(created.id)); issuing a new secret, as the first was lost"
                        ))
                    try await recover(action, created: created, provider)
                    return (created.id, true)
                }
                if attempt == Self.recoveryAttempts {
                    throw ActionFailure(message: "\(error.message) (\(attempt) attempts)")
                }
                progress(.note("\(action.address): the service did not register it; registering again"))
                await pause(Self.recoveryPause(attempt + 1))
                continue
            }
            guard case .registered(let id, let secret) = outcome else {
                throw ActionFailure(message: "unexpected answer to register")
            }
            guard let secret else {
                try await custody.recordCreated(provider: action.provider, bot: action.bot, id: id)
                return (id, false)
            }
            try await seal(action, id: id, permissions: permissions, secret: secret)
            return (id, true)
        }
        throw ActionFailure(message: "registration did not complete")
    }

    /// A registration whose secret was lost in transit: reset it, or (a caller that cannot reset)
    /// revoke and register once more.
    private func recover(_ action: PlannedAction, created: ObservedBot, _ provider: any BotProvider) async throws {
        if providerCanReset(action.provider) {
            try await reset(action, id: created.id, provider)
        } else {
            try await revoke(action, id: created.id, provider)
            _ = try await registerOnce(action, provider)
        }
    }

    /// One registration, sealed, without recovery; `retiring` are the credentials it replaces. A
    /// renewal announces itself as replacing the held credential (`replacing`): until its outcome is
    /// recorded, the entry keeps the old id, so the next plan still knows the old credential is Botform's.
    private func registerOnce(
        _ action: PlannedAction, _ provider: any BotProvider, retiring: [String] = [], replacing: String? = nil
    ) async throws -> String {
        let permissions = action.permissions ?? Permissions()
        let kind: IssueIntent = replacing == nil ? .register : .reset
        let intent = announcement(kind, action, id: replacing, permissions: permissions)
        guard
            case .registered(let id, let secret) = try await issuing(
                kind, action,
                {
                    try await call(
                        provider, .register(name: action.bot, permissions: permissions, role: action.role),
                        announcing: intent)
                }),
            let secret
        else {
            throw ActionFailure(message: "unexpected answer to register")
        }
        try await seal(action, id: id, permissions: permissions, secret: secret, retiring: retiring)
        return id
    }

    /// Issues a token (Sym) and seals it, then revokes the tokens it replaces (a renewal) or that
    /// Botform made and never sealed: the new token is on disk before any old one stops working.
    private func issueToken(_ action: PlannedAction, _ provider: any BotProvider) async throws -> String {
        guard let label = action.label, let lifetime = action.lifetimeSeconds else {
            throw ActionFailure(message: "no token label or lifetime to issue")
        }
        let replaced = action.revokeTokenIDs ?? []
        // A token that replaces others (a renewal, or an issue after a run that died) is announced as
        // replacing the first of them: the entry keeps that id until the new token is recorded, so if this
        // run dies too, the next plan still knows it is Botform's (and revokes it after its own issue).
        let held = replaced.first
        let kind: IssueIntent = held == nil ? .register : .reset
        let intent = announcement(kind, action, id: held, permissions: nil)
        let outcome: StepOutcome
        do {
            outcome = try await issuing(kind, action) {
                try await call(
                    provider, .issueToken(bot: action.bot, label: label, lifetimeSeconds: lifetime), announcing: intent)
            }
        } catch let error as ProviderError where error.kind == .outcomeUnknown {
            throw ActionFailure(
                message:
                    "\(error.message); whether a token was issued is unknown: the next plan revokes any it made and issues again"
            )
        }
        guard case .tokenIssued(let id, let secret, let expiresAt) = outcome else {
            throw ActionFailure(message: "unexpected answer to issuing a token")
        }
        do {
            try await custody.recordIssued(
                IssuedCredential(
                    entry: action.entry, id: id, permissions: nil, secret: secret, at: stamp(action),
                    expiresAt: expiresAt,
                    retiring: replaced))
        } catch {
            throw ActionFailure(
                message:
                    "the service issued a token but it could not be sealed (\(error)); it is lost, and the next plan revokes it and issues another",
                unsealed: true)
        }
        do {
            try await revokeTokens(action, replaced, provider)
        } catch let failure as ActionFailure {
            throw ActionFailure(
                message: "the new token (\(id)) is sealed, but \(failure.message); the next apply revokes the old one")
        }
        return id
    }

    /// Revokes tokens of the action's bot; a token already gone counts as revoked.
    private func revokeTokens(_ action: PlannedAction, _ ids: [String], _ provider: any BotProvider) async throws {
        for id in ids {
            do {
                _ = try await call(provider, .revokeToken(id: id, bot: action.bot))
            } catch let error as ProviderError {
                throw ActionFailure(message: "revoking token \(id) failed: \(error.message)")
            }
            try await custody.recordRevoked(entry: action.entry, id: id)
        }
    }

    /// Runs a call announced by an intent. When the service definitely refused it (4xx, 401, unreachable
    /// before sending), the abort is journaled: the entry holds again exactly what it held, so a refused
    /// rotation never costs the bot's still-valid secret.
    private func issuing(
        _ intent: IssueIntent, _ action: PlannedAction, _ body: () async throws -> StepOutcome
    ) async throws -> StepOutcome {
        do {
            return try await body()
        } catch let error as ProviderError where error.isDefiniteRefusal {
            try await custody.recordAborted(intent, entry: action.entry)
            throw error
        }
    }

    private func providerCanReset(_ name: String) -> Bool {
        providers[name]?.capabilities.canResetSecret ?? false
    }

    /// Resets the secret and seals it; a lost answer means the old secret may be dead: reset again.
    private func reset(_ action: PlannedAction, id: String, _ provider: any BotProvider) async throws {
        let intent = announcement(.reset, action, id: id, permissions: nil)
        for attempt in 1...Self.recoveryAttempts {
            do {
                guard
                    case .reset(let secret) = try await issuing(
                        .reset, action,
                        { try await call(provider, .resetSecret(id: id, name: action.bot), announcing: intent) })
                else {
                    throw ActionFailure(message: "unexpected answer to reset-secret")
                }
                try await seal(action, id: id, permissions: action.permissions ?? Permissions(), secret: secret)
                return
            } catch let error as ProviderError where error.kind == .outcomeUnknown {
                if attempt == Self.recoveryAttempts {
                    throw ActionFailure(message: "\(error.message) (\(attempt) attempts)")
                }
                let observed = try await observers[action.provider]?.fresh()
                guard observed?.bots.contains(where: { $0.id == id && $0.isActive }) ?? true else {
                    throw ActionFailure(message: "\(error.message); the bot is no longer active")
                }
                progress(.note("\(action.address): \(error.message); resetting again"))
                await pause(Self.recoveryPause(attempt + 1))
            }
        }
    }

    /// Revokes the bot; a 404 is fine when the service shows it gone or revoked already.
    private func revoke(_ action: PlannedAction, id: String, _ provider: any BotProvider) async throws {
        do {
            _ = try await call(provider, .revoke(id: id, name: action.bot))
        } catch let error as ProviderError {
            guard case .rejected(let status, _) = error.kind, status == 404 else {
                throw ActionFailure(message: error.message)
            }
            let observed = try await observers[action.provider]?.fresh()
            guard !(observed?.bots.contains(where: { $0.id == id && $0.isActive }) ?? false) else {
                throw ActionFailure(message: error.message)
            }
        }
        try await custody.recordRevoked(entry: action.entry, id: id)
    }

    /// Now, in the clock of the action's service.
    private func stamp(_ action: PlannedAction) -> Date {
        now().addingTimeInterval(clockOffsets[action.provider] ?? 0)
    }

    /// Seals a secret; failing that, the secret is lost (the intent on record makes the next plan reset it).
    private func seal(
        _ action: PlannedAction, id: String, permissions: Permissions, secret: Secret, retiring: [String] = []
    ) async throws {
        do {
            try await custody.recordIssued(
                IssuedCredential(
                    entry: action.entry, id: id, permissions: permissions, secret: secret, at: stamp(action),
                    retiring: retiring))
        } catch {
            throw ActionFailure(
                message:
                    "the service issued a secret but it could not be sealed (\(error)); it is lost, and the next plan resets it (secret_lost)",
                unsealed: true)
        }
    }
}

/// Re-observes one provider for recoveries, one list at a time, shared by whoever is waiting. What a
/// caller gets was started after it asked: an observation already running may predate the call whose
/// outcome the caller needs to see, so the caller waits for it to end and shares the next one.
actor Reobserver {
    let provider: any BotProvider
    private var running: Task<ProviderObservation, any Error>?
    private var runningGeneration = 0
    private var generations = 0

    init(_ provider: any BotProvider) {
        self.provider = provider
    }

    func fresh() async throws -> ProviderObservation {
        let needed = generations + 1
        while true {
            if let running {
                let generation = runningGeneration
                let result = await running.result
                if generation >= needed { return try result.get() }
                if runningGeneration == generation { self.running = nil }
                continue
            }
            generations += 1
            let generation = generations
            let task = Task { try await provider.observe() }
            running = task
            runningGeneration = generation
            let result = await task.result
            if runningGeneration == generation { running = nil }
            return try result.get()
        }
    }
}

/// A counting semaphore for async code: `acquire` waits (without blocking a thread) until a place frees,
/// and `release` is synchronous, so a place is handed back on every path (`defer`) without a task of its
/// own, and a waiter gets it in the order it asked.
/// Closed until `open()`, then open for good: `wait()` returns at once from then on.
public final class Latch: @unchecked Sendable {
    // @unchecked: `isOpen` and `waiters` are read and written only while holding `lock`.
    private let lock = NSLock()
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public func open() {
        let waiting = lock.withLock {
            isOpen = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiting { waiter.resume() }
    }

    public func wait() async {
        if lock.withLock({ isOpen }) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let open = lock.withLock {
                if !isOpen { waiters.append(continuation) }
                return isOpen
            }
            if open { continuation.resume() }
        }
    }
}

final class AsyncSemaphore: @unchecked Sendable {
    // @unchecked: `available` and `waiters` are read and written only while holding `lock`.
    private let lock = NSLock()
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var first = 0

    init(_ count: Int) {
        available = count
    }

    func acquire() async {
        if tryAcquire() { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if available > 0 {
                available -= 1
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    private func tryAcquire() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard available > 0 else { return false }
        available -= 1
        return true
    }

    func release() {
        lock.lock()
        guard first < waiters.count else {
            available += 1
            lock.unlock()
            return
        }
        let next = waiters[first]
        first += 1
        if first == waiters.count {
            waiters.removeAll(keepingCapacity: true)
            first = 0
        }
        lock.unlock()
        next.resume()
    }
}
