import Foundation

/// Owns the state. Every mutation runs in one actor turn together with its write to SQLite (when
/// persistent), so concurrent requests see a consistent state and a change is on disk before its
/// response is sent. Slow work (bcrypt) is done by callers before or after, never inside.
actor SandboxStore {
    private var state: SandboxState
    private let persistence: SandboxPersistence?

    init(persistence: SandboxPersistence?) throws {
        self.persistence = persistence
        state = try persistence?.load() ?? SandboxState()
    }

    func read<T: Sendable>(_ body: (SandboxState) throws -> T) rethrows -> T {
        try body(state)
    }

    func write<T: Sendable>(_ body: (inout SandboxState) throws -> T) throws -> T {
        let result: T
        do {
            result = try body(&state)
        } catch {
            // A rule refused the change; anything it did before throwing is not persisted either.
            _ = state.takeChanges()
            throw error
        }
        let changes = state.takeChanges()
        try persistence?.save(changes, from: state)
        return result
    }
}
