import BotformConfig
import BotformCore
import Foundation
import Testing

/// A configuration fixture: a file or a directory under Fixtures/, whose expected diagnostics are written
/// on the lines that must produce them, as `# ERROR: message` or `# WARNING: message` (several per line
/// allowed). `{dir}` in a message stands for the fixture directory's path.
struct Fixture: Sendable, CustomTestStringConvertible {
    struct Expected: Hashable, Comparable, CustomStringConvertible {
        var file: String
        var line: Int
        var severity: Diagnostic.Severity
        var message: String

        static func < (lhs: Expected, rhs: Expected) -> Bool {
            (lhs.file, lhs.line, lhs.message) < (rhs.file, rhs.line, rhs.message)
        }

        var description: String { "\(file):\(line): \(severity.rawValue): \(message)" }
    }

    var name: String
    var path: String
    var testDescription: String { name }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func all(in group: String) -> [Fixture] {
        let directory = root.appendingPathComponent(group)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { Fixture(name: "\(group)/\($0)", path: directory.appendingPathComponent($0).path) }
    }

    static var invalid: [Fixture] { all(in: "invalid") }
    static var valid: [Fixture] { all(in: "valid") }

    var isDirectory: Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &flag) && flag.boolValue
    }

    /// The files whose annotations count: the fixture itself, or the configuration files of a directory.
    var annotatedFiles: [String] {
        guard isDirectory else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter {
            !$0.hasPrefix(".") && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.contains(".sealed.")
        }
        .sorted().map { path + "/" + $0 }
    }

    var expected: [Expected] {
        annotatedFiles.flatMap { file -> [Expected] in
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [] }
            return Fixture.annotations(in: text, file: (file as NSString).lastPathComponent, directory: path)
        }.sorted()
    }

    static func annotations(in text: String, file: String, directory: String) -> [Expected] {
        var result: [Expected] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var rest = Substring(line)
            while let range = rest.range(of: "# ERROR: ") ?? rest.range(of: "# WARNING: ") {
                let severity: Diagnostic.Severity = rest[range].contains("ERROR") ? .error : .warning
                rest = rest[range.upperBound...]
                let end =
                    [rest.range(of: " # ERROR: "), rest.range(of: " # WARNING: ")].compactMap { $0?.lowerBound }.min()
                    ?? rest.endIndex
                let message = String(rest[..<end]).replacingOccurrences(of: "{dir}", with: directory)
                result.append(Expected(file: file, line: index + 1, severity: severity, message: message))
                rest = rest[end...]
            }
        }
        return result
    }

    /// What loading the fixture actually reported, in the same form.
    func actual(_ loaded: LoadedConfig) -> [Expected] {
        loaded.diagnostics.all.map { diagnostic in
            Expected(
                file: diagnostic.location.map { ($0.file as NSString).lastPathComponent } ?? "<none>",
                line: diagnostic.location?.line ?? 0, severity: diagnostic.severity, message: diagnostic.message)
        }.sorted()
    }
}
