import AsyncHTTPClient
import BotformConfig
import BotformCore
import BotformProviders
import BotformSandbox
import BotformSeal
import Foundation
import Logging

/// The composition root of the commands that talk to services: configuration, credentials, providers
/// (including the embedded sandbox), observation, ownership and the plan.
struct Frontend {
    let terminal: Terminal
    var environment: [String: String] = ProcessInfo.processInfo.environment
    /// Calls in flight per service (`--parallelism`): the HTTP connection pool, each provider's request
    /// gate and the concurrent reading of a paged bot list all follow it.
    var parallelism = 8

    /// A loaded configuration and what identifies it in a saved plan.
    struct Configuration {
        var state: DesiredState
        var path: String
        var sha256: String
    }

    /// Loads and validates; diagnostics go to stderr, and errors end the command. `onOutput` is told the
    /// output settings as soon as they are read, before the bots are resolved.
    func loadConfiguration(_ path: String?, onOutput: ((OutputSettings) -> Void)? = nil) throws -> Configuration {
        try Self.refuseKeyMaterial(path)
        let location = ConfigLocation.resolve(path)
        let loaded: LoadedConfig
        let sha256: String
        if let ahead = ConfigPrefetch.take(location) {
            if let output = ahead.output { onOutput?(output) }
            (loaded, sha256) = (ahead.loaded, ahead.sha256)
        } else {
            loaded = ConfigLoader.load(path: location, onOutput: onOutput)
            sha256 = Self.digest(of: loaded.files)
        }
        terminal.emit(loaded.diagnostics.sorted, github: GitHubActions(environment: environment))
        guard let state = loaded.state else {
            throw CLIError(
                "the configuration is invalid (\(count(loaded.diagnostics.errors.count, "error"))); fix it and run again"
            )
        }
        return Configuration(state: state, path: location, sha256: sha256)
    }

    /// The configuration's digest, over its files' paths and contents: a saved plan records it.
    static func digest(of files: [String]) -> String {
        var digest = ""
        for file in files {
            let data = FileManager.default.contents(atPath: file) ?? Data()
            digest += file + "\n" + SHA256Digest.hex(String(decoding: data, as: UTF8.self)) + "\n"
        }
        return SHA256Digest.hex(digest)
    }

    /// A path argument that looks like a private key is refused before any message could quote it.
    static func refuseKeyMaterial(_ argument: String?) throws {
        guard let argument, AgeIdentity.mayHoldKeyMaterial(argument) else { return }
        throw CLIError(
            "the path given looks like a private key; it is not repeated here. Keys never go on the command line: put the key in a file and pass -i FILE, or set BOTFORM_IDENTITY",
            status: .usage)
    }

    // MARK: Providers

    /// The providers of a run and what must be shut down after it.
    final class Connections: @unchecked Sendable {
        // @unchecked: built once before use, then only read; `close()` runs after every use.
        var providers: [String: any BotProvider] = [:]
        var summaries: [String: PlanDocument.ProviderSummary] = [:]
        /// Each service's clock against this machine's (its answers' `Date` less ours), so what apply
        /// records as issued is stamped in the service's time, the time rotation ages are judged by.
        var clockOffsets: [String: TimeInterval] = [:]
        var embedded: SandboxServer?
        let http: HTTPClient

        init(http: HTTPClient) {
            self.http = http
        }

        func close() async {
            try? await http.shutdown()
            await embedded?.stop()
        }
    }

    /// Connects to every provider that has bots to plan (declared, or recorded in the sealed file).
    func connect(_ configuration: Configuration, ownership: Ownership) async throws -> Connections {
        let connections = Connections(http: HTTPTransport.makeClient(parallelism: parallelism))
        do {
            try await connect(configuration, ownership: ownership, into: connections)
        } catch {
            await connections.close()
            throw error
        }
        return connections
    }

