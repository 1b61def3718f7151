import BotformCore
import BotformYAML

extension ConfigResolver {
    mutating func readBot(
        _ declaration: Declaration, providers: [String: ProviderConfig], declaredProviders: [String],
        roles: [String: RoleDraft], effective: [String: Permissions], reportedNoProviders: inout Bool
    ) -> DesiredBot? {
        let reader = declaration.reader
        let name = declaration.name
        let what = "bot \"\(name)\""
        var valid = true
        if let problem = Name.problem(withBotName: name) {
            reader.error("invalid bot name \"\(name)\": \(problem)", at: declaration.key)
            valid = false
        }
        guard let pairs = reader.mapping(declaration.value, what) else { return nil }

        // The provider decides which keys apply, so it is resolved first.
        var providerName: String?
        if let pair = pairs.first(where: { $0.key.scalarText == "provider" }) {
            if let text = reader.nonEmptyString(pair.value, "\"provider\" of \(what)") {
                if declaredProviders.contains(text) {
                    providerName = text
                } else {
                    let hint = Suggestion.didYouMean(text, in: declaredProviders)
                    let known =
                        declaredProviders.isEmpty
                        ? "; no providers are declared"
                        : hint.isEmpty ? "; declared providers: \(declaredProviders.joined(separator: ", "))" : hint
                    reader.error("unknown provider \"\(text)\" for \(what)\(known)", at: pair.value)
                }
            }
            if providerName == nil { valid = false }
        } else if declaredProviders.count == 1 {
            providerName = declaredProviders[0]
        } else if declaredProviders.isEmpty {
            if !reportedNoProviders {
                reader.error(
                    "\(what) has no provider to live in: no providers are declared; add one under \"providers\"",
                    at: declaration.key)
                reportedNoProviders = true
            }
            valid = false
        } else {
            reader.error(
                "\(what) must name its provider (one of: \(declaredProviders.joined(separator: ", ")))",
                at: declaration.key)
            valid = false
        }
        let provider = providerName.flatMap { providers[$0] }
        let kind = provider?.kind
        guard let fields = reader.fields(declaration.value, .bot, what: what, kind: kind, owner: declaration.key) else {
            return nil
        }

        var bot = DesiredBot(name: name, provider: providerName ?? "", location: declaration.location)
        if let pair = fields["description"] { bot.description = reader.string(pair.value, "\"description\"") }
        if let pair = fields["protect"] {
            if let value = reader.bool(pair.value, "\"protect\"") { bot.protect = value } else { valid = false }
        }
        if let pair = fields["roles"] {
            let list = reader.nameList(pair.value, "\"roles\" of \(what)", example: "[inventory-writer]") ?? []
            for entry in list {
                if roles[entry.name] != nil {
                    bot.roles.append(entry.name)
                } else {
                    let declared = files.flatMap { $0.roles.map(\.name) }
                    let hint = Suggestion.didYouMean(entry.name, in: declared)
                    reader.error("unknown role \"\(entry.name)\" for \(what)\(hint)", at: entry.node)
                    unresolvedRoleReference = true
                    valid = false
                }
            }
        }
        if let pair = fields["permissions"] {
            bot.permissions = readPermissions(pair.value, reader: reader, what: what)
        }
        bot.effectivePermissions = bot.roles.reduce(bot.permissions) { $0.union(effective[$1] ?? Permissions()) }
        if let pair = fields["rotate_every"] {
            if let every = reader.duration(pair.value, "\"rotate_every\"") {
                bot.rotateEvery = every
                if every.seconds < 3_600 {
                    reader.warning(
                        "rotate_every \(every) is shorter than an hour; nearly every apply will reset this secret",
                        at: pair.value)
                }
            } else {
                valid = false
            }
        }
        if kind == .foks {
            if let pair = fields["role"] {
                bot.foksRole = readFoksRole(pair.value, reader: reader)
                if bot.foksRole == nil { valid = false }
            } else {
                reader.warning(
                    "\(what) has no \"role\", so FOKS gives it owner, which can add and revoke every key of the user; declare a lower role such as \"member/0\" unless it needs that",
                    at: declaration.key)
                bot.foksRole = .owner
            }
        }
        if kind == .sym {
            if let pair = fields["tokens"] {
                if let tokens = readTokens(pair.value, reader: reader, what: what) {
                    bot.tokens = tokens
                } else {
                    valid = false
                }
            }
            if bot.tokens.isEmpty, valid {
                reader.warning(
                    "sym \(what) declares no tokens; it will exist but hold no credential", at: declaration.key)
            }
        }
        if kind == .fyso, bot.effectivePermissions.isEmpty, valid {
            reader.warning(
                "\(what) has no permissions: it can identify but cannot read or write any entity", at: declaration.key)
        }
        return valid && provider != nil ? bot : nil
    }

    private func readFoksRole(_ node: YAMLNode, reader: ConfigReader) -> FoksRole? {
        guard let text = reader.string(node, "\"role\"") else { return nil }
        do {
            return try FoksRole.parse(text)
        } catch {
            reader.error("invalid FOKS role: \(error)", at: node)
            return nil
        }
    }

