import AsyncHTTPClient
import BotformTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `botform sandbox` as its own process on a free port, with a test client for its control API.
final class SandboxProcess: @unchecked Sendable {
    // @unchecked: the process handle is set in init and read-only after; stop() is idempotent.
    let process = Process()
    let url: String
    let adminPassword = "e2e-admin-password"
    /// The Sym org admin token (`BOTFORM_SANDBOX_SYM_TOKEN`).
    let symToken = "e2e-sym-admin-token"
    let client = HTTPClient(eventLoopGroupProvider: .singleton)

    init(dataPath: String? = nil) throws {
        process.executableURL = BotformProcess.binary
        process.arguments = ["sandbox", "--port", "0", "--bcrypt-cost", "4"] + (dataPath.map { ["--data", $0] } ?? [])
        process.environment = [
            "PATH": "/usr/bin:/bin", "BOTFORM_SANDBOX_ADMIN_PASSWORD": adminPassword, "HOME": NSTemporaryDirectory(),
            "BOTFORM_SANDBOX_SYM_TOKEN": symToken,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = ""
        while !line.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = line.range(of: #"http://[0-9.:]+"#, options: .regularExpression) else {
            process.terminate()
            throw CocoaError(.fileReadUnknown)
        }
        url = String(line[range])
    }

    func stop() {
        try? client.syncShutdown()
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, _ body: Any? = nil, token: String? = nil) async throws -> (
        status: Int, json: Any?
    ) {
        try await jsonCall(client, method, url + path, body: body, token: token)
    }

    func data(_ method: HTTPMethod, _ path: String, _ body: Any? = nil, token: String? = nil) async throws -> Any? {
        ((try await call(method, path, body, token: token).json) as? [String: Any])?["data"]
    }

    func adminToken() async throws -> String {
        let data =
            try await self.data(.POST, "/api/auth/login", ["email": "admin@sandbox.local", "password": adminPassword])
            as? [String: Any]
        return try #require(data?["token"] as? String)
    }

    func requestLog() async throws -> [[String: Any]] {
        ((try await data(.GET, "/_sandbox/requests")) as? [String: Any])?["items"] as? [[String: Any]] ?? []
    }

    func issuedSecrets() async throws -> [String] {
        (try await data(.GET, "/_sandbox/issued-secrets")) as? [String] ?? []
    }

    /// Active bots by name, as stored.
    func activeBots() async throws -> [String] {
        let bots = (try await data(.GET, "/_sandbox/tenants/sandbox/bots")) as? [[String: Any]] ?? []
        return bots.filter { $0["isActive"] as? Bool == true }.compactMap { $0["name"] as? String }.sorted()
    }

    func identifies(_ name: String, _ secret: String) async throws -> Bool {
        try await call(
            .POST, "/api/auth/bots/identify", ["name": name, "secret": secret], token: try await adminToken()
        ).status == 200
    }
}

/// A directory with a configuration, where the built binary runs; it keeps every output for the
/// final search for leaked secrets.
final class Workspace: @unchecked Sendable {
    // @unchecked: used from one test task at a time.
    let directory: URL
    let sandbox: SandboxProcess
    var environment: [String: String]
    private(set) var outputs: [String] = []

    init(sandbox: SandboxProcess) throws {
        self.sandbox = sandbox
        directory = try BotformProcess.temporaryDirectory()
        environment = ["FYSO_EMAIL": "admin@sandbox.local", "FYSO_PASSWORD": sandbox.adminPassword]
        let key = try run(["keygen", "-o", "key.txt"])
        #expect(key.status == 0)
        environment["BOTFORM_RECIPIENTS"] = try run(["keygen", "-y", "key.txt"]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes botform.yaml for the sandbox with these bots (YAML under `bots:`) and extra top-level YAML.
    func configure(bots: String, extra: String = "") throws {
        let text = """
            version: 1
            providers:
              prod:
                type: fyso
                url: \(sandbox.url)
                tenant: sandbox
                credentials:
                  email_env: FYSO_EMAIL
                  password_env: FYSO_PASSWORD
            roles:
              reader:
                permissions: {products: [read]}
            bots:
            \(bots)
            output:
              sealed: secrets.sealed.yaml
            \(extra)
            """
        try text.write(toFile: path("botform.yaml"), atomically: true, encoding: .utf8)
    }

    @discardableResult
    func run(_ arguments: [String], stdin: String? = nil, environment extra: [String: String] = [:]) throws
        -> BotformProcess.Result
    {
        var environment = self.environment
        environment.merge(extra) { $1 }
        let result = try BotformProcess.run(arguments, in: directory, environment: environment, stdin: stdin)
        if arguments.first != "unseal" { outputs.append(result.stdout) }
        outputs.append(result.stderr)
        return result
    }

    /// The secrets Botform holds, opened with the workspace's key.
    func unsealed() throws -> [String: String] {
        let result = try run(["unseal", "secrets.sealed.yaml", "-i", "key.txt", "--format", "json"])
        guard result.status == 0 else { return [:] }
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: Any]] ?? [:]
        return object.compactMapValues { $0["secret"] as? String }
    }

    /// No issued secret appears in any output or any file of the workspace (the sealed file and
    /// journal included: they must hold ciphertext only).
    func expectNoLeaks(_ secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(!secrets.isEmpty, "the leak search needs the issued secrets", sourceLocation: sourceLocation)
        var haystacks = outputs
        for file in (try? FileManager.default.subpathsOfDirectory(atPath: directory.path)) ?? [] {
            if let data = FileManager.default.contents(atPath: path(file)) {
                haystacks.append(String(decoding: data, as: UTF8.self))
            }
        }
        for secret in secrets {
            #expect(
                !haystacks.contains { $0.contains(secret) }, "an issued secret leaked into output or a file",
                sourceLocation: sourceLocation)
        }
    }
}
