import Hummingbird
import NIOCore
import Synchronization

/// The request context: Hummingbird's core storage plus the connection (to drop a response on purpose,
/// and to tell loopback peers from others) and a trace the request log reads after the handler ran.
struct SandboxRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    let trace = RequestTrace()

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// Bodies over 1 MiB are refused with 413.
    var maxUploadSize: Int { 1 << 20 }

    /// True when the peer is on this host (127.0.0.0/8, ::1, or a Unix socket).
    var isLoopbackPeer: Bool {
        switch remoteAddress {
        case .v4?, .v6?:
            let ip = remoteAddress?.ipAddress ?? ""
            return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket?:
            return true
        case nil:
            return false
        }
    }
}

/// What a handler learned about its request, for the request log (which never records a secret).
final class RequestTrace: Sendable {
    private struct State {
        var caller = "anonymous"
        var tenant: String?
        var fault: String?
        var droppedStatus: Int?
    }

    private let state = Mutex(State())

    var caller: String { state.withLock { $0.caller } }
    var tenant: String? { state.withLock { $0.tenant } }
    var fault: String? { state.withLock { $0.fault } }
    /// The status of a response that was dropped after the change was committed.
    var droppedStatus: Int? { state.withLock { $0.droppedStatus } }

    func record(caller: String) { state.withLock { $0.caller = caller } }
    func record(tenant: String) { state.withLock { $0.tenant = tenant } }

    func record(fault: String, status: Int? = nil) {
        state.withLock {
            $0.fault = fault
            $0.droppedStatus = status
        }
    }
}
