import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The sandbox's HTTP server: Hummingbird's HTTP/1.1 server around the router, as `Application` runs
/// it, except for the `Date` header. `Application` sets `Date` from the wall clock after every
/// responder, past any middleware; here it follows the sandbox clock, so advancing the clock moves the
/// time clients read from responses, as it moves the time expiry is judged by.
struct SandboxHTTPServer: Service {
    let responder: RouterResponder<SandboxRequestContext>
    let configuration: ServerConfiguration
    let dateHeader: HTTPDateHeader
    let logger: Logger
    let onServerRunning: @Sendable (any Channel) async -> Void

    func run() async throws {
        let responder = self.responder
        let logger = self.logger
        let dateHeader = self.dateHeader
        let serverName = configuration.serverName
        let server = try HTTPServerBuilder.http1().buildServer(
            configuration: configuration, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: logger,
            responder: { (request, responseWriter: consuming ResponseWriter, channel) in
                let context = SandboxRequestContext(source: .init(channel: channel, logger: logger))
                var response: Response
                do {
                    response = try await responder.respond(to: request, context: context)
                } catch {
                    // The error middleware answers every error; what is left is a dropped response.
                    response = Response(status: .internalServerError)
                }
                response.headers[.date] = dateHeader.current
                if let serverName { response.headers[.server] = serverName }
                try await responseWriter.write(response: response.head, body: response.body)
            },
            onServerRunning: onServerRunning)
        try await server.run()
    }
}
