import ArgumentParser
import BotformCore
import BotformRender

/// `--target`, `--rotate` and `--allow-destroy`, shared by plan and apply.
struct PlanSelection: ParsableArguments {
    @Option(name: .customLong("target"), help: "Plan only this bot (provider/bot or a bot name); repeatable.")
    var targets: [String] = []

    @Option(name: .customLong("rotate"), help: "Reset this bot's secret now; repeatable.")
    var rotate: [String] = []

    @Option(
        name: .customLong("allow-destroy"),
        help: "Allow revoking or replacing this bot despite protect and max_destroy; repeatable.")
    var allowDestroy: [String] = []

    @Option(
        name: .customLong("allow-move"),
        help: ArgumentHelp(
            "Allow this provider to point at another endpoint or tenant than its sealed entries were issued at; repeatable.",
            discussion: "Without it, such a change is refused: the new service would show every managed bot as gone."))
    var allowMove: [String] = []

    var options: PlanDocument.Options {
        PlanDocument.Options(targets: targets, rotate: rotate, allowDestroy: allowDestroy, allowMove: allowMove)
    }
}

/// How a plan is printed.
enum PlanFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case text
    case json
    case markdown
}

extension Terminal {
    /// The renderer's style for stdout: colours only when stdout is a terminal.
    var planStyle: TextStyle {
        guard colorOnStdout else { return .plain }
        return TextStyle(
            create: { "\u{1B}[32m\($0)\u{1B}[0m" }, destroy: { "\u{1B}[31m\($0)\u{1B}[0m" },
            change: { "\u{1B}[33m\($0)\u{1B}[0m" },
            warning: { "\u{1B}[33m\($0)\u{1B}[0m" }, emphasis: { "\u{1B}[1m\($0)\u{1B}[0m" },
            muted: { "\u{1B}[2m\($0)\u{1B}[0m" })
    }

    func render(_ plan: PlanDocument, as format: PlanFormat) throws -> String {
        switch format {
        case .text: PlanTextRenderer(style: planStyle).render(plan)
        case .json: try PlanJSONRenderer().render(plan)
        case .markdown: PlanMarkdownRenderer().render(plan).trimmingSuffixNewlines()
        }
    }
}

extension String {
    func trimmingSuffixNewlines() -> String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
