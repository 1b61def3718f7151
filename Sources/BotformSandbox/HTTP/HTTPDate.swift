import BotformCore
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
        let (days, secondOfDay) = CivilDate.split(Int(epochSeconds))
        // 1970-01-01 was a Thursday.
        let weekday = ((days % 7) + 11) % 7
        let (year, month, day) = CivilDate.date(fromDays: days)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
        let hour = secondOfDay / 3_600
        let minute = secondOfDay % 3_600 / 60
        let second = secondOfDay % 60
        return "\(weekdays[weekday]), \(two(day)) \(months[month - 1]) \(year) "
            + "\(two(hour)):\(two(minute)):\(two(second)) GMT"
    }
}
