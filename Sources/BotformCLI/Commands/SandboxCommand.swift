import ArgumentParser
import BotformSandbox
import BotformSeal
import Foundation

/// `botform sandbox`: the local Fyso-compatible bot API, for trying Botform without an account.
struct SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Run the local sandbox: a Fyso- and Sym-compatible bot API on loopback.",
        discussion: """
            Prints its URL and admin credentials, then serves until interrupted (Ctrl-C). The admin email, \
            password and default tenant come from BOTFORM_SANDBOX_ADMIN_EMAIL, BOTFORM_SANDBOX_ADMIN_PASSWORD \
            and BOTFORM_SANDBOX_TENANT when set (defaults: admin@sandbox.local, a random password, sandbox). \
            The Sym API is under /api/v1/ (SYM_API_URL for symflow); its org admin token comes from \
            BOTFORM_SANDBOX_SYM_TOKEN when set, otherwise a random one is printed. \
            The control API (tenants, API keys, clock, faults, request log) is under /_sandbox/ and answers \
            loopback peers only; see docs/sandbox.md.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "SQLite file that keeps the state across restarts (default: in memory).")
    var data: String?

    @Option(help: "bcrypt cost for secrets and passwords, 4-31 (lower is faster, for tests and benchmarks).")
    var bcryptCost: UInt8 = 10

    @Flag(help: "Log every request to stderr.")
    var verbose = false

    func validate() throws {
        guard (4...31).contains(bcryptCost) else { throw ValidationError("--bcrypt-cost must be from 4 to 31") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
    }

    func run() async throws {
        if let data, AgeIdentity.mayHoldKeyMaterial(data) {
            throw Terminal(noColor: false).report(
                CLIError(
                    "--data looks like a private key, not a path; it is not repeated here, and no file was created",
                    status: .usage)
            ).exitCode
        }
        var options = SandboxOptions.fromEnvironment()
        options.host = host
        options.port = port
        options.dataPath = data
        options.bcryptCost = bcryptCost
        options.verbose = verbose
        let terminal = Terminal(noColor: false)
        let server: SandboxServer
        do {
            server = try await SandboxServer.make(options)
        } catch {
            terminal.err("botform: error: \(error)")
            throw ExitStatus.failure.exitCode
        }
        let shown = options
        let state = data.map { "SQLite at \($0)" } ?? "in memory (lost when the sandbox stops)"
        let password = shown.adminPassword == nil ? server.adminPassword : "(from BOTFORM_SANDBOX_ADMIN_PASSWORD)"
        let symToken = shown.symToken == nil ? server.symToken : "(from BOTFORM_SANDBOX_SYM_TOKEN)"
        do {
            try await server.run { url in
                terminal.out(
                    """
                    Botform sandbox (Fyso Bot Identity API, Sym API) listening on \(url.absoluteString)
                      admin email:    \(shown.adminEmail)
                      admin password: \(password)
                      tenant:         \(shown.tenant)
                      Sym API:        \(SandboxServer.symURL(base: url).absoluteString) (org \(shown.symOrg))
                      Sym token:      \(symToken)
                      state:          \(state)
                      control API:    \(url.absoluteString)/_sandbox/ (loopback only; docs/sandbox.md)
                    Press Ctrl-C to stop.
                    """)
            }
        } catch {
            terminal.err("botform: error: the sandbox stopped: \(error)")
            throw ExitStatus.failure.exitCode
        }
    }
}
