/// A FOKS role as `foks bot new --role` takes it: `owner`, `admin` or `member/N` (N in -32768...32767).
///
/// FOKS's own parser (`RoleString.Parse`) rejects a bare `member` and has no `reader` role, although the
/// public documentation mentions both; Botform follows the code.
public enum FoksRole: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    case owner
    case admin
    case member(Int)

    public static let vizLevelRange = -32_768...32_767

    /// The canonical long form, as FOKS prints it lower-cased: `owner`, `admin`, `member/-1`.
    public var description: String {
        switch self {
        case .owner: "owner"
        case .admin: "admin"
        case .member(let level): "member/\(level)"
        }
    }

    /// In JSON (plan files), the canonical long form as a string: `"member/-5"`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try FoksRole.parse(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a FOKS role: \(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The argument to pass to `foks bot new --role`.
    public var argument: String {
        switch self {
        case .owner: "o"
        case .admin: "a"
        case .member(let level): "m/\(level)"
        }
    }

    /// Role order: owner > admin > member/n > member/m for n > m.
    public static func < (lhs: FoksRole, rhs: FoksRole) -> Bool {
        switch (lhs, rhs) {
        case (.member(let a), .member(let b)): a < b
        case (.member, _): rhs != lhs
        case (.admin, .owner): true
        default: false
        }
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notARole(String, hint: String)
        case levelOutOfRange(String)

        public var description: String {
            switch self {
            case .notARole(let text, let hint): "\"\(text)\" is not a FOKS role; \(hint)"
            case .levelOutOfRange(let text): "member level in \"\(text)\" is out of range (-32768 to 32767)"
            }
        }
    }

    /// Parses FOKS's grammar: `o|owner`, `a|admin`, `m/N|member/N`, case-insensitive, sign allowed.
    public static func parse(_ text: String) throws(ParseError) -> FoksRole {
        let value = text.lowercased()
        switch value {
        case "o", "owner": return .owner
        case "a", "admin": return .admin
        case "m", "member":
            throw .notARole(text, hint: "give a level: \"member/0\" (FOKS requires one)")
        case "reader", "read", "readonly", "read-only":
            throw .notARole(text, hint: "FOKS has no reader role; use a low member level such as \"member/-1\"")
        case "n", "none", "∅":
            throw .notARole(
                text, hint: "a bot with role none cannot be created; use \"member/N\", \"admin\" or \"owner\"")
        default:
            break
        }
        var rest: Substring
        if value.hasPrefix("member/") {
            rest = value.dropFirst("member/".count)
        } else if value.hasPrefix("m/") {
            rest = value.dropFirst(2)
        } else if value.hasPrefix("member(") || value.hasPrefix("m("), value.hasSuffix(")") {
            let inner = value.drop { $0 != "(" }.dropFirst().dropLast()
            throw .notARole(text, hint: "write \"member/\(inner)\" (FOKS's syntax is member/N)")
        } else {
            throw .notARole(text, hint: "roles are owner, admin and member/N (N from -32768 to 32767)")
        }
        let sign: Int
        if rest.hasPrefix("-") {
            sign = -1
            rest = rest.dropFirst()
        } else {
            sign = 1
            if rest.hasPrefix("+") { rest = rest.dropFirst() }
        }
        guard !rest.isEmpty, rest.allSatisfy({ ("0"..."9").contains($0) }) else {
            throw .notARole(text, hint: "the member level must be a whole number, e.g. \"member/0\"")
        }
        guard rest.count <= 6, let magnitude = Int(rest), vizLevelRange.contains(sign * magnitude) else {
            throw .levelOutOfRange(text)
        }
        return .member(sign * magnitude)
    }
}
