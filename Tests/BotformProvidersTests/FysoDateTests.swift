import BotformCore
import BotformProviders
import Foundation
import Testing

/// The list's times are read without a date formatter (20,000 of them in a 10,000-bot list): the
/// result must be the formatter's, and any other form must still be read by it.
@Suite("Fyso list times", .timeLimit(.minutes(1)))
struct FysoDateTests {
    static let stamps = [
        "2026-11-29T23:15:38Z", "2026-11-29T23:15:38.123Z", "2024-02-29T00:00:00Z", "1999-12-31T23:59:59.5Z",
        "2000-03-01T12:00:00Z", "2026-01-01T00:00:00.000001Z", "2026-11-29T23:15:38+02:00",
    ]

    @Test("each form reads as ISO 8601 says", arguments: stamps)
    func sameAsFormatter(stamp: String) async throws {
        let body =
            #"{"success":true,"data":[{"id":"b1","name":"timed","createdAt":"\#(stamp)","lastSeenAt":"\#(stamp)"}]}"#
        try await StubService.with(always: .init(200, body)) { _, url in
            let bot = try #require(try await StubService.provider(url).observe().bots.first)
            let expected =
                (try? Date(stamp, strategy: .iso8601))
                ?? (try? Date(stamp, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
            let created = try #require(bot.createdAt)
            let wanted = try #require(expected)
            #expect(abs(created.timeIntervalSince(wanted)) < 0.001, "\(stamp): \(created) vs \(wanted)")
            #expect(bot.lastSeenAt == bot.createdAt)
        }
    }

    @Test("a time in no known form is no time, not an error")
    func unknownForm() async throws {
        let body = #"{"success":true,"data":[{"id":"b1","name":"timed","createdAt":"yesterday-ish"}]}"#
        try await StubService.with(always: .init(200, body)) { _, url in
            let observation = try await StubService.provider(url).observe()
            #expect(observation.bots.first?.createdAt == nil)
        }
    }
}
