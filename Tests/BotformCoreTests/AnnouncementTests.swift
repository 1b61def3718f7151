import BotformCore
import Foundation
import Testing

/// Registrations are announced ahead of their call place, a bounded number at a time.
@Suite("Apply: registrations announced ahead, at most `parallelism` waiting", .timeLimit(.minutes(1)))
struct AnnouncementTests {
    @Test("at most `parallelism` registrations wait announced beyond the calls in flight, and all complete")
    func boundedAhead() async throws {
        let provider = GatedProvider()
        let custody = AheadCustody(provider: provider)
        let actions = (0..<12).map { index in
            PlannedAction(
                address: "prod/bot-\(index)", provider: "prod", bot: "bot-\(index)", action: .register, botID: nil,
                reasons: [])
        }
        let plan = PlanDocument(
            createdAt: Date(timeIntervalSince1970: 1_800_000_000), configuration: .init(path: "-", sha256: "-"),
            options: .init(), providers: [], actions: actions, drift: [], guards: [], inputs: [:])
        let executor = ApplyExecutor(providers: ["prod": provider], custody: custody, parallelism: 2) { _ in }
        let run = Task { await executor.run(plan) }
        // Two calls hold the two places, and two more registrations are announced (durable) behind them.
        while true {
            let (calls, intents) = (await provider.waiting, await custody.intents)
            if calls == 2 && intents >= 4 { break }
            await Task.yield()
        }
        // An unbounded executor would announce all twelve while no call has been answered.
        await provider.open()
        let result = await run.value
        #expect(result.completed.count == 12)
        #expect(await custody.intents == 12)
        let violations = await custody.violations
        #expect(violations.isEmpty, "\(violations)")
    }
}

/// Custody that counts intents and checks each against the bound: the k-th intent may be journaled only
/// when k <= 2 x parallelism + calls answered (a place frees only when a call is answered).
actor AheadCustody: SecretCustody {
    let provider: GatedProvider
    private(set) var intents = 0
    private(set) var violations: [String] = []

    init(provider: GatedProvider) {
        self.provider = provider
    }

    func ownership() async -> Ownership { Ownership() }
    func recordIntent(_ intent: IssueIntent, entry: EntryKey, id: String?, permissions: Permissions?)
        async throws
    {
        intents += 1
        let number = intents
        let answered = await provider.answered
        if number > 4 + answered { violations.append("intent \(number) with \(answered) calls answered") }
    }
    func recordAborted(_ intent: IssueIntent, entry: EntryKey) async throws {}
    func recordIssued(_ issued: IssuedCredential) async throws {}
    func recordRevoked(entry: EntryKey, id: String) async throws {}
    func recordCreated(provider: String, bot: String, id: String) async throws {}
    func recordAdopted(provider: String, bot: String, id: String, permissions: Permissions?) async throws {}
    func recordForgotten(entry: EntryKey) async throws {}
}
