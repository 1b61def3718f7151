import BotformCore
import CYaml

/// Builds located `YAMLNode` trees from libyaml's event stream.
///
/// Botform composes nodes itself rather than through Yams' composer for three reasons: a duplicate key
/// must be a located error that does not stop the other checks; aliases must be counted before anything
/// expands them (an alias bomb composes in microseconds and then explodes when walked or hashed); and
/// scalar typing must follow YAML 1.2, not YAML 1.1's `yes`/`no`.
public enum YAMLComposer {
    /// Files larger than this are refused before parsing.
    public static let maximumFileSize = 64 << 20
    /// The most nodes that aliases may add to one document, summed over every alias use.
    public static let maximumAliasExpansion = 100_000

    /// Composes the single document in `bytes`. Returns nil for an empty document or a fatal error
    /// (reported in `diagnostics`).
    public static func compose(_ bytes: [UInt8], file: String, diagnostics: inout Diagnostics) -> YAMLNode? {
        if bytes.count > maximumFileSize {
            diagnostics.error(
                "file is \(bytes.count >> 20) MiB; configuration files are limited to \(maximumFileSize >> 20) MiB",
                at: .start(of: file))
            return nil
        }
        if let problem = utf8Problem(in: bytes) {
            diagnostics.error(
                problem.message, at: SourceLocation(file: file, line: problem.line, column: problem.column))
            return nil
        }
        var composer = EventComposer(file: file)
        let root = bytes.withUnsafeBufferPointer { buffer in composer.run(buffer) }
        diagnostics.append(contentsOf: composer.diagnostics)
        return root
    }

    /// The first invalid UTF-8 sequence or disallowed control character, located.
    static func utf8Problem(in bytes: [UInt8]) -> (message: String, line: Int, column: Int)? {
        // Most files (every sealed file Botform writes) are plain ASCII: one pass without locating anything.
        let plain = bytes.withUnsafeBufferPointer { buffer in
            buffer.allSatisfy { byte in byte >= 0x20 && byte < 0x7F || byte == 0x0A || byte == 0x09 || byte == 0x0D }
        }
        if plain { return nil }
        var line = 1
        var column = 1
        var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            return ("file is UTF-16; save it as UTF-8", 1, 1)
        }
        while index < bytes.count {
            let byte = bytes[index]
            let length: Int
            switch byte {
            case 0x00..<0x80: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return (invalidUTF8(byte), line, column)
            }
            if length == 1 {
                if byte == 0x0A {
                    line += 1
                    column = 1
                    index += 1
                    continue
                }
                if byte < 0x20 && byte != 0x09 && byte != 0x0D || byte == 0x7F {
                    return (
                        "file contains a control character (byte 0x\(hex(byte))); is it a binary file?", line, column
                    )
                }
            } else {
                guard index + length <= bytes.count,
                    bytes[(index + 1)..<(index + length)].allSatisfy({ $0 & 0xC0 == 0x80 })
                else { return (invalidUTF8(byte), line, column) }
                let second = bytes[index + 1]
                if (byte == 0xE0 && second < 0xA0) || (byte == 0xED && second > 0x9F)
                    || (byte == 0xF0 && second < 0x90) || (byte == 0xF4 && second > 0x8F)
                {
                    return (invalidUTF8(byte), line, column)
                }
            }
            index += length
            column += 1
        }
        return nil
    }

    private static func invalidUTF8(_ byte: UInt8) -> String {
        "file is not valid UTF-8 (byte 0x\(hex(byte))); save it as UTF-8"
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }
}

/// The event loop over libyaml, with an explicit stack so that nesting depth costs no recursion.
private struct EventComposer {
    let file: String
    var diagnostics = Diagnostics()
    private var anchors: [String: (node: YAMLNode, weight: Int)] = [:]
    private var aliasExpansion = 0

    private struct Frame {
        var isMapping: Bool
        public var line: Int
        public var column: Int
        var anchor: String?
        var items: [YAMLNode] = []
        var pairs: [YAMLNode.Pair] = []
        var pendingKey: YAMLNode?
        /// Keys seen so far: a list while the mapping is small (the common case), then also a dictionary.
        var keyList: [Key] = []
        var keyIndex: [String: Key] = [:]
        var weight = 1
        var skipNextValue = false

        struct Key {
            var text: String
            var line: Int
            var column: Int
        }

        func firstKey(_ text: String) -> Key? {
            if keyList.count <= 16 { return keyList.first { $0.text == text } }
            return keyIndex[text]
        }

        mutating func addKey(_ text: String, _ node: YAMLNode) {
            let key = Key(text: text, line: node.line, column: node.column)
            keyList.append(key)
            if keyList.count == 17 {
                keyIndex.reserveCapacity(32)
                for key in keyList { keyIndex[key.text] = keyIndex[key.text] ?? key }
            } else if keyList.count > 17 {
                keyIndex[text] = key
            }
        }
    }

    init(file: String) {
        self.file = file
    }

