import BotformCore
import BotformYAML
import Foundation

/// Typed reads of YAML nodes for one file, each failure a located diagnostic.
final class ConfigReader {
    let file: String
    var diagnostics = Diagnostics()

    init(file: String) {
        self.file = file
    }

    func location(_ node: YAMLNode) -> SourceLocation { node.location(in: file) }

    func error(_ message: String, at node: YAMLNode) { diagnostics.error(message, at: location(node)) }

    func warning(_ message: String, at node: YAMLNode) { diagnostics.warning(message, at: location(node)) }

    /// A wrong-type error, located by `YAMLNode.typeLocation`.
    func typeError(_ message: String, at node: YAMLNode) { diagnostics.error(message, at: node.typeLocation(in: file)) }

    /// The pairs of a mapping (null counts as empty), or nil after reporting a type error.
    func mapping(_ node: YAMLNode, _ what: @autoclosure () -> String) -> [YAMLNode.Pair]? {
        switch node.content {
        case .mapping(let pairs): return pairs
        case _ where node.isNull: return []
        default:
            typeError("expected a mapping for \(what()), found \(node.kindDescription)", at: node)
            return nil
        }
    }

    /// The items of a list (null counts as empty), or nil after reporting a type error.
    func list(_ node: YAMLNode, _ what: @autoclosure () -> String, example: String) -> [YAMLNode]? {
        switch node.content {
        case .sequence(let items): return items
        case _ where node.isNull: return []
        default:
            typeError("expected a list for \(what()) (e.g. \(example)), found \(node.kindDescription)", at: node)
            return nil
        }
    }

    /// The known fields of an object: reports unknown keys (with a suggestion), keys that belong to
    /// another provider type, and missing required keys (at `owner`, the key that names the object).
    func fields(
        _ node: YAMLNode, _ object: SchemaObject, what: @autoclosure () -> String, kind: ProviderKind? = nil,
        owner: YAMLNode? = nil
    ) -> Fields? {
        guard let pairs = mapping(node, what()) else { return nil }
        var known: [String: YAMLNode.Pair] = [:]
        var suggested: Set<String> = []
        for pair in pairs {
            guard case .scalar(let key, _) = pair.key.content else { continue }
            if let field = object.field(key) {
                if let kind, !field.applies(to: kind) {
                    let owners = ProviderKind.allCases.filter { field.applies(to: $0) }.map(\.rawValue)
                    let noun = object.title == "credentials" ? "provider credentials" : "\(object.title)s"
                    var message =
                        "key \"\(key)\" does not apply to \(kind.rawValue) \(noun); it is for \(owners.joined(separator: " and ")) only"
                    if object.title == "bot", key == "role" { message += "; did you mean \"roles\"?" }
                    if object.title == "bot", key == "roles", kind == .foks {
                        message = "foks bots take a single \"role\" (owner, admin or member/N), not \"roles\""
                    }
                    error(message, at: pair.key)
                    continue
                }
                known[key] = pair
            } else {
                // Only an unknown key needs the applicable keys, for its hint: a 10,000-bot file has none.
                let applicable = object.keys(for: kind)
                error(
                    "unknown key \"\(key)\" in \(what())\(unknownKeyHint(key, object: object, applicable: applicable))",
                    at: pair.key)
                if let suggestion = Suggestion.closest(to: key, in: applicable) { suggested.insert(suggestion) }
            }
        }
        for field in object.fields
        where kind.map(field.requiredFor.contains) ?? (field.requiredFor == Set(ProviderKind.allCases)) {
            // A misspelled required key was reported as unknown with its fix; "missing" would repeat it.
            if known[field.key] == nil, !suggested.contains(field.key),
                !pairs.contains(where: { $0.key.scalarText == field.key })
            {
                error("\(what()) is missing required key \"\(field.key)\"", at: owner ?? node)
            }
        }
        return Fields(known: known, suggested: suggested, written: pairs.count)
    }

    private func unknownKeyHint(_ key: String, object: SchemaObject, applicable: [String]) -> String {
        let secretWords = ["token", "password", "secret", "api_key", "apikey", "key", "email", "jwt"]
        if object.title == "credentials", secretWords.contains(key.lowercased()) {
            let base = key.lowercased() == "email" ? "email" : key.lowercased() == "password" ? "password" : "token"
            return
                "; secrets never appear in configuration: name an environment variable (\(base)_env) or a file (\(base)_file)"
        }
        if object.title == "provider", secretWords.contains(key.lowercased()) {
            return "; secrets never appear in configuration: add \"credentials\" with token_env or token_file"
        }
        return Suggestion.didYouMean(key, in: applicable)
    }

