import BotformCore
import Foundation

/// The plan as a pull-request comment: the summary first, destructive and blocked actions called out,
/// details collapsed, and never longer than a comment allows (65,536 characters on GitHub): a large plan
/// is summarised by reason, with the first rows listed.
public struct PlanMarkdownRenderer: Sendable {
    /// The length the rendering stays under.
    public var limit: Int

    public init(limit: Int = 65_000) {
        self.limit = limit
    }

    public func render(_ plan: PlanDocument) -> String {
        // Full detail when it fits, then fewer rows, then a summary by reason only.
        for rows in [Int.max, 500, 200, 50, 10] {
            let text = compose(plan, maxRows: rows, details: rows == Int.max)
            if text.count <= limit { return text }
        }
        return String(compose(plan, maxRows: 0, details: false).prefix(limit - 20)) + "\n\n…(truncated)\n"
    }

    private func compose(_ plan: PlanDocument, maxRows: Int, details: Bool) -> String {
        var out: [String] = []
        if !plan.hasChanges {
            out.append("### Botform plan: no changes")
            out.append("")
            out.append("The bots match the configuration.")
        } else {
            out.append("### Botform plan: \(PlanTextRenderer.sentence(plan).dropFirst("Plan: ".count).dropLast())")
        }
        out.append("")
        if let change = plan.recipients {
            out.append("> [!IMPORTANT]")
            var line =
                "> **\(count(change.entries.count, "sealed secret")) to re-wrap** for the configured recipients (apply needs `-i KEY_FILE` or `BOTFORM_IDENTITY`)."
            if !change.added.isEmpty {
                line += " Added: " + change.added.map { "`\($0)`" }.joined(separator: ", ") + "."
            }
            if !change.removed.isEmpty {
                line += " Removed: " + change.removed.map { "`\($0)`" }.joined(separator: ", ") + "."
            }
            out.append(line)
            if let warning = change.warning { out.append("> " + escape(warning) + ".") }
            out.append("")
        }
        let destructive = plan.actions.filter { $0.action.isDestructive }
        if !destructive.isEmpty {
            out.append("> [!WARNING]")
            out.append(
                "> **\(count(destructive.count, "destructive action"))**: " + inline(destructive, maxRows: 20)
                    + ". Credentials in use by these bots stop working.")
            out.append("")
        }
        let blocked = plan.actions.filter { $0.blocked != nil }
        if !blocked.isEmpty {
            out.append("> [!CAUTION]")
            out.append(
                "> **\(count(blocked.count, "action")) blocked**: apply will refuse until allowed with `--allow-destroy`."
            )
            for message in Set(blocked.compactMap { $0.blocked?.message }).sorted().prefix(10) {
                out.append("> - " + escape(message))
            }
            out.append("")
        }
        if !plan.drift.isEmpty {
            out.append("> [!NOTE]")
            out.append("> **Drift**: \(count(plan.drift.count, "bot")) changed outside Botform (details below).")
            out.append("")
        }
        if !plan.actions.isEmpty {
            out.append("| | Bot | Action | Reason |")
            out.append("|:-:|---|---|---|")
            for action in plan.actions.prefix(maxRows) {
                let symbol = action.action.callsService ? "`\(action.action.symbol)`" : ""
                let mark = action.blocked == nil ? "" : " ⛔"
                out.append(
                    "| \(symbol) | `\(action.address)` | \(action.action.rawValue)\(mark) | \(escape(action.reasonText)) |"
                )
            }
            if plan.actions.count > maxRows {
                out.append("")
                out.append("…and \(count(plan.actions.count - maxRows, "more action")); by reason:")
                out.append("")
                out.append("| Action | Reason | Bots |")
                out.append("|---|---|--:|")
                var groups: [String: Int] = [:]
                for action in plan.actions {
                    groups["\(action.action.rawValue)|\(action.reasons.first?.code.rawValue ?? "")", default: 0] += 1
                }
                for (key, value) in groups.sorted(by: { $0.key < $1.key }) {
                    let parts = key.split(separator: "|", omittingEmptySubsequences: false)
                    out.append("| \(parts[0]) | `\(parts.count > 1 ? parts[1] : "")` | \(value) |")
                }
            }
            out.append("")
        }
        if details, !plan.actions.isEmpty {
            out.append("<details><summary>Details of \(count(plan.actions.count, "action"))</summary>")
            out.append("")
            out.append("```diff")
            let text = PlanTextRenderer()
            for action in plan.actions {
                out += text.actionLines(action).map { line in
                    // A diff block colours lines by their first character: start symbol lines with the symbol.
                    ["  +", "  -", "  ~"].contains(where: line.hasPrefix) ? String(line.dropFirst(2)) : line
                }
                out.append("")
            }
            out.append("```")
            out.append("</details>")
            out.append("")
        }
        if !plan.drift.isEmpty {
            out.append("<details><summary>Drift: \(count(plan.drift.count, "bot")) changed outside Botform</summary>")
            out.append("")
            out.append("| Bot | Drift | |")
            out.append("|---|---|---|")
            for item in plan.drift.prefix(max(maxRows, 10)) {
                out.append("| `\(item.address)` | \(item.kind.rawValue) | \(escape(item.message)) |")
            }
            if plan.drift.count > max(maxRows, 10) {
                out.append("| … | \(plan.drift.count - max(maxRows, 10)) more | |")
            }
            out.append("")
            out.append("</details>")
            out.append("")
        }
        let providers = plan.providers.map { "`\($0.name)` (\($0.type), \($0.caller))" }.joined(separator: ", ")
        out.append("<sub>botform \(plan.botformVersion) · \(providers) · plan format \(plan.formatVersion)</sub>")
        return out.joined(separator: "\n") + "\n"
    }

    private func inline(_ actions: [PlannedAction], maxRows: Int) -> String {
        let shown = actions.prefix(maxRows).map { "`\($0.address)` (\($0.action.rawValue))" }.joined(separator: ", ")
        return actions.count > maxRows ? shown + " and \(actions.count - maxRows) more" : shown
    }

    /// Table cells: pipes and newlines would break the row; HTML would render.
    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ").replacingOccurrences(
            of: "<", with: "&lt;")
    }
}
