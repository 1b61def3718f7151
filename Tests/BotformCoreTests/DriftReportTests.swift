import BotformCore
import Foundation
import Testing

/// A tenant to find drift in: one fyso provider `prod`, with what is declared, what the service holds and
/// what the sealed file records; planned by the real planner, reported by `DriftReport`.
private struct Tenant {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let day: TimeInterval = 86_400
    static let read = Permissions(["products": [.read]])
    static let write = Permissions(["products": [.read, .update]])

    var declared: [DesiredBot] = []
    var observed: [ObservedBot] = []
    var owned: [OwnedBot] = []
    var unmanaged = UnmanagedPolicy.report
    var recipients: PlanDocument.RecipientChange?

    mutating func declare(_ name: String, _ permissions: Permissions = read, rotateEvery: BotformDuration? = nil) {
        declared.append(
            DesiredBot(name: name, provider: "prod", effectivePermissions: permissions, rotateEvery: rotateEvery))
    }

    mutating func service(_ name: String, id: String? = nil, _ permissions: Permissions = read, active: Bool = true) {
        observed.append(ObservedBot(id: id ?? "id-\(name)", name: name, isActive: active, permissions: permissions))
    }

    mutating func managed(_ name: String, id: String? = nil, issuedDaysAgo: Double = 1, permissions: Permissions = read)
    {
        owned.append(
            OwnedBot(
                provider: "prod", name: name, id: id ?? "id-\(name)", origin: .issued,
                issuedAt: Self.start.addingTimeInterval(-issuedDaysAgo * Self.day),
                permissionsSHA256: permissions.sha256, secretHeld: true))
    }

    /// The report at `now`, with the service's bots listed in `order` (to prove order does not matter).
    func report(
        now: Date = start, ignore: [DriftIgnore] = [], shuffled seed: UInt64? = nil
    ) throws -> DriftReport {
        var bots = observed
        if let seed {
            var generator = SplitMix64(seed: seed)
            bots.shuffle(using: &generator)
        }
        let provider = ProviderConfig(
            name: "prod",
            settings: .fyso(
                FysoSettings(endpoint: .embedded, tenant: "t", credentials: nil, timeout: BotformDuration(30, .seconds))
            ))
        let desired = DesiredState(
            baseDirectory: ".", providers: [provider], bots: declared, policy: Policy(unmanaged: unmanaged))
        let capabilities = ProviderCapabilities(
            canResetSecret: true, canUpdatePermissions: false, seesAllBots: true, caller: "admin")
        let ownership = Ownership(owned)
        let plan = try Planner.plan(
            PlanRequest(
                desired: desired,
                observations: [
                    "prod": ProviderObservation(provider: "prod", bots: bots, capabilities: capabilities, listCalls: 1)
                ],
                ownership: ownership, now: now))
        let document = PlanDocument(
            createdAt: now, configuration: .init(path: "botform.yaml", sha256: "-"), options: .init(), providers: [],
            actions: plan.actions, drift: plan.drift, guards: plan.guards, inputs: plan.inputs, recipients: recipients)
        return DriftReport(
            createdAt: now, configuration: "botform.yaml", providers: [],
            findings: DriftReport.findings(from: document, ownership: ownership), ignore: ignore)
    }
}

extension DriftReport {
    fileprivate var rows: [String] { findings.map { "\($0.kind) \($0.address)" } }
    fileprivate func fingerprint(_ address: String, _ kind: String) -> String? {
        (findings + ignored).first { $0.address == address && $0.kind == kind }?.fingerprint
    }
}

@Suite("DriftReport")
struct DriftReportTests {
    /// Every kind of drift at once: unmanaged, revoked, gone, changed, replaced, rotation due, recipients.
    private static func everything() -> Tenant {
        var tenant = Tenant()
        tenant.service("legacy")
        for name in ["revoked", "gone", "changed", "replaced", "fine"] { tenant.declare(name) }
        tenant.declare("old", rotateEvery: BotformDuration(90, .days))
        tenant.service("revoked", active: false)
        tenant.service("changed", Tenant.write)
        tenant.service("replaced", active: false)
        tenant.service("replaced", id: "id-impostor")
        tenant.service("old")
        tenant.service("fine")
        for name in ["revoked", "gone", "changed", "replaced", "fine"] { tenant.managed(name) }
        tenant.managed("old", issuedDaysAgo: 97)
        tenant.recipients = .init(entries: ["prod/fine"], added: ["age1new"], removed: ["age1old"])
        return tenant
    }

    @Test("each kind of drift is a finding; a tenant that matches is clean")
    func kinds() throws {
        let report = try Self.everything().report()
        #expect(
            Set(report.rows) == [
                "unmanaged prod/legacy", "revoked_outside_botform prod/revoked", "missing_outside_botform prod/gone",
                "changed_outside_botform prod/changed", "revoked_outside_botform prod/replaced",
                "replaced_outside_botform prod/replaced", "rotation_due prod/old", "recipients_differ prod/fine",
            ])
        let order = report.findings.map { "\($0.address) \($0.kind)" }
        #expect(order == order.sorted(), "sorted by address, then kind")
        #expect(!report.isClean)
        #expect(report.findings.first { $0.kind == "rotation_due" }?.message == "secret 97d old, rotate_every 90d")
        #expect(report.findings.first { $0.kind == "replaced_outside_botform" }?.botID == "id-impostor")

