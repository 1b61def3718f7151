import Foundation

/// A Fyso error body, read tolerantly: `{"error": {"code", "message"}}`, or the rate limiter's
/// `{"error": "RATE_LIMITED", "message": …}`, or just `{"message": …}`.
struct FysoErrorBody {
    var code: String?
    var message: String?

    init(_ data: Data) {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return }
        if let error = object["error"] as? [String: Any] {
            code = error["code"] as? String
            message = error["message"] as? String
        } else if let error = object["error"] as? String {
            code = error
        }
        message = message ?? object["message"] as? String
    }

    /// `message (CODE)`, trimmed to a sane length (a service must not flood our output).
    var summary: String {
        let text = [message, code.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
        return text.isEmpty ? "no details" : String(text.prefix(300))
    }
}
