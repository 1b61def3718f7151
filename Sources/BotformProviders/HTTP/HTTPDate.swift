import BotformCore
import Foundation

/// HTTP dates (RFC 9110 §5.6.7), read without a formatter: `Date` and `Retry-After` headers. Every list
/// reads the first page's `Date`, and the first `DateFormatter` of a run costs 5-20 ms of ICU start-up
/// on the path from the list's answer to the first call (measured with timing marks, apply of 1,000).
///
/// Accepts the three forms a recipient must: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete
/// RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`). Names are
/// matched without regard to case, and `UTC` is read as `GMT`; the weekday must be a weekday's name but is not checked against the
/// date (as most clients do). Anything else, or a date that does not exist (30 Feb), is nil.
enum HTTPDate {
    static func parse(_ text: String, now: Date = Date()) -> Date? {
        var scanner = Scanner(Array(text.utf8))
        scanner.skipSpaces()
        guard let weekday = scanner.word() else { return nil }
        if scanner.take(UInt8(ascii: ",")) {
            scanner.skipSpaces()
            if weekdays.contains(weekday) {
                return imfFixdate(&scanner)
            } else if longWeekdays.contains(weekday) {
                return rfc850(&scanner, now: now)
            }
            return nil
        }
        guard weekdays.contains(weekday) else { return nil }
        return asctime(&scanner)
    }

    private static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    private static let longWeekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]

    /// `06 Nov 1994 08:49:37 GMT`, after the weekday and comma.
    private static func imfFixdate(_ scanner: inout Scanner) -> Date? {
        guard let day = scanner.digits(2), scanner.take(UInt8(ascii: " ")), let month = scanner.month(),
            scanner.take(UInt8(ascii: " ")), let year = scanner.digits(4), scanner.take(UInt8(ascii: " ")),
            let time = scanner.time(), scanner.take(UInt8(ascii: " ")), scanner.gmt()
        else { return nil }
        return make(year: year, month: month, day: day, time: time)
    }

    /// `06-Nov-94 08:49:37 GMT`: a two-digit year more than 50 years ahead is the century before.
    private static func rfc850(_ scanner: inout Scanner, now: Date) -> Date? {
        guard let day = scanner.digits(2), scanner.take(UInt8(ascii: "-")), let month = scanner.month(),
            scanner.take(UInt8(ascii: "-")), let twoDigits = scanner.digits(2), scanner.take(UInt8(ascii: " ")),
            let time = scanner.time(), scanner.take(UInt8(ascii: " ")), scanner.gmt()
        else { return nil }
        let thisYear = CivilDate.date(fromDays: CivilDate.split(Int(now.timeIntervalSince1970.rounded(.down))).days)
            .year
        var year = thisYear - thisYear % 100 + twoDigits
        if year > thisYear + 50 { year -= 100 }
        return make(year: year, month: month, day: day, time: time)
    }

    /// `Nov  6 08:49:37 1994` (the day padded with a space), after the weekday.
    private static func asctime(_ scanner: inout Scanner) -> Date? {
        guard scanner.take(UInt8(ascii: " ")), let month = scanner.month(), scanner.take(UInt8(ascii: " "))
        else { return nil }
        let day: Int
        if scanner.take(UInt8(ascii: " ")) {
            guard let digit = scanner.digits(1) else { return nil }
            day = digit
        } else {
            guard let digits = scanner.digits(2) else { return nil }
            day = digits
        }
        guard scanner.take(UInt8(ascii: " ")), let time = scanner.time(), scanner.take(UInt8(ascii: " ")),
            let year = scanner.digits(4), scanner.atEnd()
        else { return nil }
        return make(year: year, month: month, day: day, time: time)
    }

    private static func make(year: Int, month: Int, day: Int, time: (hour: Int, minute: Int, second: Int)) -> Date? {
        // Leap second 60 is allowed by the grammar and read as the next second, as timegm would.
        guard day >= 1, day <= daysIn(month: month, year: year), time.hour < 24, time.minute < 60, time.second <= 60
        else { return nil }
        let days = CivilDate.days(year: year, month: month, day: day)
        let seconds = days * 86_400 + time.hour * 3_600 + time.minute * 60 + time.second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpaces() {
            while index < bytes.count, bytes[index] == UInt8(ascii: " ") { index += 1 }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// Letters, lowercased.
        mutating func word() -> String? {
            let start = index
            while index < bytes.count, (bytes[index] | 0x20) >= UInt8(ascii: "a"),
                (bytes[index] | 0x20) <= UInt8(ascii: "z")
            {
                index += 1
            }
            guard index > start, index - start <= 9 else { return nil }
            return String(decoding: bytes[start..<index].map { $0 | 0x20 }, as: UTF8.self)
        }

        /// Exactly `count` ASCII digits.
        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }

        /// A three-letter month name: 1-12.
        mutating func month() -> Int? {
            let start = index
            guard let name = word(), name.count == 3, let position = HTTPDate.months.firstIndex(of: name) else {
                index = start
                return nil
            }
            return position + 1
        }

        /// `HH:MM:SS`.
        mutating func time() -> (hour: Int, minute: Int, second: Int)? {
            guard let hour = digits(2), take(UInt8(ascii: ":")), let minute = digits(2), take(UInt8(ascii: ":")),
                let second = digits(2)
            else { return nil }
            return (hour, minute, second)
        }

        /// `GMT` (or `UTC`, which a few servers send) and nothing after it but spaces.
        mutating func gmt() -> Bool {
            guard let zone = word(), zone == "gmt" || zone == "utc" else { return false }
            return atEnd()
        }

        mutating func atEnd() -> Bool {
            skipSpaces()
            return index == bytes.count
        }
    }
}
