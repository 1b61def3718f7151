import Foundation

/// A Fyso error body, read tolerantly: `{"error": {"code", "message"}}`, or the rate limiter's
/// `{"error": "RATE_LIMITED", "message": …}`, or just `{"message": …}`. Anything else (unknown fields,
/// a field of another type, a body that is not JSON) leaves the parts it cannot read nil.
struct FysoErrorBody {
    var code: String?
    var message: String?

    init(_ data: Data) {
        guard let wire = try? JSONDecoder().decode(Wire.self, from: data) else { return }
        switch wire.error {
        case .object(let code, let message):
            self.code = code
            self.message = message
        case .code(let code):
            self.code = code
        case nil:
            break
        }
        message = message ?? wire.message
    }

    /// `message (CODE)`, trimmed to a sane length (a service must not flood our output).
    var summary: String {
        let text = [message, code.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
        return text.isEmpty ? "no details" : String(text.prefix(300))
    }

    private struct Wire: Decodable {
        var error: ErrorField?
        var message: String?

        enum CodingKeys: String, CodingKey { case error, message }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            error = try? container.decodeIfPresent(ErrorField.self, forKey: .error)
            message = try? container.decodeIfPresent(String.self, forKey: .message)
        }
    }

    /// `error` is an object with a code and a message, or (the rate limiter, since v1.34) the code alone.
    private enum ErrorField: Decodable {
        case object(code: String?, message: String?)
        case code(String)

        enum CodingKeys: String, CodingKey { case code, message }

        init(from decoder: any Decoder) throws {
            if let code = try? decoder.singleValueContainer().decode(String.self) {
                self = .code(code)
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self = .object(
                code: try? container.decodeIfPresent(String.self, forKey: .code),
                message: try? container.decodeIfPresent(String.self, forKey: .message))
        }
    }
}