    mutating func run(_ buffer: UnsafeBufferPointer<UInt8>) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            diagnostics.error("out of memory while reading YAML", at: .start(of: file))
            return nil
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)

        var stack: [Frame] = []
        var root: YAMLNode?
        var documents = 0
        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                reportParserError(parser, input: buffer)
                return nil
            }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            let column = Int(event.start_mark.column) + 1
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents == 2 {
                    diagnostics.error(
                        "a configuration file holds one YAML document; found a second one here (split it into another file)",
                        at: SourceLocation(file: file, line: line, column: column))
                }
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = String(
                    decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
                let style: YAMLNode.ScalarStyle
                switch scalar.style {
                case YAML_SINGLE_QUOTED_SCALAR_STYLE, YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .quoted
                case YAML_LITERAL_SCALAR_STYLE, YAML_FOLDED_SCALAR_STYLE: style = .block
                default:
                    // An explicit `!!str` tag makes a plain scalar a string.
                    style = scalar.tag.map { String(cString: $0) } == "tag:yaml.org,2002:str" ? .quoted : .plain
                }
                let node = YAMLNode(content: .scalar(text, style), line: line, column: column)
                if let anchor = scalar.anchor.map({ String(cString: $0) }) { anchors[anchor] = (node, 1) }
                if documents == 1 { add(node, weight: 1, to: &stack, root: &root) }
            case YAML_ALIAS_EVENT:
                let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
                guard let target = anchors[name] else {
                    diagnostics.error(
                        "alias \"*\(name)\" names no anchor defined before it",
                        at: SourceLocation(file: file, line: line, column: column))
                    return nil
                }
                aliasExpansion = aliasExpansion &+ target.weight
                if target.weight > YAMLComposer.maximumAliasExpansion
                    || aliasExpansion > YAMLComposer.maximumAliasExpansion
                {
                    diagnostics.error(
                        "alias \"*\(name)\" makes the document expand to more than \(YAMLComposer.maximumAliasExpansion) nodes; refusing it (this is how a YAML alias bomb works); write the content out or use roles to share permissions",
                        at: SourceLocation(file: file, line: line, column: column))
                    return nil
                }
                if documents == 1 {
                    var node = target.node
                    node.line = line
                    node.column = column
                    add(node, weight: target.weight, to: &stack, root: &root)
                }
            case YAML_SEQUENCE_START_EVENT:
                let anchor = event.data.sequence_start.anchor.map { String(cString: $0) }
                stack.append(Frame(isMapping: false, line: line, column: column, anchor: anchor))
            case YAML_MAPPING_START_EVENT:
                let anchor = event.data.mapping_start.anchor.map { String(cString: $0) }
                stack.append(Frame(isMapping: true, line: line, column: column, anchor: anchor))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { continue }
                let content: YAMLNode.Content = frame.isMapping ? .mapping(frame.pairs) : .sequence(frame.items)
                let node = YAMLNode(content: content, line: frame.line, column: frame.column)
                if let anchor = frame.anchor { anchors[anchor] = (node, frame.weight) }
                if documents == 1 { add(node, weight: frame.weight, to: &stack, root: &root) }
            default:
                continue
            }
        }
    }

    private mutating func add(_ node: YAMLNode, weight: Int, to stack: inout [Frame], root: inout YAMLNode?) {
        guard var frame = stack.popLast() else {
            root = node
            return
        }
        frame.weight = min(frame.weight &+ weight, Int.max / 4)
        if !frame.isMapping {
            frame.items.append(node)
        } else if let key = frame.pendingKey {
            frame.pendingKey = nil
            if frame.skipNextValue {
                frame.skipNextValue = false
            } else {
                var value = node
                value.keyPosition = (key.line, key.column)
                frame.pairs.append(YAMLNode.Pair(key: key, value: value))
            }
        } else {
            frame.pendingKey = node
            if case .scalar(let text, _) = node.content {
                if let first = frame.firstKey(text) {
                    diagnostics.error(
                        "duplicate key \"\(text)\" (first defined at line \(first.line), column \(first.column))",
                        at: node.location(in: file))
                    frame.skipNextValue = true
                } else {
                    frame.addKey(text, node)
                }
            } else {
                diagnostics.error(
                    "a mapping key must be a plain string, not \(node.kindDescription)", at: node.location(in: file))
                frame.skipNextValue = true
            }
        }
        stack.append(frame)
    }

    private mutating func reportParserError(_ parser: yaml_parser_t, input: UnsafeBufferPointer<UInt8>) {
        let problem = parser.problem.map { String(cString: $0) } ?? "unreadable input"
        let context = parser.context.map { String(cString: $0) }
        let mark = parser.problem_mark
        var message = "invalid YAML: \(problem)"
        if let context { message += " \(context)" }
        if problem.contains("nesting level") {
            message = "invalid YAML: nesting is too deep (libyaml allows 1000 levels)"
        } else if problem.contains("cannot start any token"),
            character(in: input, line: Int(mark.line), column: Int(mark.column)) == "\t"
        {
            message = "invalid YAML: tabs cannot indent YAML; use spaces"
        }
        diagnostics.error(
            message, at: SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1))
    }

    /// The character at a 0-based line and column, reading the input as UTF-8.
    private func character(in input: UnsafeBufferPointer<UInt8>, line: Int, column: Int) -> Character? {
        var currentLine = 0
        var start = 0
        while currentLine < line, let newline = input[start...].firstIndex(of: 0x0A) {
            start = newline + 1
            currentLine += 1
        }
        guard currentLine == line else { return nil }
        let end = input[start...].firstIndex(of: 0x0A) ?? input.count
        let text = String(decoding: UnsafeBufferPointer(rebasing: input[start..<end]), as: UTF8.self)
        guard column < text.count else { return nil }
        return text[text.index(text.startIndex, offsetBy: column)]
    }
}
