import AsyncHTTPClient
import BotformCore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// One HTTP request to a service, as the transport needs to know it.
public struct APIRequest: Sendable {
    public var method: HTTPMethod
    public var path: String
    public var headers: [(String, String)]
    public var body: Data?
    /// Safe to send again when no answer came (GET, revoke, login).
    public var idempotent: Bool

    public init(method: HTTPMethod, path: String, headers: [(String, String)] = [], body: Data? = nil, idempotent: Bool)
    {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.idempotent = idempotent
    }
}

/// A service's answer.
public struct APIResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: Data
}

/// When and how often to try again, and how to wait in between.
public struct RetryPolicy: Sendable {
    /// Attempts for 5xx answers and lost answers (idempotent calls only) and for calls never sent (any call).
    public var maxAttempts = 6
    public var baseDelay: Duration = .milliseconds(200)
    public var maxDelay: Duration = .seconds(5)
    /// How long 429s may slow one call before it fails: the waits asked for and the backoff together.
    public var rateLimitDeadline: Duration = .seconds(300)
    /// Error codes of 429 answers that are quotas, not rates (a user's active-bot limit): waiting will not
    /// help, so the answer goes back to the provider at once. Codes ending in `_LIMIT_REACHED` or
    /// holding `QUOTA` count too, unless they name a rate (`RATE_LIMIT_REACHED`).
    public var quotaCodes: Set<String> = ["BOT_LIMIT_REACHED", "LIMIT_REACHED", "QUOTA_EXCEEDED"]
    /// How the transport waits before trying again; tests pass one that records instead of sleeping.
    public var sleep: @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    /// The clock a provider-wide pause is measured on; tests pass one that moves only with their sleeps.
    public var now: @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }

    public init() {}

    /// Exponential backoff with "equal jitter": half the delay fixed, half random, so retries spread out.
    /// `attempt` counts from 1; the delay doubles with each attempt up to `maxDelay`.
    public func delay(attempt: Int) -> Duration {
        let exponential = baseDelay * (1 << min(max(attempt, 0), 20))
        let capped = min(exponential, maxDelay)
        let half = capped / 2
        return half + half * Double.random(in: 0...1)
    }

    /// Whether a 429 with this error code is a quota (refused until something changes) rather than a rate.
    public func isQuota(_ code: String?) -> Bool {
        guard let code = code?.uppercased() else { return false }
        if quotaCodes.contains(code) { return true }
        return !code.contains("RATE") && (code.hasSuffix("_LIMIT_REACHED") || code.contains("QUOTA"))
    }

    /// How long to wait after the `count`th 429 of a call: what `Retry-After` asks (seconds or an HTTP
    /// date), but never less than the backoff for that count, so `Retry-After: 0`, a date in the past
    /// or no header at all backs off more with each 429 instead of spinning.
    public func rateLimitWait(retryAfter header: String?, count: Int, now: Date = Date()) -> Duration {
        let backoff = delay(attempt: count)
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return backoff }
        let seconds: Double
        if let number = Double(header), number.isFinite {
            seconds = number
        } else if let date = HTTPTransport.httpDate(header) {
            seconds = date.timeIntervalSince(now)
        } else {
            return backoff
        }
        // Clamped to a day: the deadline refuses anything longer, and the conversion must not overflow.
        let asked = Duration.milliseconds(Int64(min(max(0, seconds), 86_400) * 1_000))
        return max(asked, backoff)
    }
}

/// The HTTP transport of one provider: AsyncHTTPClient with timeouts, retries with jittered exponential
/// backoff for idempotent calls and for calls never sent, backoff on rate limits (at least what
/// `Retry-After` asks, within a deadline, for every call to the service at once), quota 429s handed
/// straight back, and never a blind resend of a call that may have happened. Every call passes through
/// the transport's `RequestGate`: at most `concurrency` in flight, fewer while the service throttles.
/// Log lines name method, path, status and attempt, never a header or body.
public struct HTTPTransport: Sendable {
    public let client: HTTPClient
    public let baseURL: String
    public let timeout: Duration
    public let retry: RetryPolicy
    public let logger: Logger
    /// The most calls in flight to this service (`--parallelism`); the gate adapts below it.
    public let concurrency: Int
    /// Shared by every copy of this transport: the service's pause and the adaptive limit.
    public let gate: RequestGate
    /// Shared by every copy of this transport: whether the service still answers at all.
    let reachability: Reachability
    public static let userAgent = "botform/\(BotformVersion.current)"

