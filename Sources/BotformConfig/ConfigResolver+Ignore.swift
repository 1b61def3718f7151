import BotformCore
import BotformYAML

extension ConfigResolver {
    /// The `ignore:` lists of every file, concatenated: drift findings the team accepts, each with the
    /// reason it is accepted (required: an exception nobody can explain should not silence a check).
    mutating func readIgnore(providers: [String]) -> [DriftIgnore] {
        var entries: [DriftIgnore] = []
        var seen: [String: SourceLocation] = [:]
        for file in files {
            guard let pair = file.ignore else { continue }
            let reader = file.reader
            let example = "[{bot: prod/legacy-bot, reason: \"owned by the data team\"}]"
            guard let items = reader.list(pair.value, "\"ignore\"", example: example) else { continue }
            for item in items {
                guard let entry = readIgnoreEntry(item, reader: reader, providers: providers) else { continue }
                if let first = seen[entry.bot] {
                    let place = first.file == reader.file ? "line \(first.line)" : "\(first)"
                    reader.warning("\"\(entry.bot)\" is listed twice in \"ignore\" (first at \(place))", at: item)
                    continue
                }
                seen[entry.bot] = entry.location
                entries.append(entry)
            }
        }
        return entries
    }

    private func readIgnoreEntry(_ item: YAMLNode, reader: ConfigReader, providers: [String]) -> DriftIgnore? {
        let what = "an entry of \"ignore\""
        guard let fields = reader.fields(item, .ignoreEntry, what: what) else { return nil }
        var bot: String?
        if let pair = fields["bot"], let text = reader.nonEmptyString(pair.value, "\"bot\" of \(what)") {
            bot = text
            if let slash = text.firstIndex(of: "/") {
                let provider = String(text[..<slash])
                if !providers.contains(provider) {
                    reader.error(
                        "ignore entry \"\(text)\" names provider \"\(provider)\", which is not declared\(Suggestion.didYouMean(provider, in: providers.sorted()))",
                        at: pair.value)
                    bot = nil
                }
            }
        }
        var reason: String?
        if let pair = fields["reason"] {
            reason = reader.nonEmptyString(pair.value, "\"reason\" of \(what)")
        }
        guard let bot, let reason else { return nil }
        return DriftIgnore(bot: bot, reason: reason, location: reader.location(item))
    }
}
