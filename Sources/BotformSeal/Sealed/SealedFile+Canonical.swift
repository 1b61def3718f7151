import BotformCore
import BotformYAML
import Foundation

/// The sealed file read as Botform writes it. A 10,000-bot file is 7.7 MB of YAML, and building a YAML
/// node tree of it took a fifth of a plan's time and most of its memory. `render()` writes one exact
/// form; this reader accepts only that form, line by line, and gives up (nil) at the first line that
/// differs in any way: a file edited by hand, merged by git, or written by another version is read by
/// the YAML reader, with its located errors. So the fast path decides nothing the YAML reader would
/// decide differently: it accepts a subset of what `render()` can write, and the tests hold it to the
/// YAML reader's result on rendered files and on mutations of them.
extension SealedFile {
    static func parseCanonical(_ bytes: [UInt8]) -> SealedFile? {
        var reader = CanonicalReader(bytes: bytes)
        return reader.file()
    }
}

private struct CanonicalReader {
    let bytes: [UInt8]
    /// The start of the next line.
    var position = 0
    /// Where this reader stops: the file's end, or the end of its share of the entries.
    var end: Int
    /// Recipients parsed once per distinct text: every entry names the same few.
    var recipientCache: [ArraySlice<UInt8>: AgeRecipient] = [:]

    init(bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        position = start
        self.end = end ?? bytes.count
    }

    // MARK: Lines

    /// The next line without its newline, not consumed; nil at the end of the file.
    func peek() -> ArraySlice<UInt8>? {
        guard position < end else { return nil }
        var stop = position
        while stop < end, bytes[stop] != 0x0A { stop += 1 }
        return bytes[position..<stop]
    }

    mutating func advance(past line: ArraySlice<UInt8>) {
        position = line.endIndex + 1
    }

    /// The next line if it starts with `prefix` (then consumed), as the rest after the prefix.
    mutating func take(_ prefix: StaticString) -> ArraySlice<UInt8>? {
        guard let line = peek(), let rest = line.after(prefix) else { return nil }
        advance(past: line)
        return rest
    }

    /// Consumes the next line if it is exactly `text`.
    mutating func takeLine(_ text: StaticString) -> Bool {
        guard let line = peek(), line.after(text)?.isEmpty == true else { return false }
        advance(past: line)
        return true
    }

    /// Whether the rest of the file is blank lines only.
    func atEnd() -> Bool {
        bytes[min(position, end)..<end].allSatisfy { $0 == 0x0A }
    }

    // MARK: The file

    mutating func file() -> SealedFile? {
        // A file that is not plain UTF-8 text of printable ASCII, LF-ended, is for the YAML reader; so is one
        // over the YAML reader's size limit (which then says so).
        guard !bytes.isEmpty, bytes.count <= YAMLComposer.maximumFileSize,
            bytes.allSatisfy({ ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x0A })
        else { return nil }
        while let line = peek(), line.first == UInt8(ascii: "#") { advance(past: line) }
        guard let version = take("version: "), version.elementsEqual("\(SealedFile.version)".utf8) else {
            return nil
        }
        var file = SealedFile()
        if takeLine("recipients: []") {
            file.recipients = []
        } else if takeLine("recipients:") {
            guard let list = recipientList(indent: "  - ") else { return nil }
            file.recipients = list
        } else {
            return nil
        }
        if takeLine("providers:") {
            guard let origins = providers() else { return nil }
            file.origins = origins
        }
        if takeLine("entries: {}") {
            file.entries = [:]
        } else if takeLine("entries:") {
            guard let entries = Self.entries(bytes, from: position) else { return nil }
            file.entries = entries
            return file
        } else {
            return nil
        }
        return atEnd() ? file : nil
    }

