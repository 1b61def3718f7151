import BotformCore
import Foundation
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

/// The `foks` command-line tool as Botform drives it: `status`, `--json key list --current-user-keys`,
/// `--json bot new --role R` and `key revoke ID`, each run as a child process (swift-subprocess) with a
/// timeout that kills it, stdout read as JSON and stderr kept for error messages. Every call passes
/// `--home H` when a home is set.
///
/// Calls run one at a time per FOKS home: a user's key chain is linear, so two changes at once would
/// race in the agent (the second fails or, worse, interleaves PUK rotations). The gate is shared by
/// every client in the process that names the same home, not only by one value.
public struct FoksCLI: Sendable {
    /// How revokes refused with "signing key not fully provisioned" are retried: FOKS's server refuses to
    /// revoke a key until its provisioning is in the Merkle tree, which its batcher adds within seconds.
    public struct RevokeRetry: Sendable, Hashable {
        /// Attempts in all, the first included.
        public var attempts: Int
        /// The pause before the second attempt; each later pause doubles, up to `maximumDelay`.
        public var initialDelay: Duration
        public var maximumDelay: Duration

        public init(attempts: Int = 8, initialDelay: Duration = .seconds(2), maximumDelay: Duration = .seconds(30)) {
            self.attempts = max(1, attempts)
            self.initialDelay = initialDelay
            self.maximumDelay = maximumDelay
        }
    }

    public let binary: String
    public let home: String?
    public let timeout: Duration
    public let environment: [String: String]
    public let revokeRetry: RevokeRetry
    let sleep: @Sendable (Duration) async throws -> Void
    let gate: FoksCallGate

    /// - Parameters:
    ///   - binary: the `foks` executable: a name looked up on PATH, or a path (it contains a `/`).
    ///   - home: passed as `--home` on every call when set.
    ///   - timeout: for each call; a call still running then is killed.
    ///   - environment: variables set for the child on top of this process's (tests point at a stand-in).
    ///   - sleep: the pause between revoke retries; tests pass one that returns at once.
    public init(
        binary: String = "foks", home: String? = nil, timeout: Duration = .seconds(60),
        environment: [String: String] = [:], revokeRetry: RevokeRetry = RevokeRetry(),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.binary = binary
        self.home = home
        self.timeout = timeout
        self.environment = environment
        self.revokeRetry = revokeRetry
        self.sleep = sleep
        gate = FoksCallGate.shared(for: home)
    }

    /// A client for a configured FOKS provider: its `binary` and `home`.
    public init(settings: FoksSettings, timeout: Duration = .seconds(60)) {
        self.init(binary: settings.binary, home: settings.home, timeout: timeout)
    }

    // MARK: Commands

    /// `foks status`: the active user, its host, its key's role and whether the agent is locked.
    public func status() async throws(ProviderError) -> FoksStatus {
        try await gate.serialised { () throws(ProviderError) in try await statusUnserialised() }
    }

    /// `foks status`, then refuses unless the agent's key is unlocked and OWNER: FOKS's server lets only
    /// owner keys add and revoke keys.
    public func requireOwner() async throws(ProviderError) -> FoksStatus {
        let status = try await status()
        try Self.checkUsable(status)
        guard status.role == .owner else {
            throw ProviderError(
                .authentication,
                "the active foks key is \(status.roleText) (user \"\(status.user)\" at \(status.host)); creating "
                    + "and revoking bot tokens needs an owner key (`foks key switch` to an owner device, or "
                    + "`foks bot use --host \(status.host)` with an owner bot token)")
        }
        return status
    }

    /// `foks --json key list --current-user-keys`, keeping bot-token keys (`DeviceType` 4), revoked
    /// ones included.
    public func listBotTokens() async throws(ProviderError) -> [FoksBotKey] {
        try await gate.serialised { () throws(ProviderError) in try await listUnserialised() }
    }

    /// `foks --json bot new --role R`. The printed token is checked against the canonical grammar before
    /// it is returned; its key ID is then looked up by name. A name clash ("device name already
    /// exists", about 1 in 16.7 million per existing key) is a definite refusal and is retried twice.
    public func newBotToken(role: FoksRole) async throws(ProviderError) -> FoksIssuedToken {
        try await gate.serialised { () throws(ProviderError) in
            var clashes = 0
            while true {
                do {
                    return try await newUnserialised(role: role)
                } catch let error as FoksFailure where error.reason == .nameExists && clashes < 2 {
                    clashes += 1
                } catch {
                    throw Self.providerError(error)
                }
            }
        }
    }

