/// The version of this build, reported by `botform --version` and in the `User-Agent` header.
public enum BotformVersion {
    public static let current = "0.1.0"
}