    /// Adds the providers not connected yet (sharing the connections' HTTP client); returns their names.
    @discardableResult
    func connect(_ configuration: Configuration, ownership: Ownership, into connections: Connections) async throws
        -> [String]
    {
        var added: [String] = []
        for provider in configuration.state.providers where connections.providers[provider.name] == nil {
            let used =
                configuration.state.bots.contains { $0.provider == provider.name }
                || ownership.botCount(of: provider.name) > 0
            guard used else { continue }
            switch provider.settings {
            case .fyso(let settings):
                connections.providers[provider.name] = try await fyso(
                    provider.name, settings, configuration: configuration, connections: connections)
                added.append(provider.name)
            case .sym(let settings):
                connections.providers[provider.name] = try await sym(
                    provider.name, settings, configuration: configuration, connections: connections)
                added.append(provider.name)
            case .foks(let settings):
                connections.providers[provider.name] = FoksProvider(
                    name: provider.name, host: settings.host,
                    cli: FoksCLI(binary: settings.binary, home: settings.home, timeout: .seconds(60)))
                connections.summaries[provider.name] = PlanDocument.ProviderSummary(
                    name: provider.name, type: "foks", endpoint: settings.host.lowercased(), tenant: nil,
                    caller: "owner", observedBots: 0, listCalls: 0)
                added.append(provider.name)
            }
        }
        return added
    }

    func fyso(_ name: String, _ settings: FysoSettings, configuration: Configuration, connections: Connections)
        async throws -> FysoProvider
    {
        var logger = Logger(label: "botform.http")
        logger.logLevel = environment["BOTFORM_LOG"] == "debug" ? .debug : .warning
        let timeout = Duration.seconds(settings.timeout.seconds)
        let auth: FysoAuth
        var caller = FysoCaller.admin
        let endpoint: String
        switch settings.endpoint {
        case .embedded:
            let server = try await embeddedSandbox(configuration, tenant: settings.tenant, connections: connections)
            endpoint = server.url?.absoluteString ?? ""
            if let credentials = settings.credentials {
                (auth, caller) = try resolve(credentials, provider: name)
            } else {
                auth = .token(Secret(try await server.adminToken()))
            }
        case .url:
            // Normalised (scheme and host lower-case, no default port): the sealed file records it so.
            endpoint = settings.endpoint.normalized
            guard let credentials = settings.credentials else {
                throw CLIError("provider \"\(name)\" has no credentials")
            }
            (auth, caller) = try resolve(credentials, provider: name)
        }
        connections.summaries[name] = PlanDocument.ProviderSummary(
            name: name, type: "fyso", endpoint: settings.endpoint == .embedded ? "embedded sandbox" : endpoint,
            tenant: settings.tenant,
            caller: caller.rawValue, observedBots: 0, listCalls: 0)
        let terminal = self.terminal
        let transport = HTTPTransport(
            client: connections.http, baseURL: endpoint, timeout: timeout, logger: logger, concurrency: parallelism,
            onThrottle: { terminal.err(Self.throttleNotice(name, $0)) })
        return FysoProvider(
            name: name, tenant: settings.tenant, caller: caller, auth: auth, transport: transport,
            revokedNamesReusable: settings.revokedNamesReusable)
    }

    func sym(_ name: String, _ settings: SymSettings, configuration: Configuration, connections: Connections)
        async throws -> SymProvider
    {
        var logger = Logger(label: "botform.http")
        logger.logLevel = environment["BOTFORM_LOG"] == "debug" ? .debug : .warning
        let endpoint: String
        let token: Secret
        switch settings.endpoint {
        case .embedded:
            let server = try await embeddedSandbox(configuration, tenant: nil, connections: connections)
            endpoint = server.symURL?.absoluteString ?? ""
            token = Secret(try settings.token.map { try read($0, provider: name, what: "token") } ?? server.symToken)
        case .url:
            endpoint = settings.endpoint.normalized
            guard let source = settings.token else {
                throw CLIError(
                    "provider \"\(name)\" has no credentials: set credentials: {token_env: SYM_JWT} (an org admin's Sym token)"
                )
            }
            token = Secret(try read(source, provider: name, what: "token"))
        }
        connections.summaries[name] = PlanDocument.ProviderSummary(
            name: name, type: "sym", endpoint: settings.endpoint == .embedded ? "embedded sandbox" : endpoint,
            tenant: nil, caller: "admin", observedBots: 0, listCalls: 0)
        let terminal = self.terminal
        let transport = HTTPTransport(
            client: connections.http, baseURL: endpoint, timeout: .seconds(settings.timeout.seconds), logger: logger,
            concurrency: parallelism, onThrottle: { terminal.err(Self.throttleNotice(name, $0)) })
        return SymProvider(name: name, token: token, transport: transport)
    }