    /// A string scalar. Numbers and booleans are refused with the fix (quote them).
    func string(_ node: YAMLNode, _ what: @autoclosure () -> String) -> String? {
        switch node.scalarValue {
        case .string(let text)?:
            return text
        case .integer?, .float?, .bool?:
            guard case .scalar(let text, _) = node.content else { return nil }
            typeError("expected a string for \(what()), found \(node.kindDescription); quote it: \"\(text)\"", at: node)
            return nil
        default:
            typeError("expected a string for \(what()), found \(node.kindDescription)", at: node)
            return nil
        }
    }

    /// A string that is not empty or blank.
    func nonEmptyString(_ node: YAMLNode, _ what: @autoclosure () -> String) -> String? {
        guard let text = string(node, what()) else { return nil }
        // Blank is what `trimmingCharacters(in: .whitespaces)` empties, asked per scalar of the same set
        // without Foundation's string bridging: this runs for every name in the file.
        guard !text.unicodeScalars.allSatisfy({ CharacterSet.whitespaces.contains($0) }) else {
            typeError("\(what()) must not be empty", at: node)
            return nil
        }
        return text
    }

    func bool(_ node: YAMLNode, _ what: @autoclosure () -> String) -> Bool? {
        if case .bool(let value)? = node.scalarValue { return value }
        typeError("expected true or false for \(what()), found \(node.kindDescription)", at: node)
        return nil
    }

    func integer(_ node: YAMLNode, _ what: @autoclosure () -> String, minimum: Int) -> Int? {
        guard case .integer(let value)? = node.scalarValue else {
            typeError("expected a whole number for \(what()), found \(node.kindDescription)", at: node)
            return nil
        }
        guard value >= minimum else {
            error("\(what()) must be at least \(minimum), found \(value)", at: node)
            return nil
        }
        return value
    }

    func duration(_ node: YAMLNode, _ what: @autoclosure () -> String) -> BotformDuration? {
        switch node.scalarValue {
        case .string(let text)?:
            do {
                return try BotformDuration.parse(text)
            } catch {
                self.error("invalid duration \"\(text)\" for \(what()): \(error)", at: node)
                return nil
            }
        case .integer(let value)?:
            error(
                "expected a duration for \(what()) such as \"\(value)d\"; a bare number has no unit (s, m, h, d, w, mo)",
                at: node)
            return nil
        default:
            typeError("expected a duration for \(what()) such as \"90d\", found \(node.kindDescription)", at: node)
            return nil
        }
    }

    /// One of `allowed`, with a suggestion when the value is close to one.
    func choice(_ node: YAMLNode, _ what: @autoclosure () -> String, allowed: [String]) -> String? {
        guard let text = string(node, what()) else { return nil }
        guard allowed.contains(text) else {
            let hint = Suggestion.didYouMean(text, in: allowed)
            let list = allowed.map { "\"\($0)\"" }.joined(separator: ", ")
            error("invalid \(what()) \"\(text)\"\(hint.isEmpty ? "; expected one of \(list)" : hint)", at: node)
            return nil
        }
        return text
    }

    /// The name of an environment variable (not its value).
    func environmentVariableName(_ node: YAMLNode, _ what: @autoclosure () -> String) -> String? {
        guard let text = nonEmptyString(node, what()) else { return nil }
        let valid = SchemaPattern.isEnvironmentVariable(text)
        guard valid else {
            if text.count > 40 || text.hasPrefix("eyJ") || text.contains(".") || text.contains("@") {
                error(
                    "\(what()) names an environment variable, not the value itself; put the secret in the environment and name the variable here",
                    at: node)
            } else {
                error(
                    "\"\(text)\" is not a valid environment variable name for \(what()) (letters, digits and _, not starting with a digit)",
                    at: node)
            }
            return nil
        }
        return text
    }

    /// A list of distinct names, each checked by `problem`; duplicates warn.
    func nameList(_ node: YAMLNode, _ what: @autoclosure () -> String, example: String) -> [(
        name: String, node: YAMLNode
    )]? {
        guard let items = list(node, what(), example: example) else { return nil }
        var seen: Set<String> = []
        var result: [(String, YAMLNode)] = []
        for item in items {
            guard let name = nonEmptyString(item, "an entry of \(what())") else { continue }
            if !seen.insert(name).inserted {
                warning("\"\(name)\" is listed twice in \(what())", at: item)
                continue
            }
            result.append((name, item))
        }
        return result
    }
}

/// The recognised keys of a mapping, and what was learned about the others.
struct Fields {
    var known: [String: YAMLNode.Pair]
    /// Keys suggested as fixes for unknown keys; a "missing" error for them would repeat the fix.
    var suggested: Set<String>
    /// How many keys were written, known or not.
    var written: Int

    subscript(key: String) -> YAMLNode.Pair? { known[key] }

    var values: Dictionary<String, YAMLNode.Pair>.Values { known.values }

    /// True when every written key was recognised.
    var allKnown: Bool { known.count == written }
}
