import BotformCore
import BotformYAML
import Foundation

extension ConfigResolver {
    /// Reads a provider's `url`: an http(s) URL, or `embedded`. A URL carrying a user or password is
    /// refused, and no diagnostic repeats what stood before its `@`: diagnostics end up in CI logs and
    /// in every plan, so a password written there would be published by the very check that refuses it.
    func readEndpoint(_ node: YAMLNode, reader: ConfigReader, what: String, kind: ProviderKind) -> ServiceEndpoint? {
        guard let text = reader.nonEmptyString(node, "\"url\" of \(what)") else { return nil }
        if text == "embedded" { return .embedded }
        func refuseUserInfo(shown: String) -> ServiceEndpoint? {
            let example = kind == .sym ? "{token_env: SYM_JWT}" : "{token_env: FYSO_TOKEN}"
            reader.error(
                "url \"\(shown)\" for \(what) must not carry a user or password; remove them from the url and put credentials in credentials: \(example)",
                at: node)
            return nil
        }
        if let userInfo = EndpointText.userInfo(in: text) {
            return refuseUserInfo(shown: EndpointText.redacting(text, userInfo))
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "https" || scheme == "http", let host = components.host, !host.isEmpty
        else {
            reader.error(
                "invalid url \"\(EndpointText.shown(text))\" for \(what): expected an http(s) URL such as \"https://api.fyso.dev\", or \"embedded\"",
                at: node)
            return nil
        }
        if components.user != nil || components.password != nil {
            // Parsers disagree on odd characters before an `@`; whichever finds user information, refuse.
            return refuseUserInfo(shown: EndpointText.shown(text))
        }
        if components.query != nil || components.fragment != nil {
            // A query often carries a key (`?api_key=…`): show only what precedes it.
            reader.error(
                "url \"\(EndpointText.withoutQuery(text))\" for \(what) must not have a query or fragment", at: node)
            return nil
        }
        let loopback = ["localhost", "127.0.0.1", "::1", "[::1]"].contains(host.lowercased())
        if scheme == "http", !loopback {
            reader.warning(
                "url \"\(text)\" uses plain http: credentials and issued secrets would cross the network unencrypted",
                at: node)
        }
        return .url(text.hasSuffix("/") ? String(text.dropLast()) : text)
    }

    /// Two providers that reach one account of one service (same type, normalised endpoint and tenant)
    /// would each take the other's bots for unmanaged ones, and revoke them under `unmanaged: revoke`.
    /// The second is an error that names the first. Sym's organisation and FOKS's user are not written
    /// in the configuration but implied by the credentials, so for them the same token source (Sym) or
    /// the same agent home (FOKS) is what makes two providers one account.
    mutating func checkDistinctAccounts(_ providers: [(declaration: Declaration, config: ProviderConfig)]) {
        var first: [AccountKey: Declaration] = [:]
        for (declaration, config) in providers {
            let key = AccountKey(config)
            guard let earlier = first[key] else {
                first[key] = declaration
                continue
            }
            let place =
                earlier.reader.file == declaration.reader.file ? "line \(earlier.key.line)" : "\(earlier.location)"
            declaration.reader.error(
                "provider \"\(declaration.name)\" addresses the same account as provider \"\(earlier.name)\" (\(place)): \(key); each would take the other's bots for unmanaged ones (and revoke them under unmanaged: revoke); keep one provider for the account and move the other's bots to it",
                at: declaration.key)
        }
    }
}

/// What makes two providers one account: where they issue (`ProviderOrigin`), and for services whose
/// tenant is implied by the credentials, the credentials' source.
struct AccountKey: Hashable, CustomStringConvertible {
    var origin: ProviderOrigin
    var credentials: String?

    init(_ provider: ProviderConfig) {
        origin = provider.origin
        switch provider.settings {
        case .fyso: credentials = nil
        case .sym(let sym): credentials = sym.token.map { "the same token (\($0))" }
        case .foks(let foks): credentials = foks.home.map { "the same home \"\($0)\"" } ?? "the default home"
        }
    }

    var description: String { origin.description + (credentials.map { ", with \($0)" } ?? "") }
}

/// How a `url` is shown in diagnostics: never with the user information a URL may carry.
enum EndpointText {
    /// The user information of `text` (`user:password` in `https://user:password@host`): from after the
    /// scheme's `//` (or the start, without one) to the last `@` before the path, query or fragment,
    /// where URL parsers look for it.
    static func userInfo(in text: String) -> Range<String.Index>? {
        let start = text.range(of: "://")?.upperBound ?? text.startIndex
        let end = text[start...].firstIndex(where: { "/?#".contains($0) }) ?? text.endIndex
        guard let at = text[start..<end].lastIndex(of: "@") else { return nil }
        return start..<at
    }

    static func redacting(_ text: String, _ range: Range<String.Index>) -> String {
        text.replacingCharacters(in: range, with: "***")
    }

    /// `text` with its query and fragment replaced by `***`, for the message that refuses them.
    static func withoutQuery(_ text: String) -> String {
        guard let start = text.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return text }
        return text[...start] + "***"
    }

    /// `text` for a message about a malformed URL: everything before its last `@` that follows the
    /// scheme is hidden, since in a URL no parser could read the `@` may still end a password
    /// (`https://user:pa#ss@host`).
    static func shown(_ text: String) -> String {
        if let range = userInfo(in: text) { return redacting(text, range) }
        guard let at = text.lastIndex(of: "@") else { return text }
        let start = text.range(of: "://")?.upperBound ?? text.startIndex
        return start < at ? redacting(text, start..<at) : text
    }
}
