import ArgumentParser
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

/// `botform keygen`: a new age identity, compatible with age-keygen.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate an age identity (as age-keygen does) or print an identity's public key (-y).",
        discussion: """
            Without -o, prints the identity to stdout (and, when stdout is not a terminal, its public key on \
            stderr). With -o FILE, writes it there (mode 0600, never overwriting) and prints the public key on \
            stderr. Put the public key (age1…) in output.recipients; \
            keep the identity where only those who may read the secrets can.
            """)

    @Option(name: [.customShort("o"), .long], help: "Write the identity to this file (mode 0600).")
    var output: String?

    @Flag(name: .customShort("y"), help: "Read an identity file (or stdin) and print its public key.")
    var convert = false

    @Argument(help: "With -y: the identity file, or - for stdin (the default).")
    var input: String?

    func validate() throws {
        if input != nil, !convert { throw ValidationError("an input file goes with -y") }
    }

    func run() throws {
        let terminal = Terminal(noColor: true)
        do {
            if convert { try printRecipients(terminal) } else { try generate(terminal) }
        } catch let error as CLIError {
            throw terminal.report(error).exitCode
        }
    }

    private func generate(_ terminal: Terminal) throws {
        let identity = AgeIdentity()
        guard let output else {
            if isatty(STDOUT_FILENO) != 1 { terminal.err("Public key: \(identity.recipient)") }
            terminal.out(identity.fileContents().reveal().trimmingSuffixNewlines())
            return
        }
        if Secret.namesPrivateKey(output) {
            throw CLIError("-o takes the path of the file to write, not a key (the argument is not shown)")
        }
        let shown = AgeIdentity.mayHoldKeyMaterial(output) ? "the -o file (its name is not shown)" : output
        let written: Bool
        do {
            written = try identity.writeNewFile(at: output)
        } catch {
            throw CLIError(shown == output ? "\(error)" : "cannot write \(shown)")
        }
        guard written else { throw CLIError("\(shown) exists; botform keygen never overwrites a key") }
        terminal.err("Public key: \(identity.recipient)")
    }

    private func printRecipients(_ terminal: Terminal) throws {
        let text: String
        let source: String
        if let input, input != "-" {
            if Secret.namesPrivateKey(input) {
                throw CLIError(
                    "-y takes the path of an identity file, not a key (the argument is not shown); or give the key on stdin: botform keygen -y < FILE"
                )
            }
            source = AgeIdentity.mayHoldKeyMaterial(input) ? "the input file (its name is not shown)" : "\"\(input)\""
            switch IdentitySource.readFile(input) {
            case .text(let contents): text = contents
            case .missing: throw CLIError("\(source): no such file")
            case .directory: throw CLIError("\(source) is a directory, not an identity file")
            case .tooLarge: throw CLIError("\(source) is larger than 1 MiB, so not an identity file")
            case .unreadable(let reason): throw CLIError("\(source): cannot read it: \(reason)")
            }
        } else {
            source = "stdin"
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        do {
            for identity in try AgeIdentity.parseFile(text) {
                terminal.out(identity.recipient.description)
            }
        } catch {
            throw CLIError("\(error.line.map { "\(source) line \($0)" } ?? source): \(error.reason)")
        }
    }
}