    /// `foks key revoke ID`. Refusals because the key is not yet in the server's Merkle tree are retried
    /// with doubling pauses (through the injected sleep); "device already revoked" is reported as
    /// `.alreadyRevoked`, not as an error.
    @discardableResult
    public func revoke(keyID: String) async throws(ProviderError) -> FoksRevokeOutcome {
        guard Self.isKeyID(keyID) else {
            throw ProviderError(
                .rejected(status: 0, code: FoksFailure.Reason.keyNotFound.rawValue),
                "\"\(keyID.prefix(60))\" is not a foks key ID (a dot, a type character and base-62 text)")
        }
        return try await gate.serialised { () throws(ProviderError) in
            var delay = revokeRetry.initialDelay
            var attempt = 1
            while true {
                do {
                    _ = try await run(["key", "revoke", keyID], json: false, mutating: true)
                    return .revoked(attempts: attempt)
                } catch let error as FoksFailure where error.reason == .alreadyRevoked {
                    return .alreadyRevoked
                } catch let error as FoksFailure where error.reason == .notYetInTree {
                    guard attempt < revokeRetry.attempts else {
                        throw ProviderError(
                            error.providerError.kind,
                            "`foks key revoke \(keyID)` was refused \(attempt) times because the key is not yet "
                                + "in the server's Merkle tree; try again in a minute")
                    }
                } catch {
                    throw Self.providerError(error)
                }
                do {
                    try await sleep(delay)
                } catch {
                    throw ProviderError(.unavailable, "revoking \(keyID) was cancelled while waiting to retry")
                }
                attempt += 1
                delay = min(delay * 2, revokeRetry.maximumDelay)
            }
        }
    }

    // MARK: Calls, unserialised (the gate is held)

    func statusUnserialised() async throws(ProviderError) -> FoksStatus {
        let output = try await runMapped(["status"], json: false, mutating: false)
        let answer: FoksWire.AgentStatus
        do {
            answer = try JSONDecoder().decode(FoksWire.AgentStatus.self, from: output)
        } catch {
            throw ProviderError(
                .badResponse, "cannot read the output of `foks status`: \(FoksWire.describe(error))")
        }
        guard let user = answer.users?.first(where: { $0.info.active }) else {
            throw ProviderError(
                .authentication,
                "the foks agent has no active user; sign in on this machine or load an owner bot token with "
                    + "`foks bot use --host HOST`")
        }
        let role = try? FoksRole.parse(user.info.role)
        return FoksStatus(
            user: user.info.username, host: user.info.hostAddr, role: role, roleText: user.info.role,
            keyID: user.info.key, lock: FoksLockState(code: user.lockStatus?.code))
    }

    func listUnserialised() async throws(ProviderError) -> [FoksBotKey] {
        let output = try await runMapped(["key", "list", "--current-user-keys"], json: true, mutating: false)
        let answer: FoksWire.KeyList
        do {
            answer = try JSONDecoder().decode(FoksWire.KeyList.self, from: output)
        } catch {
            throw ProviderError(
                .badResponse, "cannot read the output of `foks --json key list`: \(FoksWire.describe(error))")
        }
        var keys: [FoksBotKey] = []
        for (index, entry) in (answer.currUserAllKeys ?? []).enumerated() {
            guard let label = entry.di.dn, label.label.deviceType == Self.botTokenDeviceType else { continue }
            let role: FoksRole
            do {
                role = try FoksRole.parse(entry.di.key.dstRole)
            } catch {
                throw ProviderError(
                    .badResponse,
                    "CurrUserAllKeys[\(index)] in `foks --json key list`: bot token \"\(label.name.prefix(20))\" has "
                        + "role \"\(entry.di.key.dstRole.prefix(30))\", which Botform cannot read: \(error)")
            }
            keys.append(
                FoksBotKey(
                    id: entry.di.key.entity, name: label.name, role: role, isRevoked: entry.di.status == 1,
                    isAgentKey: entry.active ?? false,
                    createdAt: entry.di.ctime.map { Date(timeIntervalSince1970: Double($0) / 1000) }))
        }
        return keys
    }

