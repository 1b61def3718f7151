import Foundation

/// The credentials a bot holds beside itself (Sym tokens), and the credentials a service names itself
/// (FOKS keys) that only the sealed file can tell apart.
extension Planner.Run {
    /// Plans the tokens of a declared bot: `observed` is the bot as the service shows it, nil when the
    /// plan registers it (then every declared token is issued after it).
    ///
    /// Tokens are matched by label and, once issued, by the id in the sealed file. Each label ends with
    /// exactly one live token: a renewal seals the new token before it revokes the old; a token issued
    /// by a run that never sealed it, and one a renewal replaced without revoking, are revoked.
    mutating func planTokens(_ bot: DesiredBot, observed: ObservedBot?, entries: [OwnedBot], now: Date, visible: Bool) {
        // The service's clock against the runner's, which stamped the journal: applied to `pending_since`.
        let skew = now.timeIntervalSince(request.now)
        let provider = bot.provider
        let owned = Dictionary(entries.compactMap { entry in entry.label.map { ($0, entry) } }) { first, _ in first }
        let live = observed?.tokens ?? []
        let liveByID = Dictionary(live.map { ($0.id, $0) }) { first, _ in first }
        let declaredLabels = Set(bot.tokens.map(\.label))
        // Ids any entry of this bot holds or is retiring: Botform's.
        var held = Set<String>()
        for entry in entries {
            if let id = entry.id { held.insert(id) }
            held.formUnion(entry.retiring)
        }
        var accounted = Set<String>()

        func tokenAction(
            _ kind: ActionKind, label: String, lifetime: Int64?, revoking: [String], _ reasons: [ActionReason]
        ) -> PlannedAction {
            PlannedAction(
                address: "\(bot.address)/\(label)", provider: provider, bot: bot.name, action: kind,
                botID: observed?.id,
                reasons: reasons, label: label, lifetimeSeconds: lifetime,
                revokeTokenIDs: revoking.isEmpty ? nil : revoking)
        }

        for token in bot.tokens where inScope(token: token.label, of: bot.name, provider: provider) {
            let address = "\(bot.address)/\(token.label)"
            let entry = owned[token.label]
            recordTokenInput(address, entry: entry, live: live.filter { $0.label == token.label })
            // Botform's leftovers on this label: tokens a renewal replaced, and tokens an unfinished issue
            // made that no entry holds.
            var leftovers: [String] = []
            var reasons: [ActionReason] = []
            if let entry {
                let retiring = entry.retiring.filter { liveByID[$0] != nil }
                if !retiring.isEmpty {
                    leftovers += retiring
                    reasons.append(
                        ActionReason(.superseded, "replaced by a renewal whose revoke did not complete; revoking it"))
                }
                if !entry.unrecordedTimes.isEmpty {
                    // A renewal that did not finish: the token it replaces is still Botform's, and goes once
                    // the new one is sealed.
                    if let id = entry.id, !entry.secretHeld, liveByID[id] != nil {
                        leftovers.append(id)
                        reasons.append(ActionReason(.superseded, "the token a renewal that did not finish replaces"))
                    }
                    let orphans = Self.orphans(
                        of: entry, label: token.label, lifetime: token.expiresIn.seconds, live: live, held: held,
                        skew: skew)
                    if !orphans.isEmpty {
                        leftovers += orphans
                        reasons.append(
                            ActionReason(
                                .issuedUnsealed,
                                "\(orphans.count == 1 ? "a token" : "\(orphans.count) tokens") issued by a run that did not seal \(orphans.count == 1 ? "it" : "them"); revoking"
                            )
                        )
                    }
                }
            }
            accounted.formUnion(leftovers)
            let lifetime = token.expiresIn.seconds

            guard let entry, let id = entry.id, entry.secretHeld else {
                // Nothing held for the label: issue it (revoking Botform's leftovers once it is sealed).
                let why =
                    entry?.pendingSince != nil
                    ? ActionReason(.secretLost, "a previous run issued it but did not seal it; issuing a new one")
                    : ActionReason(.tokenDeclared, "declared in configuration, not held")
                actions.append(
                    tokenAction(.register, label: token.label, lifetime: lifetime, revoking: leftovers, [why] + reasons)
                )
                reportUnmanagedTokens(bot, label: token.label, live: live, held: held, accounted: &accounted)
                continue
            }
            accounted.insert(id)
            guard let current = liveByID[id] else {
                guard visible || observed == nil else { continue }
                let expiry = entry.expiresAt
                let expired = expiry.map { $0 <= now } ?? false
                drift.append(
                    DriftItem(
                        address: address, provider: provider, bot: bot.name,
                        kind: expired ? .expired : .revokedOutsideBotform, botID: id,
                        message: expired
                            ? "the token expired \(expiry.map { $0.formatted(.iso8601) } ?? "") before it was renewed"
                            : "the token was revoked outside Botform"))
                let reason =
                    expired
                    ? ActionReason(.expired, "expired; issuing a new token")
                    : ActionReason(.revokedOutsideBotform, "revoked outside Botform; issuing a new token")
                actions.append(
                    tokenAction(
                        .register, label: token.label, lifetime: lifetime, revoking: leftovers, [reason] + reasons))
                reportUnmanagedTokens(bot, label: token.label, live: live, held: held, accounted: &accounted)
                continue
            }
            let expiresAt = current.expiresAt ?? entry.expiresAt
            var renewal: ActionReason?
            if rotate.contains(address) || rotate.contains(bot.address) {
                renewal = ActionReason(.rotationRequested, "renewal requested (--rotate)")
            } else if let expiresAt, expiresAt.addingTimeInterval(-Double(token.renewBefore.seconds)) <= now {
                let left = Int64(expiresAt.timeIntervalSince(now))
                renewal = ActionReason(
                    .renewalDue,
                    "expires in \(BotformDuration.humanize(seconds: max(0, left))) (renew_before \(BotformDuration.humanize(seconds: token.renewBefore.seconds))), by the service's clock",
                    ageSeconds: nil)
            }
            if let renewal {
                actions.append(
                    tokenAction(
                        .renew, label: token.label, lifetime: lifetime, revoking: [id] + leftovers, [renewal] + reasons)
                )
            } else if !leftovers.isEmpty {
                actions.append(tokenAction(.revoke, label: token.label, lifetime: nil, revoking: leftovers, reasons))
            }
            reportUnmanagedTokens(bot, label: token.label, live: live, held: held, accounted: &accounted)
        }

        // Tokens Botform holds under labels no longer declared: revoked with their leftovers (a token an
        // unfinished issue made included: its lifetime is not known any more, so any made in the window).
        for (label, entry) in owned.sorted(by: { $0.key < $1.key })
        where !declaredLabels.contains(label) && inScope(token: label, of: bot.name, provider: provider) {
            let address = "\(bot.address)/\(label)"
            recordTokenInput(address, entry: entry, live: live.filter { $0.label == label })
            let orphans = Self.orphans(of: entry, label: label, lifetime: nil, live: live, held: held, skew: skew)
            let ids = ([entry.id].compactMap { $0 } + entry.retiring + orphans).filter { liveByID[$0] != nil }
            accounted.formUnion(ids)
            if ids.isEmpty {
                if observed != nil || !visible {
                    actions.append(
                        tokenAction(
                            .forget, label: label, lifetime: nil, revoking: [],
                            [
                                ActionReason(
                                    .noLongerOnService,
                                    "removed from configuration and no longer on the service; dropping it from the sealed file"
                                )
                            ]))
                }
                continue
            }
            actions.append(
                tokenAction(
                    .revoke, label: label, lifetime: nil, revoking: ids,
                    [ActionReason(.removedFromConfiguration, "removed from configuration")]))
        }

        // Tokens on the bot that Botform neither holds nor accounted for: created outside Botform.
        for token in live where !accounted.contains(token.id) && !held.contains(token.id) {
            let label = token.label ?? ""
            if declaredLabels.contains(label) { continue }  // reported with its label above
            reportUnmanaged(bot, token: token, label: label.isEmpty ? token.id : label)
            accounted.insert(token.id)
        }
    }

