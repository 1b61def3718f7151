import ArgumentParser
import BotformCore

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
            KeygenCommand.self,
            SandboxCommand.self, SchemaCommand.self,
        ]
    )

    public init() {}
}

/// The entry point the `botform` executable calls, so that only this target knows ArgumentParser.
public enum Botform {
    public static func main() async {
        await BotformCommand.main()
    }
}
