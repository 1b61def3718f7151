import BotformCore
import BotformYAML
import Foundation

/// Merges the files' declarations and resolves them into a `DesiredState`: references, include cycles,
/// effective permissions, defaults, and the warnings about legal but suspicious choices.
struct ConfigResolver {
    let files: [FileDeclarations]
    let baseDirectory: String
    let directory: String?
    var diagnostics = Diagnostics()
    /// Set when a bot names a role that does not exist; "unused role" warnings would then be noise.
    var unresolvedRoleReference = false
    /// Told the output settings as soon as they are read, before the bots: a caller can start reading
    /// the sealed file while thousands of bots are still being resolved.
    var onOutput: ((OutputSettings) -> Void)?

    init(files: [FileDeclarations], baseDirectory: String, directory: String?) {
        self.files = files
        self.baseDirectory = baseDirectory
        self.directory = directory
    }

    mutating func resolve() -> DesiredState {
        checkVersion()
        let providerDeclarations = merge(files.flatMap(\.providers), what: "provider")
        let roleDeclarations = merge(files.flatMap(\.roles), what: "role")
        let botDeclarations = merge(files.flatMap(\.bots), what: "bot")
        let output = readOutput(merge(files.flatMap(\.output), what: "output key"))
        onOutput?(output)

        var providers: [String: ProviderConfig] = [:]
        var resolvedProviders: [(declaration: Declaration, config: ProviderConfig)] = []
        for declaration in providerDeclarations {
            guard let provider = readProvider(declaration) else { continue }
            providers[provider.name] = provider
            resolvedProviders.append((declaration, provider))
        }
        checkDistinctAccounts(resolvedProviders)
        let declaredProviderNames = providerDeclarations.map(\.name)

        var roles: [String: RoleDraft] = [:]
        for declaration in roleDeclarations {
            if let role = readRole(declaration) { roles[role.name] = role }
        }
        let roleNames = roleDeclarations.map(\.name)
        checkRoleReferences(roles, known: Set(roleNames))
        let effective = resolveIncludes(roles, order: roleNames)

        var bots: [DesiredBot] = []
        var usedRoles: Set<String> = []
        var reportedNoProviders = false
        for declaration in botDeclarations {
            let bot = readBot(
                declaration, providers: providers, declaredProviders: declaredProviderNames, roles: roles,
                effective: effective, reportedNoProviders: &reportedNoProviders)
            guard let bot else { continue }
            usedRoles.formUnion(bot.roles)
            bots.append(bot)
        }
        if !unresolvedRoleReference { warnUnusedRoles(roles, order: roleNames, used: usedRoles) }

        let policy = readPolicy(merge(files.flatMap(\.policy), what: "policy key"))
        let ignore = readIgnore(providers: declaredProviderNames)
        let roleDefinitions = roleNames.compactMap { name -> RoleDefinition? in
            guard let draft = roles[name] else { return nil }
            return RoleDefinition(
                name: name, includes: draft.includes.map(\.name), permissions: draft.permissions,
                effectivePermissions: effective[name] ?? draft.permissions, location: draft.declaration.location)
        }
        return DesiredState(
            baseDirectory: baseDirectory, providers: Array(providers.values), roles: roleDefinitions, bots: bots,
            policy: policy, output: output, ignore: ignore)
    }

    // MARK: Files and names

    private mutating func checkVersion() {
        let versions = files.compactMap(\.version)
        // A file that could not be read may well have stated the version: do not add noise.
        if versions.isEmpty, let first = files.first, !files.contains(where: \.unreadable) {
            diagnostics.error(
                "missing required key \"version\"; add \"version: 1\" at the top", at: .start(of: first.reader.file))
        }
        for file in files {
            guard let version = file.version, let value = version.value, value != 1 else { continue }
            file.reader.error(
                "unsupported configuration version \(value); this botform reads version 1", at: version.node)
        }
    }

    /// Keeps the first declaration of each name; a second one is an error that names both places.
    private mutating func merge(_ declarations: [Declaration], what: String) -> [Declaration] {
        // Positions, not copies: a declaration holds its YAML subtree, and there can be 10,000.
        var first: [String: Int] = [:]
        var result: [Declaration] = []
        for declaration in declarations {
            if let position = first[declaration.name] {
                let earlier = result[position]
                let place =
                    earlier.reader.file == declaration.reader.file
                    ? "line \(earlier.key.line)" : "\(earlier.location)"
                declaration.reader.error(
                    "\(what) \"\(declaration.name)\" is defined twice; it is already defined at \(place)",
                    at: declaration.key)
                continue
            }
            first[declaration.name] = result.count
            result.append(declaration)
        }
        return result
    }

    // MARK: Providers