    /// How long after an announced call the credential it made may appear: the call's timeout.
    static let issueWindow: TimeInterval = 120
    /// Clock slack between a service and the runner that stamped the journal. A credential made before the
    /// announcement cannot be the call's (the intent is durable before the call is sent).
    static let clockSlack: TimeInterval = 2

    /// The tokens the unfinished issues for this entry made, which no entry holds: live, of the label,
    /// made after the first announcement and within the call's timeout of the last (its creation time, or
    /// its expiry less the lifetime asked for). Each call makes at most one, so when more fit than calls
    /// were announced, some were issued by hand and which is a guess: Botform never revokes what may be
    /// someone else's, and every candidate stays drift (unmanaged), for a person or
    /// `policy.unmanaged: revoke` to decide.
    static func orphans(
        of entry: OwnedBot, label: String, lifetime: Int64?, live: [ObservedToken], held: Set<String>,
        skew: TimeInterval
    ) -> [String] {
        let times = entry.unrecordedTimes
        guard let window = window(times, skew: skew) else { return [] }
        let candidates = live.filter { token in
            guard token.label == label, !held.contains(token.id) else { return false }
            if let created = token.createdAt { return window.contains(created) }
            guard let lifetime, let expires = token.expiresAt else { return false }
            return window.contains(expires.addingTimeInterval(-Double(lifetime)))
        }
        // Each announced call made at most one: more candidates than calls means some are not Botform's.
        return candidates.count <= times.count ? candidates.map(\.id) : []
    }

