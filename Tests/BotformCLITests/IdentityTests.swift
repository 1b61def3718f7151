import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A sealed file made by `apply` against the embedded sandbox, its key, and a second key that opens nothing;
/// made once for every identity test.
struct IdentityFixture: Sendable {
    let directory: URL
    /// key.txt as `botform keygen -o` wrote it, and its `AGE-SECRET-KEY-1…` line.
    let keyText: String
    let key: String
    /// other.txt, a key the sealed file is not sealed to.
    let otherText: String
    let otherKey: String
    let recipient: String
    let otherRecipient: String
    /// What `unseal -i key.txt` prints.
    let unsealed: String

    static let shared: Result<IdentityFixture, any Error> = Result { try IdentityFixture() }

    private init() throws {
        directory = try BotformProcess.temporaryDirectory()
        atexit { try? IdentityFixture.shared.get().remove() }
        try FileManager.default.copyItem(
            atPath: BotformProcess.packageRoot.appendingPathComponent("examples/quickstart/botform.yaml").path,
            toPath: directory.appendingPathComponent("botform.yaml").path)
        for name in ["key.txt", "other.txt"] {
            let made = try BotformProcess.run(["keygen", "-o", name], in: directory)
            guard made.status == 0 else { throw Failure("keygen: \(made)") }
        }
        keyText = try String(contentsOf: directory.appendingPathComponent("key.txt"), encoding: .utf8)
        otherText = try String(contentsOf: directory.appendingPathComponent("other.txt"), encoding: .utf8)
        key = try Self.keyLine(keyText)
        otherKey = try Self.keyLine(otherText)
        recipient = try BotformProcess.run(["keygen", "-y", "key.txt"], in: directory).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        otherRecipient = try BotformProcess.run(["keygen", "-y", "other.txt"], in: directory).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let apply = try BotformProcess.run(
            ["apply", "--auto-approve"], in: directory,
            environment: ["BOTFORM_RECIPIENTS": recipient, "BOTFORM_SANDBOX_BCRYPT_COST": "4"])
        guard apply.status == 0 else { throw Failure("apply: \(apply)") }
        let unseal = try BotformProcess.run(["unseal", "secrets.sealed.yaml", "-i", "key.txt"], in: directory)
        guard unseal.status == 0, unseal.stdout.contains("_SECRET=") else { throw Failure("unseal: \(unseal)") }
        unsealed = unseal.stdout
    }

    private func remove() { try? FileManager.default.removeItem(at: directory) }

    private static func keyLine(_ text: String) throws -> String {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("AGE-SECRET-KEY-1") }) else {
            throw Failure("no key line in a keygen file")
        }
        return String(line)
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes a file in the fixture's directory (a fresh name per call) and returns its path.
    func write(_ text: String, mode: Int = 0o600) throws -> String {
        let path = path("identity-\(UUID().uuidString).txt")
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    func unseal(_ arguments: [String] = [], identity: String? = nil, stdin: String? = nil) throws
        -> BotformProcess.Result
    {
        try BotformProcess.run(
            ["unseal", "secrets.sealed.yaml"] + arguments, in: directory,
            environment: identity.map { ["BOTFORM_IDENTITY": $0] } ?? [:], stdin: stdin)
    }
}

@Suite("identities: every form works, and no error shows key material", .timeLimit(.minutes(5)))
struct IdentityTests {
    let fixture: IdentityFixture

    init() throws {
        fixture = try IdentityFixture.shared.get()
    }

    /// The key with the character at `offset` (from the start) replaced.
    static func replacing(_ key: String, at offset: Int, with character: Character) -> String {
        var characters = Array(key)
        characters[offset] = character
        return String(characters)
    }