    private mutating func readProvider(_ declaration: Declaration) -> ProviderConfig? {
        let reader = declaration.reader
        let what = "provider \"\(declaration.name)\""
        var valid = true
        if let problem = Name.problem(withProviderName: declaration.name) {
            reader.error("invalid provider name \"\(declaration.name)\": \(problem)", at: declaration.key)
            valid = false
        }
        guard let pairs = reader.mapping(declaration.value, what) else { return nil }
        var kind: ProviderKind?
        if let typePair = pairs.first(where: { $0.key.scalarText == "type" }) {
            kind = reader.choice(typePair.value, "provider type", allowed: ProviderKind.allCases.map(\.rawValue))
                .flatMap(ProviderKind.init(rawValue:))
            if kind == nil { valid = false }
        }
        guard let fields = reader.fields(declaration.value, .provider, what: what, kind: kind, owner: declaration.key),
            let kind, valid
        else { return nil }
        let settings: ProviderSettings?
        switch kind {
        case .fyso: settings = readFyso(fields, what: what, declaration: declaration).map(ProviderSettings.fyso)
        case .sym: settings = readSym(fields, what: what, declaration: declaration).map(ProviderSettings.sym)
        case .foks: settings = readFoks(fields, what: what, reader: reader).map(ProviderSettings.foks)
        }
        return settings.map { ProviderConfig(name: declaration.name, settings: $0, location: declaration.location) }
    }

    private func readTimeout(_ fields: Fields, reader: ConfigReader) -> BotformDuration? {
        guard let pair = fields["timeout"] else { return BotformDuration(30, .seconds) }
        guard let timeout = reader.duration(pair.value, "\"timeout\"") else { return nil }
        if timeout.seconds > 600 {
            reader.warning(
                "timeout \(timeout) is longer than 10 minutes; a hung request would stall the run that long",
                at: pair.value)
        }
        return timeout
    }

    private func readFyso(_ fields: Fields, what: String, declaration: Declaration) -> FysoSettings? {
        let reader = declaration.reader
        let endpoint = fields["url"].flatMap { readEndpoint($0.value, reader: reader, what: what, kind: .fyso) }
        var tenant: String?
        if let pair = fields["tenant"] {
            tenant = reader.nonEmptyString(pair.value, "\"tenant\" of \(what)")
            if let slug = tenant, !SchemaPattern.isTenantSlug(slug) {
                reader.error(
                    "invalid tenant \"\(slug)\" for \(what): a tenant slug has lowercase letters, digits, hyphens and underscores",
                    at: pair.value)
                tenant = nil
            }
        } else if endpoint == .embedded {
            tenant = "sandbox"
        } else if fields["url"] != nil, !fields.suggested.contains("tenant") {
            reader.error("\(what) is missing required key \"tenant\" (the Fyso tenant slug)", at: declaration.key)
        }
        var credentials: FysoCredentials?
        var credentialsValid = true
        if let pair = fields["credentials"] {
            credentials = readFysoCredentials(pair.value, what: what, reader: reader, owner: pair.key)
            credentialsValid = credentials != nil
        } else if endpoint != nil, endpoint != .embedded, !fields.suggested.contains("credentials") {
            reader.error(
                "\(what) is missing required key \"credentials\" (e.g. credentials: {token_env: FYSO_TOKEN})",
                at: declaration.key)
            credentialsValid = false
        }
        let timeout = readTimeout(fields, reader: reader)
        var revokedNamesReusable: Bool?
        var reusableValid = true
        if let pair = fields["revoked_names_reusable"] {
            revokedNamesReusable = reader.bool(pair.value, "\"revoked_names_reusable\"")
            reusableValid = revokedNamesReusable != nil
        }
        guard let endpoint, let tenant, let timeout, credentialsValid, reusableValid else { return nil }
        return FysoSettings(
            endpoint: endpoint, tenant: tenant, credentials: credentials, timeout: timeout,
            revokedNamesReusable: revokedNamesReusable)
    }

    private func readSource(
        _ fields: Fields, base: String, reader: ConfigReader, what: String
    ) -> (source: CredentialSource?, valid: Bool) {
        let env = fields["\(base)_env"]
        let file = fields["\(base)_file"]
        if env != nil, let file {
            reader.error("give either \(base)_env or \(base)_file in \(what), not both", at: file.key)
            return (nil, false)
        }
        if let env {
            guard let name = reader.environmentVariableName(env.value, "\"\(base)_env\"") else { return (nil, false) }
            return (.environment(name), true)
        }
        if let file {
            guard let path = reader.nonEmptyString(file.value, "\"\(base)_file\"") else { return (nil, false) }
            return (.file(resolvePath(path)), true)
        }
        return (nil, true)
    }

