import BotformCore
import BotformProviders
import BotformSeal
import Foundation

/// `drift --verify`: each sealed credential presented to its service once. A failed identify counts toward
/// the bot's lockout, so each bot is tried at most once per run and never retried; a refusal is a finding,
/// a call without a definite answer is reported as unverified. Secrets are opened in memory only and never
/// printed.
struct CredentialVerification {
    let terminal: Terminal
    /// Identify calls in flight at once.
    var parallelism = 8

    struct Outcome {
        var findings: [DriftFinding] = []
        var summary = DriftReport.Verification(checked: 0, failed: 0, skipped: [])
        /// Credentials whose check got no definite answer, with why.
        var unknown: [String] = []
    }

    private struct Job: Sendable {
        var entry: SealedEntry
        var id: String
        var provider: FysoProvider
    }

    func run(
        _ sealed: SealedFile, identities: [AgeIdentity], providers: [String: any BotProvider],
        observations: [String: ProviderObservation]
    ) async -> Outcome {
        var outcome = Outcome()
        var jobs: [Job] = []
        func skip(_ entry: SealedEntry, _ reason: String) {
            outcome.summary.skipped.append(.init(address: entry.address, reason: reason))
        }
        for entry in sealed.entries.values.sorted(by: { $0.address < $1.address }) {
            guard let provider = providers[entry.provider], let observation = observations[entry.provider] else {
                skip(entry, "its provider was not read (not configured, or no bots to plan)")
                continue
            }
            guard let fyso = provider as? FysoProvider else {
                skip(entry, "verifying this provider's credentials is not supported yet")
                continue
            }
            guard entry.secret != nil else {
                skip(
                    entry,
                    entry.origin == .adopted
                        ? "no secret held (adopted; apply --rotate issues one)"
                        : "its secret was lost; the next apply resets it")
                continue
            }
            guard entry.pending == nil else {
                skip(entry, "a call that issues its secret has an unknown outcome, so the held secret may be outdated")
                continue
            }
            guard let id = entry.id, observation.bots.contains(where: { $0.id == id && $0.isActive }) else {
                skip(entry, "not active on the service (see the findings)")
                continue
            }
            jobs.append(Job(entry: entry, id: id, provider: fyso))
        }
        let results = await withTaskGroup(of: (Job, CredentialCheck?).self) { group in
            var results: [(Job, CredentialCheck?)] = []
            var next = jobs.makeIterator()
            func start(_ job: Job) {
                group.addTask {
                    guard let secret = try? sealed.open(job.entry.address, identities: identities) else {
                        return (job, nil)
                    }
                    return (job, await job.provider.identify(bot: job.entry.bot, expectedID: job.id, secret: secret))
                }
            }
            for _ in 0..<parallelism {
                guard let job = next.next() else { break }
                start(job)
            }
            for await result in group {
                results.append(result)
                if let job = next.next() { start(job) }
            }
            return results
        }
        for (job, check) in results.sorted(by: { $0.0.entry.address < $1.0.entry.address }) {
            let entry = job.entry
            switch check {
            case nil:
                skip(entry, "the identities given do not open its secret")
            case .valid:
                outcome.summary.checked += 1
            case .rejected(let status, let message):
                outcome.summary.checked += 1
                outcome.summary.failed += 1
                outcome.findings.append(
                    DriftFinding(
                        kind: "credential_rejected", address: entry.address, provider: entry.provider, bot: entry.bot,
                        botID: job.id, message: message, facts: [job.id, "status=\(status)"]))
            case .unknown(let why):
                outcome.unknown.append("\(entry.address): \(why)")
                skip(entry, "no definite answer: \(why)")
            }
        }
        return outcome
    }
}