    func newUnserialised(role: FoksRole) async throws -> FoksIssuedToken {
        let output = try await run(["bot", "new", "--role", role.argument], json: true, mutating: true)
        // `--json` prints the token as a bare JSON string. Nothing of the output is quoted in errors.
        let printed = (try? JSONSerialization.jsonObject(with: output, options: .fragmentsAllowed)) as? String
        guard let printed else {
            throw ProviderError(
                .badResponse,
                "`foks --json bot new` did not print a JSON string (\(output.count) bytes); a key may have been "
                    + "made: it will show as an unmanaged bot token")
        }
        guard FoksTokenGrammar.isCanonical(printed) else {
            throw ProviderError(
                .badResponse,
                "`foks --json bot new` printed a token that is not in the canonical form (5 characters: a digit "
                    + "then digits or a-z; a dot; 31 base-62 characters starting 0-9, A-Z or a-f); it was not kept. "
                    + "A key may have been made: it will show as an unmanaged bot token")
        }
        let name = FoksTokenGrammar.name(of: printed)
        let keyID = try? await listUnserialised().first { $0.name == name && !$0.isRevoked }?.id
        return FoksIssuedToken(token: Secret(printed), name: name, role: role, keyID: keyID)
    }

    // MARK: Running foks

    static let botTokenDeviceType = 4
    static let stdoutLimit = 8 << 20
    static let stderrLimit = 64 << 10

