/// The guards on a plan's blast radius: `protect`, `policy.max_destroy` and `--allow-destroy`. Plan and
/// apply (of a saved plan, with `--allow-destroy` given only then) both call this one function, so they
/// cannot disagree about which names a flag matches or which actions it unblocks.
public enum PlanGuards {
    /// Resolves flag values (`provider/bot` or a bare bot name) against the addresses a plan knows.
    /// A value that matches nothing is an error (a misspelled name must not be silently accepted).
    public static func resolve(_ values: [String], known: [String], flag: String) throws(PlanError) -> Set<String> {
        var resolved: Set<String> = []
        for value in values {
            // A value that looks like a private key is not quoted back (it would land in a CI log).
            if Secret.namesPrivateKey(value) {
                throw PlanError(
                    "\(flag) takes a bot (provider/bot or a name); this value looks like a private key (not shown)")
            }
            let matches = known.filter {
                $0 == value || $0.split(separator: "/", maxSplits: 1).last.map(String.init) == value
            }
            guard !matches.isEmpty else {
                let hint = Suggestion.didYouMean(
                    value, in: known + known.compactMap { $0.split(separator: "/").last.map(String.init) })
                throw PlanError(
                    "\(flag) \"\(value)\" matches no bot\(hint.isEmpty ? " (give provider/bot or a bot name)" : hint)"
                )
            }
            resolved.formUnion(matches)
        }
        return resolved
    }

    /// Blocks the actions that `protect` and `max_destroy` forbid, unless `allowed` names them; lifts
    /// the blocks that no longer apply. Other blocks (a name the service will not reuse) stay: no flag
    /// lifts them. Returns the plan-wide guard messages.
    ///
    /// What counts toward the blast radius: revokes and replaces (a credential someone may be using
    /// dies), forgets (Botform drops its record, and the secret with it), and registrations of managed
    /// bots the service no longer shows (a wrong endpoint, tenant or credential makes every bot look
    /// gone; re-registering them all would orphan every consumer's secret).
    public static func apply(
        to actions: inout [PlannedAction], protected: Set<String>, maxDestroy: Int?, allowed: Set<String>
    ) -> [ActionBlock] {
        for index in actions.indices where actions[index].blocked.map(isLiftable) ?? false {
            actions[index].blocked = nil
        }
        for index in actions.indices where actions[index].action.isDestructive && actions[index].blocked == nil {
            let action = actions[index]
            let address = action.address
            // A protected bot's tokens are protected with it; what Botform's own unfinished runs left
            // (a replaced or never-delivered credential) is not a credential anyone uses.
            let bot = "\(action.provider)/\(action.bot)"
            let cleanup = action.reasons.allSatisfy { $0.code == .superseded || $0.code == .issuedUnsealed }
            if protected.contains(address) || protected.contains(bot), !cleanup,
                !allowed.contains(address), !allowed.contains(bot)
            {
                actions[index].blocked = ActionBlock(
                    .protected,
                    "\(address) is protected; to \(actions[index].action.rawValue) it, name it in --allow-destroy")
            }
        }
        guard let limit = maxDestroy else { return [] }
        let counted = actions.indices.filter {
            actions[$0].countsTowardBlastRadius && actions[$0].blocked == nil && !allowed.contains(actions[$0].address)
        }
        guard counted.count > limit else { return [] }
        let missing = counted.filter { actions[$0].action == .register || actions[$0].action == .forget }.count
        var message =
            "the plan revokes, replaces, forgets or re-registers \(counted.count) managed bots, more than policy.max_destroy (\(limit)); name them in --allow-destroy to go ahead"
        if missing > 0 {
            message +=
                "; \(missing) of them are managed bots the service no longer shows: if they are not really gone, check the provider's url, tenant and credentials"
        }
        let block = ActionBlock(.maxDestroy, message)
        for index in counted { actions[index].blocked = block }
        return [block]
    }

    private static func isLiftable(_ block: ActionBlock) -> Bool {
        block.code == .protected || block.code == .maxDestroy
    }
}

extension PlannedAction {
    /// Whether this action counts toward `policy.max_destroy` (see `PlanGuards.apply`).
    public var countsTowardBlastRadius: Bool {
        switch action {
        case .revoke, .replace, .forget: true
        case .register:
            reasons.contains { $0.code == .missingOutsideBotform }
        case .reset, .renew, .adopt: false
        }
    }
}
