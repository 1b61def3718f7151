import Foundation
import Synchronization

/// The `Date` header's value (RFC 9110 IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`) by the sandbox
/// clock, so a client that reads the service's time from its responses sees the time the sandbox
/// judges expiry by. Formatted once per second of sandbox time.
final class HTTPDateHeader: Sendable {
    private let clock: SandboxClock
    private let cache = Mutex<(second: Int64, text: String)>((.min, ""))

    init(clock: SandboxClock) {
        self.clock = clock
    }

    var current: String {
        let second = Int64(clock.now.timeIntervalSince1970.rounded(.down))
        return cache.withLock { cache in
            if cache.second != second { cache = (second, Self.format(epochSeconds: second)) }
            return cache.text
        }
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate of a Unix time, with the proleptic Gregorian calendar in UTC (Hinnant's
    /// civil-from-days), without a formatter or the C library's locale.
    static func format(epochSeconds: Int64) -> String {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondOfDay = epochSeconds - days * 86_400
        // 1970-01-01 was a Thursday.
        let weekday = Int(((days % 7) + 11) % 7)
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : String(value) }
        let hour = secondOfDay / 3_600
        let minute = secondOfDay % 3_600 / 60
        let second = secondOfDay % 60
        return "\(weekdays[weekday]), \(two(day)) \(months[Int(month - 1)]) \(year) "
            + "\(two(hour)):\(two(minute)):\(two(second)) GMT"
    }
}
