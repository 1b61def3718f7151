import BotformCore

/// A failure a command reports in one line (`botform: error: …`) with its exit status.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    let status: ExitStatus

    init(_ description: String, status: ExitStatus = .failure) {
        // An error may quote a path or a value it was given: never a private key.
        self.description = Secret.redactingKeys(description)
        self.status = status
    }
}

extension Terminal {
    /// Prints the error the way every command does, and returns its exit code.
    func report(_ error: CLIError) -> ExitStatus {
        err("botform: \(paint("error:", .red, stderr: true)) \(error.description)")
        return error.status
    }

    func warn(_ message: String) {
        err("botform: \(paint("warning:", .yellow, stderr: true)) \(message)")
    }
}
