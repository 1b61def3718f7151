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

/// When and how often to try again.
public struct RetryPolicy: Sendable {
    /// Attempts for 5xx answers and network errors (idempotent calls only).
    public var maxAttempts = 6
    public var baseDelay: Duration = .milliseconds(200)
    public var maxDelay: Duration = .seconds(5)
    /// How long 429s may slow one call before it fails.
    public var rateLimitDeadline: Duration = .seconds(300)

    public init() {}

    /// Exponential backoff with "equal jitter": half the delay fixed, half random, so retries spread out.
    func delay(attempt: Int) -> Duration {
        let exponential = baseDelay * (1 << min(attempt, 20))
        let capped = min(exponential, maxDelay)
        let half = capped / 2
        return half + half * Double.random(in: 0...1)
    }
}

/// The HTTP transport every provider shares: AsyncHTTPClient with timeouts, retries with jittered
/// exponential backoff for idempotent calls, `Retry-After` on rate limits, and never a blind resend of
/// a call that may have happened. Log lines name method, path, status and attempt, never a header or body.
public struct HTTPTransport: Sendable {
    public let client: HTTPClient
    public let baseURL: String
    public let timeout: Duration
    public let retry: RetryPolicy
    public let logger: Logger
    public static let userAgent = "botform/\(BotformVersion.current)"

    /// The client a run shares across providers: connections time out after 10 s.
    public static func makeClient() -> HTTPClient {
        HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(10))))
    }

    public init(
        client: HTTPClient, baseURL: String, timeout: Duration, retry: RetryPolicy = RetryPolicy(), logger: Logger
    ) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeout = timeout
        self.retry = retry
        self.logger = logger
    }

    /// Sends the request, retrying where that is safe. A non-idempotent call that got no usable answer
    /// throws `outcomeUnknown`: the caller re-observes and decides.
    public func send(_ request: APIRequest) async throws(ProviderError) -> APIResponse {
        let started = ContinuousClock.now
        var attempt = 0
        while true {
            attempt += 1
            let outcome: Result<APIResponse, any Error>
            do {
                outcome = .success(try await once(request))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response):
                if response.status == 429, let wait = rateLimitWait(response) {
                    guard ContinuousClock.now - started + wait < retry.rateLimitDeadline else {
                        throw ProviderError(
                            .unavailable,
                            "\(request.method) \(request.path): still rate limited (429) after \(seconds(ContinuousClock.now - started))"
                        )
                    }
                    logger.info(
                        "rate limited; retrying",
                        metadata: ["method": "\(request.method)", "path": "\(request.path)", "wait": "\(wait)"])
                    try? await Task.sleep(for: wait)
                    attempt -= 1
                    continue
                }
                if (500...599).contains(response.status) {
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
                    try? await Task.sleep(for: retry.delay(attempt: attempt))
                    continue
                }
                return response
            case .failure(let error):
                let sent = Self.mayHaveBeenSent(error)
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
                try? await Task.sleep(for: retry.delay(attempt: attempt))
            }
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

    /// The wait a 429 asks for, or nil when the 429 is not a rate limit (a quota such as a bot limit:
    /// waiting will not help).
    private func rateLimitWait(_ response: APIResponse) -> Duration? {
        if let header = response.headers.first(name: "Retry-After") {
            if let seconds = Double(header.trimmingCharacters(in: .whitespaces)) {
                return .milliseconds(Int64(max(0, seconds) * 1_000))
            }
            if let date = Self.httpDate(header) {
                return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1_000))
            }
        }
        let error = FysoErrorBody(response.body)
        if error.code == "RATE_LIMITED" { return retry.delay(attempt: 1) }
        return nil
    }

    /// Whether the request may have reached the service: anything but a failure to connect.
    static func mayHaveBeenSent(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout || error == .alreadyShutdown { return false }
        if error is NIOConnectionError { return false }
        if let error = error as? IOError, [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode) {
            return false
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return false }
        return true
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        if error is NIOConnectionError { return "cannot connect" }
        return String(describing: error).prefix(200).description
    }

    private func seconds(_ duration: Duration) -> String { "\(duration.components.seconds) s" }
}

extension HTTPTransport {
    /// An RFC 7231 date, as `Retry-After` may carry one.
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}
