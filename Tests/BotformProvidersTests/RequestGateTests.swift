import BotformCore
import BotformProviders
import Foundation
import Synchronization
import Testing

/// The request gate, on an injected clock: a sleep moves the clock to its end and returns at once, so
/// no test waits for real time and none depends on how fast the machine is.
@Suite("Request gate: adaptive concurrency and provider-wide pauses", .timeLimit(.minutes(1)))
struct RequestGateTests {
    final class VirtualClock: Sendable {
        private let start = ContinuousClock.now
        private let offset = Mutex(Duration.zero)
        private let sleeps = Mutex<[Duration]>([])

        var slept: [Duration] { sleeps.withLock { $0 } }
        var elapsed: Duration { offset.withLock { $0 } }

        var now: @Sendable () -> ContinuousClock.Instant { { [self] in start + offset.withLock { $0 } } }

        /// Sleeping moves the clock by the duration.
        var sleep: @Sendable (Duration) async -> Void {
            { [self] duration in
                sleeps.withLock { $0.append(duration) }
                offset.withLock { $0 += duration }
            }
        }
    }

    final class Events: Sendable {
        private let events = Mutex<[ThrottleEvent]>([])
        var all: [ThrottleEvent] { events.withLock { $0 } }
        var record: @Sendable (ThrottleEvent) -> Void { { [self] event in events.withLock { $0.append(event) } } }
    }

    /// A gate whose backoff is `count` seconds, or `Retry-After` seconds when given.
    static func gate(
        _ maximum: Int, clock: VirtualClock, events: Events = Events(), quiet: Duration = .seconds(5),
        maximumPause: Duration = .seconds(300)
    ) -> RequestGate {
        RequestGate(
            maximum: maximum, quiet: quiet, maximumPause: maximumPause,
            backoff: { header, count in header.flatMap(Int.init).map { .seconds($0) } ?? .seconds(count) },
            now: clock.now, sleep: clock.sleep, onEvent: events.record)
    }

    @Test("at most `maximum` calls are in flight; a place that frees lets the next one in")
    func limit() async {
        let gate = Self.gate(3, clock: VirtualClock())
        var tickets: [RequestGate.Ticket] = []
        for _ in 0..<3 { tickets.append(await gate.enter()) }
        let entered = Mutex(false)
        let fourth = Task {
            let ticket = await gate.enter()
            entered.withLock { $0 = true }
            return ticket
        }
        for _ in 0..<50 { await Task.yield() }
        #expect(!entered.withLock { $0 }, "a fourth call got in while three were in flight")
        await gate.leave(tickets[0], .success)
        let ticket = await fourth.value
        #expect(entered.withLock { $0 })
        await gate.leave(ticket, .success)
    }

    @Test("a throttle halves the limit, pauses every call for the wait asked, and is announced once")
    func throttle() async {
        let clock = VirtualClock()
        let events = Events()
        let gate = Self.gate(8, clock: clock, events: events)
        let ticket = await gate.enter()
        let wait = await gate.leave(ticket, .throttled(status: 429, retryAfter: "2"))
        #expect(wait == .seconds(2))
        #expect(await gate.concurrency == 4)
        #expect(events.all == [.throttled(status: 429, wait: .seconds(2), concurrency: 4)])
        // Any call, not only the one throttled, waits out the pause.
        let other = await gate.enter()
        #expect(clock.slept == [.seconds(2)])
        #expect(clock.elapsed == .seconds(2))
        await gate.leave(other, .success)
        #expect(events.all.count == 1, "one notice per episode, not per call")
    }

    @Test("answers to calls sent before a halving extend the pause but do not halve again")
    func oneHalvingPerSignal() async {
        let clock = VirtualClock()
        let gate = Self.gate(16, clock: clock)
        var tickets: [RequestGate.Ticket] = []
        for _ in 0..<16 { tickets.append(await gate.enter()) }
        for ticket in tickets { await gate.leave(ticket, .throttled(status: 429, retryAfter: "1")) }
        #expect(await gate.concurrency == 8)
        // A call sent after the halving that is throttled again is a new signal.
        let later = await gate.enter()
        await gate.leave(later, .throttled(status: 429, retryAfter: "1"))
        #expect(await gate.concurrency == 4)
    }

    @Test("without Retry-After the wait grows with each signal in a row, and a success resets it")
    func streak() async {
        let clock = VirtualClock()
        let gate = Self.gate(8, clock: clock)
        var waits: [Duration] = []
        for _ in 0..<3 {
            let ticket = await gate.enter()
            waits.append(await gate.leave(ticket, .throttled(status: 429, retryAfter: nil)))
        }
        #expect(waits == [.seconds(1), .seconds(2), .seconds(3)])
        let ticket = await gate.enter()
        await gate.leave(ticket, .success)
        let again = await gate.enter()
        #expect(await gate.leave(again, .throttled(status: 429, retryAfter: nil)) == .seconds(1))
        #expect(await gate.concurrency == 1, "8 halved four times, never below 1")
    }

    @Test("successes raise the limit by one per `limit` calls back to the maximum; quiet ends the episode")
    func recovery() async {
        let clock = VirtualClock()
        let events = Events()
        let gate = Self.gate(8, clock: clock, events: events, quiet: .seconds(10))
        let first = await gate.enter()
        await gate.leave(first, .throttled(status: 503, retryAfter: "1"))
        #expect(await gate.concurrency == 4)
        var successes = 0
        while await gate.concurrency < 8, successes < 1_000 {
            let ticket = await gate.enter()
            await gate.leave(ticket, .success)
            successes += 1
        }
        // Additive: each success adds 1/limit, so from 4 to 8 takes (8² - 4²) / 2 = 24 successes.
        #expect(successes == 24, "\(successes) successes to recover")
        #expect(await gate.isThrottled, "the episode lasts until the calls went quiet for 10 s")
        await clock.sleep(.seconds(10))
        let ticket = await gate.enter()
        await gate.leave(ticket, .success)
        #expect(!(await gate.isThrottled))
        #expect(
            events.all == [.throttled(status: 503, wait: .seconds(1), concurrency: 4), .recovered(concurrency: 8)])
    }

    @Test("a neutral outcome (lost connection, 5xx without Retry-After) changes nothing")
    func neutral() async {
        let clock = VirtualClock()
        let gate = Self.gate(4, clock: clock)
        let ticket = await gate.enter()
        #expect(await gate.leave(ticket, .neutral) == .zero)
        #expect(await gate.concurrency == 4)
        _ = await gate.enter()
        #expect(clock.slept.isEmpty)
    }

    @Test("a wait beyond the longest pause pauses nobody: the calls asked to wait so long fail instead")
    func beyondMaximumPause() async {
        let clock = VirtualClock()
        let gate = Self.gate(4, clock: clock, maximumPause: .seconds(60))
        let ticket = await gate.enter()
        #expect(await gate.leave(ticket, .throttled(status: 429, retryAfter: "3600")) == .seconds(3_600))
        _ = await gate.enter()
        #expect(clock.slept.isEmpty)
    }

    @Test("a sleep that returns early still serves the pause: no spinning when the clock does not move")
    func servedPause() async {
        let slept = Mutex(0)
        let gate = RequestGate(
            maximum: 2, backoff: { _, _ in .seconds(30) }, now: { ContinuousClock.now },
            sleep: { _ in slept.withLock { $0 += 1 } })
        let ticket = await gate.enter()
        await gate.leave(ticket, .throttled(status: 429, retryAfter: nil))
        _ = await gate.enter()
        #expect(slept.withLock { $0 } == 1)
    }
}
