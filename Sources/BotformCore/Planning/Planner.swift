import Foundation

/// Everything the planner reads. Nothing here does I/O.
public struct PlanRequest: Sendable {
    public var desired: DesiredState
    /// One observation per provider in scope, by provider name.
    public var observations: [String: ProviderObservation]
    public var ownership: Ownership
    public var now: Date
    /// `--target`: bot addresses (`provider/bot`) or bare names; empty means every bot.
    public var targets: [String]
    /// `--rotate`: bots whose secret to reset now.
    public var rotate: [String]
    /// `--allow-destroy`: destructive actions allowed despite `protect` and `max_destroy`.
    public var allowDestroy: [String]
    /// `--allow-move`: providers allowed to point elsewhere than where their sealed entries were issued.
    public var allowMove: [String] = []
    /// Whether a large provider's bots may be planned in parallel chunks (tests compare with one pass).
    var chunked = true

    public init(
        desired: DesiredState, observations: [String: ProviderObservation], ownership: Ownership, now: Date,
        targets: [String] = [],
        rotate: [String] = [], allowDestroy: [String] = [], allowMove: [String] = []
    ) {
        self.allowMove = allowMove
        self.desired = desired
        self.observations = observations
        self.ownership = ownership
        self.now = now
        self.targets = targets
        self.rotate = rotate
        self.allowDestroy = allowDestroy
    }
}

/// A request the planner cannot satisfy: a flag that names no bot (a usage error), or a provider that
/// points elsewhere than where its entries were issued.
public struct PlanError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    /// Whether the command line was wrong (exit 64) rather than the configuration or state (exit 1).
    public let isUsage: Bool

    public init(_ description: String, isUsage: Bool = true) {
        self.description = description
        self.isUsage = isUsage
    }
}

/// The planner's result, before it is wrapped in a `PlanDocument` with the run's metadata.
public struct Plan: Sendable {
    public var actions: [PlannedAction]
    public var drift: [DriftItem]
    public var guards: [ActionBlock]
    /// Per-address digest of the observed bot and Botform's record of it.
    public var inputs: [String: String]
}

/// Diffs the desired state against what the services hold and what Botform manages. Pure: the same
/// request always gives the same plan.
public enum Planner {
    public static func plan(_ request: PlanRequest) throws(PlanError) -> Plan {
        var planner = Run(request: request)
        try planner.resolveFlags()
        try planner.checkOrigins()
        for provider in request.desired.providers where request.observations[provider.name] != nil {
            planner.plan(provider: provider.name)
        }
        if !planner.conflicts.isEmpty {
            let shown = planner.conflicts.sorted().prefix(5).joined(separator: "; ")
            throw PlanError(
                "the sealed file holds \(planner.conflicts.count == 1 ? "a bot" : "\(planner.conflicts.count) bots") of this service under another provider name (\(shown)\(planner.conflicts.count > 5 ? "; …" : "")); a provider was renamed? Botform does not move entries between provider names: call the provider by its old name again",
                isUsage: false)
        }
        planner.reportRemovedProviders()
        planner.applyGuards()
        return Plan(
            actions: planner.actions.sorted { $0.address < $1.address },
            drift: planner.drift.sorted { $0.address < $1.address },
            guards: planner.guards, inputs: planner.inputs)
    }

    struct Run {
        let request: PlanRequest
        var actions: [PlannedAction] = []
        var drift: [DriftItem] = []
        var guards: [ActionBlock] = []
        var inputs: [String: String] = [:]
        var targeted: Set<String>?
        /// Declared bots whose service id the sealed file holds under another address.
        var conflicts: [String] = []
        /// Every id the sealed file holds, with the address holding it.
        lazy var heldBy: [String: String] = Dictionary(
            request.ownership.entries.values.compactMap { entry in entry.id.map { ($0, entry.address) } }
        ) { first, _ in first }
        var rotate: Set<String> = []
        var allowDestroy: Set<String> = []
        /// `Permissions.sha256` by grant: most bots share a few grants, and a plan checks every bot's.
        var digests: [Permissions: String] = [:]

