import Foundation

/// A strict RFC 8259 reader that pulls one value at a time from UTF-8 bytes, for answers too large to
/// read through JSONDecoder's tree of boxed values (a 10,000-bot list of 2.2 MB costs JSONDecoder
/// 0.13-0.28 s in a release build; this reads it in about 10 ms, `botform-bench decode-list` measures).
///
/// It is a fast path, never the judge: it accepts only a strict subset of what Foundation's JSONDecoder
/// accepts and reads that subset to the same values. Anything else throws `Unhandled`: malformed JSON,
/// but also well-formed JSON it chooses not to judge (an escaped or non-ASCII member name where the
/// caller matches names, nesting deeper than `maxDepth`, invalid UTF-8, a lone surrogate escape). The
/// caller then reads the same bytes with JSONDecoder, which decides and words every error as before.
/// Foundation is more lenient than RFC 8259 on Linux (it takes trailing commas, leading zeros, raw tabs
/// in strings); those inputs go to it too, so leniency and strictness never disagree on a value.
struct JSONScanner {
    /// The input is outside what this reader judges; read it with JSONDecoder instead.
    struct Unhandled: Error {}

    /// Containers deeper than this are left to JSONDecoder (which refuses beyond 512): the bot list
    /// itself is five deep, and an unknown field nested deeper is not worth a recursive fast path.
    static let maxDepth = 64

    private let bytes: UnsafeBufferPointer<UInt8>
    /// The next byte to read.
    private(set) var offset = 0
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    // MARK: Structure

