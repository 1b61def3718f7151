import BotformCore
import BotformProviders
import Foundation
import Testing

/// How the Fyso provider reads answers the sandbox never gives, served by a scripted stub.
@Suite("Fyso wire parsing", .timeLimit(.minutes(1)))
struct FysoWireTests {
    static let good = #"{"id":"b1","name":"good","isActive":true,"permissions":{"entities":{"products":["read"]}}}"#

    /// One list page holding a good item, then `item`.
    static func list(_ item: String) -> String { #"{"success":true,"data":[\#(good),\#(item)]}"# }

    /// Malformed items, each with the part of the error that must say where and why.
    static let malformed: [(item: String, expected: String)] = [
        (#"{"name":"no-id","secret":"s3cret-in-item"}"#, "data[1].id: missing"),
        (#"{"id":"b2","secret":"s3cret-in-item"}"#, "data[1].name: missing"),
        (#"{"id":null,"name":"null-id","secret":"s3cret-in-item"}"#, "data[1].id: null"),
        (#"{"id":7,"name":"number-id","secret":"s3cret-in-item"}"#, "data[1].id: not a string"),
        (#"{"id":"","name":"empty-id","secret":"s3cret-in-item"}"#, "data[1].id: empty"),
        (
            #"{"id":"b2","name":"flag","isActive":"yes","secret":"s3cret-in-item"}"#,
            "data[1].isActive: not true or false"
        ),
        (
            #"{"id":"b2","name":"admin","permissions":{"entities":{"products":["read","admin"]}},"secret":"s3cret-in-item"}"#,
            #"data[1].permissions.entities.products[1]: unknown action "admin""#
        ),
        (
            #"{"id":"b2","name":"flat","permissions":{"entities":{"products":"read"}},"secret":"s3cret-in-item"}"#,
            "data[1].permissions.entities.products: not a list"
        ),
        (
            #"{"id":"b2","name":"star","permissions":"all","secret":"s3cret-in-item"}"#,
            "data[1].permissions: not an object"
        ),
        (#""s3cret-in-item""#, "data[1]: not an object"),
    ]

    @Test("a list item that cannot be read fails the observation, naming the page and the item", arguments: malformed)
    func malformedItem(item: String, expected: String) async throws {
        try await StubService.with(always: .init(200, Self.list(item))) { _, url in
            do {
                let observation = try await StubService.provider(url).observe()
                Issue.record("observed \(observation.bots.map(\.name)) from a list with a malformed item")
            } catch let error as ProviderError {
                #expect(error.kind == .badResponse)
                #expect(error.message.contains(expected), "\(error.message)")
                #expect(error.message.contains("page 1"), "\(error.message)")
                #expect(!error.message.contains("s3cret"), "the item's other values are never echoed")
                #expect(!error.isDefiniteRefusal)
            }
        }
    }

    @Test("a bad item on a later page of the paged shape names that page")
    func malformedOnLaterPage() async throws {
        let script: StubService.Script = { request in
            if request.path.hasSuffix("page=2") {
                return .init(200, #"{"data":{"items":[{"id":"b2","name":"x","isActive":1}],"page":2,"totalPages":2}}"#)
            }
            return .init(200, #"{"data":{"items":[\#(Self.good)],"total":2,"page":1,"limit":1,"totalPages":2}}"#)
        }
        try await StubService.with(script) { stub, url in
            let error = await #expect(throws: ProviderError.self) { try await StubService.provider(url).observe() }
            #expect(error?.kind == .badResponse)
            #expect(error?.message.contains("page 2") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains(#"bot "x""#) == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("data.items[0].isActive: not true or false") == true)
            #expect(stub.requests == ["GET /api/auth/bots", "GET /api/auth/bots?page=2"])
        }
    }

    @Test("unknown fields are ignored at every level; absent fields take their defaults")
    func unknownFieldsTolerated() async throws {
        let page1 = """
            {"success":true,"meta":{"requestId":"r1","version":"1.40"},"data":[
              {"id":"b1","name":"full","isActive":false,"tenantSlug":"sandbox","tenantId":"t1",
               "permissions":{"entities":{"products":["read","create"],"orders":[]},"fields":{"x":1},"version":2},
               "createdAt":"2024-05-01T10:00:00.123Z","lastSeenAt":"2024-05-02T11:00:00Z",
               "createdBy":{"kind":"admin","id":"a1"},"labels":["x"],"failedAttempts":0,"lockedUntil":null},
              {"id":"b2","name":"bare"},
              {"id":"b3","name":"null-permissions","permissions":null,"isActive":null,"createdAt":"yesterday"},
              {"id":"b4","name":"no-entities","permissions":{}},
              {"id":"other","tenantSlug":"staging","name":"other-tenant","isActive":"not judged: not ours"}
            ]}
            """
        let script: StubService.Script = { request in
            if request.path.hasSuffix("page=2") {
                return .init(200, #"{"data":[{"id":"b5","name":"second-page","extra":{"deep":[1,2,{"a":null}]}}]}"#)
            }
            return .init(200, headers: [("Link", #"<http://x.invalid/api/auth/bots?page=2>; rel="next""#)], page1)
        }
        try await StubService.with(script) { _, url in
            let observation = try await StubService.provider(url).observe()
            #expect(
                observation.bots.map(\.name) == ["full", "bare", "null-permissions", "no-entities", "second-page"])
            #expect(observation.listCalls == 2)
            let full = try #require(observation.bots.first)
            #expect(full.id == "b1" && !full.isActive)
            #expect(full.permissions == Permissions(["products": [.read, .create]]))
            let created = try #require(full.createdAt, "fractional seconds are read")
            #expect(abs(created.timeIntervalSince1970 - 1_714_557_600.123) < 0.001)
            #expect(full.lastSeenAt == Date(timeIntervalSince1970: 1_714_647_600))
            for bot in observation.bots.dropFirst() {
                #expect(bot.isActive && bot.permissions == Permissions(), "\(bot.name)")
            }
            #expect(observation.bots[2].createdAt == nil, "a time in another format is left out, not an error")
        }
    }

    @Test("a list answer that is not JSON is a bad response, not a refusal")
    func listNotJSON() async throws {
        try await StubService.with(always: .init(200, "<html>maintenance</html>")) { _, url in
            let error = await #expect(throws: ProviderError.self) { try await StubService.provider(url).observe() }
            #expect(error?.kind == .badResponse, "\(error?.message ?? "")")
            #expect(error?.message.contains("not a list of bots") == true)
        }
    }

    /// Error bodies: the object form, the rate limiter's string form, odd types, and no JSON at all.
    static let refusals: [(status: Int, body: String, code: String?, summary: String)] = [
        (
            409,
            #"{"success":false,"error":{"code":"CONFLICT","message":"name taken","details":{"n":1}},"requestId":"r"}"#,
            "CONFLICT", "name taken (CONFLICT)"
        ),
        (
            400, #"{"success":false,"error":"VALIDATION_ERROR","message":"bad name","hint":null}"#, "VALIDATION_ERROR",
            "bad name (VALIDATION_ERROR)"
        ),
        (400, #"{"error":{"code":7,"message":"odd code"},"message":"top"}"#, nil, "odd code"),
        (422, #"{"error":42,"message":"only a message"}"#, nil, "only a message"),
        (404, "<html>not found</html>", nil, "no details"),
    ]

    @Test("both error body forms are read, and odd ones do not hide the status", arguments: refusals)
    func errorBodies(status: Int, body: String, code: String?, summary: String) async throws {
        try await StubService.with(always: .init(status, body)) { _, url in
            let error = await #expect(throws: ProviderError.self) {
                try await StubService.provider(url).execute(.register(name: "agent", permissions: Permissions()))
            }
            #expect(error?.kind == .rejected(status: status, code: code))
            #expect(error?.message.hasSuffix("(\(status)): \(summary)") == true, "\(error?.message ?? "")")
        }
    }

    @Test("any 2xx register with an id and secret is a registration")
    func acceptedRegister() async throws {
        let body = #"{"success":true,"data":{"id":"b9","name":"agent","secret":"fresh-secret","extra":[1]}}"#
        try await StubService.with(always: .init(202, body)) { _, url in
            let outcome = try await StubService.provider(url).execute(
                .register(name: "agent", permissions: Permissions()))
            guard case .registered(let id, let secret?) = outcome else {
                Issue.record("not registered: \(outcome)")
                return
            }
            #expect(id == "b9" && secret.reveal() == "fresh-secret")
        }
    }

    static let incomplete: [(status: Int, body: String)] = [
        (201, #"{"success":true,"data":{"id":"b1"}}"#),
        (200, #"{"success":true,"data":{"id":"b1","secret":5}}"#),
        (201, #"{"success":true,"data":{"id":"b1","secret":""}}"#),
        (201, #"{"success":true}"#),
        (204, ""),
        (200, "not json"),
    ]

    @Test("a 2xx register or reset without the id and secret is outcome-unknown", arguments: incomplete)
    func incompleteAnswers(status: Int, body: String) async throws {
        try await StubService.with(always: .init(status, body)) { _, url in
            let provider = StubService.provider(url)
            for step in [
                ProviderStep.register(name: "agent", permissions: Permissions()),
                .resetSecret(id: "b1", name: "agent"),
            ] {
                let error = await #expect(throws: ProviderError.self) { try await provider.execute(step) }
                #expect(error?.kind == .outcomeUnknown, "\(step): \(error?.message ?? "")")
            }
        }
    }

    @Test("the login token is read from data.token or the top level")
    func loginTokenForms() async throws {
        for (index, login) in [#"{"success":true,"data":{"token":"session-1"}}"#, #"{"token":"session-1"}"#]
            .enumerated()
        {
            let script: StubService.Script = { request in
                if request.path == "/api/auth/tenant/login" { return .init(200, login) }
                guard request.authorization == "Bearer session-1" else {
                    return .init(401, #"{"error":"UNAUTHORIZED"}"#)
                }
                return .init(200, #"{"data":[]}"#)
            }
            try await StubService.with(script) { stub, url in
                let provider = FysoProvider(
                    name: "prod", tenant: "sandbox", caller: .user,
                    auth: .login(email: "ci@acme.test", password: Secret("pw")),
                    transport: StubService.transport(url, sleeps: SleepRecorder()))
                let observation = try await provider.observe()
                #expect(observation.bots.isEmpty, "form \(index)")
                #expect(stub.requests == ["POST /api/auth/tenant/login", "GET /api/auth/bots"], "form \(index)")
            }
        }
    }

    @Test("the provider reports whether revoked names are reusable, as declared")
    func revokedNamesReusable() async throws {
        try await StubService.with(always: .init(200, #"{"data":[]}"#)) { _, url in
            #expect(StubService.provider(url).capabilities.revokedNamesReusable == nil)
            let declared = StubService.provider(url, revokedNamesReusable: false)
            #expect(declared.capabilities.revokedNamesReusable == false)
            let observed = try await declared.observe().capabilities
            #expect(observed.revokedNamesReusable == false)
            let reusable = try await StubService.provider(url, revokedNamesReusable: true).observe().capabilities
            #expect(reusable.revokedNamesReusable == true)
        }
    }
}