    /// When the unfinished calls may have made their credentials (in the service's clock): from just
    /// before the first announcement to the call timeout after the last.
    static func window(_ times: [Date], skew: TimeInterval) -> ClosedRange<Date>? {
        guard let first = times.min(), let last = times.max() else { return nil }
        return first.addingTimeInterval(skew - clockSlack)...last.addingTimeInterval(skew + issueWindow)
    }

    /// Live tokens with a declared label that Botform does not hold: created outside Botform.
    private mutating func reportUnmanagedTokens(
        _ bot: DesiredBot, label: String, live: [ObservedToken], held: Set<String>, accounted: inout Set<String>
    ) {
        for token in live where token.label == label && !held.contains(token.id) && !accounted.contains(token.id) {
            reportUnmanaged(bot, token: token, label: "\(label)#\(token.id)")
            accounted.insert(token.id)
        }
    }

    private mutating func reportUnmanaged(_ bot: DesiredBot, token: ObservedToken, label: String) {
        let address = "\(bot.address)/\(label)"
        guard inScope(token: label, of: bot.name, provider: bot.provider) || inScope(address) else { return }
        switch request.desired.policy.unmanaged {
        case .report:
            drift.append(
                DriftItem(
                    address: address, provider: bot.provider, bot: bot.name, kind: .unmanaged, botID: token.id,
                    message:
                        "token \(token.id) was issued outside Botform (policy.unmanaged: report)"))
        case .revoke:
            actions.append(
                PlannedAction(
                    address: address, provider: bot.provider, bot: bot.name, action: .revoke,
                    reasons: [ActionReason(.unmanaged, "token issued outside Botform (policy.unmanaged: revoke)")],
                    revokeTokenIDs: [token.id]))
        case .ignore:
            break
        }
    }

    private mutating func recordTokenInput(_ address: String, entry: OwnedBot?, live: [ObservedToken]) {
        let observed = live.sorted { $0.id < $1.id }.map(\.fingerprint).joined(separator: ",")
        inputs[address] = SHA256Digest.hex("\(observed)#\(entry?.fingerprint ?? "-")")
    }

    /// A service that names credentials itself (FOKS): keys the sealed file does not hold are Botform's
    /// to revoke in two cases only. A key a renewal replaced, sealed, whose revoke did not complete
    /// (`retiring`). And the key an announced registration made when the run died before recording it:
    /// the only key at the entry's declared role made within the call's window after the announcement.
    /// Every other unaccounted key stays unmanaged (drift, or `policy.unmanaged`).
    mutating func planUnsealed(provider: String, observation: ProviderObservation, accounted: inout Set<String>) {
        let entries = request.ownership.entries(of: provider)
        let active = observation.bots.filter(\.isActive)
        let byID = Dictionary(active.map { ($0.id, $0) }) { first, _ in first }
        for owner in entries.sorted(by: { $0.address < $1.address }) where inScope(owner.address) {
            for id in owner.retiring {
                guard let key = byID[id], !accounted.contains(id) else { continue }
                accounted.insert(id)
                let address = "\(provider)/\(key.name)"
                recordInput(address, observed: key, owner: owner)
                // Recorded against the entry that lists it, so the revoke takes it off `retiring`.
                actions.append(
                    PlannedAction(
                        address: address, provider: provider, bot: owner.name, action: .revoke, botID: id,
                        reasons: [
                            ActionReason(
                                .superseded,
                                "key \(key.name), replaced by \(owner.address) in a renewal whose revoke did not complete; revoking it"
                            )
                        ], role: key.role))
            }
            let role = request.desired.bots.first { $0.provider == provider && $0.name == owner.name }?.foksRole
            guard let window = Self.window(owner.unrecordedTimes, skew: 0) else { continue }
            let candidates = active.filter { key in
                guard !accounted.contains(key.id), let created = key.createdAt, window.contains(created) else {
                    return false
                }
                return role == nil || key.role == role
            }
            // Each announced call made at most one key: more candidates than calls means some were made by
            // hand, and which is a guess; Botform never revokes what may be someone else's (they stay drift).
            guard candidates.count <= owner.unrecordedTimes.count else { continue }
            for key in candidates {
                accounted.insert(key.id)
                let address = "\(provider)/\(key.name)"
                recordInput(address, observed: key, owner: nil)
                actions.append(
                    PlannedAction(
                        address: address, provider: provider, bot: key.name, action: .revoke, botID: key.id,
                        reasons: [
                            ActionReason(
                                .issuedUnsealed,
                                "key \(key.name) was made for \(owner.address) by a run that died before sealing it: Botform's own, never delivered; revoking it"
                            )
                        ], role: key.role))
            }
        }
    }
}
