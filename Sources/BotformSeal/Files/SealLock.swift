import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The exclusive lock one apply holds on a sealed file (`<sealed>.lock`, flock). The file records the
/// holder (pid, host, start, CI run) for the message another apply prints. The kernel releases a flock
/// when its process dies, so a dead holder never blocks; its leftover record is reported as a warning.
public final class SealLock: Sendable {
    public struct Holder: Codable, Sendable, CustomStringConvertible {
        public var pid: Int32
        public var host: String
        public var startedAt: Date
        public var ciRun: String?

        public var description: String {
            "pid \(pid) on \(host) since \(startedAt.formatted(.iso8601))" + (ciRun.map { " (\($0))" } ?? "")
        }

        enum CodingKeys: String, CodingKey {
            case pid, host
            case startedAt = "started_at"
            case ciRun = "ci_run"
        }
    }

    public enum LockError: Error, CustomStringConvertible {
        case held(path: String, by: Holder?)
        case failed(String)

        public var description: String {
            switch self {
            case .held(let path, let holder):
                "another apply holds the lock \(path)" + (holder.map { ": \($0)" } ?? "")
                    + "; wait for it, or pass --lock-timeout"
            case .failed(let message): message
            }
        }
    }

    public let path: String
    private let fd: Int32
    /// Set when the lock was taken over from a process that died while holding it.
    public let previousHolder: Holder?

    private init(path: String, fd: Int32, previousHolder: Holder?) {
        self.path = path
        self.fd = fd
        self.previousHolder = previousHolder
    }

    /// Takes the lock, waiting up to `timeout` seconds.
    public static func acquire(
        sealedPath: String, timeout: TimeInterval, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws(LockError) -> SealLock {
        let path = sealedPath + ".lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .failed("cannot open \(path): \(String(cString: strerror(errno)))") }
        let deadline = Date().addingTimeInterval(max(0, timeout))
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                let holder = readHolder(fd)
                close(fd)
                throw .held(path: path, by: holder)
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        let previous = readHolder(fd)
        let me = Holder(
            pid: getpid(), host: ProcessInfo.processInfo.hostName, startedAt: Date(),
            ciRun: environment["GITHUB_RUN_ID"].map { "GitHub Actions run \($0)" } ?? environment["CI_JOB_ID"].map {
                "CI job \($0)"
            }
                ?? environment["BUILD_URL"])
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        if let data = try? encoder.encode(me) {
            _ = ftruncate(fd, 0)
            _ = lseek(fd, 0, SEEK_SET)
            try? AtomicFile.writeAll(fd, Array(data) + [0x0A], path: path)
        }
        return SealLock(path: path, fd: fd, previousHolder: previous.flatMap { $0.pid == getpid() ? nil : $0 })
    }

    private static func readHolder(_ fd: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 4_096)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(Holder.self, from: Data(buffer[..<count]).split(separator: 0x0A).first ?? Data())
    }

    /// Releases the lock and clears the holder record.
    public func release() {
        _ = ftruncate(fd, 0)
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