    /// The progress line for a provider's throttle episode: once when it starts, once when it ends.
    static func throttleNotice(_ provider: String, _ event: ThrottleEvent) -> String {
        switch event {
        case .throttled(let status, let wait, let concurrency):
            let ms = wait.components.seconds * 1_000 + wait.components.attoseconds / 1_000_000_000_000_000
            let pause = ms >= 1_000 ? String(format: "%.1f s", Double(ms) / 1_000) : "\(ms) ms"
            return
                "  \(provider): throttled by the service (\(status)); pausing \(pause), then at most \(concurrency) calls at a time until it keeps up"
        case .recovered(let concurrency):
            return "  \(provider): no longer throttled; back to \(concurrency) calls at a time"
        }
    }

    /// The sandbox built into Botform, in-process, its state in `.botform/` beside the configuration.
    private func embeddedSandbox(_ configuration: Configuration, tenant: String?, connections: Connections) async throws
        -> SandboxServer
    {
        if let server = connections.embedded {
            if let tenant { try await server.ensureTenant(tenant) }
            return server
        }
        var options = SandboxOptions()
        options.port = 0
        if let tenant { options.tenant = tenant }
        // The sandbox's state holds its JWT signing key and the bots' hashes: the directory is 0700.
        let directory = (configuration.state.baseDirectory as NSString).appendingPathComponent(".botform")
        try? FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
        options.dataPath = (directory as NSString).appendingPathComponent("sandbox.sqlite")
        if let cost = environment["BOTFORM_SANDBOX_BCRYPT_COST"].flatMap(UInt8.init) { options.bcryptCost = cost }
        do {
            let server = try await SandboxServer.make(options)
            try await server.start()
            connections.embedded = server
            return server
        } catch {
            throw CLIError("cannot start the embedded sandbox: \(error)")
        }
    }

    /// Reads credentials from the environment or files. Messages name the variable or file, never a value.
    func resolve(_ credentials: FysoCredentials, provider: String) throws -> (FysoAuth, FysoCaller) {
        switch credentials {
        case .token(let source, let caller):
            return (.token(Secret(try read(source, provider: provider, what: "token"))), caller ?? .admin)
        case .login(let email, let password, let caller):
            return (
                .login(
                    email: try read(email, provider: provider, what: "email"),
                    password: Secret(try read(password, provider: provider, what: "password"))), caller
            )
        }
    }

