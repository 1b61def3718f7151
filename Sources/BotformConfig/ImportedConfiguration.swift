import BotformCore
import Foundation

/// The configuration `botform import` writes: every active bot a provider holds, declared with the
/// permissions it has, so that the next plan adopts each one and changes nothing. Permission sets that
/// several bots share become roles. Bots that cannot be declared (a name or an entity Botform's rules
/// refuse, a name the configuration already uses) are listed in comments and in `skipped`, never dropped
/// silently. Pure: the same observation always gives the same text.
public struct ImportedConfiguration: Sendable {
    /// A bot left out, and why.
    public struct Skipped: Sendable, Hashable {
        public var name: String
        public var id: String
        public var reason: String
    }

    public var provider: String
    /// The YAML text (version 1, `roles` and `bots`), ending in a newline.
    public var text: String
    public var bots: Int
    public var roles: Int
    public var skipped: [Skipped]
    /// Active bots already declared in the configuration (not written again).
    public var alreadyDeclared: Int

    /// Builds the declarations for `observed` (one provider's bots). `declaredBots` are the bot names the
    /// configuration declares (any provider: bot names are unique across a configuration), and
    /// `declaredRoles` the role names it declares, which generated roles avoid.
    public init(
        provider: String, observed: [ObservedBot], declaredBots: [String: String], declaredRoles: Set<String>,
        header: [String] = []
    ) {
        self.provider = provider
        var skipped: [Skipped] = []
        var alreadyDeclared = 0
        var chosen: [ObservedBot] = []
        var names: Set<String> = []
        for bot in observed.filter(\.isActive).sorted(by: { ($0.name, $0.id) < ($1.name, $1.id) }) {
            if let owner = declaredBots[bot.name] {
                if owner == provider {
                    alreadyDeclared += 1
                } else {
                    skipped.append(
                        Skipped(
                            name: bot.name, id: bot.id,
                            reason:
                                "the configuration already declares a bot of this name for provider \"\(owner)\" (bot names are unique across a configuration)"
                        ))
                }
                continue
            }
            if let problem = Name.problem(withBotName: bot.name) {
                skipped.append(
                    Skipped(name: bot.name, id: bot.id, reason: "not a valid Botform bot name: it \(problem)"))
                continue
            }
            if let entity = bot.permissions?.entityNames.first(where: { Name.problem(withEntityName: $0) != nil }),
                let problem = Name.problem(withEntityName: entity)
            {
                skipped.append(
                    Skipped(name: bot.name, id: bot.id, reason: "entity \"\(entity)\" cannot be declared: \(problem)"))
                continue
            }
            guard names.insert(bot.name).inserted else {
                skipped.append(
                    Skipped(name: bot.name, id: bot.id, reason: "another active bot of the service has the same name"))
                continue
            }
            chosen.append(bot)
        }
        let roleOf = Self.roles(for: chosen, avoiding: declaredRoles.union(declaredBots.keys))
        self.bots = chosen.count
        self.roles = roleOf.roles.count
        self.skipped = skipped
        self.alreadyDeclared = alreadyDeclared
        text = Self.render(
            provider: provider, bots: chosen, roles: roleOf, skipped: skipped, alreadyDeclared: alreadyDeclared,
            header: header)
    }

    // MARK: Roles

    struct Roles {
        /// Role name → its permissions and how many bots hold it, in the order written.
        var roles: [(name: String, permissions: Permissions, holders: Int)] = []
        /// Canonical permissions → role name.
        var byPermissions: [String: String] = [:]
    }

