import BotformCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where output goes and how it looks: colour only on a TTY, never with `NO_COLOR` or `--no-color`.
/// Only the requested artefact goes to stdout; diagnostics and progress go to stderr.
public struct Terminal: Sendable {
    public var colorOnStdout: Bool
    public var colorOnStderr: Bool

    public init(noColor: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
        let allowed = !noColor && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        colorOnStdout = allowed && isatty(STDOUT_FILENO) == 1
        colorOnStderr = allowed && isatty(STDERR_FILENO) == 1
    }

    public static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    public func out(_ text: String) {
        Self.write(text + "\n", to: STDOUT_FILENO)
    }

    public func err(_ text: String) {
        if StderrQueue.shared.enqueue(text) { return }
        Self.write(text + "\n", to: STDERR_FILENO)
    }

    /// Writes all of `text`, retrying when a signal interrupts the call. (Foundation's non-throwing
    /// `FileHandle.write` traps on EINTR.) Output to a closed pipe is dropped.
    static func write(_ text: String, to fd: Int32) {
        write(bytes: Array(text.utf8), to: fd)
    }

    static func write(bytes: [UInt8], to fd: Int32) {
        var bytes = bytes[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    public enum Style: String, Sendable {
        case red = "31"
        case green = "32"
        case yellow = "33"
        case cyan = "36"
        case bold = "1"
        case dim = "2"
    }

    /// `text` in `style` when colour is on for that stream.
    public func paint(_ text: String, _ style: Style, stderr: Bool = false) -> String {
        (stderr ? colorOnStderr : colorOnStdout) ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// A diagnostic in the compiler's format, severity coloured on a TTY.
    public func render(_ diagnostic: Diagnostic) -> String {
        let severity: String
        switch diagnostic.severity {
        case .error: severity = paint("error:", .red, stderr: true)
        case .warning: severity = paint("warning:", .yellow, stderr: true)
        case .note: severity = paint("note:", .cyan, stderr: true)
        }
        let prefix = diagnostic.location.map { "\($0): " } ?? "botform: "
        return "\(prefix)\(severity) \(Diagnostic.oneLine(diagnostic.message))"
    }
}

/// Lines for stderr, written by a thread of their own while it is open (during apply's calls): the
/// progress lines, two per action, then cost the event loops no system call each, and lines that pile
/// up while one is written go out together in one write. Every line still goes out, in order; `close()`
/// returns once all are written, so nothing printed after it can overtake them.
final class StderrQueue: @unchecked Sendable {
    // @unchecked: every stored property is read and written only while holding `condition`.
    static let shared = StderrQueue()

    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var isOpen = false
    private var writing = false
    private var started = false
    /// Lines are taken but not written yet: something that must come before them (the plan) is still
    /// being written elsewhere.
    private var held = false

    /// From now on `enqueue` takes lines, until `close()`; `held`: they wait for `release()`.
    func open(held: Bool = false) {
        condition.lock()
        defer { condition.unlock() }
        isOpen = true
        self.held = held
        guard !started else { return }
        started = true
        let thread = Thread { [self] in run() }
        thread.start()
    }

    /// Queues `line` (a newline is added) when the queue is open; false when it is not.
    func enqueue(_ line: String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard isOpen else { return false }
        pending.append(contentsOf: line.utf8)
        pending.append(0x0A)
        condition.broadcast()
        return true
    }

    /// Held lines may be written now.
    func release() {
        condition.lock()
        defer { condition.unlock() }
        held = false
        condition.broadcast()
    }

    /// Waits until every queued line is written (held ones too), then writes directly again.
    func close() {
        condition.lock()
        defer { condition.unlock() }
        isOpen = false
        held = false
        condition.broadcast()
        while !pending.isEmpty || writing { condition.wait() }
    }

    private func run() {
        var batch: [UInt8] = []
        while true {
            condition.lock()
            while pending.isEmpty || held { condition.wait() }
            swap(&batch, &pending)
            writing = true
            condition.unlock()
            Terminal.write(bytes: batch, to: STDERR_FILENO)
            batch.removeAll(keepingCapacity: true)
            condition.lock()
            writing = false
            condition.broadcast()
            condition.unlock()
        }
    }
}