    func read(_ source: CredentialSource, provider: String, what: String) throws -> String {
        switch source {
        case .environment(let name):
            // Trimmed as a file's value is: a CI secret pasted with its trailing newline is the same secret.
            guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty
            else {
                throw CLIError(
                    "provider \"\(provider)\": the \(what) is read from the environment variable \(name), which is not set"
                )
            }
            guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw CLIError(
                    "provider \"\(provider)\": the \(what) in the environment variable \(name) holds a line break or another control character (not shown); set it to the bare value"
                )
            }
            return value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("provider \"\(provider)\": cannot read the \(what) file \"\(path)\"")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else {
                throw CLIError("provider \"\(provider)\": the \(what) file \"\(path)\" is empty")
            }
            guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw CLIError(
                    "provider \"\(provider)\": the \(what) file \"\(path)\" holds more than one line or a control character (not shown); it must hold the bare value"
                )
            }
            return value
        }
    }

    // MARK: Observe and plan

    /// Observes the named providers (all of them by default), concurrently.
    func observe(_ connections: Connections, only names: [String]? = nil) async throws -> [String: ProviderObservation]
    {
        let chosen =
            names.map { names in connections.providers.filter { names.contains($0.key) }.map(\.value) }
            ?? Array(connections.providers.values)
        return try await withThrowingTaskGroup(of: ProviderObservation.self) { group in
            for provider in chosen { group.addTask { try await provider.observe() } }
            var observations: [String: ProviderObservation] = [:]
            do {
                for try await observation in group {
                    observations[observation.provider] = observation
                    connections.summaries[observation.provider]?.observedBots = observation.bots.count
                    connections.summaries[observation.provider]?.listCalls = observation.listCalls
                    if let serviceNow = observation.serviceNow {
                        connections.clockOffsets[observation.provider] = serviceNow.timeIntervalSinceNow
                    }
                    if let tenant = observation.tenant, connections.summaries[observation.provider]?.tenant == nil {
                        connections.summaries[observation.provider]?.tenant = tenant
                    }
                }
            } catch let error as ProviderError {
                throw CLIError("cannot read the bots: \(error.message)")
            }
            return observations
        }
    }

    /// The sealed file (journal folded in), read-only; nil when no sealed output is configured.
    func sealedFile(_ state: DesiredState) throws -> SealedFile? {
        try sealedFile(at: state.output.sealedPath)
    }

    func sealedFile(at path: String?) throws -> SealedFile? {
        try noted(readSealedFile(at: path))
    }

    /// The sealed file as read, with whether its journal's last record was torn, said by `noted` when
    /// the read is used (a read started early for a command that then fails says nothing).
    func readSealedFile(at path: String?) throws -> SealedRead? {
        guard let path else { return nil }
        do {
            let read = try SealedCustody.read(path: path)
            return SealedRead(path: path, file: read.file, tornTail: read.tornTail)
        } catch {
            throw CLIError("cannot read the sealed file: \(error)")
        }
    }

    struct SealedRead: Sendable {
        var path: String
        var file: SealedFile
        var tornTail: Bool
    }

    func noted(_ read: SealedRead?) -> SealedFile? {
        guard let read else { return nil }
        if read.tornTail {
            terminal.warn("the last record of \(read.path).journal was cut off by a crash; it is ignored")
        }
        return read.file
    }

    func plan(
        _ configuration: Configuration, observations: [String: ProviderObservation], ownership: Ownership,
        connections: Connections,
        options: PlanDocument.Options, recipients: PlanDocument.RecipientChange? = nil
    ) throws -> PlanDocument {
        let plan: Plan
        do {
            plan = try Planner.plan(
                PlanRequest(
                    desired: configuration.state, observations: observations, ownership: ownership, now: Date(),
                    targets: options.targets,
                    rotate: options.rotate, allowDestroy: options.allowDestroy, allowMove: options.allowMove))
        } catch {
            throw CLIError(error.description, status: error.isUsage ? .usage : .failure)
        }
        return PlanDocument(
            createdAt: Date(), configuration: .init(path: configuration.path, sha256: configuration.sha256),
            options: options,
            providers: connections.summaries.values.sorted { $0.name < $1.name }, actions: plan.actions,
            drift: plan.drift, guards: plan.guards,
            inputs: plan.inputs, recipients: recipients)
    }

    // MARK: Keys

    /// Recipients from the configuration, `recipients_file` and `BOTFORM_RECIPIENTS`.
    func recipients(_ state: DesiredState) throws -> [AgeRecipient] {
        var recipients = state.output.recipients
        var texts: [(String, String)] = []
        if let path = state.output.recipientsFile {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("cannot read recipients_file \"\(path)\"")
            }
            for (index, line) in String(decoding: data, as: UTF8.self).split(
                separator: "\n", omittingEmptySubsequences: false
            ).enumerated() {
                let text =
                    line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                    .trimmingCharacters(in: .whitespaces) ?? ""
                if !text.isEmpty { texts.append((text, "\(path):\(index + 1)")) }
            }
        }
        if let list = environment["BOTFORM_RECIPIENTS"] {
            for text in list.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }) {
                texts.append((String(text), "BOTFORM_RECIPIENTS"))
            }
        }
        for (text, origin) in texts {
            do {
                let recipient = try AgeRecipient.parse(text)
                if !recipients.contains(recipient) { recipients.append(recipient) }
            } catch {
                throw CLIError("\(origin): invalid recipient: \(error)")
            }
        }
        return recipients
    }

    /// Identities from `-i` files, else `BOTFORM_IDENTITY` (a path to a key file, a key, or a key file's text).
    func identities(files: [String]) throws -> [AgeIdentity] {
        try IdentitySource(files: files, environment: environment).load().map(\.identity)
    }
}
