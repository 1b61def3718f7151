/// Naming rules shared by the configuration and the planner.
public enum Name {
    /// Why `name` is not a valid bot or role name (Fyso's rule, applied to every provider so that an
    /// address `provider/bot` means the same everywhere), or nil when it is valid.
    public static func problem(withBotName name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        if scalars.count < 3 || scalars.count > 50 {
            return "must be 3-50 characters long (it has \(scalars.count))"
        }
        if let bad = scalars.first(where: { !isLowerAlphanumeric($0) && $0 != "-" }) {
            let shown =
                bad.properties.isWhitespace || bad.value < 0x20
                ? "U+\(String(bad.value, radix: 16, uppercase: true))" : String(bad)
            return "may contain only lowercase letters, digits and hyphens (found \"\(shown)\")"
        }
        if scalars.first == "-" || scalars.last == "-" {
            return "must not start or end with a hyphen"
        }
        return nil
    }

    /// Why `name` is not a valid provider name, or nil. Provider names prefix addresses, so they follow
    /// the same alphabet as bot names but may be short (`prod`, `qa`).
    public static func problem(withProviderName name: String) -> String? {
        let scalars = Array(name.unicodeScalars)
        if scalars.isEmpty || scalars.count > 50 {
            return "must be 1-50 characters long (it has \(scalars.count))"
        }
        if let bad = scalars.first(where: { !isLowerAlphanumeric($0) && $0 != "-" && $0 != "_" }) {
            return "may contain only lowercase letters, digits, hyphens and underscores (found \"\(bad)\")"
        }
        if let first = scalars.first, !("a"..."z").contains(first) {
            return "must start with a lowercase letter"
        }
        return nil
    }

    /// Why `name` is not a valid Sym token label, or nil. Labels end a `provider/bot/label` address.
    public static func problem(withTokenLabel label: String) -> String? {
        let scalars = Array(label.unicodeScalars)
        if scalars.isEmpty || scalars.count > 64 {
            return "must be 1-64 characters long (it has \(scalars.count))"
        }
        if let bad = scalars.first(where: {
            !(isLowerAlphanumeric($0) || ("A"..."Z").contains($0) || "-_. ".unicodeScalars.contains($0))
        }) {
            return "may contain only letters, digits, spaces, dots, hyphens and underscores (found \"\(bad)\")"
        }
        if scalars.first == " " || scalars.last == " " {
            return "must not start or end with a space"
        }
        return nil
    }

    /// Why `name` is not a valid entity name for a permission, or nil. Fyso forbids wildcards for bots.
    public static func problem(withEntityName name: String) -> String? {
        if name.contains("*") {
            return "wildcard entities are not allowed for bots; list each entity explicitly"
        }
        let scalars = Array(name.unicodeScalars)
        if scalars.isEmpty || scalars.count > 100 {
            return "must be 1-100 characters long"
        }
        if let bad = scalars.first(where: {
            !(isLowerAlphanumeric($0) || ("A"..."Z").contains($0) || $0 == "-" || $0 == "_")
        }) {
            return "may contain only letters, digits, hyphens and underscores (found \"\(bad)\")"
        }
        return nil
    }

    private static func isLowerAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
