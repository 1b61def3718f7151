import AsyncHTTPClient
import BotformSandbox
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A sandbox on a free loopback port, and a real HTTP client to talk to it.
final class SandboxHarness: Sendable {
    let server: SandboxServer
    let url: URL
    let client: HTTPClient

    /// A JSON response: status, headers, and the parsed body (nil when it is not JSON).
    struct Reply: @unchecked Sendable, CustomStringConvertible {
        // @unchecked: `json` holds JSONSerialization values, created and read on one task.
        var status: Int
        var headers: HTTPHeaders
        var body: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
        var data: [String: Any]? { json?["data"] as? [String: Any] }
        var items: [[String: Any]]? { json?["data"] as? [[String: Any]] }
        var errorCode: String? { (json?["error"] as? [String: Any])?["code"] as? String ?? json?["error"] as? String }
        var description: String { "\(status) \(body)" }
    }

    init(options: SandboxOptions = .init()) async throws {
        var options = options
        options.bcryptCost = 4
        options.adminPassword = options.adminPassword ?? "sandbox-admin-password"
        server = try await SandboxServer.make(options)
        url = try await server.start()
        client = HTTPClient(eventLoopGroupProvider: .singleton)
    }

    /// Runs `body` with a fresh sandbox and stops it afterwards, whatever happens.
    static func with<T>(_ options: SandboxOptions = .init(), _ body: (SandboxHarness) async throws -> T) async throws
        -> T
    {
        let harness = try await SandboxHarness(options: options)
        do {
            let result = try await body(harness)
            await harness.shutdown()
            return result
        } catch {
            await harness.shutdown()
            throw error
        }
    }

    func shutdown() async {
        try? await client.shutdown()
        await server.stop()
    }

    @discardableResult
    func call(
        _ method: HTTPMethod, _ path: String, token: String? = nil, json: Any? = nil, raw: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url.absoluteString + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        } else if let raw {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: raw))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    // MARK: Conveniences

    func adminToken(email: String = "admin@sandbox.local", password: String = "sandbox-admin-password") async throws
        -> String
    {
        let reply = try await call(.POST, "/api/auth/login", json: ["email": email, "password": password])
        return try #require(reply.data?["token"] as? String, "\(reply)")
    }

    /// Makes a tenant user with `permissions` and returns its session token.
    func userToken(email: String, permissions: [String: [String]], tenant: String = "sandbox") async throws -> String {
        let created = try await call(
            .POST, "/_sandbox/tenants/\(tenant)/users",
            json: ["email": email, "password": "user-password", "permissions": ["entities": permissions]])
        #expect(created.status == 201, "\(created)")
        let login = try await call(
            .POST, "/api/auth/tenant/login", json: ["email": email, "password": "user-password"],
            headers: ["X-Tenant-ID": tenant])
        return try #require(login.data?["token"] as? String, "\(login)")
    }

    /// Registers a bot as an admin; returns its id and secret.
    func registerBot(
        _ name: String, permissions: [String: [String]]? = ["products": ["read"]], token: String,
        tenant: String = "sandbox"
    ) async throws -> (id: String, secret: String) {
        var body: [String: Any] = ["name": name, "tenantSlug": tenant]
        if let permissions { body["permissions"] = ["entities": permissions] }
        let reply = try await call(.POST, "/api/auth/bots/register", token: token, json: body)
        #expect(reply.status == 201, "\(reply)")
        return (try #require(reply.data?["id"] as? String), try #require(reply.data?["secret"] as? String))
    }

    func identify(_ name: String, secret: String, token: String, headers: [String: String] = [:]) async throws -> Reply
    {
        try await call(
            .POST, "/api/auth/bots/identify", token: token, json: ["name": name, "secret": secret], headers: headers)
    }

    func advanceClock(seconds: Double) async throws {
        let reply = try await call(.POST, "/_sandbox/clock/advance", json: ["seconds": seconds])
        #expect(reply.status == 200, "\(reply)")
    }

    /// The stored state of a tenant's bots (creator, lockout), via the control API.
    func storedBots(tenant: String = "sandbox") async throws -> [[String: Any]] {
        try #require(try await call(.GET, "/_sandbox/tenants/\(tenant)/bots").items)
    }

    /// The payload of a JWT, decoded without verifying it.
    static func claims(of token: String) throws -> [String: Any] {
        let parts = token.split(separator: ".")
        try #require(parts.count == 3)
        var base64 = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let data = try #require(Data(base64Encoded: base64))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
