import BotformCore
import Foundation
import Testing

@testable import BotformSandbox

/// The bot list is written straight to bytes for speed; these hold the bytes to the shape it had when
/// it was built as `JSONValue`s (the reference below), and the fast timestamps to the formatter's.
@Suite("Sandbox: the bot list body")
struct BotListBodyTests {
    /// The list as the sandbox first wrote it: the shape every client test and interop test reads.
    static func reference(_ bots: [(bot: BotIdentity, tenantSlug: String)]) -> String {
        let items = bots.map { bot, tenantSlug in
            JSONValue.object([
                ("id", .string(bot.id)),
                ("name", .string(bot.name)),
                ("tenantSlug", .string(tenantSlug)),
                ("isActive", .bool(bot.isActive)),
                ("lastSeenAt", bot.lastSeenAt.map { .string($0.formatted(.iso8601)) } ?? .null),
                (
                    "permissions",
                    .object([
                        (
                            "entities",
                            .object(
                                bot.permissions.entityNames.map { entity in
                                    (
                                        entity,
                                        .array(bot.permissions.actions(for: entity).sorted.map { .string($0.rawValue) })
                                    )
                                })
                        )
                    ])
                ),
                ("createdAt", .string(bot.createdAt.formatted(.iso8601))),
            ])
        }
        return JSONValue.object([("success", .bool(true)), ("data", .array(items))]).serialized(pretty: false)
    }

    /// Text with every character `JSONValue` escapes, and some it does not.
    static let awkward = [
        "plain", "", "quote\"back\\slash/", "line\nreturn\rtab\t", "\u{0}\u{1}\u{1F}\u{7F}", "\u{80}\u{9F}\u{A0}",
        "\u{2027}\u{2028}\u{2029}\u{202A}", "caf\u{E9} cafe\u{301} \u{65E5}\u{672C} \u{1F600}", "\u{FFFF}\u{10FFFF}",
    ]

    @Test("the body is byte for byte the JSONValue serialisation, for awkward values", arguments: 0..<8)
    func sameBytes(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        let bots = (0..<(seed == 0 ? 0 : 200)).map { index -> (bot: BotIdentity, tenantSlug: String) in
            var permissions = Permissions()
            for _ in 0..<Int(random.next() % 4) {
                permissions.grant(
                    ActionSet(rawValue: UInt8(random.next() % 16)), on: pick(["products", "b"] + Self.awkward))
            }
            let created = Date(timeIntervalSince1970: 1_700_000_000 + random.nextUnit() * 100_000_000)
            let bot = BotIdentity(
                id: index.isMultiple(of: 3) ? pick(Self.awkward) + "\(index)" : UUID().uuidString.lowercased(),
                tenantID: "t", name: pick(Self.awkward), secretHash: "never-listed", permissions: permissions,
                createdByKind: .admin, createdByID: "a", isActive: random.next() % 2 == 0, createdAt: created,
                lastSeenAt: random.next() % 2 == 0 ? nil : created.addingTimeInterval(random.nextUnit() * 1_000),
                revokedAt: nil, failedAttempts: 0, lockedUntil: nil)
            return (bot, pick(["sandbox", "plan"] + Self.awkward))
        }
        var listed: [String: SandboxState.ListedBot] = [:]
        for (bot, tenantSlug) in bots {
            listed[bot.id] = .init(isActive: bot.isActive, json: BotListBody.item(bot, tenantSlug: tenantSlug))
        }
        let body = String(decoding: BotListBody.list(bots.map(\.bot.id) + ["unknown"], from: listed), as: UTF8.self)
        #expect(body == Self.reference(bots), "seed \(seed)")
        #expect(!body.contains("never-listed"), "a secret hash is never listed")
    }

    @Test("a bot's list entry follows the bot and its tenant's slug, whichever is stored first")
    func listedBotsFollowChanges() throws {
        let created = Date(timeIntervalSince1970: 1_764_469_341)
        var bot = BotIdentity(
            id: "b1", tenantID: "t1", name: "agent", secretHash: "never-listed",
            permissions: Permissions(["products": [.read]]), createdByKind: .admin, createdByID: "a", isActive: true,
            createdAt: created, lastSeenAt: nil, revokedAt: nil, failedAttempts: 0, lockedUntil: nil)
        var tenant = Tenant(id: "t1", slug: "first", name: "First", ownerAdminID: "a", createdAt: created)
        func listed(_ state: SandboxState) -> String {
            String(decoding: state.listedBots["b1"]?.json ?? [], as: UTF8.self)
        }
        // As a persisted state may load: the bot's row before its tenant's.
        var state = SandboxState()
        state.put(bot, track: false)
        state.put(tenant, track: false)
        #expect(listed(state) == String(decoding: BotListBody.item(bot, tenantSlug: "first"), as: UTF8.self))
        bot.isActive = false
        bot.lastSeenAt = created.addingTimeInterval(60)
        state.put(bot)
        tenant.slug = "renamed"
        state.put(tenant)
        #expect(listed(state) == String(decoding: BotListBody.item(bot, tenantSlug: "renamed"), as: UTF8.self))
        #expect(listed(state).contains(#""isActive":false,"lastSeenAt":"2025-11-30T02:23:21Z""#), "\(listed(state))")
        #expect(state.listedBots["b1"]?.isActive == false)
    }

    @Test("fast timestamps are the ISO 8601 formatter's, near second boundaries too")
    func timestamps() {
        var random = SplitMix64(seed: 7)
        var times: [Double] = [
            0, 1, 0.0005, 0.9995, 0.999999, 1.9999999999, 951_782_400, 1_709_164_800, 4_107_542_399.5,
            253_402_300_799.5, 253_402_300_800, -0.5, -1.0000001, -62_135_596_801,
        ]
        for _ in 0..<20_000 {
            let whole = Double(random.next() % 4_102_444_800)
            times += [whole, whole + random.nextUnit(), whole + 0.999 + random.nextUnit() / 1_000, whole - 1e-7]
        }
        for time in times {
            let date = Date(timeIntervalSince1970: time)
            let expected = date.formatted(.iso8601)
            guard Timestamp.string(date) == expected else {
                Issue.record("\(time): \(Timestamp.string(date)) vs \(expected)")
                return
            }
        }
    }
}
