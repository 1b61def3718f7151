import BotformCore
import Foundation

/// The drift report for people: text for a terminal or a CI log, markdown for the body of an issue a
/// scheduled job opens (with a hidden marker naming the configuration, so the job finds its own issue).
/// Both say the same facts as the JSON report; neither ever holds a secret.
public struct DriftRenderer: Sendable {
    public var style: TextStyle
    /// The length the markdown stays under (an issue body, like a comment, holds 65,536 characters).
    public var limit: Int

    public init(style: TextStyle = .plain, limit: Int = 65_000) {
        self.style = style
        self.limit = limit
    }

    /// Words for a finding's kind; kinds without an entry are shown with spaces for underscores.
    public static func words(for kind: String) -> String {
        let known: [String: String] = [
            "unmanaged": "unmanaged bot",
            "revoked_outside_botform": "revoked outside Botform",
            "missing_outside_botform": "gone from the service",
            "changed_outside_botform": "permissions changed outside Botform",
            "replaced_outside_botform": "replaced outside Botform",
            "not_visible": "not visible to the caller",
            "provider_removed": "provider no longer configured",
            "rotation_due": "rotation due",
            "recipients_differ": "sealed to other recipients",
            "credential_rejected": "sealed secret refused by the service",
        ]
        return known[kind] ?? kind.replacingOccurrences(of: "_", with: " ")
    }

    /// The sentence every format starts with.
    public static func headline(_ report: DriftReport) -> String {
        let ignored = report.ignored.isEmpty ? "" : " (\(report.ignored.count) ignored)"
        guard !report.isClean else { return "No drift\(ignored): the services match what Botform manages." }
        let noun = report.findings.count == 1 ? "finding" : "findings"
        return "Drift: \(report.findings.count) \(noun)\(ignored)."
    }

    // MARK: Text

    public func text(_ report: DriftReport) -> String {
        var out: [String] = []
        for provider in report.providers {
            out.append(
                style.muted(
                    "\(provider.name) (\(provider.type), \(provider.endpoint)\(provider.tenant.map { ", tenant \($0)" } ?? "")): \(provider.observedBots) bot\(provider.observedBots == 1 ? "" : "s") read"
                ))
        }
        if !report.providers.isEmpty { out.append("") }
        for finding in report.findings {
            out.append(
                "\(style.warning("!")) \(style.emphasis(finding.address)): \(Self.words(for: finding.kind)): \(finding.message)"
            )
            out.append(style.muted("    fingerprint \(finding.fingerprint)"))
        }
        if !report.ignored.isEmpty {
            if !report.findings.isEmpty { out.append("") }
            out.append("Ignored (configuration's ignore list):")
            for finding in report.ignored {
                out.append(
                    "  \(finding.address): \(Self.words(for: finding.kind)) (reason: \(finding.ignoreReason ?? ""))")
            }
        }
        if let verification = report.verification {
            out.append("")
            out.append(
                "Verified \(verification.checked) sealed \(verification.checked == 1 ? "secret" : "secrets") against the services: \(verification.failed) refused."
            )
            for skipped in verification.skipped.prefix(20) {
                out.append(style.muted("  not verified: \(skipped.address): \(skipped.reason)"))
            }
            if verification.skipped.count > 20 {
                out.append(style.muted("  … and \(verification.skipped.count - 20) more not verified"))
            }
        }
        if let last = out.last, !last.isEmpty { out.append("") }
        out.append(report.isClean ? Self.headline(report) : style.warning(Self.headline(report)))
        return out.joined(separator: "\n")
    }

    // MARK: Markdown

    /// The marker a scheduled job searches for to update its issue in place: one per configuration.
    public static func marker(configuration: String) -> String {
        let shown = configuration.replacingOccurrences(of: " ", with: "%20").replacingOccurrences(
            of: "-->", with: "--%3E")
        return "<!-- botform:drift config=\(shown) -->"
    }

    public func markdown(_ report: DriftReport) -> String {
        for rows in [Int.max, 500, 200, 50, 10, 0] {
            let text = composeMarkdown(report, maxRows: rows)
            if text.count <= limit { return text }
        }
        return String(composeMarkdown(report, maxRows: 0).prefix(limit - 20)) + "\n\n…(truncated)\n"
    }

    private func composeMarkdown(_ report: DriftReport, maxRows: Int) -> String {
        var out = [Self.marker(configuration: report.configuration)]
        out.append(
            report.isClean
                ? "### Botform drift: none"
                : "### Botform drift: \(report.findings.count) \(report.findings.count == 1 ? "finding" : "findings")"
        )
        out.append("")
        out.append(escape(Self.headline(report)))
        out.append("")
        if !report.findings.isEmpty {
            let byKind = Dictionary(grouping: report.findings, by: \.kind).sorted { $0.key < $1.key }
            out.append(byKind.map { "**\($0.value.count)** \(Self.words(for: $0.key))" }.joined(separator: " · "))
            out.append("")
            out.append("| Bot | Finding | Details | Fingerprint |")
            out.append("|---|---|---|---|")
            for finding in report.findings.prefix(maxRows) {
                out.append(
                    "| `\(escape(finding.address))` | \(Self.words(for: finding.kind)) | \(escape(finding.message)) | `\(finding.fingerprint.prefix(12))` |"
                )
            }
            if report.findings.count > maxRows {
                out.append("")
                out.append(
                    "…and \(report.findings.count - maxRows) more (the JSON report, `botform drift --format json`, lists them all)."
                )
            }
            out.append("")
        }
        if !report.ignored.isEmpty {
            out.append("<details><summary>\(report.ignored.count) ignored by the configuration</summary>")
            out.append("")
            out.append("| Bot | Finding | Reason |")
            out.append("|---|---|---|")
            for finding in report.ignored.prefix(maxRows) {
                out.append(
                    "| `\(escape(finding.address))` | \(Self.words(for: finding.kind)) | \(escape(finding.ignoreReason ?? "")) |"
                )
            }
            if report.ignored.count > maxRows {
                out.append("")
                out.append("…and \(report.ignored.count - maxRows) more.")
            }
            out.append("")
            out.append("</details>")
            out.append("")
        }
        if let verification = report.verification {
            out.append(
                "Verified \(verification.checked) sealed \(verification.checked == 1 ? "secret" : "secrets"): \(verification.failed) refused, \(verification.skipped.count) not verified."
            )
            out.append("")
        }
        let endpoints = report.providers.map {
            "`\($0.name)` \($0.endpoint)\($0.tenant.map { " (tenant `\($0)`)" } ?? "")"
        }
        out.append(
            "<sub>Configuration `\(escape(report.configuration))`\(endpoints.isEmpty ? "" : " · " + endpoints.joined(separator: ", ")) · botform \(report.botformVersion)</sub>"
        )
        return out.joined(separator: "\n") + "\n"
    }

    /// Table cells: pipes and newlines would break the row; HTML would render.
    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ").replacingOccurrences(
            of: "<", with: "&lt;")
    }
}
