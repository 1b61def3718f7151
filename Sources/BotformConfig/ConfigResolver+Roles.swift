import BotformCore
import BotformYAML

/// A role as read, before includes are resolved.
struct RoleDraft {
    var name: String
    var declaration: Declaration
    var includes: [(name: String, node: YAMLNode)]
    var permissions: Permissions
}

extension ConfigResolver {
    func readRole(_ declaration: Declaration) -> RoleDraft? {
        let reader = declaration.reader
        let what = "role \"\(declaration.name)\""
        if let problem = Name.problem(withBotName: declaration.name) {
            reader.error("invalid role name \"\(declaration.name)\": \(problem)", at: declaration.key)
        }
        guard let fields = reader.fields(declaration.value, .role, what: what, owner: declaration.key) else {
            return nil
        }
        if let pair = fields["description"] { _ = reader.string(pair.value, "\"description\"") }
        var includes: [(String, YAMLNode)] = []
        if let pair = fields["include"] {
            includes = reader.nameList(pair.value, "\"include\" of \(what)", example: "[catalog-reader]") ?? []
        }
        let permissions = fields["permissions"].map { readPermissions($0.value, reader: reader, what: what) }
        return RoleDraft(
            name: declaration.name, declaration: declaration, includes: includes,
            permissions: permissions ?? Permissions())
    }

    /// Entity permissions: a mapping of entity name to a list of CRUD actions. Invalid entries are
    /// reported and left out, so the rest can still be checked.
    func readPermissions(_ node: YAMLNode, reader: ConfigReader, what: String) -> Permissions {
        guard let pairs = reader.mapping(node, "\"permissions\" of \(what)") else { return Permissions() }
        var permissions = Permissions()
        let actionNames = Action.allCases.map(\.rawValue)
        for pair in pairs {
            guard let entity = pair.key.scalarText else { continue }
            if let problem = Name.problem(withEntityName: entity) {
                reader.error("invalid entity \"\(entity)\" in \(what): \(problem)", at: pair.key)
                continue
            }
            if case .scalar(let text, _) = pair.value.content, !pair.value.isNull {
                let hint = Action(rawValue: text) != nil ? " (write [\(text)])" : ""
                reader.error(
                    "expected a list of actions for entity \"\(entity)\" (e.g. [read, update]), found \(pair.value.kindDescription)\(hint)",
                    at: pair.value)
                continue
            }
            guard let items = reader.list(pair.value, "entity \"\(entity)\"", example: "[read, update]") else {
                continue
            }
            if items.isEmpty {
                reader.warning("entity \"\(entity)\" in \(what) lists no actions, so it grants nothing", at: pair.key)
                continue
            }
            var actions: ActionSet = []
            for item in items {
                guard let text = reader.string(item, "an action of entity \"\(entity)\"") else { continue }
                guard let action = Action(rawValue: text) else {
                    var hint = Suggestion.didYouMean(text, in: actionNames)
                    if ["*", "all", "crud", "write", "admin"].contains(text.lowercased()) {
                        hint = "; list the actions explicitly (create, read, update, delete)"
                    } else if hint.isEmpty {
                        hint = "; the actions are create, read, update and delete"
                    }
                    reader.error("invalid action \"\(text)\" for entity \"\(entity)\"\(hint)", at: item)
                    continue
                }
                if actions.contains(action) {
                    reader.warning("action \"\(text)\" is listed twice for entity \"\(entity)\"", at: item)
                }
                actions.insert(ActionSet([action]))
            }
            permissions.grant(actions, on: entity)
        }
        return permissions
    }

    /// Reports includes of roles that do not exist.
    mutating func checkRoleReferences(_ roles: [String: RoleDraft], known: Set<String>) {
        for role in roles.values {
            for include in role.includes where !known.contains(include.name) {
                let hint = Suggestion.didYouMean(include.name, in: known.sorted())
                role.declaration.reader.error(
                    "unknown role \"\(include.name)\" in \"include\" of role \"\(role.name)\"\(hint)", at: include.node)
            }
        }
    }

    /// Effective permissions of every role (own plus included, transitively). Each include cycle is
    /// reported once, at the include that closes it, as `a -> b -> a`.
    mutating func resolveIncludes(_ roles: [String: RoleDraft], order: [String]) -> [String: Permissions] {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var effective: [String: Permissions] = [:]
        var reportedCycles: Set<[String]> = []
        var path: [String] = []

        func visit(_ name: String, _ resolver: inout ConfigResolver) -> Permissions {
            if marks[name] == .done { return effective[name] ?? Permissions() }
            guard let role = roles[name] else { return Permissions() }
            marks[name] = .visiting
            path.append(name)
            var permissions = role.permissions
            for include in role.includes where roles[include.name] != nil {
                if marks[include.name] == .visiting {
                    let start = path.lastIndex(of: include.name) ?? 0
                    let cycle = Array(path[start...])
                    let canonical = cycle.sorted()
                    if reportedCycles.insert(canonical).inserted {
                        let text = (cycle + [include.name]).joined(separator: " -> ")
                        role.declaration.reader.error("include cycle: \(text)", at: include.node)
                    }
                    continue
                }
                permissions = permissions.union(visit(include.name, &resolver))
            }
            path.removeLast()
            marks[name] = .done
            effective[name] = permissions
            return permissions
        }
        for name in order where roles[name] != nil { _ = visit(name, &self) }
        return effective
    }

    /// Warns about roles that no bot uses, directly or through another role.
    mutating func warnUnusedRoles(_ roles: [String: RoleDraft], order: [String], used: Set<String>) {
        var reachable: Set<String> = []
        var queue = Array(used)
        while let name = queue.popLast() {
            guard reachable.insert(name).inserted, let role = roles[name] else { continue }
            queue.append(contentsOf: role.includes.map(\.name))
        }
        for name in order where !reachable.contains(name) {
            guard let role = roles[name] else { continue }
            role.declaration.reader.warning("role \"\(name)\" is not used by any bot", at: role.declaration.key)
        }
    }
}
