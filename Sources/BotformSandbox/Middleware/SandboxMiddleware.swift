import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Records each API request in the request log after it finished (or failed).
struct RequestLogMiddleware: RouterMiddleware {
    let service: SandboxService

    func handle(
        _ request: Request, context: SandboxRequestContext,
        next: (Request, SandboxRequestContext) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        var response: Response?
        defer {
            let elapsed = ContinuousClock.now - started
            let milliseconds =
                Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
            let now = service.clock.now
            let entryStatus = context.trace.droppedStatus ?? response.map { Int($0.status.code) } ?? status
            service.requestLog.append { seq in
                RequestLogEntry(
                    seq: seq, at: Timestamp.string(now), method: request.method.rawValue, path: request.uri.path,
                    query: RequestLog.redacted(query: request.uri.query), status: entryStatus,
                    caller: context.trace.caller,
                    tenant: context.trace.tenant, durationMs: (milliseconds * 100).rounded() / 100,
                    fault: context.trace.fault,
                    userAgent: request.headers[.userAgent])
            }
        }
        do {
            let result = try await next(request, context)
            response = result
            return result
        } catch let error as any HTTPResponseError {
            status = Int(error.status.code)
            throw error
        }
    }
}

/// Injects the configured faults into API requests.
struct FaultMiddleware: RouterMiddleware {
    let service: SandboxService

    /// Login, identify and Sym's usage tracking are POSTs but change nothing worth losing a response over.
    static let nonMutatingPosts: Set<String> = [
        "/api/auth/login", "/api/auth/tenant/login", "/api/auth/bots/identify", "/api/v1/track/symflow",
    ]

    func handle(
        _ request: Request, context: SandboxRequestContext,
        next: (Request, SandboxRequestContext) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        let mutating = request.method != .get && request.method != .head && !Self.nonMutatingPosts.contains(path)
        let (latency, decision) = service.faults.decide(method: request.method.rawValue, path: path, mutating: mutating)
        if latency > 0 { try await Task.sleep(for: .milliseconds(latency)) }
        switch decision {
        case .pass:
            return try await next(request, context)
        case .error(let status):
            context.trace.record(fault: "error")
            throw status >= 500
                ? APIError(
                    HTTPResponse.Status(code: status), "INTERNAL_ERROR", "injected fault: the service failed to answer")
                : APIError(HTTPResponse.Status(code: status), "REFUSED", "injected fault: the service refused the call")
        case .rateLimited(let retryAfter):
            context.trace.record(fault: "rate-limited")
            var error = APIError(.tooManyRequests, "RATE_LIMITED", "rate limit exceeded; retry after \(retryAfter) s")
            error.headers[.retryAfter] = String(retryAfter)
            error.stringForm = service.settings.rateLimitErrorForm == "string"
            throw error
        case .dropAfterCommit:
            let response = try await next(request, context)
            context.trace.record(fault: "dropped", status: Int(response.status.code))
            // The change is committed; the client never learns its outcome.
            try? await context.channel.close()
            throw CancellationError()
        }
    }
}

/// The control API answers only peers on this host.
struct LoopbackOnlyMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: SandboxRequestContext,
        next: (Request, SandboxRequestContext) async throws -> Response
    ) async throws -> Response {
        guard context.isLoopbackPeer else { throw APIError.forbidden("the control API answers only loopback peers") }
        return try await next(request, context)
    }
}
