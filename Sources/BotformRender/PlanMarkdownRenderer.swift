import BotformCore
import Foundation

/// The plan as a pull-request comment. A hidden first line names the configuration, so a workflow
/// updates one comment per configuration in place; then the summary, then the changes grouped by what
/// a reviewer must weigh first (permissions widened, credentials destroyed, new secrets to deliver,
/// the rest), each change stated once, then drift in words, and a footer with the configuration and
/// the endpoints read. GitHub refuses a comment past 65,536 characters: rows are listed up to a
/// budget, and what does not fit is counted per action, pointing to the job log and the saved plan.
public struct PlanMarkdownRenderer: Sendable {
    /// GitHub's limit on a comment body (and on an issue body), in characters.
    public static let githubLimit = 65_536

    /// The length the rendering stays under, in UTF-16 code units (never fewer than characters).
    public var limit: Int

    public init(limit: Int = 65_000) {
        self.limit = limit
    }

    /// `<!-- botform:plan config=deploy/botform.yaml -->`: the first line of every rendering. A workflow
    /// looks for a comment whose body starts with it, so each configuration of a monorepo keeps its own.
    public static func marker(configuration path: String) -> String {
        "<!-- botform:plan config=\(normalized(path)) -->"
    }

    /// The path as a marker holds it: no leading `./`, no trailing `/`, nothing that ends a comment.
    static func normalized(_ path: String) -> String {
        var path = path.replacingOccurrences(of: "--", with: "-").replacingOccurrences(of: ">", with: "")
            .replacingOccurrences(of: "\n", with: " ")
        while path.hasPrefix("./") { path.removeFirst(2) }
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return path.isEmpty ? "." : path
    }

    public func render(_ plan: PlanDocument) -> String {
        let page = Page(plan: plan)
        let head = page.head()
        let foot = page.foot()
        // What the rows may take: the limit less the fixed parts and room for the summary of what is left out.
        var budget = Budget(remaining: limit - head.utf16.count - foot.utf16.count - 3_000)
        var body = page.groups(budget: &budget)
        body += page.drift(budget: &budget)
        body += page.overflow(budget)
        return head + body + foot
    }
}

/// What did not fit: how many rows were left out, per action.
struct Budget {
    var remaining: Int
    var exhausted = false
    var omittedActions: [ActionKind: Int] = [:]
    var omittedDrift = 0

    /// Takes `text` if it fits and nothing was left out before it (so rows are never listed out of order).
    mutating func take(_ text: String) -> Bool {
        guard !exhausted, text.utf16.count <= remaining else {
            exhausted = true
            return false
        }
        remaining -= text.utf16.count
        return true
    }

    var omitted: Int { omittedActions.values.reduce(0, +) + omittedDrift }
}

/// One rendering of one plan.
private struct Page {
    let plan: PlanDocument

    /// The groups in the order a reviewer weighs them; every action falls in exactly one.
    enum Group: CaseIterable {
        case widened, destroyed, secrets, registered, recordsOnly

        var callout: String {
            switch self {
            case .widened: "[!CAUTION]"
            case .destroyed: "[!WARNING]"
            case .secrets: "[!IMPORTANT]"
            case .registered, .recordsOnly: ""
            }
        }

        func title(_ count: Int) -> String {
            switch self {
            case .widened: "Permissions widen for \(bots(count)): review these first."
            case .destroyed:
                "\(bots(count)) revoked or replaced: credentials in use by \(count == 1 ? "it" : "them") stop working."
            case .secrets:
                "\(bots(count)) \(count == 1 ? "gets" : "get") a new secret to deliver to \(count == 1 ? "its" : "their") consumers."
            case .registered: "\(bots(count)) registered"
            case .recordsOnly: "\(bots(count)) adopted or forgotten (no call to the service; the sealed file changes)"
            }
        }
    }

    static func group(of action: PlannedAction) -> Group {
        switch action.action {
        case .replace where !gains(action).isEmpty: .widened
        case .replace, .revoke: .destroyed
        case .reset, .renew: .secrets
        case .register: .registered
        case .adopt, .forget: .recordsOnly
        }
    }

    /// What an existing bot gains: for a replace, against what it holds now.
    static func gains(_ action: PlannedAction) -> [(entity: String, actions: [Action])] {
        guard let previous = action.previousPermissions, let now = action.permissions else { return [] }
        return now.changes(from: previous).filter { !$0.added.isEmpty }.map { ($0.entity, $0.added) }
    }

