import BotformCore
import BotformProviders
import BotformTestSupport
import Foundation
import Synchronization

/// A FOKS home served by the built `foks-standin` (a stand-in for the `foks` CLI; see docs/foks.md),
/// with a fresh state: one user, one computer key at `role`, the agent running and unlocked.
final class FoksStandin {
    let scratch: Scratch
    var home: String { scratch.url.path }

    /// The stand-in: `FOKS_STANDIN_BINARY`, or `foks-standin` beside the test bundle.
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["FOKS_STANDIN_BINARY"] { return path }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("foks-standin").path
    }()

    init(user: String = "alice", host: String = "foks.example.com", role: String = "o") throws {
        scratch = try Scratch("foks")
        try standin(["standin", "init", "--user", user, "--host", host, "--role", role])
    }

    /// Runs a stand-in setup command (`standin set lock passphrase`) against this home.
    @discardableResult
    func standin(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--home", home] + arguments
        let output = try runToCompletion(process)
        guard output.status == 0 else {
            throw StandinError(message: String(decoding: output.stderr, as: UTF8.self))
        }
        return String(decoding: output.stdout, as: UTF8.self)
    }

    func set(_ knob: String, _ value: String) throws { try standin(["standin", "set", knob, value]) }

    /// The stand-in's state file, as JSON.
    func state() throws -> [String: Any] {
        let data = try Data(contentsOf: scratch.url.appendingPathComponent("foks-standin-state.json"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// Its keys: (name, device type, role, revoked).
    func keys() throws -> [(name: String, type: Int, role: String, revoked: Bool)] {
        (try state()["keys"] as? [[String: Any]] ?? []).map {
            (
                $0["name"] as? String ?? "", $0["deviceType"] as? Int ?? -1, $0["role"] as? String ?? "",
                $0["revoked"] as? Bool ?? false
            )
        }
    }

    /// How many times the stand-in ran `command` ("key revoke").
    func calls(_ command: String) throws -> Int {
        (try state()["calls"] as? [String: Any])?[command] as? Int ?? 0
    }

    /// A client of this home. Revoke retries pause through `sleep`, which returns at once by default.
    func client(
        timeout: Duration = .seconds(120), environment: [String: String] = [:],
        revokeRetry: FoksCLI.RevokeRetry = .init(),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { _ in }
    ) -> FoksCLI {
        FoksCLI(
            binary: Self.binary, home: home, timeout: timeout, environment: environment, revokeRetry: revokeRetry,
            sleep: sleep)
    }
}

struct StandinError: Error, CustomStringConvertible {
    var message: String
    var description: String { "foks-standin failed: \(message)" }
}

/// Records the pauses asked for, instead of pausing.
final class FoksPauseRecorder: Sendable {
    private let recorded = Mutex<[Duration]>([])
    var pauses: [Duration] { recorded.withLock { $0 } }
    var sleep: @Sendable (Duration) async throws -> Void { { [self] in record($0) } }
    private func record(_ duration: Duration) { recorded.withLock { $0.append(duration) } }
}
