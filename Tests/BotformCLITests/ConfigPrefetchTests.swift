import BotformConfig
import BotformCore
import Foundation
import Testing

@testable import BotformCLI

/// The configuration read ahead while the arguments are parsed: the path is guessed without the parser,
/// and what was read is used only for the location the command then resolves.
@Suite("configuration read ahead")
struct ConfigPrefetchTests {
    @Test("the path plan and apply are given, told from the values of their options")
    func guesses() {
        let cases: [([String], String??)] = [
            (["apply"], .some(nil)),
            (["apply", "--auto-approve", "--parallelism", "32"], .some(nil)),
            (["plan", "conf/botform.yaml", "--out", "plan.json"], .some("conf/botform.yaml")),
            (["plan", "--out", "plan.json"], .some(nil)),
            (["plan", "--format", "json", "--target", "prod/a", "dir"], .some("dir")),
            (["apply", "-i", "key.txt", "--lock-timeout", "5m", "dir"], .some("dir")),
            (["apply", "--parallelism=32", "x.yaml", "--no-color"], .some("x.yaml")),
            (["plan", "--", "-odd.yaml"], .some("-odd.yaml")),
            (["plan", "a.yaml", "b.yaml"], nil),
            (["validate", "x.yaml"], nil),
            (["sandbox"], nil),
            ([], nil),
            (["apply", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ"], nil),
        ]
        for (arguments, expected) in cases {
            #expect(ConfigPrefetch.guess(arguments) == expected, "\(arguments)")
        }
    }

    @Test("what was read ahead is the loader's reading, handed out once and only for its location")
    func takeOnce() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("prefetch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("botform.yaml").path
        try """
        version: 1
        providers:
          prod: {type: fyso, url: "http://127.0.0.1:9", tenant: acme, credentials: {token_env: T}}
        roles:
          reader: {permissions: {products: [read]}}
        bots:
          bot-a: {roles: [reader]}
        output:
          sealed: secrets.sealed.yaml
        """.write(toFile: path, atomically: true, encoding: .utf8)
        ConfigPrefetch.start(arguments: ["plan", path])
        #expect(ConfigPrefetch.take(path + ".other") == nil)
        let read = try #require(ConfigPrefetch.take(path))
        let direct = ConfigLoader.load(path: path)
        #expect(direct.state != nil, "\(direct.diagnostics.sorted)")
        #expect(read.loaded.state?.bots.map(\.name) == direct.state?.bots.map(\.name))
        #expect(read.loaded.diagnostics.sorted.count == direct.diagnostics.sorted.count)
        #expect(read.sha256 == Frontend.digest(of: direct.files))
        #expect(read.output?.sealedPath == direct.state?.output.sealedPath)
        #expect(ConfigPrefetch.take(path) == nil, "handed out once")
    }
}
