import BotformCore
import Foundation

/// The Sym API's JSON, as `symflow` 8.1.0 reads it (../shared/specs/sym-api.md §4). The provider's own
/// types: the sandbox defines its own, so a client bug and a server bug cannot agree.
enum SymWire {
    struct Users: Decodable {
        var users: [User]
    }

    struct User: Decodable {
        var id: String
        var identities: [Identity]?
        var type: String?
        var createdAt: Date?

        enum CodingKeys: String, CodingKey {
            case id, identities, type
            case createdAt = "created_at"
        }

        /// The sym identity's username (`sym:cloud`, matcher `username`): a bot's name.
        var username: String? {
            identities?.first { $0.service?.slug == "sym" }?.matcher?["username"]
        }
    }

    struct Identity: Decodable {
        var service: Service?
        var matcher: [String: String]?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            service = try container.decodeIfPresent(Service.self, forKey: .service)
            // Matcher values other than strings are not names: skipped, not a failure.
            let raw = try container.decodeIfPresent([String: Scalar].self, forKey: .matcher)
            matcher = raw?.compactMapValues(\.text)
        }

        enum CodingKeys: String, CodingKey { case service, matcher }
    }

    struct Service: Decodable {
        var slug: String?
        var externalID: String?

        enum CodingKeys: String, CodingKey {
            case slug
            case externalID = "external_id"
        }
    }

    /// A JSON scalar kept only when it is a string.
    struct Scalar: Decodable {
        var text: String?
        init(from decoder: any Decoder) throws {
            text = try? decoder.singleValueContainer().decode(String.self)
        }
    }

    struct Tokens: Decodable {
        var tokens: [Token]
    }

    struct Token: Decodable {
        var identifier: String
        var user: Reference
        var expiresAt: Date?
        var createdAt: Date?
        var label: String?

        enum CodingKeys: String, CodingKey {
            case identifier, user, label
            case expiresAt = "expires_at"
            case createdAt = "created_at"
        }
    }

    struct Reference: Decodable {
        var id: String
    }

    struct Issued: Decodable {
        var accessToken: String

        enum CodingKeys: String, CodingKey {
            case accessToken = "access_token"
        }
    }

    struct Login: Decodable {
        var organization: String?
    }

    /// `{"error": true, "message": …}`; symflow reads `message`, then `errors`, then `error`.
    struct ErrorBody {
        var message: String?
        var code: String?

        init(_ data: Data) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return }
            code = object["code"] as? String
            if let text = object["message"] as? String, !text.isEmpty {
                message = text
            } else if let list = object["errors"] as? [String], !list.isEmpty {
                message = list.joined(separator: "; ")
            } else if let text = object["error"] as? String, !text.isEmpty {
                message = text
            }
        }

        /// Shown in errors: the service's message, cut short and on one line.
        var summary: String {
            guard let message else { return "no message" }
            let line = message.replacingOccurrences(of: "\n", with: " ")
            return line.count > 300 ? String(line.prefix(300)) + "…" : line
        }
    }

    /// Sym sends ISO 8601 times with or without fractional seconds or an offset, and symflow takes any
    /// of them as UTC (spec §4); epoch seconds are accepted too.
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) { return Date(timeIntervalSince1970: seconds) }
            let text = try container.decode(String.self)
            if let date = parseTime(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a time: \(text)")
        }
        return decoder
    }()

    static func parseTime(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        if let date = try? Date(text, strategy: fractional) { return date }
        // A naive time (no offset) is UTC.
        if !text.hasSuffix("Z"), !text.contains("+") {
            if let date = try? Date(text + "Z", strategy: .iso8601) { return date }
            if let date = try? Date(text + "Z", strategy: fractional) { return date }
        }
        return nil
    }

    /// The claims of an issued token that name it: its id (`jti`) and expiry (`exp`). Read without
    /// verifying: Botform only needs to know which token it was given, never to trust it.
    static func claims(of token: String) -> (id: String?, expiresAt: Date?) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return (nil, nil) }
        var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        guard let data = Data(base64Encoded: payload),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return (nil, nil) }
        let id = object["jti"] as? String
        let expiry = (object["exp"] as? NSNumber).map { Date(timeIntervalSince1970: $0.doubleValue) }
        return (id, expiry)
    }
}
