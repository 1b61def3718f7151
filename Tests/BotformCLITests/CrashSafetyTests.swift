import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Crash safety: kill -9 during apply", .serialized, .timeLimit(.minutes(5)))
struct CrashSafetyTests {
    /// Starts `botform` in the workspace, kills it with SIGKILL after `delay`, returns what it printed.
    func killed(_ arguments: [String], workspace: Workspace, after delay: Duration) async throws -> String {
        let process = Process()
        process.executableURL = BotformProcess.binary
        process.arguments = arguments
        process.currentDirectoryURL = workspace.directory
        var environment = workspace.environment
        environment["PATH"] = "/usr/bin:/bin"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try await Task.sleep(for: delay)
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    @Test("killed at random points with dropped responses on, the next runs lose nothing and leak nothing")
    func killNine() async throws {
        let sandbox = try SandboxProcess()
        defer { sandbox.stop() }
        try await sandbox.call(.PUT, "/_sandbox/settings", ["recordIssuedSecrets": true])
        try await sandbox.call(.PUT, "/_sandbox/faults", ["dropRate": 0.3, "latencyMs": 15, "seed": 11])
        let workspace = try Workspace(sandbox: sandbox)
        let names = (1...30).map { String(format: "agent-%02d", $0) }
        try workspace.configure(bots: PlanApplyEndToEndTests.bots(names))

        var generator = SystemRandomNumberGenerator()
        var outputs: [String] = []
        var kills = 0
        for round in 0..<16 {
            var arguments = ["apply", "--auto-approve", "--parallelism", "6"]
            if round % 3 == 2 { arguments += ["--rotate", names[Int.random(in: 0..<names.count, using: &generator)]] }
            let delay = Duration.milliseconds(Int.random(in: 40...700, using: &generator))
            let text = try await killed(arguments, workspace: workspace, after: delay)
            if !text.contains("Apply complete") { kills += 1 }
            outputs.append(text)
        }
        #expect(kills >= 8, "most runs must really be killed mid-apply (\(kills) were)")

        // Recover: with the faults still on, two normal runs converge.
        var recovered = false
        for _ in 0..<2 where !recovered {
            let run = try workspace.run(["apply", "--auto-approve"])
            outputs.append(run.stdout + run.stderr)
            recovered = run.status == 0
        }
        try await sandbox.call(.DELETE, "/_sandbox/faults")
        #expect(recovered, "apply did not converge within two runs after the kills")
        #expect(try workspace.run(["plan", "--detailed-exitcode"]).status == 0)

        #expect(try await sandbox.activeBots() == names, "every declared bot is active exactly once")
        let secrets = try workspace.unsealed()
        #expect(secrets.keys.sorted() == names.map { "prod/\($0)" }, "a secret is held for every bot")
        for (address, secret) in secrets {
            #expect(
                try await sandbox.identifies(String(address.split(separator: "/")[1]), secret),
                "\(address)'s sealed secret does not work")
        }
        let issued = try await sandbox.issuedSecrets()
        #expect(issued.count > names.count, "kills and drops must have lost some secrets, which were then reset")
        for secret in issued {
            #expect(!outputs.contains { $0.contains(secret) }, "a secret reached the output of a killed run")
        }
        try workspace.expectNoLeaks(issued)
    }
}
