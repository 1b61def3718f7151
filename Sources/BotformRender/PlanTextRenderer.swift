import BotformCore

/// The plan for people at a terminal or in a CI log: Terraform's symbols, one reason in words per
/// action, a drift section and the summary line.
public struct PlanTextRenderer: Sendable {
    public var style: TextStyle

    public init(style: TextStyle = .plain) {
        self.style = style
    }

    public func render(_ plan: PlanDocument) -> String {
        var lines: [String] = []
        for provider in plan.providers {
            let tenant = provider.tenant.map { ", tenant \($0)" } ?? ""
            lines.append(
                style.muted(
                    "\(provider.name): \(provider.type) at \(provider.endpoint)\(tenant), as \(provider.caller): \(count(provider.observedBots, "bot")) on the service, \(count(provider.listCalls, "list call"))"
                ))
        }
        if !plan.providers.isEmpty { lines.append("") }
        if plan.actions.isEmpty && plan.recipients == nil {
            lines.append(style.emphasis("No changes.") + " The bots match the configuration.")
        } else if !plan.actions.isEmpty {
            lines.append("Botform will perform the following actions:")
            lines.append("")
            for action in plan.actions {
                lines += actionLines(action)
                lines.append("")
            }
        }
        if let change = plan.recipients { lines += recipientLines(change) }
        let blocked = plan.actions.filter { $0.blocked != nil }
        if !blocked.isEmpty {
            if plan.actions.isEmpty { lines.append("") }
            lines.append(style.warning("Blocked (apply will refuse until these are allowed):"))
            for guardBlock in plan.guards { lines.append("  ! " + guardBlock.message) }
            for action in blocked where action.blocked?.code != .maxDestroy {
                lines.append("  ! \(action.blocked?.message ?? "")")
            }
            lines.append("")
        }
        if !plan.drift.isEmpty {
            if plan.actions.isEmpty && blocked.isEmpty { lines.append("") }
            lines.append(style.warning("Drift (changes made outside Botform):"))
            for item in plan.drift {
                let id = item.botID.map { " (id \($0))" } ?? ""
                lines.append("  ! \(item.address)\(id): \(item.message)")
            }
            lines.append("")
        }
        if plan.hasChanges {
            lines.append(style.emphasis(PlanTextRenderer.sentence(plan)) + blockedSuffix(plan))
        }
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The summary line, with the re-wrap when there is one.
    public static func sentence(_ plan: PlanDocument) -> String {
        guard let change = plan.recipients else { return plan.summary.sentence }
        return plan.summary.sentence + " \(count(change.entries.count, "sealed secret")) to re-wrap."
    }

    /// Sealed secrets sealed to other recipients than the configured ones: which, and what changes.
    func recipientLines(_ change: PlanDocument.RecipientChange) -> [String] {
        var lines = [
            "  # \(count(change.entries.count, "sealed secret")) will be re-wrapped for the configured recipients (needs -i KEY_FILE or BOTFORM_IDENTITY)"
        ]
        for recipient in change.added { lines.append("  \(style.create("+")) recipient \(recipient)") }
        for recipient in change.removed { lines.append("  \(style.destroy("-")) recipient \(recipient)") }
        let shown = change.entries.prefix(20)
        lines.append(
            "      entries: " + shown.joined(separator: ", ")
                + (change.entries.count > shown.count ? ", … (\(change.entries.count - shown.count) more)" : ""))
        if let warning = change.warning { lines.append("      " + style.warning("note: \(warning)")) }
        lines.append("")
        return lines
    }

    private func blockedSuffix(_ plan: PlanDocument) -> String {
        plan.summary.blocked == 0 ? "" : " " + style.warning("\(count(plan.summary.blocked, "action")) blocked.")
    }

    /// `# prod/x will be replaced: …` then the symbol line and the permissions.
    func actionLines(_ action: PlannedAction) -> [String] {
        let verb: String
        switch action.action {
        case .register: verb = "will be registered"
        case .replace: verb = "will be replaced"
        case .reset: verb = "will have its secret reset"
        case .renew: verb = "will be renewed (new credential sealed, then the old one revoked)"
        case .revoke: verb = "will be revoked"
        case .adopt: verb = "will be adopted"
        case .forget: verb = "will be forgotten"
        }
        var lines = ["  # \(action.address) \(verb): \(action.reasonText)"]
        let noun = action.label != nil || action.revokeTokenIDs != nil ? "token" : "bot"
        var id = action.botID.map { " (id \($0))" } ?? ""
        if let tokens = action.revokeTokenIDs, !tokens.isEmpty {
            id = " (\(action.action == .revoke ? "revokes" : "then revokes") \(tokens.joined(separator: ", ")))"
        }
        switch action.action {
        case .adopt, .forget:
            lines.append("  \(style.muted(action.action.rawValue)) \(noun) \"\(action.address)\"\(id)")
        default:
            lines.append("  \(paint(action.action.symbol, action.action)) \(noun) \"\(action.address)\"\(id)")
        }
        if let lifetime = action.lifetimeSeconds {
            lines.append("      expires_in: \(BotformDuration.humanize(seconds: lifetime))")
        }
        if let role = action.role {
            let before = action.previousRole.map { "\($0) -> " } ?? ""
            lines.append(
                "      role: "
                    + (action.previousRole != nil && action.previousRole != role
                        ? style.change("\(before)\(role)") : "\(role)"))
        }
        lines += permissionLines(action)
        if let blocked = action.blocked { lines.append("      " + style.warning("blocked: \(blocked.message)")) }
        return lines
    }

    private func paint(_ text: String, _ kind: ActionKind) -> String {
        switch kind {
        case .register: style.create(text)
        case .revoke: style.destroy(text)
        case .replace: style.destroy(text)
        case .reset, .renew: style.change(text)
        case .adopt, .forget: style.muted(text)
        }
    }

    private func permissionLines(_ action: PlannedAction) -> [String] {
        let label = "      permissions: "
        let indent = String(repeating: " ", count: label.count)
        var rows: [String] = []
        // Sym and FOKS bots have no permissions (a FOKS token has a role): nothing to show.
        guard action.permissions != nil || action.previousPermissions != nil else { return [] }
        switch action.action {
        case .register:
            rows = (action.permissions ?? Permissions()).entityNames.map { entity in
                "\(entity) \(list(action.permissions?.actions(for: entity)))"
            }
            if action.permissions?.isEmpty ?? true { rows = ["(none)"] }
        case .replace:
            let before = action.previousPermissions ?? Permissions()
            let after = action.permissions ?? Permissions()
            let entities = Set(before.entities.keys).union(after.entities.keys).sorted()
            rows = entities.map { entity in
                let old = before.actions(for: entity)
                let new = after.actions(for: entity)
                return old == new ? "\(entity) \(list(new))" : style.change("\(entity) \(list(old)) -> \(list(new))")
            }
            if rows.isEmpty { rows = ["(none)"] }
        default:
            return []
        }
        return rows.enumerated().map { index, row in (index == 0 ? label : indent) + row }
    }

    private func list(_ actions: ActionSet?) -> String {
        "[" + (actions?.sorted.map(\.rawValue) ?? []).joined(separator: ", ") + "]"
    }
}

func count(_ value: Int, _ noun: String) -> String {
    "\(value) \(noun)\(value == 1 ? "" : "s")"
}
