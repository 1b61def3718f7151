/// What the gate tells its owner about throttling: once when an episode starts, once when it ends.
public enum ThrottleEvent: Sendable, Equatable {
    /// The service asked to slow down (a 429, or a `Retry-After` on another status): every call to it
    /// pauses for `wait`, and at most `concurrency` calls are in flight from now on.
    case throttled(status: Int, wait: Duration, concurrency: Int)
    /// The calls went through for a while without being throttled again: back to `concurrency` at a time.
    case recovered(concurrency: Int)
}

/// Every call to one service passes through its gate: at most `limit` calls in flight, and none while the
/// service asked for a pause. The limit adapts (AIMD, as TCP's congestion window does): halved when the
/// service throttles, raised by one for each `limit` calls that succeed, up to the `--parallelism` asked
/// for. Halving happens once per signal: the throttled answers of calls sent before the last halving were
/// caused by the same overload, so they extend the pause but do not halve again.
public actor RequestGate {
    /// A place in the gate; hand it back with `leave`.
    public struct Ticket: Sendable {
        /// Counts the places handed out, so a throttled answer can tell whether its call was sent after
        /// the last halving (clocks can tie; a count cannot).
        let serial: Int
    }

    /// How a call that held a place ended.
    public enum Outcome: Sendable {
        /// An answer that was not a throttle: the service kept up.
        case success
        /// The service asked for a pause: a 429 (with or without `Retry-After`), or `Retry-After` on
        /// another status. `retryAfter` is the header as sent.
        case throttled(status: Int, retryAfter: String?)
        /// No signal either way (a lost connection, a 5xx without `Retry-After`).
        case neutral
    }

    /// The most calls in flight (the parallelism asked for).
    public let maximum: Int
    /// How long the calls must go unthrottled, with the limit back at the maximum, before an episode ends.
    public let quiet: Duration
    /// The longest pause one answer can impose on every call; a longer wait pauses nobody (the transport
    /// fails the calls that are asked to wait that long).
    public let maximumPause: Duration
    /// The wait for a throttled answer, given its `Retry-After` and how many overload signals came in a
    /// row without a success in between (1 for the first).
    private let backoff: @Sendable (String?, Int) -> Duration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let sleep: @Sendable (Duration) async -> Void
    private let onEvent: (@Sendable (ThrottleEvent) -> Void)?

    private var limit: Double
    private var inFlight = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private var pausedUntil: ContinuousClock.Instant?
    /// Changes whenever the pause is set or extended, so a sleeper can tell that the pause it slept is over.
    private var pauseGeneration = 0
    private var issued = 0
    /// `issued` when the limit was last halved: tickets up to it were sent before the halving.
    private var lastDecrease: Int?
    private var lastThrottle: ContinuousClock.Instant?
    private var inEpisode = false
    /// Overload signals (halvings) since the last success: the backoff grows with it, so a service that
    /// throttles without asking for a delay (or asks for none) is not hammered.
    private var streak = 0

    /// A gate for `maximum` calls at once. `now` and `sleep` are injected so tests run without real pauses.
    public init(
        maximum: Int, quiet: Duration = .seconds(5), maximumPause: Duration = .seconds(300),
        backoff: @escaping @Sendable (String?, Int) -> Duration = {
            RetryPolicy().rateLimitWait(retryAfter: $0, count: $1)
        },
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) },
        onEvent: (@Sendable (ThrottleEvent) -> Void)? = nil
    ) {
        self.maximum = max(1, maximum)
        self.quiet = quiet
        self.maximumPause = maximumPause
        self.backoff = backoff
        self.now = now
        self.sleep = sleep
        self.onEvent = onEvent
        limit = Double(self.maximum)
    }

    /// How many calls may be in flight now.
    public var concurrency: Int { max(1, Int(limit)) }
    /// Whether a throttle episode is under way.
    public var isThrottled: Bool { inEpisode }
    /// The most calls that were in flight at once so far.
    public private(set) var peakInFlight = 0

    /// Waits until the service's pause (if any) is over and a place is free, and takes it.
    public func enter() async -> Ticket {
        while true {
            if let until = pausedUntil {
                let current = now()
                if current < until {
                    let generation = pauseGeneration
                    await sleep(until - current)
                    // Slept through: the pause is served (an injected sleep may not move the clock).
                    if generation == pauseGeneration { pausedUntil = nil }
                    continue
                }
                pausedUntil = nil
            }
            if inFlight < concurrency {
                inFlight += 1
                peakInFlight = max(peakInFlight, inFlight)
                issued += 1
                return Ticket(serial: issued)
            }
            await withCheckedContinuation { waiters.append($0) }
        }
    }

    /// Gives the place back and adapts the limit to how the call ended. For a throttled call, returns
    /// the wait it asks for, which every call then serves in `enter` (unless it exceeds `maximumPause`).
    @discardableResult
    public func leave(_ ticket: Ticket, _ outcome: Outcome) -> Duration {
        inFlight -= 1
        defer { wake() }
        let current = now()
        switch outcome {
        case .success:
            streak = 0
            if limit < Double(maximum) { limit = min(Double(maximum), limit + 1 / limit) }
            if inEpisode, Int(limit) >= maximum, let last = lastThrottle, current - last >= quiet {
                inEpisode = false
                onEvent?(.recovered(concurrency: maximum))
            }
            return .zero
        case .throttled(let status, let retryAfter):
            lastThrottle = current
            if lastDecrease.map({ ticket.serial > $0 }) ?? true {
                // A fresh signal: this call was sent after the last halving.
                streak += 1
                limit = max(1, limit / 2)
                lastDecrease = issued
            }
            let wait = backoff(retryAfter, max(streak, 1))
            // A wait beyond the longest pause fails the calls that get it (the transport refuses to wait
            // that long), rather than stalling every call for nothing.
            let until = current + wait
            if wait <= maximumPause, pausedUntil.map({ until > $0 }) ?? true {
                pausedUntil = until
                pauseGeneration += 1
            }
            if !inEpisode {
                inEpisode = true
                onEvent?(.throttled(status: status, wait: wait, concurrency: concurrency))
            }
            return wait
        case .neutral:
            return .zero
        }
    }

    /// Wakes as many waiters as there are free places; each checks the pause and the limit again.
    private func wake() {
        var free = concurrency - inFlight
        while free > 0, !waiters.isEmpty {
            waiters.removeFirst().resume()
            free -= 1
        }
    }
}
