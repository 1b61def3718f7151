import BotformCore
import BotformProviders
import BotformSandbox
import Foundation
import Logging
import NIOHTTP1
import Testing

/// Reading a paged bot list: the pages after the first are read concurrently once the first tells the
/// total, and a list that changed while it was read (pages that do not add up) is read again.
@Suite("Fyso bot list paging", .timeLimit(.minutes(2)))
struct FysoPagingTests {
    static func bot(_ id: String) -> String { #"{"id":"\#(id)","name":"bot-\#(id)","isActive":true}"# }

    static func page(_ ids: [String], total: Int?, next: Int? = nil) -> StubService.Answer {
        var headers: [(String, String)] = []
        if let total { headers.append(("X-Total-Count", String(total))) }
        if let next { headers.append(("Link", "</api/auth/bots?page=\(next)>; rel=\"next\"")) }
        return .init(200, headers: headers, #"{"success":true,"data":["# + ids.map(bot).joined(separator: ",") + "]}")
    }

    @Test("pages 2 and on are read concurrently, each once, and the plan still counts every list call")
    func concurrentPages() async throws {
        try await Lab.with { lab in
            let provider = try await lab.adminProvider()
            let read = Permissions(["products": [.read]])
            for index in 0..<23 { _ = try await provider.execute(.register(name: "paged-\(index)", permissions: read)) }
            try await lab.control(.PUT, "/_sandbox/settings", ["botListPageSize": 4])
            // Each call takes at least 100 ms, so pages asked for together are in flight together.
            try await lab.control(.PUT, "/_sandbox/faults", ["latencyMs": 100])
            try await lab.control(.DELETE, "/_sandbox/requests")
            let transport = lab.transport()
            let paged = FysoProvider(
                name: "prod", tenant: "sandbox", caller: .admin,
                auth: .token(Secret(try await lab.server.adminToken())),
                transport: transport)
            let observation = try await paged.observe()
            #expect(Set(observation.bots.map(\.name)) == Set((0..<23).map { "paged-\($0)" }))
            #expect(observation.bots.count == 23)
            #expect(observation.listCalls == 6)
            let lists = try await lab.requestLog().filter { $0["path"] as? String == "/api/auth/bots" }
            let queries = lists.map { $0["query"] as? String ?? "" }.sorted()
            #expect(queries == ["", "page=2", "page=3", "page=4", "page=5", "page=6"], "\(queries)")
            let peak = await transport.gate.peakInFlight
            #expect(peak > 1, "pages 2-6 were read one after another")
            #expect(peak <= transport.concurrency)
        }
    }

    @Test("pages that do not add up to the total (the list changed between pages) are read again")
    func changedBetweenPages() async throws {
        let script: StubService.Script = { request in
            switch (request.index, request.path.contains("page=2")) {
            // First reading: a bot registered after page 1 was read; page 2 counts 4 and "c" slid off it.
            case (0, false): Self.page(["a", "b"], total: 3, next: 2)
            case (1, true): Self.page(["b", "new"], total: 4, next: 3)
            // Second reading: consistent.
            case (_, false): Self.page(["a", "b"], total: 4, next: 2)
            default: Self.page(["c", "new"], total: 4)
            }
        }
        try await StubService.with(script) { stub, url in
            let observation = try await StubService.provider(url).observe()
            #expect(observation.bots.map(\.id).sorted() == ["a", "b", "c", "new"])
            #expect(observation.listCalls == 4, "two readings of two pages")
            #expect(stub.requests.count == 4)
        }
    }

    @Test("a list that keeps changing fails the observation rather than plan on a list that may miss bots")
    func keepsChanging() async throws {
        let script: StubService.Script = { request in
            request.path.contains("page=2")
                ? Self.page(["c"], total: 4 + request.index) : Self.page(["a", "b"], total: 3, next: 2)
        }
        try await StubService.with(script) { stub, url in
            let error = await #expect(throws: ProviderError.self) { try await StubService.provider(url).observe() }
            #expect(error?.kind == .badResponse)
            #expect(error?.message.contains("kept changing") == true, "\(error?.message ?? "")")
            #expect(stub.requests.count == 8, "four readings of two pages")
        }
    }

    @Test("the same bot on two pages is a changed list, even when the counts match")
    func duplicate() async throws {
        let script: StubService.Script = { request in
            switch (request.index, request.path.contains("page=2")) {
            case (0, false): Self.page(["a", "b"], total: 4, next: 2)
            case (1, true): Self.page(["b", "c"], total: 4)
            case (_, false): Self.page(["a", "b"], total: 4, next: 2)
            default: Self.page(["c", "d"], total: 4)
            }
        }
        try await StubService.with(script) { _, url in
            let observation = try await StubService.provider(url).observe()
            #expect(observation.bots.map(\.id).sorted() == ["a", "b", "c", "d"])
            #expect(observation.listCalls == 4)
        }
    }

    @Test("pages named by a cursor, or without a total, are followed one after another")
    func cursor() async throws {
        let script: StubService.Script = { request in
            request.path.contains("cursor=")
                ? Self.page(["c"], total: nil)
                : .init(
                    200, headers: [("Link", "<http://elsewhere.test/api/auth/bots?cursor=x1>; rel=\"next\"")],
                    #"{"success":true,"data":[\#(Self.bot("a")),\#(Self.bot("b"))]}"#)
        }
        try await StubService.with(script) { stub, url in
            let observation = try await StubService.provider(url).observe()
            #expect(observation.bots.map(\.id) == ["a", "b", "c"])
            #expect(stub.requests == ["GET /api/auth/bots", "GET /api/auth/bots?cursor=x1"])
        }
    }

    @Test("the records API's paged shape: total and totalPages in the body, pages asked for by number")
    func pagedShape() async throws {
        let script: StubService.Script = { request in
            let number = request.path.split(separator: "=").last.flatMap { Int($0) } ?? 1
            let ids = number == 3 ? ["e"] : ["\(number)a", "\(number)b"]
            let items = ids.map(Self.bot).joined(separator: ",")
            return .init(
                200,
                #"{"success":true,"data":{"items":[\#(items)],"total":5,"page":\#(number),"limit":2,"totalPages":3}}"#)
        }
        try await StubService.with(script) { stub, url in
            let observation = try await StubService.provider(url).observe()
            #expect(observation.bots.map(\.id) == ["1a", "1b", "2a", "2b", "e"])
            #expect(
                stub.requests.sorted() == [
                    "GET /api/auth/bots", "GET /api/auth/bots?page=2", "GET /api/auth/bots?page=3",
                ])
        }
    }
}