    static func loses(_ action: PlannedAction) -> [(entity: String, actions: [Action])] {
        guard let previous = action.previousPermissions, let now = action.permissions else { return [] }
        return now.changes(from: previous).filter { !$0.removed.isEmpty }.map { ($0.entity, $0.removed) }
    }

    // MARK: Head and foot

    func head() -> String {
        var out = [PlanMarkdownRenderer.marker(configuration: plan.configuration.path)]
        out.append("### Botform plan for `\(code(PlanMarkdownRenderer.normalized(plan.configuration.path)))`")
        out.append("")
        var status: [String] = []
        if plan.hasChanges {
            status.append("**\(PlanTextRenderer.sentence(plan).dropFirst("Plan: ".count))**")
        } else {
            status.append("**No changes.** The bots match the configuration.")
        }
        if plan.summary.blocked > 0 {
            status.append(
                "⛔ \(count(plan.summary.blocked, "action")) blocked: apply refuses until `--allow-destroy` names \(plan.summary.blocked == 1 ? "it" : "them")."
            )
        }
        if !plan.drift.isEmpty { status.append("\(count(plan.drift.count, "change")) made outside Botform.") }
        out.append(status.joined(separator: " "))
        out.append("")
        for guardBlock in plan.guards {
            out.append("> [!CAUTION]")
            out.append("> " + escape(guardBlock.message))
            out.append("")
        }
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
        return out.joined(separator: "\n") + "\n"
    }

    func foot() -> String {
        var parts = ["Configuration `\(code(plan.configuration.path))`"]
        for provider in plan.providers {
            let tenant = provider.tenant.map { ", tenant `\(code($0))`" } ?? ""
            parts.append(
                "`\(code(provider.name))`: \(provider.type) at \(escape(provider.endpoint))\(tenant), as \(provider.caller) (\(count(provider.observedBots, "bot")) read)"
            )
        }
        parts.append("botform \(plan.botformVersion), plan format \(plan.formatVersion)")
        // One line: markdown inside an HTML block of its own would not be rendered.
        return "---\n<sub>" + parts.joined(separator: " · ") + "</sub>\n"
    }

    // MARK: Actions

    func groups(budget: inout Budget) -> String {
        var grouped: [Group: [PlannedAction]] = [:]
        for action in plan.actions { grouped[Self.group(of: action), default: []].append(action) }
        var out = ""
        for group in Group.allCases {
            guard let actions = grouped[group], !actions.isEmpty else { continue }
            var section: [String] = []
            if group.callout.isEmpty {
                section.append("**\(group.title(actions.count))**")
            } else {
                section.append("> \(group.callout)")
                section.append("> **\(group.title(actions.count))**")
            }
            section.append("")
            section.append("| Bot | Change | Why |")
            section.append("|---|---|---|")
            var text = section.joined(separator: "\n") + "\n"
            var listed = 0
            for action in actions {
                let row = self.row(action) + "\n"
                guard budget.take(row) else { break }
                text += row
                listed += 1
            }
            if listed < actions.count {
                for action in actions[listed...] { budget.omittedActions[action.action, default: 0] += 1 }
                text += "| … | \(count(actions.count - listed, "more bot")) not listed here | see below |\n"
            }
            out += text + "\n"
        }
        return out
    }

    /// One action, once: the bot, what happens to it, and why.
    func row(_ action: PlannedAction) -> String {
        let mark = action.blocked == nil ? "" : " ⛔"
        var change: String
        switch action.action {
        case .register:
            change = "registered with " + describe(action.permissions)
        case .replace:
            change = "replaced (revoke, then register)"
            let gains = Self.gains(action)
            let loses = Self.loses(action)
            if !gains.isEmpty { change = "gains " + list(gains) + "; " + change }
            if !loses.isEmpty { change += "; loses " + list(loses) }
            change += ": a new secret to deliver"
        case .renew:
            change =
                action.label != nil
                ? "renewed (a new token, sealed, then the old one revoked): a new secret to deliver"
                : "renewed (a new credential, sealed, then the old one revoked): a new secret to deliver"
        case .reset:
            change = "secret reset: a new secret to deliver"
        case .revoke:
            change = "revoked"
        case .adopt:
            change = "adopted: managed from now on, its secret is not held"
        case .forget:
            change = "forgotten: dropped from the sealed file"
        }
        if let id = action.botID { change += " <sub>id `\(code(id))`</sub>" }
        var why = action.reasons.map { reason -> String in
            // Permission changes are already the change column; the rest of the message is kept.
            guard reason.code == .permissionsChanged else { return escape(reason.message) }
            return "permissions changed"
        }.joined(separator: "; ")
        if let blocked = action.blocked {
            why +=
                blocked.code == .maxDestroy
                ? ". **Blocked** by `policy.max_destroy` (above)" : ". **Blocked**: " + escape(blocked.message)
        }
        return "| `\(action.address)`\(mark) | \(change) | \(why) |"
    }

