/// How the text rendering marks meaning. The CLI supplies colours on a terminal; `plain` adds nothing.
public struct TextStyle: Sendable {
    public var create: @Sendable (String) -> String
    public var destroy: @Sendable (String) -> String
    public var change: @Sendable (String) -> String
    public var warning: @Sendable (String) -> String
    public var emphasis: @Sendable (String) -> String
    public var muted: @Sendable (String) -> String

    public init(
        create: @escaping @Sendable (String) -> String, destroy: @escaping @Sendable (String) -> String,
        change: @escaping @Sendable (String) -> String, warning: @escaping @Sendable (String) -> String,
        emphasis: @escaping @Sendable (String) -> String, muted: @escaping @Sendable (String) -> String
    ) {
        self.create = create
        self.destroy = destroy
        self.change = change
        self.warning = warning
        self.emphasis = emphasis
        self.muted = muted
    }

    public static let plain = TextStyle(
        create: { $0 }, destroy: { $0 }, change: { $0 }, warning: { $0 }, emphasis: { $0 }, muted: { $0 })
}
