import AsyncHTTPClient
import BotformCore
import BotformProviders
import BotformSandbox
import BotformTestSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// A sandbox on a free port plus what Botform talks to it with: a real HTTP client and Fyso providers.
final class Lab: Sendable {
    let server: SandboxServer
    let url: URL
    let client: HTTPClient

    init(_ options: SandboxOptions = SandboxOptions()) async throws {
        var options = options
        options.bcryptCost = 4
        options.adminPassword = "lab-admin-password"
        server = try await SandboxServer.make(options)
        url = try await server.start()
        client = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    static func with<T>(_ options: SandboxOptions = SandboxOptions(), _ body: (Lab) async throws -> T) async throws -> T
    {
        let lab = try await Lab(options)
        do {
            let result = try await body(lab)
            await lab.shutdown()
            return result
        } catch {
            await lab.shutdown()
            throw error
        }
    }

    func shutdown() async {
        try? await client.shutdown()
        await server.stop()
    }

    func transport(retry: RetryPolicy = RetryPolicy()) -> HTTPTransport {
        var fast = retry
        fast.baseDelay = .milliseconds(20)
        fast.maxDelay = .milliseconds(200)
        return HTTPTransport(
            client: client, baseURL: url.absoluteString, timeout: .seconds(10), retry: fast,
            logger: Logger(label: "test"))
    }

    func adminProvider(name: String = "prod", tenant: String = "sandbox") async throws -> FysoProvider {
        FysoProvider(
            name: name, tenant: tenant, caller: .admin, auth: .token(Secret(try await server.adminToken())),
            transport: transport())
    }

    /// A control-API or API call, for arranging and inspecting.
    @discardableResult
    func control(_ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil, token: String? = nil) async throws
        -> [String: Any]
    {
        (try await jsonCall(client, method, url.absoluteString + path, body: body, token: token).json as? [String: Any])
            ?? [:]
    }

    func requestLog() async throws -> [[String: Any]] {
        (try await control(.GET, "/_sandbox/requests")["data"] as? [String: Any])?["items"] as? [[String: Any]] ?? []
    }

    func storedBots(tenant: String = "sandbox") async throws -> [[String: Any]] {
        try await control(.GET, "/_sandbox/tenants/\(tenant)/bots")["data"] as? [[String: Any]] ?? []
    }

    /// Whether `secret` identifies `name` (as the admin).
    func identifies(_ name: String, _ secret: Secret) async throws -> Bool {
        let admin = try await server.adminToken()
        var request = HTTPClientRequest(url: url.absoluteString + "/api/auth/bots/identify")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(admin)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(
            ByteBuffer(
                bytes: [UInt8](try JSONSerialization.data(withJSONObject: ["name": name, "secret": secret.reveal()]))))
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status == .ok
    }
}