        var clean = Tenant()
        clean.declare("fine")
        clean.service("fine")
        clean.managed("fine")
        #expect(try clean.report().isClean)
    }

    @Test("edits of the configuration are changes, not drift: register, revoke, replace, adopt give no finding")
    func configurationEditsAreNotDrift() throws {
        var tenant = Tenant()
        tenant.declare("new-bot")
        tenant.declare("edited", Tenant.write)
        tenant.declare("adoptable")
        tenant.service("edited")
        tenant.service("removed")
        tenant.service("adoptable")
        tenant.managed("edited")
        tenant.managed("removed")
        #expect(try tenant.report().findings.isEmpty)
    }

    @Test("fingerprints are the same across runs, times and list orders, and change with the facts")
    func fingerprintStability() throws {
        let tenant = Self.everything()
        let first = try tenant.report()
        let later = try tenant.report(now: Tenant.start.addingTimeInterval(3 * Tenant.day), shuffled: 7)
        #expect(first.findings.map(\.fingerprint) == later.findings.map(\.fingerprint))
        #expect(Set(first.findings.map(\.fingerprint)).count == first.findings.count, "one fingerprint per finding")
        #expect(first.findings.allSatisfy { $0.fingerprint.count == 64 })

        // Another unmanaged bot of the same name (another id) is a new finding.
        var recreated = tenant
        recreated.observed.removeAll { $0.name == "legacy" }
        recreated.service("legacy", id: "id-legacy-2")
        let unmanaged = try #require(first.fingerprint("prod/legacy", "unmanaged"))
        #expect(try recreated.report().fingerprint("prod/legacy", "unmanaged") != unmanaged)

        // A rotated secret that falls due again is a new finding; the same secret stays the same one.
        var rotated = tenant
        rotated.owned.removeAll { $0.name == "old" }
        rotated.managed("old", issuedDaysAgo: 91)
        let due = try #require(first.fingerprint("prod/old", "rotation_due"))
        #expect(try rotated.report().fingerprint("prod/old", "rotation_due") != due)

        // Whatever the policy, an unmanaged bot is the same finding.
        var revoking = tenant
        revoking.unmanaged = .revoke
        #expect(try revoking.report().fingerprint("prod/legacy", "unmanaged") == unmanaged)
        revoking.unmanaged = .ignore
        #expect(try revoking.report().fingerprint("prod/legacy", "unmanaged") == nil)
    }

    @Test("ignored findings are listed apart with their reason and do not make the report dirty")
    func ignore() throws {
        var tenant = Tenant()
        tenant.service("legacy")
        tenant.service("Legacy_Bot")
        let ignore = [
            DriftIgnore(bot: "prod/legacy", reason: "owned by the data team"),
            DriftIgnore(bot: "Legacy_Bot", reason: "made by hand"),
            DriftIgnore(bot: "prod/unrelated", reason: "gone long ago"),
        ]
        let report = try tenant.report(ignore: ignore)
        #expect(report.isClean)
        #expect(report.ignored.map(\.ignoreReason) == ["made by hand", "owned by the data team"])
        #expect(DriftReport.unused(ignore, by: report).map(\.bot) == ["prod/unrelated"])
        let partial = try tenant.report(ignore: [ignore[0]])
        #expect(partial.rows == ["unmanaged prod/Legacy_Bot"] && partial.ignored.count == 1)
        #expect(
            partial.ignored[0].fingerprint == (try tenant.report()).fingerprint("prod/legacy", "unmanaged"),
            "ignoring a finding does not change its fingerprint")
    }

    @Test("an ignore entry matches its address, the tokens under it, or a bare name in any provider")
    func ignoreMatching() {
        let address = DriftIgnore(bot: "prod/agent", reason: "r")
        #expect(address.matches(address: "prod/agent", bot: "agent"))
        #expect(address.matches(address: "prod/agent/ci", bot: "agent"))
        #expect(!address.matches(address: "prod/agent-2", bot: "agent-2"))
        #expect(!address.matches(address: "staging/agent", bot: "agent"))
        let bare = DriftIgnore(bot: "agent", reason: "r")
        #expect(bare.matches(address: "staging/agent", bot: "agent"))
        #expect(!bare.matches(address: "prod/agents", bot: "agents"))
    }

    @Test("the JSON report: format_version 1, findings and ignored with fingerprint, kind, address, message")
    func json() throws {
        var tenant = Tenant()
        tenant.service("legacy")
        tenant.service("kept")
        let report = try tenant.report(ignore: [DriftIgnore(bot: "prod/kept", reason: "known")])
        let object = try #require(try JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        #expect(object["format_version"] as? Int == 1)
        let finding = try #require((object["findings"] as? [[String: Any]])?.first)
        #expect(Set(finding.keys).isSuperset(of: ["fingerprint", "kind", "address", "message", "bot_id"]))
        let ignored = try #require((object["ignored"] as? [[String: Any]])?.first)
        #expect(ignored["ignore_reason"] as? String == "known")
    }
}