        /// `Permissions.canonical` by grant, for the same reason.
        var canonicals: [Permissions: String] = [:]

        mutating func canonical(_ permissions: Permissions) -> String {
            if let known = canonicals[permissions] { return known }
            let text = permissions.canonical
            canonicals[permissions] = text
            return text
        }

        mutating func digest(_ permissions: Permissions) -> String {
            if let known = digests[permissions] { return known }
            let digest = permissions.sha256
            digests[permissions] = digest
            return digest
        }

        init(request: PlanRequest) {
            self.request = request
        }

        // MARK: Flags

        /// Every address Botform knows of: declared, managed, or on a service.
        private var knownAddresses: [String] {
            var addresses = Set(request.desired.bots.map(\.address)).union(request.ownership.entries.keys)
            for bot in request.desired.bots {
                for token in bot.tokens { addresses.insert("\(bot.address)/\(token.label)") }
            }
            for (provider, observation) in request.observations {
                for bot in observation.bots where bot.isActive { addresses.insert("\(provider)/\(bot.name)") }
            }
            return addresses.sorted()
        }

        /// The flag's values as addresses. Every known address is gathered only when the flag is given: a
        /// plan without flags (every pull request's) does not sort tens of thousands of addresses for nothing.
        private func resolve(_ values: [String], flag: String) throws(PlanError) -> Set<String> {
            guard !values.isEmpty else { return [] }
            return try PlanGuards.resolve(values, known: knownAddresses, flag: flag)
        }

        mutating func resolveFlags() throws(PlanError) {
            if !request.targets.isEmpty { targeted = try resolve(request.targets, flag: "--target") }
            rotate = try resolve(request.rotate, flag: "--rotate")
            allowDestroy = try resolve(request.allowDestroy, flag: "--allow-destroy")
            let providers = Set(request.desired.providers.map(\.name))
            for name in request.allowMove where !providers.contains(name) {
                if Secret.namesPrivateKey(name) {
                    throw PlanError(
                        "--allow-move takes a provider name; this value looks like a private key (not shown)")
                }
                throw PlanError(
                    "--allow-move \"\(name)\" names no provider\(Suggestion.didYouMean(name, in: providers.sorted()))")
            }
        }

        /// A provider whose sealed entries were issued at another endpoint or tenant is refused: its
        /// view would show every managed bot as gone, and the plan would register them all again.
        func checkOrigins() throws(PlanError) {
            // A provider renamed in the configuration: its entries are recorded under the old name, and the
            // new name would take every bot it holds for unmanaged (and revoke them under unmanaged: revoke).
            let configured = Dictionary(
                request.desired.providers.map { ($0.name, $0.origin(observed: request.observations[$0.name])) }
            ) { first, _ in first }
            for (name, recorded) in request.ownership.origins.sorted(by: { $0.key < $1.key })
            where configured[name] == nil && request.ownership.botCount(of: name) > 0 {
                guard let renamed = configured.first(where: { $0.value == recorded })?.key else { continue }
                throw PlanError(
                    "provider \"\(renamed)\" addresses \(recorded), where the sealed file's entries of provider \"\(name)\" were issued (renamed?); Botform does not move entries between provider names: call the provider \"\(name)\" again",
                    isUsage: false)
            }
            for provider in request.desired.providers where !request.allowMove.contains(provider.name) {
                let origin = provider.origin(observed: request.observations[provider.name])
                guard let recorded = request.ownership.origins[provider.name], !recorded.sameService(as: origin) else {
                    continue
                }
                let held = request.ownership.botCount(of: provider.name)
                guard held > 0 else { continue }
                throw PlanError(
                    "provider \"\(provider.name)\" is configured as \(origin), but its \(held) sealed entries were issued at \(recorded); planning against it would take them all for gone. Point the provider back, or, to move deliberately, pass --allow-move \(provider.name)",
                    isUsage: false)
            }
        }

