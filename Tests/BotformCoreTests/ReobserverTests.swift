import Foundation
import Synchronization
import Testing

@testable import BotformCore

/// A provider whose list calls take a while and are counted, to see which observation a caller gets.
final class SlowLister: BotProvider {
    let name = "prod"
    let capabilities = ProviderCapabilities(
        canResetSecret: true, canUpdatePermissions: false, seesAllBots: true, caller: "admin")
    let started = Atomic<Int>(0)

    func observe() async throws -> ProviderObservation {
        let number = started.add(1, ordering: .sequentiallyConsistent).newValue
        try await Task.sleep(for: .milliseconds(150))
        return ProviderObservation(provider: name, bots: [], capabilities: capabilities, listCalls: number)
    }

    func execute(_ step: ProviderStep) async throws -> StepOutcome { fatalError("not called") }
}

@Suite("Re-observing after a lost answer")
struct ReobserverTests {
    @Test("a caller never gets an observation that started before it asked; waiting callers share the next one")
    func startedAfterAsking() async throws {
        let provider = SlowLister()
        let observer = Reobserver(provider)
        // The first observation is running when three more callers ask.
        async let first = observer.fresh()
        try await Task.sleep(for: .milliseconds(50))
        async let second = observer.fresh()
        async let third = observer.fresh()
        async let fourth = observer.fresh()
        let numbers = try await [first, second, third, fourth].map(\.listCalls)
        #expect(numbers == [1, 2, 2, 2], "the late callers share observation 2, which started after they asked")
        #expect(provider.started.load(ordering: .sequentiallyConsistent) == 2)
        // Once nothing is running, the next caller starts a new one.
        #expect(try await observer.fresh().listCalls == 3)
    }
}
