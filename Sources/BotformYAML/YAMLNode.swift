import BotformCore

/// A YAML node with the position it was written at. Aliases share their anchor's storage, so a tree
/// is cheap to build even when aliases repeat large subtrees; the composer bounds how much they expand.
public struct YAMLNode: Sendable {
    public enum ScalarStyle: Sendable {
        case plain
        case quoted
        case block
    }

    public struct Pair: Sendable {
        public var key: YAMLNode
        public var value: YAMLNode
    }

    public enum Content: Sendable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([Pair])
    }

    public var content: Content
    /// 1-based line of the node's first character.
    public var line: Int
    /// 1-based column of the node's first character.
    public var column: Int
    /// For a mapping value, where its key is (1-based line and column).
    public var keyPosition: (line: Int, column: Int)?

    public func location(in file: String) -> SourceLocation {
        SourceLocation(file: file, line: line, column: column)
    }

    /// Where a problem with the value's type is reported: the value when it starts on its key's line,
    /// otherwise the key, because a block value or an empty one starts on a later line than its mistake.
    public func typeLocation(in file: String) -> SourceLocation {
        if let key = keyPosition, key.line != line {
            return SourceLocation(file: file, line: key.line, column: key.column)
        }
        return location(in: file)
    }
}

/// What a scalar means under YAML 1.2's core schema, resolved by Botform rather than the YAML library
/// so that `yes` stays a string and a quoted `"1"` is never a number.
public enum ScalarValue: Equatable {
    case null
    case bool(Bool)
    case integer(Int)
    case float(Double)
    case string(String)

    public init(_ text: String, style: YAMLNode.ScalarStyle) {
        guard style == .plain else {
            self = .string(text)
            return
        }
        switch text {
        case "", "~", "null", "Null", "NULL":
            self = .null
        case "true", "True", "TRUE":
            self = .bool(true)
        case "false", "False", "FALSE":
            self = .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
            self = .float(.infinity)
        case "-.inf", "-.Inf", "-.INF":
            self = .float(-.infinity)
        case ".nan", ".NaN", ".NAN":
            self = .float(.nan)
        default:
            if let integer = ScalarValue.integer(text) {
                self = .integer(integer)
            } else if ScalarValue.looksLikeFloat(text), let value = Double(text) {
                self = .float(value)
            } else {
                self = .string(text)
            }
        }
    }

    private static func integer(_ text: String) -> Int? {
        var body = Substring(text)
        var negative = false
        if let sign = body.first, sign == "-" || sign == "+" {
            negative = sign == "-"
            body = body.dropFirst()
        }
        guard !body.isEmpty else { return nil }
        if body.hasPrefix("0x") {
            return Int(body.dropFirst(2), radix: 16).map { negative ? -$0 : $0 }
        }
        if body.hasPrefix("0o") {
            return Int(body.dropFirst(2), radix: 8).map { negative ? -$0 : $0 }
        }
        guard body.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
        // A number too large for Int is still a number, not a string: saturate.
        guard let value = Int(body) else { return negative ? Int.min : Int.max }
        return negative ? -value : value
    }

    /// Digits, signs, points and exponents only, with a digit. On UTF-8 bytes: this runs for every scalar
    /// of a configuration (20,000 in a 10,000-bot file), and a set of characters per call cost a tenth
    /// of reading one.
    private static func looksLikeFloat(_ text: String) -> Bool {
        var digit = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = true
            case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): break
            default: return false
            }
        }
        return digit
    }

    /// How the value is named in a "found …" message.
    public var kindDescription: String {
        switch self {
        case .null: "nothing (null)"
        case .bool(let value): "the boolean \(value)"
        case .integer(let value): "the number \(value)"
        case .float(let value): "the number \(value)"
        case .string(let value): "the string \"\(value)\""
        }
    }
}

extension YAMLNode {
    public var scalarValue: ScalarValue? {
        if case .scalar(let text, let style) = content { return ScalarValue(text, style: style) }
        return nil
    }

    /// "a mapping", "a list", or the scalar's description, for type errors.
    public var kindDescription: String {
        switch content {
        case .scalar(let text, let style): ScalarValue(text, style: style).kindDescription
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    public var isNull: Bool { scalarValue == .null }
}

extension YAMLNode {
    /// The text of a scalar node, or nil for a collection.
    public var scalarText: String? {
        if case .scalar(let text, _) = content { return text }
        return nil
    }
}
