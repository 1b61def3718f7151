import BotformConfig
import BotformCore
import BotformSeal
import Foundation

/// The configuration of a `plan` or `apply`, read on a thread of its own while the command line is
/// parsed. Parsing the arguments takes about 10 ms (the Swift runtime's first look-ups of the commands'
/// types) and reading a 1,000-bot configuration about 15 ms; one after the other they delayed the first
/// call of every run (measured with timing marks).
///
/// Only a guess: the path is picked from the arguments without the parser, and the command uses what was
/// read only if it resolves the same location (`take`), then reports its diagnostics as if it had read
/// it then. Reading has no effect of its own: a wrong guess costs the other core a read, nothing else.
enum ConfigPrefetch {
    /// What was read ahead: the location, the load, its digest, and the output settings as the loader
    /// told them.
    struct Read: Sendable {
        var location: String
        var loaded: LoadedConfig
        var sha256: String
        var output: OutputSettings?
    }

    private static let condition = NSCondition()
    // Guarded by `condition`.
    nonisolated(unsafe) private static var started: String?
    nonisolated(unsafe) private static var done: Read?

    /// The options of `plan` and `apply` that take a value: the token after one is not the path.
    static let valued: Set<String> = [
        "--out", "--format", "--parallelism", "--target", "--rotate", "--allow-destroy", "--allow-move",
        "--lock-timeout", "--identity", "-i",
    ]

    /// The configuration path `arguments` (without the program's name) give `plan` or `apply`: nil when
    /// they name another command, or when the path cannot be told without the parser.
    static func guess(_ arguments: [String]) -> String?? {
        guard let command = arguments.first, command == "plan" || command == "apply" else { return nil }
        var positional: [String] = []
        var index = 1
        while index < arguments.count {
            let token = arguments[index]
            if token == "--" {
                positional += arguments[(index + 1)...]
                break
            }
            if token.hasPrefix("-") && token.count > 1 {
                if valued.contains(token) { index += 1 }
            } else {
                positional.append(token)
            }
            index += 1
        }
        guard positional.count <= 1 else { return nil }
        guard let path = positional.first else { return .some(nil) }
        // A key pasted where the path goes is refused by the command, without a word of it read here.
        guard !AgeIdentity.mayHoldKeyMaterial(path) else { return nil }
        return .some(path)
    }

    /// Starts reading the configuration `arguments` point at, when they run `plan` or `apply`.
    static func start(arguments: [String]) {
        guard case .some(let path) = guess(arguments) else { return }
        let location = ConfigLocation.resolve(path)
        condition.lock()
        started = location
        condition.unlock()
        let thread = Thread {
            var output: OutputSettings?
            let loaded = ConfigLoader.load(path: location) { output = $0 }
            let read = Read(
                location: location, loaded: loaded, sha256: Frontend.digest(of: loaded.files), output: output)
            condition.lock()
            done = read
            condition.broadcast()
            condition.unlock()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// What was read ahead for `location`, once, waiting for it if it is still being read; nil when
    /// nothing was started for this location.
    static func take(_ location: String) -> Read? {
        condition.lock()
        defer { condition.unlock() }
        guard started == location else { return nil }
        while done == nil { condition.wait() }
        defer { (started, done) = (nil, nil) }
        return done?.location == location ? done : nil
    }
}