    /// Skips whitespace (the four RFC 8259 allows) and returns the next byte without consuming it.
    @inline(__always)
    mutating func peek() throws(Unhandled) -> UInt8 {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x0A, 0x0D, 0x09: offset += 1
            default: return bytes[offset]
            }
        }
        throw Unhandled()
    }

    /// True when nothing but whitespace is left.
    mutating func isAtEnd() -> Bool {
        (try? peek()) == nil
    }

    /// Consumes `{`; true when the object has a first member (then read its name next).
    mutating func beginObject() throws(Unhandled) -> Bool {
        try open(UInt8(ascii: "{"), closedBy: UInt8(ascii: "}"))
    }

    /// After a member's value: consumes `,` and returns true, or consumes `}` and returns false.
    mutating func nextMember() throws(Unhandled) -> Bool {
        try next(closedBy: UInt8(ascii: "}"))
    }

    /// Consumes `[`; true when the array has a first element.
    mutating func beginArray() throws(Unhandled) -> Bool {
        try open(UInt8(ascii: "["), closedBy: UInt8(ascii: "]"))
    }

    /// After an element: consumes `,` and returns true, or consumes `]` and returns false.
    mutating func nextElement() throws(Unhandled) -> Bool {
        try next(closedBy: UInt8(ascii: "]"))
    }

    private mutating func open(_ opener: UInt8, closedBy closer: UInt8) throws(Unhandled) -> Bool {
        guard try peek() == opener, depth < Self.maxDepth else { throw Unhandled() }
        offset += 1
        depth += 1
        guard try peek() == closer else { return true }
        offset += 1
        depth -= 1
        return false
    }

    private mutating func next(closedBy closer: UInt8) throws(Unhandled) -> Bool {
        let byte = try peek()
        offset += 1
        if byte == UInt8(ascii: ",") { return true }
        guard byte == closer else { throw Unhandled() }
        depth -= 1
        return false
    }

    /// A member name and its colon, when the name is plain ASCII without escapes: the bytes between the
    /// quotes, valid until the scanner's input goes away. Names are compared byte for byte, which is
    /// what Swift's string equality means only for such names (`"\u0069d"` is `id` to JSONDecoder).
    mutating func plainName() throws(Unhandled) -> UnsafeBufferPointer<UInt8> {
        let name = try plainString()
        try colon()
        return name
    }

    /// A member name of any spelling, decoded, and its colon: for maps whose keys are data.
    mutating func name() throws(Unhandled) -> String {
        let name = try string()
        try colon()
        return name
    }

    private mutating func colon() throws(Unhandled) {
        guard try peek() == UInt8(ascii: ":") else { throw Unhandled() }
        offset += 1
    }

    /// True when the next value is `null`, which is then consumed.
    mutating func null() throws(Unhandled) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    mutating func bool() throws(Unhandled) -> Bool {
        switch try peek() {
        case UInt8(ascii: "t"):
            try literal("true")
            return true
        case UInt8(ascii: "f"):
            try literal("false")
            return false
        default:
            throw Unhandled()
        }
    }

    private mutating func literal(_ word: StaticString) throws(Unhandled) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - offset >= count else { throw Unhandled() }
        for index in 0..<count where bytes[offset + index] != word.utf8Start[index] {
            throw Unhandled()
        }
        offset += count
    }

    /// A non-negative integer of at most 18 digits, with nothing after it that would make it a fraction
    /// or an exponent (JSONDecoder's rules for those are not repeated here).
    mutating func integer() throws(Unhandled) -> Int {
        guard try peek() != UInt8(ascii: "0") || !isDigit(at: offset + 1) else { throw Unhandled() }
        let start = offset
        var value = 0
        while isDigit(at: offset) {
            value = value * 10 + Int(bytes[offset] &- 0x30)
            offset += 1
        }
        guard offset > start, offset - start <= 18 else { throw Unhandled() }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") || bytes[offset] | 0x20 == UInt8(ascii: "e") {
            throw Unhandled()
        }
        return value
    }

    private func isDigit(at index: Int) -> Bool {
        index < bytes.count && bytes[index] &- 0x30 < 10
    }

    /// Whether the `count` bytes from `offset` repeat those from `earlier` (a value already read there).
    func repeats(_ earlier: Int, count: Int) -> Bool {
        guard let base = bytes.baseAddress, offset + count <= bytes.count, earlier + count <= offset else {
            return false
        }
        return memcmp(base + earlier, base + offset, count) == 0
    }

    /// Moves past `count` bytes that `repeats` matched: a value read before, whose reading is reused.
    mutating func skip(_ count: Int) {
        offset += count
    }

    // MARK: Strings

    /// A string value, decoded: every escape, surrogate pairs joined; invalid UTF-8, a raw control
    /// character or a lone surrogate is `Unhandled`.
    mutating func string() throws(Unhandled) -> String {
        guard try peek() == Self.quote else { throw Unhandled() }
        offset += 1
        let start = offset
        var high: UInt8 = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == Self.quote {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<offset])
                offset += 1
                if high < 0x80 { return String(decoding: run, as: UTF8.self) }
                guard let text = String(validating: run, as: UTF8.self) else { throw Unhandled() }
                return text
            }
            if byte == Self.backslash { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw Unhandled() }
            high |= byte
            offset += 1
        }
        throw Unhandled()
    }

    /// A string value that is plain ASCII without escapes, as its bytes (no `String` is made).
    mutating func plainString() throws(Unhandled) -> UnsafeBufferPointer<UInt8> {
        guard try peek() == Self.quote else { throw Unhandled() }
        offset += 1
        let start = offset
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == Self.quote {
                offset += 1
                return UnsafeBufferPointer(rebasing: bytes[start..<(offset - 1)])
            }
            guard byte >= 0x20, byte < 0x80, byte != Self.backslash else { throw Unhandled() }
            offset += 1
        }
        throw Unhandled()
    }

    /// The rest of a string that holds an escape; `offset` is at the first backslash.
    private mutating func escapedString(from start: Int) throws(Unhandled) -> String {
        var utf8 = [UInt8](bytes[start..<offset])
        while offset < bytes.count {
            let byte = bytes[offset]
            switch byte {
            case Self.quote:
                offset += 1
                guard let text = String(validating: utf8, as: UTF8.self) else { throw Unhandled() }
                return text
            case Self.backslash:
                guard offset + 1 < bytes.count else { throw Unhandled() }
                let escape = bytes[offset + 1]
                offset += 2
                switch escape {
                case Self.quote, Self.backslash, UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"): utf8.append(contentsOf: try escapedScalar().utf8)
                default: throw Unhandled()
                }
            case 0..<0x20:
                throw Unhandled()
            default:
                utf8.append(byte)
                offset += 1
            }
        }
        throw Unhandled()
    }

    /// The scalar of a `\uXXXX` escape (its `\u` already read), joined with the low surrogate that must
    /// follow a high one.
    private mutating func escapedScalar() throws(Unhandled) -> Unicode.Scalar {
        let first = try hex4()
        var value = first
        if (0xD800...0xDBFF).contains(first) {
            guard bytes.count - offset >= 2, bytes[offset] == Self.backslash, bytes[offset + 1] == UInt8(ascii: "u")
            else { throw Unhandled() }
            offset += 2
            let second = try hex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw Unhandled() }
            value = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(value) else { throw Unhandled() }
        return scalar
    }

    private mutating func hex4() throws(Unhandled) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw Unhandled() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Unhandled()
            }
            value = value << 4 | UInt32(digit)
            offset += 1
        }
        return value
    }

    // MARK: Skipping

    /// Reads past one value of any kind, checking it as strictly as a value that is used.
    mutating func skipValue() throws(Unhandled) {
        switch try peek() {
        case Self.quote:
            try skipString()
        case UInt8(ascii: "{"):
            guard try beginObject() else { return }
            repeat {
                try skipString()
                try colon()
                try skipValue()
            } while try nextMember()
        case UInt8(ascii: "["):
            guard try beginArray() else { return }
            repeat { try skipValue() } while try nextElement()
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            _ = try bool()
        case UInt8(ascii: "n"):
            try literal("null")
        default:
            try skipNumber()
        }
    }

    /// Reads past a string; only one with escapes or non-ASCII bytes is decoded, to check it.
    private mutating func skipString() throws(Unhandled) {
        let start = offset
        if (try? plainString()) != nil { return }
        offset = start
        _ = try string()
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, exactly.
    private mutating func skipNumber() throws(Unhandled) {
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard isDigit(at: offset) else { throw Unhandled() }
        if bytes[offset] == UInt8(ascii: "0") {
            offset += 1
        } else {
            while isDigit(at: offset) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard isDigit(at: offset) else { throw Unhandled() }
            while isDigit(at: offset) { offset += 1 }
        }
        if offset < bytes.count, bytes[offset] | 0x20 == UInt8(ascii: "e") {
            offset += 1
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") {
                offset += 1
            }
            guard isDigit(at: offset) else { throw Unhandled() }
            while isDigit(at: offset) { offset += 1 }
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether these bytes spell `word`: how the fast path matches member names and actions.
    func spells(_ word: StaticString) -> Bool {
        guard count == word.utf8CodeUnitCount else { return false }
        for index in 0..<count where self[index] != word.utf8Start[index] { return false }
        return true
    }
}
