import BotformCore
import BotformYAML
import Foundation

/// One configuration file's bytes and the path diagnostics name it by.
public struct ConfigSource: Sendable {
    public var path: String
    public var bytes: [UInt8]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
    }

    public init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }
}

/// The outcome of loading: the resolved state when there were no errors, and every diagnostic.
public struct LoadedConfig: Sendable {
    public var state: DesiredState?
    public var diagnostics: Diagnostics
    /// The files that were read, in the order they were merged.
    public var files: [String]
}

/// Reads a configuration file or directory into a `DesiredState`, reporting every problem in one pass.
public enum ConfigLoader {
    /// The file the commands read when no path is given.
    public static let defaultFileNames = ["botform.yaml", "botform.yml"]

    /// Loads `path`: a YAML file, or a directory whose `*.yaml` and `*.yml` files are merged. Dotfiles and
    /// `*.sealed.yaml` files (Botform's own output) are skipped.
    /// `onOutput` is told the output settings as soon as they are read (see `ConfigResolver.onOutput`),
    /// whether or not the configuration turns out valid.
    public static func load(path: String, onOutput: ((OutputSettings) -> Void)? = nil) -> LoadedConfig {
        var diagnostics = Diagnostics()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            diagnostics.error("no such file or directory: \"\(path)\"", at: nil)
            return LoadedConfig(state: nil, diagnostics: diagnostics, files: [])
        }
        var paths: [String]
        let baseDirectory: String
        if isDirectory.boolValue {
            baseDirectory = path
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: path)
            } catch {
                diagnostics.error("cannot read directory \"\(path)\": \(error.localizedDescription)", at: nil)
                return LoadedConfig(state: nil, diagnostics: diagnostics, files: [])
            }
            paths = names.filter(isConfigFileName).sorted().map { name in
                path == "." ? name : (path.hasSuffix("/") ? path + name : path + "/" + name)
            }
            if paths.isEmpty {
                diagnostics.error("no configuration files (*.yaml, *.yml) in directory \"\(path)\"", at: nil)
                return LoadedConfig(state: nil, diagnostics: diagnostics, files: [])
            }
        } else {
            baseDirectory =
                (path as NSString).deletingLastPathComponent.isEmpty
                ? "." : (path as NSString).deletingLastPathComponent
            paths = [path]
        }
        var sources: [ConfigSource] = []
        for file in paths {
            guard let data = FileManager.default.contents(atPath: file) else {
                diagnostics.error("cannot read \"\(file)\" (check its permissions)", at: nil)
                continue
            }
            sources.append(ConfigSource(path: file, bytes: [UInt8](data)))
        }
        var loaded = load(
            sources: sources, baseDirectory: baseDirectory, directory: isDirectory.boolValue ? path : nil,
            onOutput: onOutput)
        diagnostics.append(contentsOf: loaded.diagnostics)
        loaded.diagnostics = diagnostics
        if diagnostics.hasErrors { loaded.state = nil }
        return loaded
    }

    static func isConfigFileName(_ name: String) -> Bool {
        guard !name.hasPrefix("."), name.hasSuffix(".yaml") || name.hasSuffix(".yml") else { return false }
        return !(name.hasSuffix(".sealed.yaml") || name.hasSuffix(".sealed.yml"))
    }

    /// Loads already-read sources, merged in the given order. `directory` is set when the sources are
    /// the files of a directory (a sealed file inside it would be read as configuration).
    public static func load(
        sources: [ConfigSource], baseDirectory: String, directory: String? = nil,
        onOutput: ((OutputSettings) -> Void)? = nil
    ) -> LoadedConfig {
        var files: [FileDeclarations] = []
        for source in sources {
            files.append(FileDeclarations.read(source))
        }
        var resolver = ConfigResolver(files: files, baseDirectory: baseDirectory, directory: directory)
        resolver.onOutput = onOutput
        let state = resolver.resolve()
        var diagnostics = Diagnostics()
        for file in files { diagnostics.append(contentsOf: file.reader.diagnostics) }
        diagnostics.append(contentsOf: resolver.diagnostics)
        return LoadedConfig(
            state: diagnostics.hasErrors ? nil : state, diagnostics: diagnostics, files: sources.map(\.path))
    }
}

/// A name defined under `providers`, `roles` or `bots` (or a key under `policy`/`output`), with where.
struct Declaration {
    var name: String
    var key: YAMLNode
    var value: YAMLNode
    var reader: ConfigReader

    var location: SourceLocation { reader.location(key) }
}

/// What one file declares, before merging.
struct FileDeclarations {
    var reader: ConfigReader
    var version: (value: Int?, node: YAMLNode)?
    var providers: [Declaration] = []
    var roles: [Declaration] = []
    var bots: [Declaration] = []
    var policy: [Declaration] = []
    var output: [Declaration] = []
    /// The `ignore:` list, read by the resolver (ConfigResolver+Ignore.swift).
    var ignore: YAMLNode.Pair?
    /// The `bots:` key, to locate file-wide bot errors.
    var botsKey: YAMLNode?
    /// Set when the file could not be read as a mapping; what it declares is unknown.
    var unreadable = false

    static func read(_ source: ConfigSource) -> FileDeclarations {
        let reader = ConfigReader(file: source.path)
        var declarations = FileDeclarations(reader: reader)
        guard let root = YAMLComposer.compose(source.bytes, file: source.path, diagnostics: &reader.diagnostics) else {
            declarations.unreadable = reader.diagnostics.hasErrors
            return declarations
        }
        if root.isNull { return declarations }
        guard case .mapping = root.content else {
            declarations.unreadable = true
            reader.error(
                "expected a mapping of keys (version, providers, roles, bots, policy, output) at the top level, found \(root.kindDescription)",
                at: root)
            return declarations
        }
        guard let fields = reader.fields(root, .root, what: "the configuration") else { return declarations }
        if let pair = fields["version"] {
            if case .integer(let value)? = pair.value.scalarValue {
                declarations.version = (value, pair.value)
            } else {
                reader.typeError(
                    "expected the number 1 for \"version\", found \(pair.value.kindDescription)", at: pair.value)
                declarations.version = (nil, pair.value)
            }
        }
        func named(_ key: String, what: String) -> [Declaration] {
            guard let pair = fields[key], let pairs = reader.mapping(pair.value, "\"\(key)\"") else { return [] }
            return pairs.compactMap { entry in
                guard let name = entry.key.scalarText else { return nil }
                return Declaration(name: name, key: entry.key, value: entry.value, reader: reader)
            }
        }
        declarations.providers = named("providers", what: "provider")
        declarations.roles = named("roles", what: "role")
        declarations.bots = named("bots", what: "bot")
        declarations.botsKey = fields["bots"]?.key
        declarations.ignore = fields["ignore"]
        if let pair = fields["policy"], let policy = reader.fields(pair.value, .policy, what: "\"policy\"") {
            declarations.policy = policy.values.map {
                Declaration(name: $0.key.scalarText ?? "", key: $0.key, value: $0.value, reader: reader)
            }
        }
        if let pair = fields["output"], let output = reader.fields(pair.value, .output, what: "\"output\"") {
            declarations.output = output.values.map {
                Declaration(name: $0.key.scalarText ?? "", key: $0.key, value: $0.value, reader: reader)
            }
        }
        return declarations
    }
}
