import Foundation
import Synchronization

/// One request as the control API reports it: never a body, a header value or a secret.
struct RequestLogEntry: Codable, Sendable {
    var seq: Int
    var at: String
    var method: String
    var path: String
    var query: String?
    var status: Int
    /// `admin`, `user`, `bot`, `api-key` or `anonymous`.
    var caller: String
    var tenant: String?
    var durationMs: Double
    /// `error`, `rate-limited` or `dropped` when a fault was injected.
    var fault: String?
    /// The client's User-Agent (not a secret; tells which tool sent the request).
    var userAgent: String?
}

/// The most recent requests to the API (not the control API), in order.
final class RequestLog: Sendable {
    static let capacity = 200_000

    private struct State {
        var entries: [RequestLogEntry] = []
        var nextSeq = 1
    }

    private let state = Mutex(State())

    func append(_ make: (Int) -> RequestLogEntry) {
        state.withLock { state in
            state.entries.append(make(state.nextSeq))
            state.nextSeq += 1
            if state.entries.count > Self.capacity { state.entries.removeFirst(state.entries.count - Self.capacity) }
        }
    }

    /// Entries with `seq > since`, at most `limit` of them.
    func entries(since: Int, limit: Int) -> [RequestLogEntry] {
        state.withLock { state in
            let start = state.entries.firstIndex { $0.seq > since } ?? state.entries.endIndex
            return Array(state.entries[start..<min(state.entries.endIndex, start + limit)])
        }
    }

    func clear() {
        state.withLock { $0.entries.removeAll() }
    }

    /// Redacts query values whose names suggest a credential, so the log never holds one.
    static func redacted(query: String?) -> String? {
        guard let query, !query.isEmpty else { return nil }
        return query.split(separator: "&").map { pair -> String in
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = String(parts.first ?? "").lowercased()
            let sensitive = ["token", "secret", "key", "password", "auth", "jwt"].contains { name.contains($0) }
            return sensitive && parts.count == 2 ? "\(parts[0])=REDACTED" : String(pair)
        }.joined(separator: "&")
    }
}