        /// Entries of a provider no longer configured: nothing can be planned for them, and nothing is
        /// silently ignored.
        mutating func reportRemovedProviders() {
            let configured = Set(request.desired.providers.map(\.name))
            var orphaned: [String: [String]] = [:]
            let values = request.ownership.entries.values
            for index in values.indices where !configured.contains(values[index].provider) {
                orphaned[values[index].provider, default: []].append(values[index].address)
            }
            for (provider, entries) in orphaned {
                drift.append(
                    DriftItem(
                        address: provider, provider: provider, bot: "", kind: .providerRemoved, botID: nil,
                        message:
                            "\(entries.count) sealed \(entries.count == 1 ? "entry belongs" : "entries belong") to provider \"\(provider)\", which is no longer configured; their bots are left as they are. Declare the provider again to manage (or revoke) them"
                    ))
            }
        }

        func inScope(_ address: String) -> Bool { targeted?.contains(address) ?? true }

        /// A token is in scope when it, or its bot, is targeted.
        func inScope(token label: String, of bot: String, provider: String) -> Bool {
            guard let targeted else { return true }
            return targeted.contains("\(provider)/\(bot)/\(label)") || targeted.contains("\(provider)/\(bot)")
        }

        // MARK: Per provider

        mutating func plan(provider: String) {
            guard let observation = request.observations[provider] else { return }
            let capabilities = observation.capabilities
            let byID = BotIndex(observation.bots, key: \.id)
            // A service that names bots itself (FOKS) is matched through the sealed file's ids only.
            let activeByName = BotIndex(
                capabilities.matchesByName ? observation.bots : [], key: \.name, where: \.isActive)
            let declared = request.desired.bots(of: provider)
            let declaredNames = Set(declared.map(\.name))
            let now = observation.serviceNow ?? request.now
            // Ids Botform accounts for: managed bots (under any provider name: an id the sealed file holds is
            // never taken for unmanaged), and bots matched to an unfinished registration by name.
            var accounted = request.ownership.ids
            let tokenEntries =
                capabilities.issuesTokens
                ? Dictionary(grouping: request.ownership.entries(of: provider).filter { $0.label != nil }) { $0.name }
                : [:]

            accounted.formUnion(
                planDeclaredBots(
                    declared, provider: provider, byID: byID, activeByName: activeByName,
                    capabilities: capabilities, now: now, tokenEntries: tokenEntries))
            if !capabilities.matchesByName {
                planUnsealed(provider: provider, observation: observation, accounted: &accounted)
            }
            for owner in request.ownership.bots(of: provider, where: { !declaredNames.contains($0.name) })
                .sorted(by: { $0.name < $1.name })
            where inScope(owner.address) {
                if let matched = planRemoved(owner, byID: byID, activeByName: activeByName, capabilities: capabilities)
                {
                    accounted.insert(matched)
                }
            }
            for bot in observation.bots.filter({ $0.isActive && !accounted.contains($0.id) })
                .sorted(by: { $0.name < $1.name })
            {
                let address = "\(provider)/\(bot.name)"
                // A service that names bots itself: a key named like a declared bot is not that bot.
                guard !(capabilities.matchesByName && declaredNames.contains(bot.name)), inScope(address) else {
                    continue
                }
                recordInput(address, observed: bot, owner: nil)
                switch request.desired.policy.unmanaged {
                case .report:
                    drift.append(
                        DriftItem(
                            address: address, provider: provider, bot: bot.name, kind: .unmanaged, botID: bot.id,
                            message: "exists on the service but Botform does not manage it (policy.unmanaged: report)"))
                case .revoke:
                    actions.append(
                        PlannedAction(
                            address: address, provider: provider, bot: bot.name, action: .revoke, botID: bot.id,
                            permissions: bot.permissions,
                            reasons: [ActionReason(.unmanaged, "not managed by Botform (policy.unmanaged: revoke)")]))
                case .ignore:
                    break
                }
            }
        }