    /// Malformed keys made from a valid one, by name.
    static func malformed(_ key: String, recipient: String) -> [(name: String, text: String)] {
        let at30 = Array(key)[30]
        let letter = Array(key).indices.first { $0 >= 16 && Array(key)[$0].isLetter } ?? 16
        return [
            ("bad checksum", replacing(key, at: 30, with: at30 == "Q" ? "P" : "Q")),
            ("lower case", key.lowercased()),
            ("mixed case", replacing(key, at: letter, with: Character(Array(key)[letter].lowercased()))),
            ("truncated", String(key.prefix(60))),
            ("one character added", key + "Q"),
            ("invalid character", replacing(key, at: 30, with: "O")),
            ("a space inside", replacing(key, at: 40, with: " ")),
            ("quoted", "\"\(key)\""),
            ("prefix typo", "AGE-SECRT-KEY-1" + key.dropFirst("AGE-SECRET-KEY-1".count)),
            ("plugin identity", "AGE-PLUGIN-YUBIKEY-1" + key.dropFirst("AGE-SECRET-KEY-1".count)),
            ("recipient", recipient),
        ]
    }

    /// Whether any output holds "AGE-SECRET-KEY" or 12 characters running of any of the keys' data parts.
    static func leaks(_ result: BotformProcess.Result, _ keys: [String]) -> Bool {
        let output = (result.stdout + result.stderr).lowercased()
        if output.contains("age-secret-key") { return true }
        for key in keys {
            let data = Array(key.lowercased().drop { $0 != "1" }.dropFirst())
            guard data.count >= 12 else { continue }
            for start in 0...(data.count - 12) where output.contains(String(data[start..<start + 12])) {
                return true
            }
        }
        return false
    }

