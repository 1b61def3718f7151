import BotformCore
import Foundation

/// HTTP dates (RFC 9110 §5.6.7), read without a formatter: `Date` and `Retry-After` headers. Every list
/// reads the first page's `Date`, and the first `DateFormatter` of a run costs 5-20 ms of ICU start-up on
/// the path from the list's answer to the first call (measured with timing marks, apply of 1,000).
///
/// Reads the three forms a recipient must (IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT`, asctime `Sun Nov  6 08:49:37 1994`), and, as the formatter used
/// before did, what servers send instead: RFC 2822 zones (`+0000`, `-0800`, `UT`, `EST`…), `+01:00` and
/// `GMT+01:00`, `Z`, one-digit days and hours, full month and weekday names, no weekday, any run of blanks.
/// Names are matched without regard to case; a weekday must be one but is not checked against the date.
/// A two-digit year more than 50 years ahead is the century before (RFC 9110). Anything else, or a date
/// that does not exist (30 Feb), is nil.
enum HTTPDate {
    static func parse(_ text: String, now: Date = Date()) -> Date? {
        var tokens = text.split { $0 == " " || $0 == "\t" || $0 == "," }.map { $0.lowercased() }
        guard !tokens.isEmpty else { return nil }
        if weekday(tokens[0]) { tokens.removeFirst() }
        guard let first = tokens.first else { return nil }
        // asctime: month day time year.
        if let month = month(first) {
            guard tokens.count == 4, let day = number(tokens[1], digits: 1...2), let time = time(tokens[2]),
                let year = number(tokens[3], digits: 4...4)
            else { return nil }
            return make(year: year, month: month, day: day, time: time, offset: 0)
        }
        // RFC 850 (06-Nov-94) or IMF-fixdate / RFC 2822 (06 Nov 1994), then the time and a zone.
        let day: Int
        let monthNumber: Int
        let yearText: String
        var rest: ArraySlice<String>
        let dashed = first.split(separator: "-", omittingEmptySubsequences: false)
        if dashed.count == 3 {
            guard let d = number(String(dashed[0]), digits: 1...2), let m = month(String(dashed[1])) else { return nil }
            (day, monthNumber, yearText, rest) = (d, m, String(dashed[2]), tokens.dropFirst())
        } else {
            guard tokens.count >= 3, let d = number(first, digits: 1...2), let m = month(tokens[1]) else { return nil }
            (day, monthNumber, yearText, rest) = (d, m, tokens[2], tokens.dropFirst(3))
        }
        guard let timeText = rest.popFirst(), let time = time(timeText), rest.count <= 1,
            let offset = rest.first.map(zone) ?? 0, let year = year(yearText, now: now)
        else { return nil }
        return make(year: year, month: monthNumber, day: day, time: time, offset: offset)
    }

    private static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    private static let longWeekdays = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let longMonths = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    ]
    /// RFC 2822's obsolete zone names, in minutes east of UTC.
    private static let namedZones: [String: Int] = [
        "gmt": 0, "utc": 0, "ut": 0, "z": 0, "est": -300, "edt": -240, "cst": -360, "cdt": -300, "mst": -420,
        "mdt": -360, "pst": -480, "pdt": -420,
    ]

    private static func weekday(_ token: String) -> Bool {
        weekdays.contains(token) || longWeekdays.contains(token)
    }

    private static func month(_ token: String) -> Int? {
        (months.firstIndex(of: token) ?? longMonths.firstIndex(of: token)).map { $0 + 1 }
    }

    /// A number of `digits` ASCII digits.
    private static func number(_ token: some StringProtocol, digits: ClosedRange<Int>) -> Int? {
        guard digits.contains(token.utf8.count), token.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        return Int(token)
    }

    /// Four digits, or two read by RFC 9110's rule: more than 50 years ahead of `now` is the century before.
    private static func year(_ token: String, now: Date) -> Int? {
        if let year = number(token, digits: 4...4) { return year }
        guard let twoDigits = number(token, digits: 2...2) else { return nil }
        let days = CivilDate.split(Int(now.timeIntervalSince1970.rounded(.down))).days
        let thisYear = CivilDate.date(fromDays: days).year
        let year = thisYear - thisYear % 100 + twoDigits
        return year > thisYear + 50 ? year - 100 : year
    }

    /// `H:MM:SS` or `HH:MM[:SS]`.
    private static func time(_ token: String) -> (hour: Int, minute: Int, second: Int)? {
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let hour = number(parts[0], digits: 1...2),
            let minute = number(parts[1], digits: 2...2)
        else { return nil }
        let second = parts.count == 3 ? number(parts[2], digits: 2...2) : 0
        return second.map { (hour, minute, $0) }
    }

    /// A zone, in minutes east of UTC: a name, `+hhmm`, `+hh:mm`, or `GMT`/`UTC` followed by an offset.
    private static func zone(_ token: String) -> Int? {
        if let named = namedZones[token] { return named }
        var text = Substring(token)
        for prefix in ["gmt", "utc", "ut"] where text.hasPrefix(prefix) {
            text = text.dropFirst(prefix.count)
            break
        }
        guard let sign = text.first, sign == "+" || sign == "-" else { return nil }
        let digits = text.dropFirst().filter { $0 != ":" }
        guard text.dropFirst().filter({ $0 == ":" }).count <= 1, let value = number(digits, digits: 4...4) else {
            return nil
        }
        let minutes = value / 100 * 60 + value % 100
        guard value % 100 < 60, value / 100 < 24 else { return nil }
        return sign == "-" ? -minutes : minutes
    }

    private static func make(
        year: Int, month: Int, day: Int, time: (hour: Int, minute: Int, second: Int), offset: Int
    ) -> Date? {
        // Second 60 (a leap second) is read as the next second, as timegm would.
        guard year >= 1, day >= 1, day <= daysIn(month: month, year: year), time.hour < 24, time.minute < 60,
            time.second <= 60
        else { return nil }
        let days = CivilDate.days(year: year, month: month, day: day)
        let seconds = days * 86_400 + time.hour * 3_600 + time.minute * 60 + time.second - offset * 60
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
