/// The ASCII armor of age files: PEM-like, base64 in lines of 64 columns.
public enum AgeArmor {
    static let begin = "-----BEGIN AGE ENCRYPTED FILE-----"
    static let end = "-----END AGE ENCRYPTED FILE-----"

    /// Armors a binary age file; the text ends with a newline.
    public static func armor(_ bytes: [UInt8]) -> String {
        let encoded = Array(Base64.encode(bytes, padded: true).utf8)
        var lines = [begin]
        var index = 0
        while index < encoded.count {
            lines.append(String(decoding: encoded[index..<min(index + 64, encoded.count)], as: UTF8.self))
            index += 64
        }
        lines.append(end)
        return lines.joined(separator: "\n") + "\n"
    }

    /// Whether the input is meant as armor: it starts (after whitespace) with `-----BEGIN`. A damaged
    /// armor header is then reported as an armor error rather than as an unreadable binary header.
    public static func isArmored(_ bytes: [UInt8]) -> Bool {
        let trimmed = bytes.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        return trimmed.starts(with: Array("-----BEGIN".utf8))
    }

    /// Removes the armor, as strictly as the age specification asks: whitespace only outside the
    /// armor, LF or CRLF line ends, full 64-column lines but the last, canonical padded base64.
    public static func dearmor(_ bytes: [UInt8]) throws(AgeError) -> [UInt8] {
        let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        var start = bytes.startIndex
        while start < bytes.endIndex, whitespace.contains(bytes[start]) { start += 1 }
        var stop = bytes.endIndex
        while stop > start, whitespace.contains(bytes[stop - 1]) { stop -= 1 }
        let body = Array(bytes[start..<stop])
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < body.count {
            let byte = body[index]
            if byte == 0x0A {
                lines.append(current)
                current = []
            } else if byte == 0x0D, index + 1 < body.count, body[index + 1] == 0x0A {
                lines.append(current)
                current = []
                index += 1
            } else {
                current.append(byte)
            }
            index += 1
        }
        lines.append(current)
        guard lines.count >= 3, lines.first == Array(begin.utf8) else {
            throw .armor("it does not start with \"\(begin)\"")
        }
        guard lines.last == Array(end.utf8) else { throw .armor("it does not end with \"\(end)\"") }
        let payload = lines.dropFirst().dropLast()
        var encoded: [UInt8] = []
        for (offset, line) in payload.enumerated() {
            let isLast = offset == payload.count - 1
            if line.isEmpty { throw .armor("an empty line inside the armor") }
            if line.count > 64 || (!isLast && line.count != 64) {
                throw .armor("lines must be 64 columns, except the last")
            }
            encoded += line
        }
        guard let decoded = Base64.decode(encoded, padded: true) else {
            throw .armor("invalid or non-canonical base64")
        }
        return decoded
    }
}
