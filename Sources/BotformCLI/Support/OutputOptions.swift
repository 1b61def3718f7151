import ArgumentParser

/// Options every command shares for how it prints.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Never colour output (colour is used only on a terminal, and never when NO_COLOR is set).")
    var noColor = false

    var terminal: Terminal { Terminal(noColor: noColor) }
}

/// Text for people or JSON for tools.
enum DiagnosticFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text
    case json
}
