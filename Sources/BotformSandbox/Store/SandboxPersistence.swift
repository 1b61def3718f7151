import Foundation
import GRDB

/// SQLite persistence (GRDB, WAL) for `--data`: every object as a JSON row, written in the same
/// critical section as the change it records, so a response is never sent for a change that is not on
/// disk.
final class SandboxPersistence: Sendable {
    private let pool: DatabasePool

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS objects (
                        kind TEXT NOT NULL,
                        id TEXT NOT NULL,
                        body BLOB NOT NULL,
                        PRIMARY KEY (kind, id)
                    );
                    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                    """)
        }
    }

    /// Loads every stored object into a fresh state.
    func load() throws -> SandboxState {
        let decoder = JSONDecoder()
        var state = SandboxState()
        let rows = try pool.read { db in try Row.fetchAll(db, sql: "SELECT kind, id, body FROM objects ORDER BY rowid")
        }
        for row in rows {
            let kind: String = row["kind"]
            let body: Data = row["body"]
            switch SandboxState.StoredKind(rawValue: kind) {
            case .admin: state.put(try decoder.decode(AdminAccount.self, from: body), track: false)
            case .tenant: state.put(try decoder.decode(Tenant.self, from: body), track: false)
            case .user: state.put(try decoder.decode(TenantUser.self, from: body), track: false)
            case .apiKey: state.put(try decoder.decode(APIKey.self, from: body), track: false)
            case .bot: state.put(try decoder.decode(BotIdentity.self, from: body), track: false)
            case .record: state.put(try decoder.decode(EntityRecord.self, from: body), track: false)
            case .symUser: state.put(try decoder.decode(SymUser.self, from: body), track: false)
            case .symToken: state.put(try decoder.decode(SymToken.self, from: body), track: false)
            case nil: continue
            }
        }
        return state
    }

    /// Writes the objects named in `changes`, in one transaction.
    func save(_ changes: SandboxState.ChangeSet, from state: SandboxState) throws {
        guard !changes.isEmpty else { return }
        let encoder = JSONEncoder()
        try pool.write { db in
            for (kind, id) in changes.upserts {
                let body: Data?
                switch kind {
                case .admin: body = try state.admins[id].map(encoder.encode)
                case .tenant: body = try state.tenants[id].map(encoder.encode)
                case .user: body = try state.users[id].map(encoder.encode)
                case .apiKey: body = try state.apiKeys[id].map(encoder.encode)
                case .bot: body = try state.bots[id].map(encoder.encode)
                case .record: body = try state.records[id].map(encoder.encode)
                case .symUser: body = try state.symUsers[id].map(encoder.encode)
                case .symToken: body = try state.symTokens[id].map(encoder.encode)
                }
                guard let body else { continue }
                try db.execute(
                    sql:
                        "INSERT INTO objects (kind, id, body) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
                    arguments: [kind.rawValue, id, body])
            }
            for id in changes.deletedRecords {
                try db.execute(sql: "DELETE FROM objects WHERE kind = 'record' AND id = ?", arguments: [id])
            }
        }
    }

    func meta(_ key: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    func setMeta(_ key: String, _ value: String) throws {
        try pool.write { db in
            try db.execute(
                sql:
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [key, value])
        }
    }
}