    private func readTokens(_ node: YAMLNode, reader: ConfigReader, what: String) -> [DesiredToken]? {
        guard let pairs = reader.mapping(node, "\"tokens\" of \(what)") else { return nil }
        var tokens: [DesiredToken] = []
        var valid = true
        for pair in pairs {
            guard let label = pair.key.scalarText else { continue }
            let tokenWhat = "token \"\(label)\" of \(what)"
            if let problem = Name.problem(withTokenLabel: label) {
                reader.error("invalid token label \"\(label)\": \(problem)", at: pair.key)
                valid = false
            }
            guard let fields = reader.fields(pair.value, .token, what: tokenWhat, owner: pair.key) else {
                valid = false
                continue
            }
            guard let expiresPair = fields["expires_in"],
                let expiresIn = reader.duration(expiresPair.value, "\"expires_in\"")
            else {
                valid = false
                continue
            }
            var renewBefore = BotformDuration(max(1, expiresIn.seconds / 3), .seconds)
            if let renewPair = fields["renew_before"] {
                guard let value = reader.duration(renewPair.value, "\"renew_before\"") else {
                    valid = false
                    continue
                }
                if value >= expiresIn {
                    reader.error(
                        "renew_before \(value) must be shorter than expires_in \(expiresIn), or every run would re-issue the token",
                        at: renewPair.value)
                    valid = false
                    continue
                }
                renewBefore = value
            }
            tokens.append(DesiredToken(label: label, expiresIn: expiresIn, renewBefore: renewBefore))
        }
        return valid ? tokens : nil
    }

    func readPolicy(_ declarations: [Declaration]) -> Policy {
        var policy = Policy()
        for declaration in declarations {
            let reader = declaration.reader
            switch declaration.name {
            case "unmanaged":
                if let value = reader.choice(
                    declaration.value, "policy.unmanaged", allowed: UnmanagedPolicy.allCases.map(\.rawValue))
                {
                    policy.unmanaged = UnmanagedPolicy(rawValue: value) ?? .report
                }
            case "max_destroy":
                policy.maxDestroy = reader.integer(declaration.value, "\"max_destroy\"", minimum: 0)
            default:
                break
            }
        }
        return policy
    }

    func readOutput(_ declarations: [Declaration]) -> OutputSettings {
        var output = OutputSettings()
        var recipientsNode: Declaration?
        for declaration in declarations {
            let reader = declaration.reader
            switch declaration.name {
            case "sealed":
                guard let path = reader.nonEmptyString(declaration.value, "\"sealed\"") else { continue }
                guard !Secret.mayHoldKeyMaterial(path) else {
                    reader.error(
                        "\"sealed\" looks like a private key, not a file name; it is not repeated here. Name the sealed file (secrets.sealed.yaml)",
                        at: declaration.value)
                    continue
                }
                let resolved = resolvePath(path)
                if let directory, isInside(resolved, directory: directory),
                    ConfigLoader.isConfigFileName(lastComponent(resolved))
                {
                    reader.error(
                        "sealed file \"\(path)\" is inside the configuration directory and would be read as configuration; name it *.sealed.yaml or move it out",
                        at: declaration.value)
                    continue
                }
                output.sealedPath = resolved
            case "recipients":
                recipientsNode = declaration
                guard let items = reader.list(declaration.value, "\"recipients\"", example: "[age1…]") else { continue }
                var seen: Set<AgeRecipient> = []
                for item in items {
                    guard let text = reader.string(item, "a recipient") else { continue }
                    do {
                        let recipient = try AgeRecipient.parse(text)
                        if seen.insert(recipient).inserted {
                            output.recipients.append(recipient)
                        } else {
                            reader.warning("recipient is listed twice", at: item)
                        }
                    } catch {
                        if Secret.namesPrivateKey(text) {
                            // A private key pasted by mistake: neither it nor its prefix is repeated.
                            reader.error(
                                "this recipient is a private key (an identity), not a public key; put its public key here (botform keygen -y KEY_FILE prints it), and treat the private key as exposed: it is in this file",
                                at: item)
                        } else {
                            reader.error("invalid recipient \"\(abbreviated(text))\": \(error)", at: item)
                        }
                    }
                }
            case "recipients_file":
                if let path = reader.nonEmptyString(declaration.value, "\"recipients_file\"") {
                    output.recipientsFile = resolvePath(path)
                }
            default:
                break
            }
        }
        if output.sealedPath == nil, let declaration = recipientsNode, !output.recipients.isEmpty {
            declaration.reader.warning(
                "recipients are set but output.sealed is not, so nothing will be sealed", at: declaration.key)
        }
        return output
    }

    private func abbreviated(_ text: String) -> String {
        return text.count > 120 ? String(text.prefix(117)) + "…" : text
    }

    private func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    private func isInside(_ path: String, directory: String) -> Bool {
        let parent = path.split(separator: "/").dropLast().joined(separator: "/")
        let normalizedDirectory = directory.split(separator: "/").joined(separator: "/")
        let absolute = path.hasPrefix("/")
        return (absolute ? "/" : "") + parent == (directory.hasPrefix("/") ? "/" : "") + normalizedDirectory
            || (parent.isEmpty && (normalizedDirectory.isEmpty || normalizedDirectory == "."))
    }
}