    /// Expects exit 1, nothing on stdout, `source` named on stderr, and no key material anywhere.
    func expectRefused(
        _ result: BotformProcess.Result, naming source: String, _ label: String, keys: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == 1, "\(label): \(result)", sourceLocation: sourceLocation)
        #expect(result.stdout.isEmpty, "\(label): \(result)", sourceLocation: sourceLocation)
        #expect(
            result.stderr.contains(source), "\(label): the message names \(source): \(result)",
            sourceLocation: sourceLocation)
        #expect(
            !Self.leaks(result, keys + [fixture.key, fixture.otherKey]), "\(label): key material in output: \(result)",
            sourceLocation: sourceLocation)
    }

    @Test("each malformed key, given as -i FILE, as BOTFORM_IDENTITY (path, bare, key-file text) or as -i KEY")
    func malformedKeys() throws {
        for (name, text) in Self.malformed(fixture.key, recipient: fixture.recipient) {
            let keys = name == "recipient" ? [] : [text]
            let file = try fixture.write("# created: 2026-01-01T00:00:00Z\r\n# public key: x\r\n\(text)\r\n")

            expectRefused(
                try fixture.unseal(["-i", file]), naming: "-i \"\(file)\" line 3", "\(name), -i FILE", keys: keys)
            expectRefused(
                try fixture.unseal(identity: file), naming: "BOTFORM_IDENTITY file \"\(file)\" line 3",
                "\(name), BOTFORM_IDENTITY=FILE", keys: keys)
            expectRefused(
                try fixture.unseal(identity: "  \(text)\n"), naming: "BOTFORM_IDENTITY", "\(name), bare", keys: keys)
            expectRefused(
                try fixture.unseal(identity: "# created: today\n# public key: x\n\n\(text)\n"),
                naming: "BOTFORM_IDENTITY line 4", "\(name), key-file text", keys: keys)
            expectRefused(
                try fixture.unseal(identity: "\(fixture.otherText)\(text)\n"), naming: "BOTFORM_IDENTITY line 4",
                "\(name), after a valid key", keys: keys)
            expectRefused(try fixture.unseal(["-i", text]), naming: "-i", "\(name), -i KEY", keys: keys)
            expectRefused(
                try fixture.unseal(["-i", "-"], stdin: "\(text)\n"), naming: "-i - (stdin) line 1", "\(name), -i -",
                keys: keys)
        }
    }

    @Test("a recipient where an identity belongs is named as such")
    func recipientGivenAsIdentity() throws {
        let bare = try fixture.unseal(identity: fixture.recipient)
        expectRefused(bare, naming: "BOTFORM_IDENTITY", "recipient, bare")
        #expect(bare.stderr.contains("this is a recipient (public key) \(fixture.recipient), not an identity"))
        let argument = try fixture.unseal(["-i", fixture.recipient])
        expectRefused(argument, naming: "-i", "recipient, -i")
        #expect(argument.stderr.contains("recipient (public key)"), "\(argument)")
    }

    @Test("a key on the command line is refused, pointing to a file or BOTFORM_IDENTITY")
    func keyOnTheCommandLine() throws {
        for argument in [fixture.key, fixture.keyText, "x\(fixture.key)", fixture.key.lowercased()] {
            let result = try fixture.unseal(["-i", argument])
            expectRefused(result, naming: "-i", "-i KEY")
            #expect(result.stderr.contains("BOTFORM_IDENTITY") && result.stderr.contains("file"), "\(result)")
        }
        let bot = try fixture.unseal(["-i", "key.txt", "--bot", fixture.key])
        expectRefused(bot, naming: "--bot", "--bot KEY")
        let second = try fixture.unseal(["-i", fixture.path("key.txt"), "-i", fixture.key])
        expectRefused(second, naming: "-i argument 2", "second -i KEY")
        let sealedArgument = try BotformProcess.run(
            ["unseal", fixture.key, "-i", "key.txt"], in: fixture.directory)
        expectRefused(sealedArgument, naming: "sealed file argument", "key as the sealed file")
        let swapped = try BotformProcess.run(["unseal", "key.txt", "-i", "secrets.sealed.yaml"], in: fixture.directory)
        expectRefused(swapped, naming: "key.txt is an identity file", "key file as the sealed file")
    }

    @Test("a key file given as the configuration, or a key as its path: no diagnostic, error or report repeats it")
    func keyAsConfiguration() throws {
        for command in [["plan", "key.txt"], ["validate", "key.txt"], ["validate", "--format", "json", "key.txt"]] {
            let result = try BotformProcess.run(command, in: fixture.directory)
            #expect(result.status == 1, "\(command): \(result.status)")
            #expect(result.stderr.contains("<a private key, not repeated>") || result.stdout.contains("not repeated"))
            #expect(!Self.leaks(result, [fixture.key]), "\(command) repeated the key")
        }
        let out = try BotformProcess.run(["plan", "--out", fixture.key], in: fixture.directory)
        #expect(out.status == 64 && out.stderr.contains("--out looks like a private key"), "\(out)")
        #expect(!Self.leaks(out, [fixture.key]), "plan --out KEY repeated the key")
        let sealedKey = fixture.directory.appendingPathComponent("sealed-key")
        try FileManager.default.createDirectory(at: sealedKey, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: sealedKey) }
        let configuration = try String(
            contentsOf: fixture.directory.appendingPathComponent("botform.yaml"), encoding: .utf8)
        try configuration.replacingOccurrences(of: "secrets.sealed.yaml", with: fixture.key).write(
            to: sealedKey.appendingPathComponent("botform.yaml"), atomically: true, encoding: .utf8)
        let sealed = try BotformProcess.run(["validate", "sealed-key/botform.yaml"], in: fixture.directory)
        #expect(sealed.status == 1 && sealed.stderr.contains("looks like a private key"), "\(sealed)")
        #expect(!Self.leaks(sealed, [fixture.key]), "output.sealed KEY repeated the key")
        let report = try BotformProcess.run(["apply", "--format", "json", fixture.key], in: fixture.directory)
        #expect(report.status != 0)
        #expect(report.stdout.contains("a path that looks like a private key"), "\(report.stdout)")
        #expect(!Self.leaks(report, [fixture.key]), "apply --format json repeated the key")
    }

    @Test("paths that are missing, unreadable, directories, empty, or key text themselves")
    func unusablePaths() throws {
        let missing = fixture.path("missing.txt")
        expectRefused(try fixture.unseal(["-i", missing]), naming: "-i \"\(missing)\": no such file", "-i missing")
        expectRefused(
            try fixture.unseal(identity: missing), naming: "BOTFORM_IDENTITY (its value is not shown)",
            "BOTFORM_IDENTITY missing")
        // A value naming no file may be a secret in the wrong variable: never printed, "/" or not.
        for value in [
            "Zm9vYmFy/YmF6+cXV4hunter==", "s3cr3t/p4sshunter", "hunter2", "ghp_abcdefghijklmnopqrstuvwxyz0123",
        ] {
            let result = try fixture.unseal(identity: value)
            #expect(result.status == 1 && !result.stderr.contains(value) && !result.stdout.contains(value), "\(result)")
        }

        // Unreadable (chmod 000); root reads it anyway, and then meets the damaged key inside.
        let damaged = Self.malformed(fixture.key, recipient: fixture.recipient)[0].text
        let locked = try fixture.write("\(damaged)\n", mode: 0)
        let asRoot = geteuid() == 0
        let lockedByFlag = try fixture.unseal(["-i", locked])
        expectRefused(lockedByFlag, naming: "-i \"\(locked)\"", "-i unreadable", keys: [damaged])
        #expect(lockedByFlag.stderr.contains(asRoot ? "checksum" : "permission denied"), "\(lockedByFlag)")
        let lockedByVariable = try fixture.unseal(identity: locked)
        expectRefused(lockedByVariable, naming: "BOTFORM_IDENTITY", "BOTFORM_IDENTITY unreadable", keys: [damaged])
        #expect(lockedByVariable.stderr.contains(asRoot ? "checksum" : "permission denied"), "\(lockedByVariable)")

        let directory = fixture.path("a-directory")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        expectRefused(try fixture.unseal(["-i", directory]), naming: "-i \"\(directory)\" is a directory", "-i dir")
        expectRefused(
            try fixture.unseal(identity: directory), naming: "BOTFORM_IDENTITY names \"\(directory)\"",
            "BOTFORM_IDENTITY dir")

        let empty = try fixture.write("")
        expectRefused(try fixture.unseal(["-i", empty]), naming: "-i \"\(empty)\": empty", "-i empty file")
        let comments = try fixture.write("# created: today\n# public key: \(fixture.recipient)\n\n")
        expectRefused(try fixture.unseal(["-i", comments]), naming: "-i \"\(comments)\": no identity", "-i comments")
        expectRefused(
            try fixture.unseal(identity: empty), naming: "BOTFORM_IDENTITY file", "BOTFORM_IDENTITY empty file")
        expectRefused(try fixture.unseal(identity: ""), naming: "BOTFORM_IDENTITY is set but empty", "empty value")
        expectRefused(try fixture.unseal(identity: " \n\t\n"), naming: "BOTFORM_IDENTITY", "blank value")
        expectRefused(try fixture.unseal(identity: "# public key: x\n"), naming: "BOTFORM_IDENTITY", "comments only")
        expectRefused(try fixture.unseal(), naming: "no identity: pass -i", "no identity at all")
        expectRefused(try fixture.unseal(["-i", "-"], stdin: ""), naming: "-i - (stdin)", "empty stdin")
        expectRefused(
            try fixture.unseal(["-i", "-", "-i", "-"], stdin: fixture.keyText), naming: "-i -", "stdin twice")

        // A path whose text is a damaged key with a typo in its prefix: neither a file nor shown.
        let typo = "AGE-SECRT-KEY-1" + fixture.key.dropFirst("AGE-SECRET-KEY-1".count)
        let hidden = try fixture.unseal(identity: typo)
        expectRefused(hidden, naming: "BOTFORM_IDENTITY", "typo as a path", keys: [typo])
        #expect(hidden.stderr.contains("not shown"), "\(hidden)")
        expectRefused(try fixture.unseal(["-i", typo]), naming: "-i", "typo as -i", keys: [typo])
    }

    @Test("a key that opens nothing names where it came from and its public key, never the key")
    func wrongKey() throws {
        let other = fixture.path("other.txt")
        for (result, source) in [
            (try fixture.unseal(["-i", other]), "-i \"\(other)\" line 3"),
            (try fixture.unseal(["-i", "other.txt"]), "-i \"other.txt\" line 3"),
            (try fixture.unseal(identity: other), "BOTFORM_IDENTITY file \"\(other)\" line 3"),
            (try fixture.unseal(identity: fixture.otherText), "BOTFORM_IDENTITY line 3"),
            (try fixture.unseal(identity: fixture.otherKey), "BOTFORM_IDENTITY"),
            (try fixture.unseal(["-i", "-"], stdin: fixture.otherText), "-i - (stdin) line 3"),
        ] {
            expectRefused(result, naming: source, "wrong key from \(source)")
            #expect(result.stderr.contains("no identity matches"), "\(result)")
            #expect(result.stderr.contains("tried \(fixture.otherRecipient)"), "\(result)")
            #expect(result.stderr.contains("it is sealed to \(fixture.recipient)"), "\(result)")
        }
    }

    @Test("BOTFORM_IDENTITY as keygen's file text (LF, CRLF, escaped), a bare key, a path; -i FILE and -i -")
    func workingForms() throws {
        let crlf = fixture.keyText.replacingOccurrences(of: "\n", with: "\r\n")
        let forms: [(String, BotformProcess.Result)] = [
            ("keygen text", try fixture.unseal(identity: fixture.keyText)),
            ("CRLF text", try fixture.unseal(identity: crlf)),
            (
                "escaped newlines",
                try fixture.unseal(identity: fixture.keyText.replacingOccurrences(of: "\n", with: "\\n"))
            ),
            ("bare key", try fixture.unseal(identity: fixture.key)),
            ("bare key, whitespace", try fixture.unseal(identity: "\n  \(fixture.key) \r\n")),
            ("path", try fixture.unseal(identity: fixture.path("key.txt"))),
            ("path, trailing newline", try fixture.unseal(identity: fixture.path("key.txt") + "\n")),
            ("-i FILE", try fixture.unseal(["-i", "key.txt"])),
            ("-i CRLF FILE", try fixture.unseal(["-i", try fixture.write(crlf)])),
            ("-i -", try fixture.unseal(["-i", "-"], stdin: fixture.keyText)),
            ("-i wins", try fixture.unseal(["-i", "key.txt"], identity: fixture.otherKey)),
        ]
        for (name, result) in forms {
            #expect(result.status == 0, "\(name): \(result)")
            #expect(result.stdout == fixture.unsealed, "\(name): \(result)")
            #expect(!result.stderr.lowercased().contains("age-secret-key"), "\(name): \(result)")
        }
    }

    @Test("several keys where only the second opens the file")
    func secondKeyMatches() throws {
        let both = fixture.otherText + "\n" + fixture.keyText
        let forms: [(String, BotformProcess.Result)] = [
            ("BOTFORM_IDENTITY text", try fixture.unseal(identity: both)),
            ("BOTFORM_IDENTITY file", try fixture.unseal(identity: try fixture.write(both))),
            ("one -i file", try fixture.unseal(["-i", try fixture.write(both)])),
            ("two -i files", try fixture.unseal(["-i", "other.txt", "-i", "key.txt"])),
        ]
        for (name, result) in forms {
            #expect(result.status == 0 && result.stdout == fixture.unsealed, "\(name): \(result)")
        }
    }

    @Test("apply -i refuses bad identities the same way (recipients changed, so it needs them)")
    func applyIdentity() throws {
        let copy = try BotformProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: copy) }
        for name in ["botform.yaml", "secrets.sealed.yaml", ".botform", "key.txt", "other.txt"] {
            try FileManager.default.copyItem(
                at: fixture.directory.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        let environment = ["BOTFORM_RECIPIENTS": fixture.otherRecipient, "BOTFORM_SANDBOX_BCRYPT_COST": "4"]
        let before = try Data(contentsOf: copy.appendingPathComponent("secrets.sealed.yaml"))
        let damaged = Self.malformed(fixture.key, recipient: fixture.recipient)[0].text
        let file = copy.appendingPathComponent("bad.txt").path
        try "# public key: x\n\(damaged)\n".write(toFile: file, atomically: false, encoding: .utf8)
        let cases: [(String, [String], [String: String])] = [
            ("-i \"bad.txt\" line 2", ["-i", "bad.txt"], [:]),
            ("-i", ["-i", fixture.key], [:]),
            ("BOTFORM_IDENTITY line 2", [], ["BOTFORM_IDENTITY": "# public key: x\n\(damaged)\n"]),
            ("BOTFORM_IDENTITY", [], ["BOTFORM_IDENTITY": damaged]),
        ]
        for (source, arguments, extra) in cases {
            let result = try BotformProcess.run(
                ["apply", "--auto-approve"] + arguments, in: copy, environment: environment.merging(extra) { $1 })
            #expect(result.status == 1, "\(source): \(result)")
            #expect(result.stderr.contains(source), "\(source): \(result)")
            #expect(!Self.leaks(result, [damaged, fixture.key]), "\(source): \(result)")
        }
        #expect(try Data(contentsOf: copy.appendingPathComponent("secrets.sealed.yaml")) == before)
    }

    @Test("keygen: the key goes only where asked; -y errors name the input, never its text")
    func keygen() throws {
        let directory = try BotformProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let written = try BotformProcess.run(["keygen", "-o", "k.txt"], in: directory)
        #expect(written.status == 0 && written.stdout.isEmpty, "\(written)")
        #expect(written.stderr.hasPrefix("Public key: age1") && !Self.leaks(written, []), "\(written)")
        let printed = try BotformProcess.run(["keygen"], in: directory)
        #expect(printed.status == 0 && printed.stdout.contains("AGE-SECRET-KEY-1"), "the key goes to stdout as asked")
        #expect(
            printed.stderr.hasPrefix("Public key: age1") && !printed.stderr.lowercased().contains("age-secret-key"),
            "\(printed)")

        let damaged = Self.malformed(fixture.key, recipient: fixture.recipient)[0].text
        try "# c\n\(damaged)\n".write(
            toFile: directory.appendingPathComponent("bad.txt").path, atomically: false, encoding: .utf8)
        let cases: [(String, [String], String?)] = [
            ("\"bad.txt\" line 2", ["keygen", "-y", "bad.txt"], nil),
            ("stdin line 2", ["keygen", "-y"], "# c\n\(damaged)\n"),
            ("stdin line 1", ["keygen", "-y", "-"], damaged),
            ("not a key", ["keygen", "-y", fixture.key], nil),
            ("not a key", ["keygen", "-o", fixture.key], nil),
            ("\"missing.txt\": no such file", ["keygen", "-y", "missing.txt"], nil),
        ]
        for (source, arguments, stdin) in cases {
            let result = try BotformProcess.run(arguments, in: directory, stdin: stdin)
            #expect(result.status == 1, "\(arguments): \(result)")
            #expect(result.stderr.contains(source), "\(arguments): \(result)")
            #expect(!Self.leaks(result, [damaged, fixture.key]), "\(arguments): \(result)")
        }
        let fromStdin = try BotformProcess.run(["keygen", "-y"], in: directory, stdin: fixture.keyText)
        #expect(fromStdin.stdout == fixture.recipient + "\n", "\(fromStdin)")
    }
}
