import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// An error answered as Fyso answers errors: `{"success": false, "error": {"code", "message"}}`, or, for
/// the rate limiter, `{"success": false, "error": "RATE_LIMITED", "message": …}`. Under the Sym API
/// (`/api/v1/`) the same error is answered as Sym answers: `{"error": true, "message", "code"?}`.
struct APIError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]
    var stringForm = false
    /// Answer in Sym's form; set for every error under `SymAPI.pathPrefix`.
    var symForm = false
    /// Sym's `code` (such as `Authentication:INVALID_JWT`); Sym errors without one carry no `code`.
    var symCode: String?

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func validation(_ message: String) -> APIError { APIError(.badRequest, "VALIDATION_ERROR", message) }
    static func unauthorized(_ message: String) -> APIError { APIError(.unauthorized, "UNAUTHORIZED", message) }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, "FORBIDDEN", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "NOT_FOUND", message) }
    static func conflict(_ message: String) -> APIError { APIError(.conflict, "CONFLICT", message) }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        var body: [String: Any] =
            stringForm
            ? ["success": false, "error": code, "message": message]
            : ["success": false, "error": ["code": code, "message": message]]
        if symForm {
            // The symflow CLI shows `message` and crashes on an error without one: never empty.
            body = ["error": true, "message": message.isEmpty ? status.reasonPhrase : message]
            if let symCode { body["code"] = symCode }
        }
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error into the envelope: Hummingbird's own (unknown route, body too large) and anything
/// unexpected (500, without internals).
struct ErrorEnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            guard var apiError = Self.apiError(error, request: request, context: context) else { throw error }
            if request.uri.path.hasPrefix(SymAPI.pathPrefix) { apiError.symForm = true }
            throw apiError
        }
    }

    /// The envelope for an error; nil for a cancellation (a dropped response), which stays one.
    private static func apiError(_ error: any Error, request: Request, context: Context) -> APIError? {
        switch error {
        case let error as APIError:
            return error
        case let error as any HTTPResponseError:
            let code: String
            switch error.status {
            case .notFound: code = "NOT_FOUND"
            case .methodNotAllowed: code = "METHOD_NOT_ALLOWED"
            case .contentTooLarge: code = "PAYLOAD_TOO_LARGE"
            case .unauthorized: code = "UNAUTHORIZED"
            case .badRequest: code = "VALIDATION_ERROR"
            default: code = error.status.code >= 500 ? "INTERNAL_ERROR" : "ERROR"
            }
            let message =
                switch error.status {
                case .contentTooLarge: "request body is larger than 1 MiB"
                case .notFound: "no route for \(request.method) \(request.uri.path)"
                default: (error as? HTTPError)?.body ?? error.status.reasonPhrase
                }
            return APIError(error.status, code, message)
        case is CancellationError:
            return nil
        default:
            context.logger.error("internal error: \(String(describing: type(of: error)))")
            return APIError(.internalServerError, "INTERNAL_ERROR", "internal server error")
        }
    }
}
