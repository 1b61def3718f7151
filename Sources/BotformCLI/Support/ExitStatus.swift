import ArgumentParser

/// Botform's exit codes, a contract with the scripts and CI jobs that run it.
public enum ExitStatus: Int32, Sendable {
    /// Success (and no changes, under `--detailed-exitcode`).
    case success = 0
    /// An error: invalid input, a failed call, a refused apply.
    case failure = 1
    /// Changes are present (`plan --detailed-exitcode`).
    case changesPresent = 2
    /// Apply finished some actions and failed others; everything issued was sealed, a rerun converges.
    case incomplete = 3
    /// A saved plan no longer matches the service.
    case stalePlan = 4
    /// Another apply holds the lock on the sealed file.
    case locked = 5
    /// The command line was wrong.
    case usage = 64

    public var exitCode: ExitCode { ExitCode(rawValue) }
}