    /// A key ID: "." then base-62 text (`.J` and 43 characters for a bot token).
    static func isKeyID(_ text: String) -> Bool {
        text.count >= 3 && text.count <= 100 && text.hasPrefix(".")
            && text.dropFirst().allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// The arguments for one call: `--home H` first when set, then `--json` when asked, then the command.
    func arguments(_ command: [String], json: Bool) -> [String] {
        (home.map { ["--home", $0] } ?? []) + (json ? ["--json"] : []) + command
    }

    /// `run`, with a FOKS failure turned into the `ProviderError` it stands for.
    func runMapped(_ command: [String], json: Bool, mutating: Bool) async throws(ProviderError) -> Data {
        do {
            return try await run(command, json: json, mutating: mutating)
        } catch {
            throw Self.providerError(error)
        }
    }

    /// Any error of a call as the `ProviderError` it stands for.
    static func providerError(_ error: any Error) -> ProviderError {
        switch error {
        case let error as FoksFailure: error.providerError
        case let error as ProviderError: error
        default: ProviderError(.unavailable, "running foks failed: \(error)")
        }
    }

    /// Runs `foks arguments`, returns its stdout when it exits 0; throws `FoksFailure` when it exits
    /// otherwise, `ProviderError` when it cannot be started, times out or is killed.
    func run(_ command: [String], json: Bool, mutating: Bool) async throws -> Data {
        let shown = "foks " + command.joined(separator: " ")
        let executable: Executable = binary.contains("/") ? .path(FilePath(binary)) : .name(binary)
        var overrides: [Environment.Key: String?] = [:]
        for (key, value) in environment {
            if let key = Environment.Key(rawValue: key) { overrides[key] = value }
        }
        let configuration = Configuration(
            executable: executable, arguments: Arguments(arguments(command, json: json)),
            environment: .inherit.updating(overrides))
        let timeout = timeout
        let result: CallResult?
        do {
            result = try await withThrowingTaskGroup(of: CallResult?.self) { group in
                group.addTask {
                    let finished = try await Subprocess.run(
                        configuration, output: .bytes(limit: Self.stdoutLimit),
                        error: .string(limit: Self.stderrLimit))
                    return CallResult(
                        status: finished.terminationStatus, stdout: Data(finished.standardOutput),
                        stderr: finished.standardError)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                // Cancelling the run tears the child down (SIGKILL) before the group returns.
                group.cancelAll()
                return first
            }
        } catch let error as SubprocessError {
            throw startFailure(error, shown: shown)
        } catch {
            // Cancelled from outside: the child was killed, a change may or may not have been made.
            throw ProviderError(
                mutating ? .outcomeUnknown : .unavailable, "`\(shown)` was interrupted: \(error)")
        }
        guard let result else {
            throw ProviderError(
                mutating ? .outcomeUnknown : .unavailable,
                "`\(shown)` did not finish within \(timeout) and was killed"
                    + (mutating ? "; it may or may not have taken effect" : ""))
        }
        switch result.status {
        case .exited(0):
            return result.stdout
        case .exited(let code):
            throw FoksFailure(command: shown, exitCode: Int(code), stderr: result.stderr, mutating: mutating)
        default:
            throw ProviderError(
                mutating ? .outcomeUnknown : .unavailable,
                "`\(shown)` was killed by a signal (\(result.status))"
                    + (mutating ? "; it may or may not have taken effect" : ""))
        }
    }

    private struct CallResult: Sendable {
        var status: TerminationStatus
        var stdout: Data
        var stderr: String
    }

    /// A child that could not be started: `foks` is missing or not executable.
    func startFailure(_ error: SubprocessError, shown: String) -> ProviderError {
        if error.code == .executableNotFound || error.code == .spawnFailed {
            let fix = "install FOKS, or set `binary:` in the provider to the path of the foks executable"
            if binary.contains("/") {
                return ProviderError(
                    .unavailable, "the foks executable \"\(binary)\" does not exist or cannot be run; \(fix)")
            }
            let path = environment["PATH"] ?? ProcessInfo.processInfo.environment["PATH"] ?? ""
            return ProviderError(
                .unavailable,
                "the foks executable \"\(binary)\" was not found on PATH (\(path.prefix(300))); \(fix)")
        }
        if error.code == .outputLimitExceeded {
            return ProviderError(.badResponse, "`\(shown)` printed more than Botform reads (\(Self.stdoutLimit) bytes)")
        }
        return ProviderError(.unavailable, "`\(shown)` could not be run: \(error)")
    }

    /// Refuses a status whose key cannot be used, saying how to unlock it.
    static func checkUsable(_ status: FoksStatus) throws(ProviderError) {
        switch status.lock {
        case .unlocked:
            return
        case .passphraseLocked:
            throw ProviderError(
                .authentication,
                "the foks agent is locked (user \"\(status.user)\" at \(status.host)): unlock it with "
                    + "`foks passphrase unlock`")
        case .botTokenLocked:
            throw ProviderError(
                .authentication,
                "the foks agent is locked: it restarted and no longer holds the bot token it acted with (user "
                    + "\"\(status.user)\" at \(status.host)); unlock it with `foks bot use --host \(status.host)`, "
                    + "the token in FOKS_BOT_TOKEN or on stdin")
        case .yubiKeyLocked:
            throw ProviderError(
                .authentication,
                "the foks agent's YubiKey is locked (user \"\(status.user)\"); unlock it with `foks yubi unlock`")
        case .other(let code):
            throw ProviderError(.authentication, "the foks agent's key cannot be used: \(code)")
        }
    }
}

/// A `foks` call that ran and exited non-zero, with what its stderr says.
struct FoksFailure: Error, Sendable {
    /// What FOKS's error text means (client/libclient/errors.go, lib/core/errors.go).
    enum Reason: String, Sendable {
        case agentNotRunning = "agent_not_running"
        case passphraseLocked = "passphrase_locked"
        case botTokenLocked = "bot_token_locked"
        case yubiKeyLocked = "yubikey_locked"
        case noActiveUser = "no_active_user"
        case notOwner = "not_owner"
        case roleTooHigh = "role_too_high"
        case notYetInTree = "not_yet_in_tree"
        case alreadyRevoked = "already_revoked"
        case keyNotFound = "key_not_found"
        case higherRole = "higher_role"
        case lastOwner = "last_owner"
        case nameExists = "name_exists"
        case failed = "foks_failed"
    }

    var command: String
    var exitCode: Int
    /// Trimmed, `Error: ` dropped, anything shaped like a token redacted, at most 500 characters.
    var message: String
    var reason: Reason
    var mutating: Bool

    init(command: String, exitCode: Int, stderr: String, mutating: Bool) {
        self.command = command
        self.exitCode = exitCode
        self.mutating = mutating
        var text = stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("Error: ") { text = String(text.dropFirst("Error: ".count)) }
        text = Self.redacted(text)
        message = text.count > 500 ? String(text.prefix(500)) + "…" : text
        reason = Self.reason(text)
    }

    static func reason(_ text: String) -> Reason {
        let lower = text.lowercased()
        let table: [(String, Reason)] = [
            ("could not connect to the foks agent", .agentNotRunning),
            ("passphrase locked", .passphraseLocked),
            ("bot token is missing, so user is locked", .botTokenLocked),
            ("bot_token_locked", .botTokenLocked),
            ("yubikey is locked", .yubiKeyLocked),
            ("no active user", .noActiveUser),
            ("only owner devices", .notOwner),
            ("cannot provision a key with a role greater", .roleTooHigh),
            ("signing key not fully provisioned", .notYetInTree),
            ("device already revoked", .alreadyRevoked),
            ("key not found", .keyNotFound),
            ("device has higher role", .higherRole),
            ("cannot revoke last owner device", .lastOwner),
            ("device name already exists", .nameExists),
        ]
        return table.first { lower.contains($0.0) }?.1 ?? .failed
    }

    /// Replaces every run of 20 or more letters and digits, and every `xxxxx.yyyy…` shape, with
    /// `<redacted>`: FOKS does not print tokens in errors, and this makes sure none is passed on. Key IDs
    /// (`.J…`) are public and kept.
    static func redacted(_ text: String) -> String {
        var output = ""
        var word = ""
        func flush() {
            let bare = word.hasPrefix(".") ? word.dropFirst() : Substring(word)
            let tokenShaped = bare.contains(".") && bare.count >= 20
            let longRun = !word.hasPrefix(".") && Secret.longestAlphanumericRun(word) >= 20
            output += tokenShaped || longRun ? "<redacted>" : word
            word = ""
        }
        for character in text {
            if character.isASCII && (character.isLetter || character.isNumber || character == ".") {
                word.append(character)
            } else {
                flush()
                output.append(character)
            }
        }
        flush()
        return output
    }

    /// The error Botform reports, with what to do about it.
    var providerError: ProviderError {
        let said = "`\(command)` failed: \(message)"
        switch reason {
        case .agentNotRunning:
            return ProviderError(.unavailable, "\(said); start the agent with `foks ctl start`")
        case .passphraseLocked:
            return ProviderError(
                .authentication, "\(said); the agent is locked: unlock it with `foks passphrase unlock`")
        case .botTokenLocked:
            return ProviderError(
                .authentication,
                "\(said); the agent is locked: unlock it with `foks bot use --host HOST` (the owner bot token in "
                    + "FOKS_BOT_TOKEN or on stdin)")
        case .yubiKeyLocked:
            return ProviderError(.authentication, "\(said); unlock the YubiKey with `foks yubi unlock`")
        case .noActiveUser:
            return ProviderError(
                .authentication, "\(said); sign in, or load an owner bot token with `foks bot use --host HOST`")
        case .notOwner, .roleTooHigh:
            return ProviderError(
                .authentication,
                "\(said); creating and revoking bot tokens needs an owner key (`foks key switch` to an owner "
                    + "device, or `foks bot use` with an owner bot token)")
        case .lastOwner:
            return ProviderError(
                .rejected(status: exitCode, code: reason.rawValue),
                "\(said); FOKS never revokes a user's last owner key")
        default:
            // A call that ran and was refused changed nothing; only an unknown failure of a change might have.
            return ProviderError(.rejected(status: exitCode, code: reason.rawValue), said)
        }
    }
}

/// One call at a time per FOKS home (see `FoksCLI`). Waiters are resumed in arrival order.
final class FoksCallGate: Sendable {
    private struct State {
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private static let gates = Mutex<[String: FoksCallGate]>([:])

    /// The gate of a home (nil: FOKS's default home), shared across the process.
    static func shared(for home: String?) -> FoksCallGate {
        let key = home.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? ""
        return gates.withLock { gates in
            if let gate = gates[key] { return gate }
            let gate = FoksCallGate()
            gates[key] = gate
            return gate
        }
    }

    func serialised<T: Sendable>(_ body: () async throws(ProviderError) -> T) async throws(ProviderError) -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if now { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
