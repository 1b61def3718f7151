import BotformCore
import Foundation
import NIOHTTP1

/// What presenting a sealed secret to its service showed.
public enum CredentialCheck: Sendable, Hashable {
    /// The service accepted the secret for the bot Botform recorded.
    case valid
    /// The service refused the secret (Fyso: 401, a wrong secret or an active lockout; 403, revoked) or
    /// accepted it for another bot than the one recorded.
    case rejected(status: Int, message: String)
    /// No definite answer (the service could not be reached, or answered 5xx): neither proof nor failure.
    case unknown(String)
}

extension FysoProvider {
    /// Proves a bot's sealed secret still works with one identify call (`POST /api/auth/bots/identify`).
    /// Sent exactly once, never retried and never repeated after a fresh login: a failed identify counts
    /// toward the bot's lockout (five failures lock it). The bot token the service returns is dropped
    /// unread; neither it nor the secret appears in any message.
    public func identify(bot: String, expectedID: String?, secret: Secret) async -> CredentialCheck {
        let body = Data(
            JSONValue.object([("name", .string(bot)), ("secret", .string(secret.reveal()))]).serialized(pretty: false)
                .utf8)
        let response: APIResponse
        do {
            let token = try await session.bearer()
            // Not idempotent: the transport then never resends a call that may have reached the service.
            response = try await transport.send(
                APIRequest(
                    method: .POST, path: "/api/auth/bots/identify",
                    headers: [("Authorization", "Bearer \(token.reveal())"), ("X-Tenant-ID", tenant)], body: body,
                    idempotent: false))
        } catch {
            return .unknown(error.message)
        }
        switch response.status {
        case 200...299:
            let id = (try? JSONDecoder().decode(FysoWire.Envelope<Identified>.self, from: response.body))?.data.id
            if let expectedID, let id, id != expectedID {
                return .rejected(
                    status: response.status,
                    message: "the secret identifies another bot (\(id)) than the one Botform recorded (\(expectedID))")
            }
            return .valid
        case 401:
            return .rejected(
                status: 401,
                message:
                    "the service refused the sealed secret (401: \(FysoErrorBody(response.body).summary)): changed outside Botform, or the bot is locked out"
            )
        case 403:
            return .rejected(
                status: 403,
                message: "the service refused to identify the bot (403: \(FysoErrorBody(response.body).summary))")
        case 500...599:
            return .unknown("identify answered \(response.status)")
        default:
            return .rejected(
                status: response.status,
                message: "identify answered \(response.status): \(FysoErrorBody(response.body).summary)")
        }
    }

    /// The part of identify's answer that is read: which bot the secret belongs to.
    private struct Identified: Decodable {
        var id: String?
    }
}
