import ArgumentParser
import BotformCore
import BotformSeal
import Foundation

/// `botform keygen`: a new age identity, compatible with age-keygen.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Generate an age identity (as age-keygen does) or print an identity's public key (-y).",
        discussion: """
            Without -o, prints the identity to stdout. With -o FILE, writes it there (mode 0600, never \
            overwriting) and prints the public key on stderr. Put the public key (age1…) in output.recipients; \
            keep the identity where only those who may read the secrets can.
            """)

    @Option(name: [.customShort("o"), .long], help: "Write the identity to this file (mode 0600).")
    var output: String?

    @Flag(name: .customShort("y"), help: "Read an identity file (or stdin) and print its public key.")
    var convert = false

    @Argument(help: "With -y: the identity file (default: stdin).")
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
            terminal.out(identity.fileContents().reveal().trimmingSuffixNewlines())
            return
        }
        let written: Bool
        do {
            written = try identity.writeNewFile(at: output)
        } catch {
            throw CLIError("\(error)")
        }
        guard written else { throw CLIError("\(output) exists; botform keygen never overwrites a key") }
        terminal.err("Public key: \(identity.recipient)")
    }

    private func printRecipients(_ terminal: Terminal) throws {
        let data =
            input.map { FileManager.default.contents(atPath: $0) } ?? FileHandle.standardInput.readDataToEndOfFile()
        guard let data else { throw CLIError("cannot read \(input ?? "stdin")") }
        do {
            for identity in try AgeIdentity.parseFile(String(decoding: data, as: UTF8.self)) {
                terminal.out(identity.recipient.description)
            }
        } catch {
            throw CLIError("\(input ?? "stdin"): \(error.description)")
        }
    }
}