        /// The declared bots of one provider, planned in chunks on every core for large configurations:
        /// each chunk gets a copy of the run with empty results, and the results are joined in chunk
        /// order, so the plan is the one a single pass makes. Returns the service's ids the bots stand for.
        mutating func planDeclaredBots(
            _ declared: [DesiredBot], provider: String, byID: BotIndex, activeByName: BotIndex,
            capabilities: ProviderCapabilities, now: Date, tokenEntries: [String: [OwnedBot]]
        ) -> [String] {
            let chunks =
                request.chunked && declared.count >= Self.chunkSize * 2
                ? min(ProcessInfo.processInfo.activeProcessorCount, 8, declared.count / Self.chunkSize) : 1
            guard chunks > 1 else {
                return planBots(
                    declared[...], provider: provider, byID: byID, activeByName: activeByName,
                    capabilities: capabilities, now: now, tokenEntries: tokenEntries)
            }
            var empty = self
            empty.actions = []
            empty.drift = []
            empty.inputs = [:]
            empty.conflicts = []
            var runs = [Run](repeating: empty, count: chunks)
            var matched = [[String]](repeating: [], count: chunks)
            let size = (declared.count + chunks - 1) / chunks
            runs.withUnsafeMutableBufferPointer { runs in
                matched.withUnsafeMutableBufferPointer { matched in
                    // Each iteration writes only its own element of each buffer.
                    nonisolated(unsafe) let runs = runs
                    nonisolated(unsafe) let matched = matched
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        let slice = declared[(chunk * size)..<min((chunk + 1) * size, declared.count)]
                        matched[chunk] = runs[chunk].planBots(
                            slice, provider: provider, byID: byID, activeByName: activeByName,
                            capabilities: capabilities, now: now, tokenEntries: tokenEntries)
                    }
                }
            }
            for run in runs {
                actions += run.actions
                drift += run.drift
                inputs.merge(run.inputs) { first, _ in first }
                conflicts += run.conflicts
            }
            return matched.flatMap { $0 }
        }

        /// Bots per chunk below which planning stays on one core.
        static let chunkSize = 2_000

        private mutating func planBots(
            _ bots: ArraySlice<DesiredBot>, provider: String, byID: BotIndex, activeByName: BotIndex,
            capabilities: ProviderCapabilities, now: Date, tokenEntries: [String: [OwnedBot]]
        ) -> [String] {
            var matchedIDs: [String] = []
            for bot in bots {
                let owner = request.ownership[bot.address]
                var matched: String?
                var registering = false
                // A targeted token of a bot not on the service yet brings the bot's registration with it,
                // as Terraform plans a target's dependencies.
                let known = (owner?.id ?? activeByName[bot.name]?.id).flatMap { byID[$0] }
                let tokenTargeted =
                    capabilities.issuesTokens
                    && bot.tokens.contains { inScope(token: $0.label, of: bot.name, provider: provider) }
                if inScope(bot.address) || (tokenTargeted && known?.isActive != true) {
                    let before = actions.count
                    matched = planDeclared(
                        bot, owner: owner, byID: byID, activeByName: activeByName, capabilities: capabilities,
                        now: now)
                    registering = actions[before...].contains { $0.address == bot.address && $0.action == .register }
                } else {
                    matched = owner?.id ?? activeByName[bot.name]?.id
                }
                if let matched { matchedIDs.append(matched) }
                if capabilities.issuesTokens {
                    let live = registering ? nil : matched.flatMap { byID[$0] }.flatMap { $0.isActive ? $0 : nil }
                    guard registering || live != nil else { continue }
                    planTokens(
                        bot, observed: live, entries: tokenEntries[bot.name] ?? [], now: now,
                        visible: capabilities.seesAllBots)
                }
            }
            return matchedIDs
        }

        mutating func recordInput(_ address: String, observed: ObservedBot?, owner: OwnedBot?) {
            let seen = observed.map { $0.fingerprint(permissionsText: $0.permissions.map { canonical($0) }) }
            inputs[address] = SHA256Digest.hex("\(seen ?? "-")#\(owner?.fingerprint ?? "-")")
        }

