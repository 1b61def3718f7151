import Foundation

/// One thing that changed outside Botform (or with time), as `botform drift` reports it.
public struct DriftFinding: Sendable, Hashable, Codable {
    /// SHA-256 of the kind, the address and the observed facts that make this a finding (never a
    /// time of the run), so a scheduled job can tell a new finding from one it already reported.
    public var fingerprint: String
    /// A drift kind of the plan (`unmanaged`, `revoked_outside_botform`, …), `rotation_due`,
    /// `recipients_differ`, or `credential_rejected` (from `--verify`).
    public var kind: String
    public var address: String
    public var provider: String
    /// The bot's name; empty for a finding about a whole provider.
    public var bot: String
    public var botID: String?
    public var message: String
    /// For an ignored finding: the reason the configuration's `ignore` entry gives.
    public var ignoreReason: String?

    public init(
        kind: String, address: String, provider: String, bot: String, botID: String?, message: String,
        facts: [String]
    ) {
        self.kind = kind
        self.address = address
        self.provider = provider
        self.bot = bot
        self.botID = botID
        self.message = message
        fingerprint = Self.fingerprint(kind: kind, address: address, facts: facts)
    }

    /// The fingerprint of a finding: stable across runs, machines and Botform versions as long as the
    /// facts are the same.
    public static func fingerprint(kind: String, address: String, facts: [String]) -> String {
        SHA256Digest.hex((["botform-drift-1", kind, address] + facts).joined(separator: "\n"))
    }

    enum CodingKeys: String, CodingKey {
        case fingerprint, kind, address, provider, bot, message
        case botID = "bot_id"
        case ignoreReason = "ignore_reason"
    }
}

/// What `botform drift` reports: only what changed outside Botform (unmanaged bots, managed bots revoked,
/// gone or changed, secrets past `rotate_every`, entries sealed to other recipients, credentials that no
/// longer work), derived from the plan document so that drift and plan always state the same facts.
public struct DriftReport: Sendable, Hashable, Codable {
    /// The version of this document's shape: a new field keeps it, a changed meaning bumps it.
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    public var botformVersion: String
    public var createdAt: Date
    /// The configuration as given to the command.
    public var configuration: String
    public var providers: [PlanDocument.ProviderSummary]
    /// Findings not covered by an `ignore` entry, sorted by address then kind: these make exit 2.
    public var findings: [DriftFinding]
    /// Findings an `ignore` entry covers, with its reason; they do not fail the check.
    public var ignored: [DriftFinding]
    /// What `--verify` checked; absent without it.
    public var verification: Verification?

    /// The outcome of proving each sealed credential against its service.
    public struct Verification: Sendable, Hashable, Codable {
        /// Credentials presented to the service (one call each).
        public var checked: Int
        /// Of those, how many the service refused.
        public var failed: Int
        /// Managed bots not checked, with why (no secret held, a provider that cannot verify).
        public var skipped: [Skipped]

        public struct Skipped: Sendable, Hashable, Codable {
            public var address: String
            public var reason: String

            public init(address: String, reason: String) {
                self.address = address
                self.reason = reason
            }
        }

        public init(checked: Int, failed: Int, skipped: [Skipped]) {
            self.checked = checked
            self.failed = failed
            self.skipped = skipped
        }
    }

    public init(
        createdAt: Date, configuration: String, providers: [PlanDocument.ProviderSummary], findings: [DriftFinding],
        ignore: [DriftIgnore], verification: Verification? = nil
    ) {
        formatVersion = Self.currentFormatVersion
        botformVersion = BotformVersion.current
        self.createdAt = createdAt
        self.configuration = configuration
        self.providers = providers
        self.verification = verification
        var kept: [DriftFinding] = []
        var ignored: [DriftFinding] = []
        for finding in Self.sorted(findings) {
            if let entry = ignore.first(where: { $0.matches(address: finding.address, bot: finding.bot) }) {
                var finding = finding
                finding.ignoreReason = entry.reason
                ignored.append(finding)
            } else {
                kept.append(finding)
            }
        }
        self.findings = kept
        self.ignored = ignored
    }