    private func readFysoCredentials(_ node: YAMLNode, what: String, reader: ConfigReader, owner: YAMLNode)
        -> FysoCredentials?
    {
        let context = "credentials of \(what)"
        guard let fields = reader.fields(node, .credentials, what: context, kind: .fyso, owner: owner) else {
            return nil
        }
        // Unknown keys (a literal secret, a misspelling) were reported; "no token" would only repeat them.
        guard fields.allKnown else { return nil }
        let token = readSource(fields, base: "token", reader: reader, what: context)
        let email = readSource(fields, base: "email", reader: reader, what: context)
        let password = readSource(fields, base: "password", reader: reader, what: context)
        var caller: FysoCaller?
        if let pair = fields["caller"] {
            guard let value = reader.choice(pair.value, "caller", allowed: FysoCaller.allCases.map(\.rawValue)) else {
                return nil
            }
            caller = FysoCaller(rawValue: value)
        }
        guard token.valid, email.valid, password.valid else { return nil }
        if let tokenSource = token.source {
            if email.source != nil || password.source != nil {
                reader.error(
                    "\(context) give both a token and a login; use either token_env/token_file or email and password",
                    at: owner)
                return nil
            }
            return .token(tokenSource, caller: caller)
        }
        switch (email.source, password.source) {
        case (let email?, let password?):
            return .login(email: email, password: password, caller: caller ?? .admin)
        case (_?, nil):
            reader.error("\(context) have an email but no password; add password_env or password_file", at: owner)
        case (nil, _?):
            reader.error("\(context) have a password but no email; add email_env or email_file", at: owner)
        case (nil, nil):
            reader.error(
                "\(context) name no token and no login; add token_env (or email_env and password_env)", at: owner)
        }
        return nil
    }

    private func readSym(_ fields: Fields, what: String, declaration: Declaration) -> SymSettings? {
        let reader = declaration.reader
        var endpoint: ServiceEndpoint? = .url(SymSettings.defaultURL)
        if let pair = fields["url"] { endpoint = readEndpoint(pair.value, reader: reader, what: what, kind: .sym) }
        var token: CredentialSource?
        var valid = true
        if let pair = fields["credentials"] {
            if let credentials = reader.fields(
                pair.value, .credentials, what: "credentials of \(what)", kind: .sym, owner: pair.key)
            {
                let read = readSource(credentials, base: "token", reader: reader, what: "credentials of \(what)")
                token = read.source
                valid = read.valid
                if read.valid, read.source == nil {
                    reader.error(
                        "credentials of \(what) name no token; add token_env (e.g. SYM_JWT) or token_file", at: pair.key
                    )
                    valid = false
                }
            } else {
                valid = false
            }
        } else if endpoint != .embedded, endpoint != nil, !fields.suggested.contains("credentials") {
            reader.error(
                "\(what) is missing required key \"credentials\" (e.g. credentials: {token_env: SYM_JWT})",
                at: declaration.key)
            valid = false
        }
        let timeout = readTimeout(fields, reader: reader)
        guard let endpoint, let timeout, valid else { return nil }
        return SymSettings(endpoint: endpoint, token: token, timeout: timeout)
    }

    private func readFoks(_ fields: Fields, what: String, reader: ConfigReader) -> FoksSettings? {
        var host: String?
        if let pair = fields["host"], let text = reader.nonEmptyString(pair.value, "\"host\" of \(what)") {
            if text.contains("@") {
                reader.error(
                    "host \"\(EndpointText.shown(text))\" for \(what) must not carry a user or password; foks authenticates with its own agent (see \"home\")",
                    at: pair.value)
            } else if text.contains("://") || text.contains("/") || text.contains(" ") {
                reader.error(
                    "invalid host \"\(text)\" for \(what): give a host name such as \"myorg.foks.app\", without a scheme or path",
                    at: pair.value)
            } else {
                host = text
            }
        }
        var binary: String? = "foks"
        if let pair = fields["binary"] { binary = reader.nonEmptyString(pair.value, "\"binary\" of \(what)") }
        var home: String?
        var homeValid = true
        if let pair = fields["home"] {
            home = reader.nonEmptyString(pair.value, "\"home\" of \(what)").map(resolvePath)
            homeValid = home != nil
        }
        guard let host, let binary, homeValid else { return nil }
        let resolvedBinary = binary.contains("/") ? resolvePath(binary) : binary
        return FoksSettings(host: host, binary: resolvedBinary, home: home)
    }

    /// Resolves a path written in the configuration against the configuration's directory.
    func resolvePath(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] {
            return home + path.dropFirst(1)
        }
        return baseDirectory == "." ? path : (baseDirectory as NSString).appendingPathComponent(path)
    }
}
