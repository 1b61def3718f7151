import Foundation
import Testing

@testable import BotformSandbox

/// The sandbox's own IMF-fixdate formatter (the `Date` header) against Foundation's, over four centuries.
@Suite("Sandbox: HTTP Date header format")
struct SymHTTPDateTests {
    @Test("IMF-fixdate matches Foundation's formatting, leap days and pre-1970 included")
    func matchesFoundation() {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let seed = UInt64.random(in: 1...UInt64.max)
        print("SymHTTPDateTests seed \(seed)")
        var state = seed
        var samples: [Int64] = [0, -1, 951_782_400, 951_868_799, 4_107_542_399, 1_796_083_200, -2_208_988_800]
        for _ in 0..<2_000 {
            // SplitMix64, so a failure replays from the printed seed.
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            // 1900-01-01 ... 2300-01-01
            samples.append(-2_208_988_800 + Int64(z % 12_622_780_800))
        }
        var mismatches: [String] = []
        for seconds in samples {
            let ours = HTTPDateHeader.format(epochSeconds: seconds)
            let foundation = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            if ours != foundation { mismatches.append("\(seconds): \(ours) != \(foundation)") }
        }
        #expect(mismatches.isEmpty, "seed \(seed): \(mismatches.prefix(5))")
    }
}
