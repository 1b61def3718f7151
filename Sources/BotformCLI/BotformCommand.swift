import ArgumentParser
import BotformCore
import BotformSeal

#if canImport(Glibc)
    import Glibc
#endif

/// The `botform` command: Terraform for bot credentials.
public struct BotformCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "botform",
        abstract: "Declare bots, roles and permissions in YAML; plan and apply them to Fyso, Sym and FOKS.",
        discussion: """
            Exit codes: 0 success (no changes with --detailed-exitcode), 1 error, 2 changes present \
            (--detailed-exitcode), 3 apply incomplete, 4 saved plan stale, 5 sealed file locked, 64 usage.
            """,
        version: BotformVersion.current,
        subcommands: [
            ValidateCommand.self, PlanCommand.self, ApplyCommand.self, ShowCommand.self, UnsealCommand.self,
            KeygenCommand.self, ResealCommand.self, DriftCommand.self, ImportCommand.self,
            SandboxCommand.self, SchemaCommand.self,
        ]
    )

    public init() {}
}

/// The entry point the `botform` executable calls, so that only this target knows ArgumentParser.
public enum Botform {
    public static func main() async {
        ConfigPrefetch.start(arguments: Array(CommandLine.arguments.dropFirst()))
        let command: any ParsableCommand
        do {
            command = try BotformCommand.parseAsRoot()
        } catch {
            // ArgumentParser quotes the argument it could not place. A private key pasted on the command
            // line must not be repeated into a CI log: say so without the value.
            let code = BotformCommand.exitCode(for: error)
            if code != .success, AgeIdentity.mayHoldKeyMaterial(BotformCommand.fullMessage(for: error)) {
                Terminal.write(
                    "botform: error: an argument looks like a private key; it is not repeated here. Keys never go on the command line (they would show in ps and shell history): put the key in a file and pass -i FILE, or set BOTFORM_IDENTITY\n",
                    to: STDERR_FILENO)
                exit(ExitStatus.usage.rawValue)
            }
            BotformCommand.exit(withError: error)
        }
        do {
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                var command = command
                try command.run()
            }
        } catch {
            BotformCommand.exit(withError: error)
        }
    }
}
