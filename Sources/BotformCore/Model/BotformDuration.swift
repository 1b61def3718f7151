/// A configuration duration such as `30s`, `15m`, `12h`, `90d`, `2w` or `3mo`.
///
/// `m` means minutes and `mo` means 30 days, as Sym's CLI reads them, so a value means the same thing
/// in every provider.
public struct BotformDuration: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public enum Unit: String, Sendable, CaseIterable, Codable {
        case seconds = "s"
        case minutes = "m"
        case hours = "h"
        case days = "d"
        case weeks = "w"
        case months = "mo"

        public var seconds: Int64 {
            switch self {
            case .seconds: 1
            case .minutes: 60
            case .hours: 3_600
            case .days: 86_400
            case .weeks: 604_800
            case .months: 2_592_000
            }
        }
    }

    public var amount: Int64
    public var unit: Unit

    public init(_ amount: Int64, _ unit: Unit) {
        self.amount = amount
        self.unit = unit
    }

    /// The largest duration accepted (9000 days, about 24 years), far beyond any credential lifetime.
    public static let maximumSeconds: Int64 = 9_000 * 86_400

    public var seconds: Int64 { amount * unit.seconds }

    public var description: String { "\(amount)\(unit.rawValue)" }

    public static func < (lhs: BotformDuration, rhs: BotformDuration) -> Bool { lhs.seconds < rhs.seconds }

    public static func == (lhs: BotformDuration, rhs: BotformDuration) -> Bool { lhs.seconds == rhs.seconds }

    public func hash(into hasher: inout Hasher) { hasher.combine(seconds) }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty
        case noUnit(String)
        case fraction(String, suggestion: String?)
        case unknownUnit(String, suggestion: String?)
        case notPositive
        case tooLarge

        public var description: String {
            switch self {
            case .empty:
                return "a duration is a positive whole number followed by a unit: s, m, h, d, w or mo (e.g. \"90d\")"
            case .noUnit(let number):
                return "duration \"\(number)\" has no unit; write e.g. \"\(number)d\" (units: s, m, h, d, w, mo)"
            case .unknownUnit(let unit, let suggestion):
                let hint =
                    suggestion.map { "; did you mean \"\($0)\"?" }
                    ?? " (units: s, m, h, d, w, mo; m is minutes, mo is 30 days)"
                return "unknown duration unit \"\(unit)\"\(hint)"
            case .fraction(let text, let suggestion):
                let instead = suggestion.map { "; write e.g. \"\($0)\" instead of \"\(text)\"" } ?? ""
                return "a duration is a whole number followed by a unit\(instead)"
            case .notPositive:
                return "a duration must be greater than zero"
            case .tooLarge:
                return "duration is too large (the maximum is 9000 days)"
            }
        }
    }

    /// Parses `<digits><unit>`; whitespace around the value is not allowed inside the number.
    public static func parse(_ text: String) throws(ParseError) -> BotformDuration {
        let digits = text.prefix { ("0"..."9").contains($0) }
        let unitText = String(text.dropFirst(digits.count))
        guard !digits.isEmpty else { throw .empty }
        guard !unitText.isEmpty else { throw .noUnit(String(digits)) }
        if unitText.hasPrefix(".") {
            let fractionDigits = unitText.dropFirst().prefix { ("0"..."9").contains($0) }
            let unit = Unit(rawValue: String(unitText.dropFirst(1 + fractionDigits.count)))
            let value = Double(digits + "." + fractionDigits)
            var suggestion: String?
            if let unit, let value {
                // The largest smaller unit that expresses the value exactly: 1.5d is 36h.
                suggestion =
                    Unit.allCases.reversed().filter { $0.seconds < unit.seconds }.lazy.compactMap {
                        smaller -> String? in
                        let amount = value * Double(unit.seconds) / Double(smaller.seconds)
                        return amount == amount.rounded() && amount >= 1 ? "\(Int64(amount))\(smaller.rawValue)" : nil
                    }.first
            }
            throw .fraction(text, suggestion: suggestion)
        }
        guard let unit = Unit(rawValue: unitText) else {
            let aliases: [String: String] = [
                "sec": "s", "secs": "s", "second": "s", "seconds": "s",
                "min": "m", "mins": "m", "minute": "m", "minutes": "m",
                "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
                "day": "d", "days": "d", "D": "d",
                "week": "w", "weeks": "w", "wk": "w",
                "month": "mo", "months": "mo", "mon": "mo", "M": "mo",
            ]
            throw .unknownUnit(unitText, suggestion: aliases[unitText] ?? aliases[unitText.lowercased()])
        }
        guard digits.count <= 12, let amount = Int64(digits) else { throw .tooLarge }
        guard amount > 0 else { throw .notPositive }
        guard amount <= maximumSeconds / unit.seconds else { throw .tooLarge }
        return BotformDuration(amount, unit)
    }

    /// The most natural way to print a number of seconds: `97d`, `36h`, `15m`, `40s`.
    public static func humanize(seconds: Int64) -> String {
        let value = max(0, seconds)
        if value >= 86_400 * 2 { return "\(value / 86_400)d" }
        if value >= 3_600 * 2 { return "\(value / 3_600)h" }
        if value >= 60 * 2 { return "\(value / 60)m" }
        return "\(value)s"
    }
}