    /// The client a run shares across providers: connections time out after 10 s, and up to `parallelism`
    /// connections per host are kept (AsyncHTTPClient's default of 8 would cap any parallelism above it).
    /// A connection that cannot be made fails its requests at once (instead of AsyncHTTPClient retrying
    /// until each request's deadline): `send` retries them itself, with backoff, as calls never sent.
    public static func makeClient(parallelism: Int = 8) -> HTTPClient {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, parallelism)
        return HTTPClient(
            eventLoopGroup: SpreadEventLoops(HTTPClient.defaultEventLoopGroup), configuration: configuration)
    }

    /// A transport to `baseURL`. `concurrency` bounds the calls in flight (the run's parallelism), and
    /// `onThrottle` hears when the service starts and stops throttling (once per episode, not per call).
    public init(
        client: HTTPClient, baseURL: String, timeout: Duration, retry: RetryPolicy = RetryPolicy(), logger: Logger,
        concurrency: Int = 8, onThrottle: (@Sendable (ThrottleEvent) -> Void)? = nil
    ) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
        self.retry = retry
        self.logger = logger
        self.concurrency = max(1, concurrency)
        let policy = retry
        reachability = Reachability()
        gate = RequestGate(
            maximum: self.concurrency, maximumPause: retry.rateLimitDeadline,
            backoff: { policy.rateLimitWait(retryAfter: $0, count: $1) }, now: retry.now, sleep: retry.sleep,
            onEvent: onThrottle)
    }

    /// Sends the request, retrying where that is safe. A non-idempotent call that got no usable answer
    /// throws `outcomeUnknown`: the caller re-observes and decides. Every other failure thrown here
    /// (`unavailable`) means the service did not carry the call out: it was never sent, or was answered
    /// with a 429 or (idempotent calls only) a 5xx. A quota 429 is returned for the provider to report.
    /// A pause the service asks for (429, or `Retry-After` on a 5xx) is served in the gate, by every call.
    public func send(_ request: APIRequest) async throws(ProviderError) -> APIResponse {
        let started = ContinuousClock.now
        var attempt = 0
        var rateLimited = 0
        var waited: Duration = .zero
        while true {
            attempt += 1
            if let down = reachability.down(now: retry.now()) {
                throw ProviderError(
                    .unavailable,
                    "\(request.method) \(request.path): not sent: no call has reached the service for \(seconds(down.since)) (\(down.error)); run again once it answers"
                )
            }
            let ticket = await gate.enter()
            if attempt > 1 || rateLimited > 0, Task.isCancelled {
                await gate.leave(ticket, .neutral)
                throw ProviderError(
                    .unavailable, "\(request.method) \(request.path): cancelled before it was sent again")
            }
            let outcome: Result<APIResponse, any Error>
            do {
                outcome = .success(try await once(request))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response):
                reachability.reached()
                let retryAfter = response.headers.first(name: "Retry-After")
                if response.status == 429 {
                    if retry.isQuota(FysoErrorBody(response.body).code) {
                        await gate.leave(ticket, .neutral)
                        return response
                    }
                    rateLimited += 1
                    let wait = await gate.leave(ticket, .throttled(status: 429, retryAfter: retryAfter))
                    // Injected sleeps take no time: count what was waited as well as what the clock says.
                    let spent = max(ContinuousClock.now - started, waited)
                    guard spent + wait <= retry.rateLimitDeadline else {
                        throw ProviderError(
                            .unavailable,
                            "\(request.method) \(request.path): still rate limited (429) after \(rateLimited) tries in \(seconds(spent)); it was not carried out"
                        )
                    }
                    logger.info(
                        "rate limited; retrying",
                        metadata: [
                            "method": "\(request.method)", "path": "\(request.path)", "wait": "\(wait)",
                            "count": "\(rateLimited)",
                        ])
                    waited += wait
                    attempt -= 1
                    continue
                }
                if (500...599).contains(response.status) {
                    // A 5xx that says when to come back slows every call to the service, as a 429 does.
                    let asked = retryAfter != nil
                    let wait =
                        asked
                        ? await gate.leave(ticket, .throttled(status: response.status, retryAfter: retryAfter))
                        : await gate.leave(ticket, .neutral)
                    guard request.idempotent else {
                        throw ProviderError(
                            .outcomeUnknown,
                            "\(request.method) \(request.path) failed with \(response.status); it may or may not have taken effect"
                        )
                    }
                    guard attempt < retry.maxAttempts else {
                        throw ProviderError(
                            .unavailable,
                            "\(request.method) \(request.path) failed with \(response.status) \(attempt) times")
                    }
                    logger.info(
                        "server error; retrying",
                        metadata: ["path": "\(request.path)", "status": "\(response.status)", "attempt": "\(attempt)"])
                    // With Retry-After the gate serves the wait (at least the backoff) on the next enter.
                    if !asked || wait > retry.rateLimitDeadline {
                        try await pause(retry.delay(attempt: attempt), request)
                    }
                    continue
                }
                await gate.leave(ticket, .success)
                return response
            case .failure(let error):
                await gate.leave(ticket, .neutral)
                let sent = Self.mayHaveBeenSent(error)
                if sent {
                    reachability.reached()
                } else {
                    reachability.unreachable(Self.describe(error), now: retry.now())
                }
                if sent && !request.idempotent {
                    throw ProviderError(
                        .outcomeUnknown,
                        "\(request.method) \(request.path): the connection failed before an answer (\(Self.describe(error))); it may or may not have taken effect"
                    )
                }
                guard attempt < retry.maxAttempts else {
                    throw ProviderError(
                        .unavailable, "\(request.method) \(request.path): \(Self.describe(error)) (\(attempt) attempts)"
                    )
                }
                logger.info(
                    "network error; retrying",
                    metadata: ["path": "\(request.path)", "error": "\(Self.describe(error))", "attempt": "\(attempt)"])
                try await pause(retry.delay(attempt: attempt), request)
            }
        }
    }

    /// Waits before the next attempt. Only reached when the last attempt was not carried out, so a
    /// cancellation here is a definite `unavailable`.
    private func pause(_ duration: Duration, _ request: APIRequest) async throws(ProviderError) {
        await retry.sleep(duration)
        if Task.isCancelled {
            throw ProviderError(.unavailable, "\(request.method) \(request.path): cancelled before it was sent again")
        }
    }

    private func once(_ request: APIRequest) async throws -> APIResponse {
        let url =
            request.path.hasPrefix("http://") || request.path.hasPrefix("https://")
            ? request.path : baseURL + request.path
        var outgoing = HTTPClientRequest(url: url)
        outgoing.method = request.method
        outgoing.headers.add(name: "User-Agent", value: Self.userAgent)
        outgoing.headers.add(name: "Accept", value: "application/json")
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body {
            outgoing.headers.add(name: "Content-Type", value: "application/json")
            outgoing.body = .bytes(ByteBuffer(bytes: [UInt8](body)))
        }
        let response = try await client.execute(
            outgoing,
            timeout: .nanoseconds(
                Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000))
        let body = try await response.body.collect(upTo: 64 << 20)
        logger.debug(
            "http",
            metadata: ["method": "\(request.method)", "path": "\(request.path)", "status": "\(response.status.code)"])
        return APIResponse(
            status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
    }

    /// Whether the request may have reached the service: anything but a failure to connect.
    static func mayHaveBeenSent(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError,
            [.connectTimeout, .alreadyShutdown, .getConnectionFromPoolTimeout].contains(error)
        {
            return false
        }
        if error is NIOConnectionError { return false }
        if let error = error as? IOError, [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode) {
            return false
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return false }
        return true
    }

    /// An error as log lines and messages may show it: its kind, never what it carries. Some errors
    /// carry request data (AsyncHTTPClient's `invalidHeaderFieldValues` carries the header values, a
    /// bearer token among them), so everything from the first parenthesis or bracket on is dropped.
    static func describe(_ error: any Error) -> String {
        if error is NIOConnectionError { return "cannot connect" }
        let text = String(describing: error)
        let kind = String(text.prefix { $0 != "(" && $0 != "[" && $0 != "\n" }).prefix(200)
            .trimmingCharacters(in: .whitespaces)
        if error is HTTPClientError, text.hasPrefix("HTTPClientError.invalidHeaderField") {
            return "\(kind) (a header the HTTP client refused to send: does a credential hold a line break?)"
        }
        return kind.isEmpty ? "an error of type \(type(of: error))" : String(kind)
    }

    private func seconds(_ duration: Duration) -> String { "\(duration.components.seconds) s" }
}

