import Foundation
import Testing

@testable import BotformProviders

/// HTTP dates are read by hand (the first DateFormatter of a run costs milliseconds of ICU start-up on
/// the way to the first call): IMF-fixdate as the formatter read it, the forms servers send instead as
/// the instant they name (and as the formatter, where it read them), and the two other forms RFC 9110
/// asks recipients to accept.
@Suite("HTTP dates")
struct HTTPDateTests {
    static func formatter() -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter
    }

    @Test("IMF-fixdate reads as the formatter read it, on 5,000 times from 1900 to 2200")
    func sameAsFormatter() {
        let formatter = Self.formatter()
        var generator = SystemRandomNumberGenerator()
        // The epoch, 2000-02-29, 2100-02-28 23:59:59, 1900-01-01 and a time in 2026.
        var times = [0, 951_782_400, 4_107_542_399, -2_208_988_800, 1_796_023_809]
        for _ in 0..<5_000 { times.append(Int.random(in: -2_208_988_800...7_258_118_399, using: &generator)) }
        for time in times {
            let date = Date(timeIntervalSince1970: TimeInterval(time))
            let text = formatter.string(from: date)
            #expect(HTTPDate.parse(text) == date, "\(text)")
            #expect(HTTPDate.parse(text) == formatter.date(from: text), "\(text)")
        }
    }

    @Test("what servers send instead of IMF-fixdate reads as the instant it names, as the formatter read it")
    func variants() {
        let formatter = Self.formatter()
        let local = DateFormatter()
        local.locale = Locale(identifier: "en_US_POSIX")
        local.timeZone = TimeZone(identifier: "GMT")
        local.dateFormat = "EEE, d MMM yyyy H:mm:ss"
        let zones: [(String, Int)] = [
            ("GMT", 0), ("UTC", 0), ("UT", 0), ("Z", 0), ("+0000", 0), ("-0000", 0), ("+0130", 90), ("-0800", -480),
            ("+01:00", 60), ("GMT+01:00", 60), ("EST", -300), ("pdt", -420),
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let date = Date(timeIntervalSince1970: TimeInterval(Int.random(in: 0...4_102_444_800, using: &generator)))
            for (zone, minutes) in zones {
                let text = local.string(from: date.addingTimeInterval(TimeInterval(minutes * 60))) + " " + zone
                #expect(HTTPDate.parse(text) == date, "\(text)")
                if zone.hasPrefix("+") || zone.hasPrefix("-") || zone == "GMT" {
                    #expect(
                        formatter.date(from: text).map { $0 == date } ?? true, "the formatter read \(text) otherwise")
                }
            }
        }
    }

    @Test("the three forms RFC 9110 names, and case, blanks and full names, read the same instant")
    func forms() throws {
        let instant = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        let now = Date(timeIntervalSince1970: 1_796_023_809)  // 2026
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
            "sun, 06 NOV 1994 08:49:37 gmt", "  Sun, 06 Nov 1994 08:49:37 GMT  ", "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun,  6 Nov 1994 8:49:37 GMT", "Sunday, 06 November 1994 08:49:37 GMT", "06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994\t08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT", "Sun Nov 6 08:49:37 1994",
            "Sun, 06 Nov 1994 09:49:37 +0100", "Sun, 06 Nov 1994 00:49:37 PST", "Sun, 06 Nov 1994 08:49:37",
        ] {
            #expect(HTTPDate.parse(text, now: now) == instant, "\(text)")
        }
        #expect(HTTPDate.parse("Tue Nov 16 08:49:37 1994") == instant.addingTimeInterval(10 * 86_400))
        // A two-digit year more than 50 years ahead is the century before; otherwise this century.
        let in2030 = try #require(HTTPDate.parse("Monday, 07-Jan-30 00:00:00 GMT", now: now))
        #expect(Calendar(identifier: .gregorian).dateComponents(in: .gmt, from: in2030).year == 2030)
        let in1980 = try #require(HTTPDate.parse("Monday, 07-Jan-80 00:00:00 GMT", now: now))
        #expect(Calendar(identifier: .gregorian).dateComponents(in: .gmt, from: in1980).year == 1980)
    }

    @Test(
        "anything else is no date",
        arguments: [
            "", "0", "Sun", "Sun,", "Sun, 30 Feb 2026 00:00:00 GMT", "Sun, 29 Feb 2100 00:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT x",
            "Sun, 06 Nov 1994 08:49:37 XYZ", "Sun, 06 Nov 1994 08:49:37 +2500", "Sun, 06 Nov 1994 08:49:37 +0160",
            "Sun, 06 Nov 1994 08:49:37 +01:0", "Sun, 06 Nov 1994 08:49:37 +1", "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Novem 1994 08:49:37 GMT", "Sun Nov  6 08:49:37 94", "2026-11-30T07:00:00Z",
            "Sun, ０６ Nov 1994 08:49:37 GMT", "Sun, 06 Nov 0000 08:49:37 GMT", "Sun, 123 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:4:37 GMT", "Sun, 06 Nov 1994 08:49:37:00 GMT", "Sun, 06-Nov 1994 08:49:37 GMT",
        ])
    func refused(text: String) {
        #expect(HTTPDate.parse(text) == nil, "\(text)")
    }
}
