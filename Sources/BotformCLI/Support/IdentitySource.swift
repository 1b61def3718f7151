import BotformCore
import BotformSeal
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a command's age identities come from: each `-i FILE` (`-i -` reads stdin), else `BOTFORM_IDENTITY`,
/// which holds a key file's path, a key, or a key file's whole text. Errors name the source and the line and
/// never quote a value or a line: either may be a private key. Nor do they name the key prefix, so a search of
/// logs for it finds only real leaks.
struct IdentitySource {
    /// One identity and where it came from, e.g. `-i "key.txt" line 3` or `BOTFORM_IDENTITY line 2`.
    struct Loaded {
        var identity: AgeIdentity
        var origin: String
    }

    /// The `-i` arguments: paths of identity files, or `-` for stdin.
    var files: [String]
    var environment: [String: String]
    var standardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() }

    static let variable = "BOTFORM_IDENTITY"
    /// An identity file is a few lines; anything larger is not one, and is not read whole.
    static let maximumFileSize = 1 << 20

    /// The identities, in order: those of the `-i` files, else those of `BOTFORM_IDENTITY`; empty when neither
    /// is given (or the variable is empty).
    func load() throws(CLIError) -> [Loaded] {
        guard files.isEmpty else { return try fromFiles() }
        guard let value = environment[Self.variable] else { return [] }
        return try fromEnvironment(value)
    }

    /// Why there is no identity, and what to do: for the commands that need one.
    var absence: String {
        if let value = environment[Self.variable], files.isEmpty {
            return value.isEmpty
                ? "no identity: \(Self.variable) is set but empty (a CI secret this job cannot read?); set it to a key file's path or text, or pass -i FILE"
                : "no identity: \(Self.variable) holds only blank lines; set it to a key file's path or text, or pass -i FILE"
        }
        return "no identity: pass -i FILE (botform keygen -o FILE makes one) or set \(Self.variable)"
    }

    // MARK: -i

    private func fromFiles() throws(CLIError) -> [Loaded] {
        var loaded: [Loaded] = []
        var readStandardInput = false
        for (index, path) in files.enumerated() {
            let argument = files.count == 1 ? "the -i argument" : "-i argument \(index + 1)"
            if path == "-" {
                guard !readStandardInput else { throw CLIError("-i - can be given once: stdin is read once") }
                readStandardInput = true
                let data = standardInput()
                loaded += try parse(String(decoding: data, as: UTF8.self), source: "-i - (stdin)", numbered: true)
                continue
            }
            if Secret.namesPrivateKey(path) {
                throw CLIError(
                    "\(argument) is a key, not a file path (it is not shown); a key on the command line shows in ps and shell history: save it in a file (mode 0600) and pass -i FILE, or set \(Self.variable) to it"
                )
            }
            let hidden = AgeIdentity.mayHoldKeyMaterial(path)
            let source = hidden ? "\(argument) (not shown: it looks like key material)" : "-i \"\(path)\""
            switch Self.readFile(path) {
            case .text(let text):
                loaded += try parse(text, source: source, numbered: true)
            case .missing where (try? AgeRecipient.parse(path)) != nil:
                throw CLIError(
                    "\(argument) is a recipient (public key) \(path), not an identity; -i takes the path of an identity file"
                )
            case .missing where hidden:
                throw CLIError(
                    "\(source) names no file; -i takes the path of an identity file, never a key: a key on the command line shows in ps and shell history"
                )
            case .missing:
                throw CLIError(
                    "\(source): no such file; -i takes the path of an identity file (botform keygen -o FILE makes one)")
            case .directory:
                throw CLIError("\(source) is a directory; -i takes the path of an identity file")
            case .tooLarge:
                throw CLIError("\(source) is larger than 1 MiB, so not an identity file")
            case .unreadable(let reason):
                throw CLIError("\(source): cannot read it: \(reason)")
            }
        }
        return loaded
    }

    // MARK: BOTFORM_IDENTITY

    private func fromEnvironment(_ value: String) throws(CLIError) -> [Loaded] {
        let variable = Self.variable
        var trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines.union(["\u{FEFF}"]))
        guard !trimmed.isEmpty else { return [] }
        // A key file pasted where "\n" was kept as two characters (an escaped CI secret).
        if !trimmed.contains(where: \.isNewline), trimmed.contains("\\n") {
            trimmed = trimmed.replacingOccurrences(of: "\\r\\n", with: "\n").replacingOccurrences(
                of: "\\n", with: "\n")
        }
        let isText = trimmed.contains(where: \.isNewline) || trimmed.hasPrefix("#") || Secret.namesPrivateKey(trimmed)
        if isText {
            return try parse(trimmed, source: variable, numbered: trimmed.contains(where: \.isNewline))
        }
        let hidden = !Self.looksLikePath(trimmed)
        let named =
            hidden
            ? "\(variable) (its value is not shown: it is not a path, and may be a secret)"
            : "\(variable) names \"\(trimmed)\""
        switch Self.readFile(trimmed) {
        case .text(let text):
            let source = hidden ? "\(variable) (a file; its name is not shown)" : "\(variable) file \"\(trimmed)\""
            return try parse(text, source: source, numbered: true)
        case .missing:
            if (try? AgeRecipient.parse(trimmed)) != nil {
                _ = try parse(trimmed, source: variable, numbered: false)
            }
            // Nothing says a value naming no file was meant as a path: it may be a secret set in the wrong
            // variable (a token, a password), so it is never shown.
            throw CLIError(
                "\(variable) (its value is not shown) is neither a file that exists nor an age identity; set it to a key file's path, a key, or a key file's text"
            )
        case .directory:
            throw CLIError("\(named), which is a directory; set it to a key file's path, a key, or a key file's text")
        case .tooLarge:
            throw CLIError("\(named), a file larger than 1 MiB, so not an identity file")
        case .unreadable(let reason):
            throw CLIError("\(named), which cannot be read: \(reason)")
        }
    }

    /// Whether a value may be shown as the path it seems to be: it has a `/` or a `.`, and no long run of
    /// letters and digits as keys and tokens have. A CI secret set to the wrong value (a token, a
    /// password) must not be printed into the job's log.
    static func looksLikePath(_ value: String) -> Bool {
        (value.contains("/") || value.contains(".")) && !Secret.namesPrivateKey(value)
            && Secret.longestAlphanumericRun(value) < 20
    }

    // MARK: Parsing and reading

    /// Parses a key file's text; errors say `source line N: …` (or `source: …` for a single key).
    private func parse(_ text: String, source: String, numbered: Bool) throws(CLIError) -> [Loaded] {
        do {
            return try AgeIdentity.parseFileLines(text).map {
                Loaded(identity: $0.identity, origin: numbered ? "\(source) line \($0.line)" : source)
            }
        } catch {
            let location = numbered ? error.line.map { "\(source) line \($0)" } ?? source : source
            throw CLIError("\(location): \(error.reason)")
        }
    }

    enum ReadResult {
        case text(String)
        case missing
        case directory
        case tooLarge
        case unreadable(String)
    }

    /// Reads a small file, saying why not without quoting any of it.
    static func readFile(_ path: String) -> ReadResult {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            return code == ENOENT || code == ENOTDIR
                ? .missing : .unreadable(String(cString: strerror(code)).lowercased())
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            // A directory opens, and its read fails with EISDIR.
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return errno == EISDIR ? .directory : .unreadable(String(cString: strerror(errno)).lowercased())
            }
            if count == 0 { break }
            bytes += buffer[..<count]
            if bytes.count > maximumFileSize { return .tooLarge }
        }
        return .text(String(decoding: bytes, as: UTF8.self))
    }
}
