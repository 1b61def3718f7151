import Foundation
import Testing

@testable import BotformCore

/// The plan's input digests are compared between a saved plan and apply (possibly another build): the
/// fast spellings must be the exact text the plain ones give.
@Suite("Fingerprints: fast spellings, same text")
struct FingerprintTests {
    @Test("whole seconds spelled as Swift spells the Double")
    func decimal() {
        var values: [Double] = [
            0, 1, -1, 1_764_467_000, 4_102_444_800, 999_999_999_999_999, -86_400, 0.5, 1.25, 1e15, 1e16, 1e300,
        ]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            values.append(Double(Int64.random(in: -4_000_000_000...4_000_000_000, using: &rng)))
            values.append(Double.random(in: -1e10...1e10, using: &rng))
        }
        for value in values {
            #expect(OwnedBot.decimal(value) == "\(value)", "\(value)")
        }
    }

    @Test("an observed bot's fingerprint with its permissions' text given is the plain one")
    func observed() {
        let bot = ObservedBot(
            id: "id-1", name: "agent", isActive: true, permissions: Permissions(["orders": [.read, .update]]))
        #expect(bot.fingerprint(permissionsText: bot.permissions?.canonical) == bot.fingerprint)
        let bare = ObservedBot(id: "id-2", name: "other", isActive: false, permissions: nil)
        #expect(bare.fingerprint(permissionsText: nil) == bare.fingerprint)
    }
}
