import ArgumentParser
import BotformCore
import BotformSeal
import Foundation

/// `--lock-timeout`, and taking the sealed file's lock as every command that writes it does: another
/// holder is exit 5 naming it; a lock that cannot be taken at all (permissions, a directory in its place)
/// is an error (exit 1); a holder that died is reported, and what it recorded is kept.
struct LockOptions: ParsableArguments {
    @Option(help: "How long to wait for another apply's lock on the sealed file, e.g. 30s or 5m.")
    var lockTimeout = "0s"

    func validate() throws {
        if lockTimeout != "0", lockTimeout != "0s", (try? BotformDuration.parse(lockTimeout)) == nil {
            throw ValidationError("--lock-timeout takes a duration such as 30s or 5m")
        }
    }

    private var seconds: TimeInterval {
        (try? BotformDuration.parse(lockTimeout)).map { TimeInterval($0.seconds) } ?? 0
    }

    func acquire(sealedPath: String, terminal: Terminal) async throws -> SealLock {
        let lock: SealLock
        do {
            lock = try await SealLock.acquire(sealedPath: sealedPath, timeout: seconds)
        } catch {
            guard case .held = error else { throw CLIError(error.description) }
            throw CLIError(error.description, status: .locked)
        }
        if let previous = lock.previousHolder {
            terminal.warn("an earlier apply (\(previous)) did not finish; anything it recorded is kept")
        }
        return lock
    }
}