    /// One role per non-empty permission set that two or more bots hold exactly; the most shared first.
    static func roles(for bots: [ObservedBot], avoiding taken: Set<String>) -> Roles {
        let groups = Dictionary(grouping: bots.compactMap(\.permissions).filter { !$0.isEmpty }, by: \.canonical)
            .filter { $0.value.count >= 2 }
            .sorted { ($1.value.count, $0.key) < ($0.value.count, $1.key) }
        var result = Roles()
        var used = taken
        for (index, group) in groups.enumerated() {
            let permissions = group.value[0]
            var name = descriptiveName(permissions) ?? "shared-role-\(index + 1)"
            if used.contains(name) {
                let base = String(name.prefix(44))
                var suffix = 2
                while used.contains("\(base)-\(suffix)") { suffix += 1 }
                name = "\(base)-\(suffix)"
            }
            used.insert(name)
            result.roles.append((name, permissions, group.value.count))
            result.byPermissions[group.key] = name
        }
        return result
    }

    /// `products-read-orders-read-update`: the grant spelled out, when that makes a valid name of at most
    /// 50 characters.
    static func descriptiveName(_ permissions: Permissions) -> String? {
        let parts = permissions.entityNames.map { entity -> String in
            let actions = permissions.actions(for: entity)
            let words = actions == .all ? "all" : actions.sorted.map(\.rawValue).joined(separator: "-")
            return entity.lowercased().replacingOccurrences(of: "_", with: "-") + "-" + words
        }
        let name = parts.joined(separator: "-")
        guard Name.problem(withBotName: name) == nil, !name.contains("--") else { return nil }
        return name
    }

    // MARK: YAML

    static func render(
        provider: String, bots: [ObservedBot], roles: Roles, skipped: [Skipped], alreadyDeclared: Int,
        header: [String]
    ) -> String {
        var out = header.map { "# \($0)" }
        out.append("version: 1")
        if !roles.roles.isEmpty {
            out.append("roles:")
            for role in roles.roles {
                out.append("  \(key(role.name)):")
                out.append("    description: permissions shared by \(role.holders) bots imported from \(provider)")
                out.append("    permissions:")
                out += permissionLines(role.permissions, indent: 6)
            }
        }
        if !skipped.isEmpty {
            out.append("")
            out.append("# Not declared (\(skipped.count)): these bots stay unmanaged and show as drift;")
            out.append("# rename them on the service, or accept them with an ignore entry (bot and reason).")
            for entry in skipped {
                out.append("#   \(commentSafe(entry.name)) (id \(commentSafe(entry.id))): \(commentSafe(entry.reason))")
            }
        }
        if alreadyDeclared > 0 {
            out.append("# \(alreadyDeclared) active bots of \(provider) are already declared in the configuration.")
        }
        out.append(bots.isEmpty ? "bots: {}" : "bots:")
        for bot in bots {
            out.append("  \(key(bot.name)):")
            out.append("    provider: \(provider)")
            let permissions = bot.permissions ?? Permissions()
            if let role = roles.byPermissions[permissions.canonical] {
                out.append("    roles: [\(key(role))]")
            } else if permissions.isEmpty {
                out.append("    permissions: {}")
            } else {
                out.append("    permissions:")
                out += permissionLines(permissions, indent: 6)
            }
        }
        return out.joined(separator: "\n") + "\n"
    }

    private static func permissionLines(_ permissions: Permissions, indent: Int) -> [String] {
        let pad = String(repeating: " ", count: indent)
        return permissions.entityNames.map { entity in
            "\(pad)\(key(entity)): [" + permissions.actions(for: entity).sorted.map(\.rawValue).joined(separator: ", ")
                + "]"
        }
    }

    /// A mapping key, quoted when YAML would read it as something other than a string (`123`, `true`,
    /// `null`, `-x`).
    static func key(_ text: String) -> String {
        let reserved: Set<String> = ["true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"]
        let first = text.unicodeScalars.first
        let needsQuotes =
            text.isEmpty || reserved.contains(text.lowercased())
            || first.map { "0123456789-+.".unicodeScalars.contains($0) } ?? true
        return needsQuotes ? "\"\(text)\"" : text
    }

    /// A service's text inside a comment: one line, printable.
    private static func commentSafe(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }.prefix(200))
    }
}
