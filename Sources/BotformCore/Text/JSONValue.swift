/// A JSON value that keeps object keys in the order they were written, for documents people read
/// (the JSON Schema, plans) where a designed order beats an alphabetical one.
public indirect enum JSONValue: Sendable, Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case integer(Int64)
    case double(Double)
    case bool(Bool)
    case null

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.array(let a), .array(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.double(let a), .double(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        default: false
        }
    }

    /// Serialises with two-space indentation (or compactly), always ending without a newline.
    public func serialized(pretty: Bool = true) -> String {
        var output = ""
        write(to: &output, indent: pretty ? 0 : nil)
        return output
    }

    private func write(to output: inout String, indent: Int?) {
        switch self {
        case .object(let members):
            guard !members.isEmpty else {
                output += "{}"
                return
            }
            output += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { output += "," }
                newline(&output, indent.map { $0 + 2 })
                JSONValue.writeString(key, to: &output)
                output += indent == nil ? ":" : ": "
                value.write(to: &output, indent: indent.map { $0 + 2 })
            }
            newline(&output, indent)
            output += "}"
        case .array(let items):
            guard !items.isEmpty else {
                output += "[]"
                return
            }
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += "," }
                newline(&output, indent.map { $0 + 2 })
                item.write(to: &output, indent: indent.map { $0 + 2 })
            }
            newline(&output, indent)
            output += "]"
        case .string(let text):
            JSONValue.writeString(text, to: &output)
        case .integer(let value):
            output += String(value)
        case .double(let value):
            output += value.isFinite ? String(value) : "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .null:
            output += "null"
        }
    }

    private func newline(_ output: inout String, _ indent: Int?) {
        guard let indent else { return }
        output += "\n" + String(repeating: " ", count: indent)
    }

    private static func writeString(_ text: String, to output: inout String) {
        output += "\""
        // The common case, a string with nothing to escape, is appended whole without copying its bytes.
        guard needsEscaping(text) else {
            output += text
            output += "\""
            return
        }
        // Most strings need no escaping: append them whole. Otherwise append the runs between escapes.
        let bytes = Array(text.utf8)
        var runStart = 0
        var index = 0
        func flush(upTo end: Int) {
            if runStart < end { output += String(decoding: bytes[runStart..<end], as: UTF8.self) }
        }
        while index < bytes.count {
            let byte = bytes[index]
            var escape: String?
            var width = 1
            switch byte {
            case 0x22: escape = "\\\""
            case 0x5C: escape = "\\\\"
            case 0x0A: escape = "\\n"
            case 0x0D: escape = "\\r"
            case 0x09: escape = "\\t"
            case 0x00..<0x20, 0x7F: escape = unicodeEscape(UInt32(byte))
            case 0xC2 where index + 1 < bytes.count && (0x80...0x9F).contains(bytes[index + 1]):
                escape = unicodeEscape(UInt32(bytes[index + 1]))
                width = 2
            case 0xE2
            where index + 2 < bytes.count && bytes[index + 1] == 0x80
                && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9):
                escape = unicodeEscape(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029)
                width = 3
            default: break
            }
            if let escape {
                flush(upTo: index)
                output += escape
                runStart = index + width
            }
            index += width
        }
        flush(upTo: bytes.count)
        output += "\""
    }

    /// Whether any byte of `text` starts something `writeString` escapes: a control character, a quote,
    /// a backslash, DEL, or the lead byte of a C1 control (0xC2) or of U+2028/U+2029 (0xE2). A lead byte
    /// only asks for the careful path, which then decides.
    private static func needsEscaping(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            bytes.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F || $0 == 0xC2 || $0 == 0xE2 }
        }
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    }
}