extension HTTPTransport {
    /// An HTTP date (RFC 9110), as `Date` and `Retry-After` carry one.
    static func httpDate(_ text: String) -> Date? {
        HTTPDate.parse(text)
    }
}

/// Whether a service still answers, for every call to it. Once calls have failed to connect at all
/// (refused, unreachable, timed out: never sent), 3 or more in a row and for `downAfter` since the
/// first of them, with no answer in between, the service counts as down, and the calls not yet sent fail
/// at once (not sent: a definite refusal, as a refused connection is) instead of each retrying for
/// seconds on its own: an apply of 1,000 bots against a service that went away mid-run took 17 minutes
/// of backoff at parallelism 8 to fail; it now ends about `downAfter` after the service went.
/// Any answer (an error status included), or a call that got as far as being sent, starts over: a
/// slow service that drops connections is alive, and time spent waiting (a prompt, a 429's pause)
/// before the first failure does not count.
final class Reachability: @unchecked Sendable {
    // @unchecked: every stored property is read and written only while holding `lock`.
    private let lock = NSLock()
    private var failingSince: ContinuousClock.Instant?
    private var failures = 0
    private var lastError = ""
    /// How long calls must have kept failing to connect, `failuresWhenDown` or more in a row, for the
    /// service to count as down: longer than a rolling restart, far shorter than every call's own backoff.
    static let downAfter: Duration = .seconds(30)
    static let failuresWhenDown = 3