        /// Plans a declared bot; returns the id of the service's bot it stands for, if any.
        private mutating func planDeclared(
            _ bot: DesiredBot, owner: OwnedBot?, byID: BotIndex, activeByName: BotIndex,
            capabilities: ProviderCapabilities, now: Date
        ) -> String? {
            let address = bot.address
            func action(_ kind: ActionKind, _ observed: ObservedBot?, _ reasons: [ActionReason]) -> PlannedAction {
                PlannedAction(
                    address: address, provider: bot.provider, bot: bot.name, action: kind, botID: observed?.id,
                    permissions: permissions(of: bot),
                    previousPermissions: kind == .replace ? observed?.permissions : nil, reasons: reasons,
                    role: bot.foksRole, previousRole: kind == .renew ? observed?.role : nil)
            }
            // A bot that holds no secret of its own (Sym): nothing to rotate or lose; its tokens are planned
            // on their own.
            let holdsSecret = capabilities.registerIssuesSecret
            let register = ActionReason(.notOnService, "declared in configuration, not on the service")

            guard let owner else {
                // Not managed. On the service under this name: adopt it (or replace it when it differs).
                guard let existing = activeByName[bot.name] else {
                    recordInput(address, observed: nil, owner: nil)
                    actions.append(action(.register, nil, [register]))
                    return nil
                }
                recordInput(address, observed: existing, owner: nil)
                if let holder = heldBy[existing.id], holder != address {
                    conflicts.append("\(address) is \(holder)")
                    return existing.id
                }
                let found = ActionReason(
                    .existsUnmanaged, "exists on the service but Botform did not create it; its secret is not held")
                if let current = existing.permissions, current != bot.effectivePermissions {
                    actions.append(
                        action(
                            .replace, existing,
                            [found, permissionsChanged(from: current, to: bot.effectivePermissions, capabilities)]))
                } else if rotate.contains(address), holdsSecret {
                    actions.append(
                        rotation(
                            bot, existing, [found, ActionReason(.rotationRequested, "rotation requested (--rotate)")],
                            capabilities))
                } else {
                    actions.append(
                        action(
                            .adopt, existing,
                            [
                                ActionReason(
                                    .existsUnmanaged,
                                    "exists on the service but Botform did not create it; adopting it without its secret (--rotate \(address) issues one)"
                                )
                            ]))
                }
                return existing.id
            }

            // Managed, but the run that registered it never learned its id: the bot of that name is Botform's.
            guard let id = owner.id else {
                if let existing = activeByName[bot.name], !holdsSecret {
                    recordInput(address, observed: existing, owner: owner)
                    actions.append(
                        action(
                            .adopt, existing,
                            [
                                ActionReason(
                                    .registrationUnfinished,
                                    "a previous run created it and did not record it; recording it")
                            ]))
                    return existing.id
                }
                if let existing = activeByName[bot.name] {
                    recordInput(address, observed: existing, owner: owner)
                    actions.append(
                        rotation(
                            bot, existing,
                            [
                                ActionReason(
                                    .secretLost,
                                    "secret_lost: a previous run registered this bot but did not keep its secret")
                            ], capabilities))
                    return existing.id
                }
                recordInput(address, observed: nil, owner: owner)
                actions.append(
                    action(
                        .register, nil,
                        [ActionReason(.registrationUnfinished, "a previous run did not finish registering it")]))
                return nil
            }

            guard let observed = byID[id], observed.isActive else {
                if byID[id] == nil, !capabilities.seesAllBots {
                    recordInput(address, observed: nil, owner: owner)
                    drift.append(notVisible(address, provider: bot.provider, bot: bot.name, id: id, capabilities))
                    return id
                }
                let revoked = byID[id] != nil
                recordInput(address, observed: byID[id], owner: owner)
                drift.append(
                    DriftItem(
                        address: address, provider: bot.provider, bot: bot.name,
                        kind: revoked ? .revokedOutsideBotform : .missingOutsideBotform,
                        botID: id,
                        message: revoked
                            ? "revoked outside Botform" : "gone from the service (deleted outside Botform?)"))
                if let impostor = activeByName[bot.name] {
                    drift.append(
                        DriftItem(
                            address: address, provider: bot.provider, bot: bot.name, kind: .replacedOutsideBotform,
                            botID: impostor.id,
                            message: "another bot of this name (\(impostor.id)) was registered outside Botform"))
                    actions.append(
                        action(
                            .adopt, impostor,
                            [
                                ActionReason(
                                    .existsUnmanaged,
                                    "the bot of this name was replaced outside Botform; adopting the new one without its secret"
                                )
                            ]))
                    return impostor.id
                }
                let reason =
                    revoked
                    ? ActionReason(.revokedOutsideBotform, "revoked outside Botform; registering a new bot")
                    : ActionReason(.missingOutsideBotform, "gone from the service; registering it again")
                actions.append(action(.register, nil, [reason]))
                return nil
            }

            recordInput(address, observed: observed, owner: owner)
            if let desiredRole = bot.foksRole, let current = observed.role, current != desiredRole {
                actions.append(
                    rotation(
                        bot, observed,
                        [
                            ActionReason(
                                .roleChanged,
                                "role changed: \(current) → \(desiredRole) (a key's role is fixed: a new token at the new role, then the old one revoked)"
                            )
                        ], capabilities))
                return id
            }
            if let current = observed.permissions {
                if let registered = owner.permissionsSHA256, registered != digest(current) {
                    drift.append(
                        DriftItem(
                            address: address, provider: bot.provider, bot: bot.name, kind: .changedOutsideBotform,
                            botID: id,
                            message: "its permissions on the service differ from what Botform registered"))
                }
                if current != bot.effectivePermissions {
                    actions.append(
                        action(
                            .replace, observed,
                            [permissionsChanged(from: current, to: bot.effectivePermissions, capabilities)]))
                    return id
                }
            }
            if !holdsSecret { return id }
            if owner.secretLost {
                let message =
                    capabilities.replacesNewFirst && owner.pendingSince != nil
                    ? "secret_lost: a renewal did not finish (the run stopped after announcing it); renewing again, the held token stays sealed until the new one is"
                    : "secret_lost: Botform issued this bot a secret that it does not hold"
                actions.append(rotation(bot, observed, [ActionReason(.secretLost, message)], capabilities))
            } else if rotate.contains(address) {
                actions.append(
                    rotation(
                        bot, observed, [ActionReason(.rotationRequested, "rotation requested (--rotate)")], capabilities
                    ))
            } else if let every = bot.rotateEvery, let issued = owner.issuedAt, owner.origin == .issued {
                let age = Int64(now.timeIntervalSince(issued))
                if age >= every.seconds {
                    let message = "secret \(BotformDuration.humanize(seconds: age)) old, rotate_every \(every)"
                    actions.append(
                        rotation(
                            bot, observed,
                            [ActionReason(.rotationDue, message, ageSeconds: age, rotateEverySeconds: every.seconds)],
                            capabilities))
                }
            }
            return id
        }

