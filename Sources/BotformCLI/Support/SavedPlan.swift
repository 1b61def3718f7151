import BotformCore
import Foundation

/// Saved plans (`plan --out`), told apart from configuration by decoding them, never by sniffing
/// their first bytes: a plan is a versioned JSON document, and its keys can come in any order.
enum SavedPlan {
    /// The plan in `path`, or nil when `path` is not a plan (a configuration file or directory).
    /// A file that is a plan document but does not decode is an error, not taken for configuration.
    static func load(_ path: String) throws -> PlanDocument? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
            let data = FileManager.default.contents(atPath: path)
        else { return nil }
        do {
            return try PlanDocument.read(data)
        } catch .notAPlan {
            return nil
        } catch {
            throw CLIError("\(path): \(error.description)")
        }
    }

    /// The plan in `path`, for commands that take nothing else (`show`).
    static func read(_ path: String) throws -> PlanDocument {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("cannot read the plan file \"\(path)\"")
        }
        do {
            return try PlanDocument.read(data)
        } catch {
            throw CLIError("\(path): \(error.description)")
        }
    }
}
