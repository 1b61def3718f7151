import BotformCore
import Foundation

/// FOKS bot tokens as a Botform provider, through the `foks` CLI and its agent (FoksCLI). A FOKS bot
/// token is a key of the agent's user at a role: the token is the bot. FOKS names tokens itself, so a
/// declared bot is matched to its key only through the id the sealed file holds; a key's role is fixed,
/// so a rotation or a role change is a renewal (the new token made and sealed, then the old key revoked).
public struct FoksProvider: BotProvider {
    public let name: String
    /// The FOKS server the provider is configured for; the agent's active user must be on it.
    public let host: String
    let cli: FoksCLI

    public init(name: String, host: String, cli: FoksCLI) {
        self.name = name
        self.host = host
        self.cli = cli
    }

    public var capabilities: ProviderCapabilities {
        ProviderCapabilities(
            canResetSecret: false, canUpdatePermissions: false, seesAllBots: true, caller: "owner",
            matchesByName: false, registerIssuesSecret: true, replacesNewFirst: true, issuesTokens: false)
    }

    /// The agent's active user (checked to be on `host`, unlocked), then its bot-token keys. The key the
    /// agent itself runs as is never among them: Botform does not plan against the key it acts with.
    public func observe() async throws -> ProviderObservation {
        let status = try await cli.requireOwner()
        guard status.isOnHost(host) else {
            throw ProviderError(
                .authentication,
                "\(name): the foks agent's active user \"\(status.user)\" is on \(status.host), but the provider is configured for host \(host); switch the agent's user (`foks key switch`) or fix `host`"
            )
        }
        let keys = try await cli.listBotTokens()
        let bots = keys.filter { !$0.isAgentKey }.map { key in
            ObservedBot(
                id: key.id, name: key.name, isActive: !key.isRevoked, permissions: nil, createdAt: key.createdAt,
                role: key.role)
        }
        return ProviderObservation(
            provider: name, bots: bots, capabilities: capabilities, listCalls: 1, tenant: status.user)
    }

    public func execute(_ step: ProviderStep) async throws -> StepOutcome {
        switch step {
        case .register(let bot, _, let role):
            let issued = try await cli.newBotToken(role: role ?? .owner)
            guard let id = issued.keyID else {
                throw ProviderError(
                    .outcomeUnknown,
                    "\(name): foks made a token for \(bot) (key \(issued.name)) but its key id could not be found in `foks key list`"
                )
            }
            return .registered(id: id, secret: issued.token)
        case .revoke(let id, _):
            try await cli.revoke(keyID: id)
            return .revoked
        case .resetSecret, .issueToken, .revokeToken:
            throw ProviderError(
                .rejected(status: 400, code: nil), "\(name): a foks bot token cannot be changed in place (\(step))")
        }
    }
}
