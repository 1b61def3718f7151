import BotformCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// JSON in and out, with Fyso's success envelope and precise 400s for bodies that do not decode.
enum JSONIO {
    /// `{"success": true, "data": …}` with `status`.
    static func envelope(_ data: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
        -> Response
    {
        try json(Envelope(data: data), status: status, headers: headers)
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
        -> Response
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `{"success": true, "data": …}` written directly, for hot paths where JSONEncoder's reflection
    /// costs more than the request itself.
    static func envelope(json data: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response
    {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let text = JSONValue.object([("success", .bool(true)), ("data", data)]).serialized(pretty: false)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private struct Envelope<T: Encodable>: Encodable {
        let success = true
        let data: T
    }

    /// Decodes the request body as `T`; every failure is a 400 (413 over 1 MiB) that says what is wrong.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws
        -> T
    {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "PAYLOAD_TOO_LARGE", "request body is larger than 1 MiB")
        }
        guard buffer.readableBytes > 0 else { throw APIError.validation("a JSON request body is required") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIError.validation(describe(error))
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.validation("malformed JSON body")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (last.map { [$0] } ?? [])
            return keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "field \"\(path(context, key))\" is required"
        case .typeMismatch(let type, let context):
            let name = path(context)
            return name.isEmpty
                ? "the request body must be a JSON \(describe(type))"
                : "field \"\(name)\" must be \(article(describe(type)))"
        case .valueNotFound(let type, let context):
            return "field \"\(path(context))\" must be \(article(describe(type))), not null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "malformed JSON body" }
            return "field \"\(path(context))\": \(context.debugDescription)"
        @unknown default:
            return "invalid request body"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "string"
        case is Bool.Type: "boolean"
        case is Int.Type, is Int64.Type, is Double.Type: "number"
        case is [Any].Type, is [String].Type: "array"
        default: "object"
        }
    }

    private static func article(_ word: String) -> String {
        ["array", "object"].contains(word) ? "an \(word)" : "a \(word)"
    }
}

/// ISO-8601 timestamps with a `Z`, as Fyso writes them.
enum Timestamp {
    static func string(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