        /// What a bot is registered with: Fyso's permissions; Sym and FOKS bots have none (a FOKS token has
        /// a role instead), so their actions carry none.
        func permissions(of bot: DesiredBot) -> Permissions? {
            request.desired.provider(named: bot.provider)?.kind == .fyso || bot.effectivePermissions.isEmpty == false
                ? bot.effectivePermissions : nil
        }

        /// A rotation: reset in place when the caller may, otherwise a replace, said so in the reasons.
        private func rotation(
            _ bot: DesiredBot, _ observed: ObservedBot, _ reasons: [ActionReason], _ capabilities: ProviderCapabilities
        ) -> PlannedAction {
            var reasons = reasons
            let kind: ActionKind
            if capabilities.canResetSecret {
                kind = .reset
            } else if capabilities.replacesNewFirst {
                kind = .renew
            } else {
                kind = .replace
                reasons.append(
                    ActionReason(
                        .callerCannotReset,
                        "a \(capabilities.caller) caller cannot reset secrets: revoke, then register"))
            }
            return PlannedAction(
                address: bot.address, provider: bot.provider, bot: bot.name, action: kind, botID: observed.id,
                permissions: permissions(of: bot),
                previousPermissions: kind == .replace ? observed.permissions : nil, reasons: reasons,
                role: bot.foksRole, previousRole: kind == .renew ? observed.role : nil)
        }