    init() {}

    /// An answer came, or a call was sent (its connection was made): the service is there.
    func reached() {
        lock.lock()
        defer { lock.unlock() }
        failingSince = nil
        failures = 0
    }

    /// A call could not connect.
    func unreachable(_ error: String, now: ContinuousClock.Instant) {
        lock.lock()
        defer { lock.unlock() }
        if failingSince == nil { failingSince = now }
        failures += 1
        lastError = error
    }

    /// How long calls have failed to connect, and the last failure, when the service counts as down.
    func down(now: ContinuousClock.Instant) -> (since: Duration, error: String)? {
        lock.lock()
        defer { lock.unlock() }
        guard let failingSince, failures >= Self.failuresWhenDown, now - failingSince >= Self.downAfter else {
            return nil
        }
        return (now - failingSince, lastError)
    }
}

/// The shared event loops, handed out in turn even to a caller already running on one of them.
/// AsyncHTTPClient places a request (and a connection it opens) on `any()`, which is the caller's own
/// loop when the caller runs on one; with Swift concurrency on the loops, every call of an apply then
/// landed on one loop. Taking them in turn spreads connections, and the work of their answers, over all.
final class SpreadEventLoops: EventLoopGroup, @unchecked Sendable {
    // @unchecked: `base` is immutable and itself Sendable.
    private let base: any EventLoopGroup

    init(_ base: any EventLoopGroup) {
        self.base = base
    }

    func next() -> any EventLoop { base.next() }
    func any() -> any EventLoop { base.next() }
    func makeIterator() -> EventLoopIterator { base.makeIterator() }

    /// The loops are shared: shutting this view down leaves them running.
    func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        queue.async { callback(nil) }
    }

    func _preconditionSafeToSyncShutdown(file: StaticString, line: UInt) {}
}