    /// No finding outside the ignore list: exit 0.
    public var isClean: Bool { findings.isEmpty }

    /// Ignore entries that matched no finding of this report, for a note that they can go.
    public static func unused(_ ignore: [DriftIgnore], by report: DriftReport) -> [DriftIgnore] {
        ignore.filter { entry in !report.ignored.contains { entry.matches(address: $0.address, bot: $0.bot) } }
    }

    private static func sorted(_ findings: [DriftFinding]) -> [DriftFinding] {
        findings.sorted { ($0.address, $0.kind, $0.fingerprint) < ($1.address, $1.kind, $1.fingerprint) }
    }

    enum CodingKeys: String, CodingKey {
        case configuration, providers, findings, ignored, verification
        case formatVersion = "format_version"
        case botformVersion = "botform_version"
        case createdAt = "created_at"
    }

    /// The report as JSON: sorted keys, ISO-8601 times, like the plan document.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }
}

extension DriftReport {
    /// Reason codes of planned actions that are drift (caused outside Botform or by time, not by an edit of
    /// the configuration), with the finding kind each becomes. A new drift-like reason is one line here.
    public static let driftReasons: [ActionReason.Code: String] = [
        .unmanaged: "unmanaged",
        .rotationDue: "rotation_due",
        .renewalDue: "renewal_due",
        .expired: "expired",
    ]

    /// The findings a plan holds: every drift item (new drift kinds flow through unchanged), every action
    /// whose reason is drift (`driftReasons`), and each sealed entry a re-wrap would touch. `ownership`
    /// supplies when a secret was issued, so a rotation finding is new once the secret is rotated.
    public static func findings(from plan: PlanDocument, ownership: Ownership? = nil) -> [DriftFinding] {
        var findings: [DriftFinding] = []
        for item in plan.drift {
            findings.append(
                DriftFinding(
                    kind: item.kind.rawValue, address: item.address, provider: item.provider, bot: item.bot,
                    botID: item.botID, message: item.message, facts: [item.botID ?? ""]))
        }
        for action in plan.actions {
            for reason in action.reasons {
                // A drift item may already say it (an expired token is both drift and a renewal reason).
                guard let kind = driftReasons[reason.code],
                    !findings.contains(where: { $0.kind == kind && $0.address == action.address })
                else { continue }
                var facts = [action.botID ?? ""]
                if reason.code == .rotationDue {
                    let issued = ownership?[action.address]?.issuedAt.map { ISO8601DateFormatter().string(from: $0) }
                    facts += [issued ?? "", reason.rotateEverySeconds.map(String.init) ?? ""]
                }
                findings.append(
                    DriftFinding(
                        kind: kind, address: action.address, provider: action.provider, bot: action.bot,
                        botID: action.botID, message: reason.message, facts: facts))
            }
        }
        if let change = plan.recipients {
            let added = change.added.sorted()
            let removed = change.removed.sorted()
            var parts: [String] = []
            if !added.isEmpty { parts.append("not to \(added.joined(separator: ", "))") }
            if !removed.isEmpty { parts.append("still to \(removed.joined(separator: ", ")), no longer configured") }
            let detail = parts.isEmpty ? "" : " (\(parts.joined(separator: "; ")))"
            for address in change.entries {
                let provider = address.split(separator: "/").first.map(String.init) ?? address
                let bot = address.split(separator: "/").dropFirst().first.map(String.init) ?? ""
                findings.append(
                    DriftFinding(
                        kind: "recipients_differ", address: address, provider: provider, bot: bot,
                        botID: ownership?[address]?.id,
                        message:
                            "its secret is sealed to other recipients than output.recipients\(detail); botform reseal -i KEY re-wraps it",
                        facts: ["+" + added.joined(separator: ","), "-" + removed.joined(separator: ",")]))
            }
        }
        return findings
    }
}