        private func permissionsChanged(
            from current: Permissions, to desired: Permissions, _ capabilities: ProviderCapabilities
        ) -> ActionReason {
            let changes = desired.changes(from: current)
            let summary = changes.map(\.summary).joined(separator: ", ")
            let how =
                capabilities.canUpdatePermissions
                ? "" : " (the service cannot change permissions in place: revoke, then register)"
            return ActionReason(.permissionsChanged, "permissions changed: \(summary)\(how)", changes: changes)
        }

        /// A managed bot the caller cannot see: not gone, just unknown. Nothing is planned for it.
        private func notVisible(
            _ address: String, provider: String, bot: String, id: String?, _ capabilities: ProviderCapabilities
        ) -> DriftItem {
            DriftItem(
                address: address, provider: provider, bot: bot, kind: .notVisible, botID: id,
                message:
                    "not in the \(capabilities.caller) caller's view (it sees only some bots); whether it still exists is unknown, so it is left as it is"
            )
        }

        /// Plans a managed bot no longer declared; returns the id it stands for, if any.
        private mutating func planRemoved(
            _ owner: OwnedBot, byID: BotIndex, activeByName: BotIndex,
            capabilities: ProviderCapabilities
        ) -> String? {
            let observed = owner.id.flatMap { byID[$0] } ?? (owner.id == nil ? activeByName[owner.name] : nil)
            recordInput(owner.address, observed: observed, owner: owner)
            if observed == nil, !capabilities.seesAllBots {
                drift.append(
                    notVisible(owner.address, provider: owner.provider, bot: owner.name, id: owner.id, capabilities))
                return nil
            }
            guard let observed, observed.isActive else {
                actions.append(
                    PlannedAction(
                        address: owner.address, provider: owner.provider, bot: owner.name, action: .forget,
                        botID: owner.id ?? observed?.id,
                        reasons: [
                            ActionReason(
                                .noLongerOnService,
                                "removed from configuration and no longer on the service; dropping it from the sealed file"
                            )
                        ]))
                return observed?.id
            }
            actions.append(
                PlannedAction(
                    address: owner.address, provider: owner.provider, bot: owner.name, action: .revoke,
                    botID: observed.id,
                    permissions: observed.permissions,
                    reasons: [ActionReason(.removedFromConfiguration, "removed from configuration")]))
            return observed.id
        }

        // MARK: Guards

        mutating func applyGuards() {
            let protected = Set(request.desired.bots.filter(\.protect).map(\.address))
            for index in actions.indices where actions[index].action == .replace {
                let provider = actions[index].provider
                guard request.observations[provider]?.capabilities.revokedNamesReusable == false else { continue }
                actions[index].blocked = ActionBlock(
                    .nameNotReusable,
                    "\(actions[index].address): a replace revokes the bot and registers its name again, and provider \"\(provider)\" keeps revoked names taken (revoked_names_reusable: false); rename the bot in the configuration instead (the new name is registered, the old bot revoked)"
                )
            }
            guards = PlanGuards.apply(
                to: &actions, protected: protected, maxDestroy: request.desired.policy.maxDestroy,
                allowed: allowDestroy)
        }
    }
}

/// Observed bots by id or name, as positions in the observation: a plan looks up every bot, and
/// copying 10,000 bots into dictionaries cost more than the lookups. The first bot of a key wins.
struct BotIndex {
    let bots: [ObservedBot]
    let positions: [String: Int]

    init(
        _ bots: [ObservedBot], key: (ObservedBot) -> String, where include: (ObservedBot) -> Bool = { _ in true }
    ) {
        self.bots = bots
        var positions = [String: Int](minimumCapacity: bots.count)
        for index in bots.indices where include(bots[index]) {
            let key = key(bots[index])
            if positions[key] == nil { positions[key] = index }
        }
        self.positions = positions
    }

    subscript(key: String) -> ObservedBot? { positions[key].map { bots[$0] } }
}
