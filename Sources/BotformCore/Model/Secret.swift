/// A credential value. Its descriptions are redacted, so interpolating it into a log line, an error or
/// a test failure message shows `<redacted>`; only `reveal()` gives the value, at the few places that
/// must have it (encryption, the HTTP body of identify, `botform unseal`).
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let value: String

    public init(_ value: String) {
        self.value = value
    }

    /// The secret itself. Every call site is a place a secret can leave the process.
    public func reveal() -> String { value }

    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
