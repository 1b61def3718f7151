/// Why an age file could not be opened, in the categories of the age specification and its test kit.
public enum AgeError: Error, Equatable, CustomStringConvertible {
    /// The ASCII armor is malformed.
    case armor(String)
    /// The header is malformed (or an X25519 stanza is invalid).
    case header(String)
    /// The header's MAC does not verify: the header was altered.
    case hmac
    /// No identity opens any recipient stanza.
    case noMatch
    /// The payload is truncated, altered or malformed.
    case payload(String)

    public var description: String {
        switch self {
        case .armor(let detail): "invalid age armor: \(detail)"
        case .header(let detail): "invalid age header: \(detail)"
        case .hmac: "the age header's MAC does not verify (the file was altered)"
        case .noMatch: "no identity matches any recipient of this file"
        case .payload(let detail): "invalid age payload: \(detail)"
        }
    }
}
