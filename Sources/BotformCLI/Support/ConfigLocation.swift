import BotformConfig
import Foundation

/// The configuration a command reads: the path given, or `botform.yaml` in the working directory.
enum ConfigLocation {
    static func resolve(_ path: String?) -> String {
        if let path { return path }
        return ConfigLoader.defaultFileNames.first { FileManager.default.fileExists(atPath: $0) }
            ?? ConfigLoader.defaultFileNames[0]
    }
}