    /// The entries from `start` to the end of the file. A large file is read in two halves at once, split
    /// at an entry's first line; an address in both halves is a duplicate, for the YAML reader.
    static func entries(_ bytes: [UInt8], from start: Int) -> [String: SealedEntry]? {
        guard bytes.count - start > 1 << 20, let split = entryStart(in: bytes, near: start + (bytes.count - start) / 2)
        else {
            var reader = CanonicalReader(bytes: bytes, from: start)
            return reader.entries()
        }
        var halves: [[String: SealedEntry]?] = [nil, nil]
        halves.withUnsafeMutableBufferPointer { halves in
            // Each iteration writes only its own element.
            nonisolated(unsafe) let halves = halves
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                var reader = CanonicalReader(
                    bytes: bytes, from: half == 0 ? start : split, to: half == 0 ? split : bytes.count)
                halves[half] = reader.entries()
            }
        }
        guard var entries = halves[0], let second = halves[1] else { return nil }
        for (address, entry) in second {
            guard entries.updateValue(entry, forKey: address) == nil else { return nil }
        }
        return entries
    }

    /// The start of the first entry line (two spaces, then the address) at or after `position`.
    static func entryStart(in bytes: [UInt8], near position: Int) -> Int? {
        var index = position
        while index + 3 < bytes.count {
            if bytes[index] == 0x0A, bytes[index + 1] == 0x20, bytes[index + 2] == 0x20, bytes[index + 3] != 0x20 {
                return index + 1
            }
            index += 1
        }
        return nil
    }

    /// libyaml refuses a plain mapping key of 1,024 characters or more ("mapping values are not allowed").
    static let longestKey = 1_024

    /// Entries until this reader's end; nil at anything that is not an entry as `render()` writes it.
    mutating func entries() -> [String: SealedEntry]? {
        var entries: [String: SealedEntry] = [:]
        while let line = peek(), line.starts(with: "  ".utf8), line.dropFirst(2).first != 0x20 {
            advance(past: line)
            guard line.last == UInt8(ascii: ":"), line.count - 3 < Self.longestKey,
                let address = scalar(line.dropFirst(2).dropLast()), entries[address] == nil, let entry = entry(address)
            else { return nil }
            entries[address] = entry
        }
        return atEnd() ? entries : nil
    }

    mutating func providers() -> [String: ProviderOrigin]? {
        var origins: [String: ProviderOrigin] = [:]
        while let line = peek(), line.starts(with: "  ".utf8), line.dropFirst(2).first != 0x20 {
            advance(past: line)
            guard line.last == UInt8(ascii: ":"), line.count - 3 < Self.longestKey,
                let name = scalar(line.dropFirst(2).dropLast()),
                origins[name] == nil,
                let type = take("    type: ").flatMap({ ProviderKind(rawValue: String(decoding: $0, as: UTF8.self)) }),
                let endpoint = take("    endpoint: ").flatMap(scalar)
            else { return nil }
            var tenant: String?
            if let text = take("    tenant: ") {
                guard let value = scalar(text) else { return nil }
                tenant = value
            }
            origins[name] = ProviderOrigin(type: type, endpoint: endpoint, tenant: tenant)
        }
        return origins.isEmpty ? nil : origins
    }

    /// One entry's fields, in the order `render()` writes them.
    mutating func entry(_ address: String) -> SealedEntry? {
        guard let provider = take("    provider: ").flatMap(scalar), let bot = take("    bot: ").flatMap(scalar) else {
            return nil
        }
        var label: String?
        if let text = take("    label: ") {
            guard let value = scalar(text) else { return nil }
            label = value
        }
        guard EntryKey(provider: provider, bot: bot, label: label).address == address else { return nil }
        var id: String?
        if let text = take("    id: ") {
            guard let value = scalar(text) else { return nil }
            id = value
        }
        guard let originText = take("    origin: "),
            let origin = OwnedBot.Origin(rawValue: String(decoding: originText, as: UTF8.self))
        else { return nil }
        var issuedAt: Date?
        if let text = take("    issued_at: ") {
            guard let value = time(text) else { return nil }
            issuedAt = value
        }
        var hash: String?
        if let text = take("    permissions_sha256: ") {
            guard let value = scalar(text) else { return nil }
            hash = value
        }
        var expiresAt: Date?
        if let text = take("    expires_at: ") {
            guard let value = time(text) else { return nil }
            expiresAt = value
        }
        var retiring: [String] = []
        if takeLine("    retiring:") {
            while let text = take("      - ") {
                guard let value = scalar(text) else { return nil }
                retiring.append(value)
            }
            if retiring.isEmpty { return nil }
        }
        var lost: [Date] = []
        if takeLine("    unrecorded_since:") {
            guard let times = timeList(), !times.isEmpty else { return nil }
            lost = times
        }
        var pending: IssueIntent?
        var pendingTimes: [Date] = []
        if let text = take("    pending: ") {
            guard let value = IssueIntent(rawValue: String(decoding: text, as: UTF8.self)) else { return nil }
            pending = value
            if let since = take("    pending_since: ") {
                guard let value = time(since) else { return nil }
                pendingTimes = [value]
            } else if takeLine("    pending_since:") {
                // A list: written only for two or more times.
                guard let times = timeList(), times.count > 1 else { return nil }
                pendingTimes = times
            }
        }
        var sealedTo: [AgeRecipient] = []
        if takeLine("    sealed_to:") {
            guard let list = recipientList(indent: "      - "), !list.isEmpty else { return nil }
            sealedTo = list
        }
        var secret: String?
        if takeLine("    secret: |") {
            guard let armored = block(), AgeArmor.isArmored(Array(armored.utf8)) else { return nil }
            secret = armored
        }
        var entry = SealedEntry(
            provider: provider, bot: bot, id: id, origin: origin, issuedAt: issuedAt, permissionsSHA256: hash,
            sealedTo: sealedTo, secret: secret, pending: pending, label: label, expiresAt: expiresAt,
            retiring: retiring, pendingTimes: pendingTimes)
        entry.lostTimes = lost
        return entry
    }

    // MARK: Values

    mutating func recipientList(indent: StaticString) -> [AgeRecipient]? {
        var list: [AgeRecipient] = []
        while let text = take(indent) {
            if let known = recipientCache[text] {
                list.append(known)
                continue
            }
            guard let recipient = try? AgeRecipient.parse(String(decoding: text, as: UTF8.self)) else { return nil }
            recipientCache[text] = recipient
            list.append(recipient)
        }
        return list
    }

    mutating func timeList() -> [Date]? {
        var times: [Date] = []
        while let text = take("      - ") {
            guard let value = time(text) else { return nil }
            times.append(value)
        }
        return times
    }

    /// A literal block scalar at six spaces: its lines joined, with one final newline (clip chomping).
    /// Only lines with content and no surrounding spaces; anything else is for the YAML reader.
    mutating func block() -> String? {
        var text: [UInt8] = []
        while let line = peek(), line.starts(with: "      ".utf8) {
            let content = line.dropFirst(6)
            guard let first = content.first, first != 0x20, content.last != 0x20 else { return nil }
            advance(past: line)
            text += content
            text.append(0x0A)
        }
        return text.isEmpty ? nil : String(decoding: text, as: UTF8.self)
    }

    /// A scalar as `YAMLText.scalar` writes it: plain when every character is safe and it could not be
    /// read as anything but a string, otherwise double-quoted; quoted text with an escape is left to
    /// the YAML reader.
    func scalar(_ text: ArraySlice<UInt8>) -> String? {
        guard let first = text.first else { return nil }
        if first == UInt8(ascii: "\"") {
            guard text.count >= 2, text.last == UInt8(ascii: "\"") else { return nil }
            let inner = text.dropFirst().dropLast()
            guard !inner.contains(UInt8(ascii: "\"")), !inner.contains(UInt8(ascii: "\\")) else { return nil }
            return String(decoding: inner, as: UTF8.self)
        }
        // `@` cannot start a plain scalar in YAML.
        guard first != UInt8(ascii: "@"), text.allSatisfy(Self.isSafe) else { return nil }
        let string = String(decoding: text, as: UTF8.self)
        // What `YAMLText.scalar` would have quoted: text that reads as a number, boolean or null. Only a
        // short word, or text that starts like a number, can: longer text starting with a letter, `_` or
        // `/` is a string (the longest word that reads otherwise is "infinity").
        let startsLikeText =
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first | 0x20) || first == UInt8(ascii: "_")
            || first == UInt8(ascii: "/")
        guard startsLikeText && text.count > 8 || YAMLText.scalar(string) == string else { return nil }
        return string
    }

    static func isSafe(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "/"),
            UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// `2026-11-30T02:22:21Z`, as `render()` writes times; any other form is for the YAML reader.
    func time(_ text: ArraySlice<UInt8>) -> Date? {
        guard text.count == 20 else { return nil }
        let bytes = Array(text)
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "Z"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
            // Foundation reads times before the Gregorian reform in the Julian calendar; those are its to read.
            year >= 1600, (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day), hour < 24,
            minute < 60, second < 60
        else { return nil }
        let days = CivilDate.days(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3_600 + minute * 60 + second))
    }

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

extension ArraySlice where Element == UInt8 {
    /// The rest of the slice after `prefix`, or nil when it does not start with it.
    fileprivate func after(_ prefix: StaticString) -> ArraySlice<UInt8>? {
        let count = prefix.utf8CodeUnitCount
        guard self.count >= count else { return nil }
        let matches = prefix.withUTF8Buffer { buffer in
            buffer.elementsEqual(self.prefix(count))
        }
        return matches ? self.dropFirst(count) : nil
    }
}
