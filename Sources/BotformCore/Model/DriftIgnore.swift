/// A drift finding the team has accepted (`ignore:` in the configuration): a known legacy bot that
/// should not keep a scheduled drift check red. Every entry says why, so the exception is reviewable.
public struct DriftIgnore: Sendable, Hashable {
    /// `provider/bot` (also covering the bot's tokens, `provider/bot/label`), or a bare bot name, which
    /// matches that name in every provider. A bare name may be one Botform could not declare (an
    /// unmanaged bot whose name breaks the naming rule).
    public var bot: String
    /// Why the finding is accepted; required and never empty.
    public var reason: String
    public var location: SourceLocation?

    public init(bot: String, reason: String, location: SourceLocation? = nil) {
        self.bot = bot
        self.reason = reason
        self.location = location
    }

    /// Whether this entry covers a finding about `address` (`provider/bot`, `provider/bot/label`, or a
    /// provider name for findings about a whole provider) whose bot is named `bot`.
    public func matches(address: String, bot name: String) -> Bool {
        if bot.contains("/") { return address == bot || address.hasPrefix(bot + "/") }
        return name.isEmpty ? address == bot : name == bot
    }
}