    // MARK: Drift

    /// Changes made outside Botform, in words. A drift item an action answers (a bot revoked outside
    /// Botform, registered again) is said in that action's row, not twice.
    func drift(budget: inout Budget) -> String {
        guard !plan.drift.isEmpty else { return "" }
        let acted = Set(plan.actions.map(\.address))
        let items = plan.drift.filter { !acted.contains($0.address) }
        let answered = plan.drift.count - items.count
        var out = "> [!NOTE]\n> **\(count(plan.drift.count, "change")) made outside Botform.**"
        if answered > 0 {
            out +=
                " \(answered == plan.drift.count ? "Each is" : "\(answered) of them \(answered == 1 ? "is" : "are")") answered by an action above."
        }
        out += "\n\n"
        guard !items.isEmpty else { return out }
        out += "| Bot | What changed outside Botform |\n|---|---|\n"
        var listed = 0
        for item in items {
            let id = item.botID.map { " <sub>id `\(code($0))`</sub>" } ?? ""
            let row = "| `\(code(item.address))` | \(escape(item.message))\(id) |\n"
            guard budget.take(row) else { break }
            out += row
            listed += 1
        }
        if listed < items.count {
            budget.omittedDrift += items.count - listed
            var kinds: [DriftItem.Kind: Int] = [:]
            for item in items[listed...] { kinds[item.kind, default: 0] += 1 }
            let summary = DriftItem.Kind.allCases.compactMap { kind in
                kinds[kind].map { "\($0) \(Self.words(kind))" }
            }
            out += "| … | \(items.count - listed) more not listed here: \(summary.joined(separator: ", ")) |\n"
        }
        return out + "\n"
    }

    /// A drift kind in words, for people who do not know the codes.
    static func words(_ kind: DriftItem.Kind) -> String {
        switch kind {
        case .unmanaged: "not managed by Botform"
        case .revokedOutsideBotform: "revoked by someone else"
        case .missingOutsideBotform: "gone from the service"
        case .changedOutsideBotform: "permissions changed by someone else"
        case .replacedOutsideBotform: "replaced by another bot of the same name"
        case .notVisible: "not visible to this caller"
        case .providerRemoved: "provider removed from the configuration"
        case .expired: "expired before it was renewed"
        }
    }

    // MARK: Overflow

    /// What the budget left out, counted per action, and where the whole plan is.
    func overflow(_ budget: Budget) -> String {
        guard budget.omitted > 0 else { return "" }
        var counts = ActionKind.allCases.compactMap { kind in
            budget.omittedActions[kind].map { "\($0) to \(kind.rawValue)" }
        }
        if budget.omittedDrift > 0 { counts.append("\(budget.omittedDrift) drift") }
        return """
            > [!NOTE]
            > **\(count(budget.omitted, "row")) not listed** (\(counts.joined(separator: ", "))), to keep this comment \
            under GitHub's limit of 65,536 characters. The whole plan is in the job log and in the saved plan \
            artifact (`botform show PLANFILE`).


            """
    }

    // MARK: Words

    func describe(_ permissions: Permissions?) -> String {
        guard let permissions, !permissions.isEmpty else { return "no permissions" }
        return list(permissions.entityNames.map { ($0, permissions.actions(for: $0).sorted) })
    }

    func list(_ grants: [(entity: String, actions: [Action])]) -> String {
        grants.map { "`\(code($0.entity)): \($0.actions.map(\.rawValue).joined(separator: ", "))`" }
            .joined(separator: ", ")
    }

    /// Inside a code span: a backtick would end it.
    func code(_ text: String) -> String {
        text.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\n", with: " ")
    }

    /// Table cells: pipes and newlines would break the row; HTML would render.
    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "<", with: "&lt;")
    }
}

private func bots(_ value: Int) -> String { count(value, "bot") }
