import AsyncHTTPClient
import BotformCore
import BotformProviders
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A scripted HTTP service on a free loopback port, for answers the sandbox never gives: a malformed
/// list item, a 429 without `Retry-After`, a quota 429 that asks to be retried.
final class StubService: Sendable {
    /// One canned answer.
    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: String

        init(_ status: Int, headers: [(String, String)] = [], _ body: String) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// A request as the script sees it.
    struct Request: Sendable {
        var method: String
        /// The path with its query.
        var path: String
        var authorization: String?
        /// How many requests came before this one.
        var index: Int
    }

    typealias Script = @Sendable (Request) -> Answer

    private let script: Script
    private let log = Mutex<[String]>([])
    private let channel = Mutex<(any Channel)?>(nil)

    init(_ script: @escaping Script) {
        self.script = script
    }

    /// Every request so far, as `METHOD /path`.
    var requests: [String] { log.withLock { $0 } }

    /// Starts listening and returns the base URL.
    func start() async throws -> String {
        let bound = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(service: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.withLock { $0 = bound }
        return "http://127.0.0.1:\(bound.localAddress?.port ?? 0)"
    }

    func stop() async {
        let bound = channel.withLock { $0 }
        try? await bound?.close()
    }

    /// Runs `body` against a started stub, and stops it whatever happens.
    static func with<T>(_ script: @escaping Script, _ body: (StubService, String) async throws -> T) async throws -> T {
        let stub = StubService(script)
        let url = try await stub.start()
        do {
            let result = try await body(stub, url)
            await stub.stop()
            return result
        } catch {
            await stub.stop()
            throw error
        }
    }

    /// Runs `body` against a started stub that gives every request the same answer.
    static func with<T>(always answer: Answer, _ body: (StubService, String) async throws -> T) async throws -> T {
        try await with({ _ in answer }, body)
    }

    fileprivate func answer(_ head: HTTPRequestHead) -> Answer {
        let method = head.method.rawValue
        let index = log.withLock { log in
            log.append("\(method) \(head.uri)")
            return log.count - 1
        }
        return script(
            Request(
                method: method, path: head.uri, authorization: head.headers.first(name: "Authorization"), index: index))
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let service: StubService
        var head: HTTPRequestHead?

        init(service: StubService) {
            self.service = service
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
            case .body:
                break
            case .end:
                guard let head else { return }
                let answer = service.answer(head)
                var headers = HTTPHeaders(answer.headers)
                headers.add(name: "Content-Type", value: "application/json")
                headers.add(name: "Content-Length", value: "\(answer.body.utf8.count)")
                let status = HTTPResponseStatus(statusCode: answer.status)
                context.write(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                    promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

/// Records the transport's waits instead of sleeping them, and keeps a clock that moves by what was
/// "slept" (so a pause the request gate measures ends when its sleep was recorded).
final class SleepRecorder: Sendable {
    private let waits = Mutex<[Duration]>([])
    private let start = ContinuousClock.now

    var recorded: [Duration] { waits.withLock { $0 } }
    var total: Duration { recorded.reduce(.zero, +) }

    /// The `RetryPolicy.sleep` that records.
    var sleep: @Sendable (Duration) async -> Void {
        { [self] duration in waits.withLock { $0.append(duration) } }
    }

    /// The `RetryPolicy.now` that moves only with the recorded sleeps.
    var now: @Sendable () -> ContinuousClock.Instant {
        { [self] in start + total }
    }
}

extension StubService {
    /// A transport to `url` whose waits go to `sleeps`: 20 ms base delay, 200 ms cap, unless `configure` changes them.
    static func transport(
        _ url: String, sleeps: SleepRecorder, client: HTTPClient = .shared,
        _ configure: (inout RetryPolicy) -> Void = { _ in }
    ) -> HTTPTransport {
        var policy = RetryPolicy()
        policy.baseDelay = .milliseconds(20)
        policy.maxDelay = .milliseconds(200)
        policy.sleep = sleeps.sleep
        policy.now = sleeps.now
        configure(&policy)
        return HTTPTransport(
            client: client, baseURL: url, timeout: .seconds(10), retry: policy, logger: Logger(label: "test"))
    }

    /// An admin Fyso provider for tenant `sandbox` at `url`.
    static func provider(
        _ url: String, sleeps: SleepRecorder = SleepRecorder(), revokedNamesReusable: Bool? = nil,
        _ configure: (inout RetryPolicy) -> Void = { _ in }
    ) -> FysoProvider {
        FysoProvider(
            name: "prod", tenant: "sandbox", caller: .admin, auth: .token(Secret("stub-admin-token")),
            transport: transport(url, sleeps: sleeps, configure), revokedNamesReusable: revokedNamesReusable)
    }
}
