import BotformConfig
import BotformCore
import Testing

@Suite("Fixture corpus")
struct FixtureCorpusTests {
    @Test("every invalid fixture reports exactly the diagnostics written on its lines", arguments: Fixture.invalid)
    func invalid(_ fixture: Fixture) {
        let loaded = ConfigLoader.load(path: fixture.path)
        #expect(loaded.state == nil, "an invalid configuration must not resolve")
        let expected = fixture.expected
        #expect(expected.contains { $0.severity == .error }, "fixture declares no expected error")
        let actual = fixture.actual(loaded)
        #expect(
            actual == expected,
            "\n  unexpected: \(actual.filter { !expected.contains($0) })\n  missing: \(expected.filter { !actual.contains($0) })"
        )
    }

    @Test("every valid fixture resolves, with exactly the warnings written on its lines", arguments: Fixture.valid)
    func valid(_ fixture: Fixture) {
        let loaded = ConfigLoader.load(path: fixture.path)
        #expect(loaded.state != nil)
        let expected = fixture.expected
        let actual = fixture.actual(loaded)
        #expect(
            actual == expected,
            "\n  unexpected: \(actual.filter { !expected.contains($0) })\n  missing: \(expected.filter { !actual.contains($0) })"
        )
    }

    @Test("the corpus holds at least 40 invalid configurations")
    func corpusSize() {
        #expect(Fixture.invalid.count >= 40)
    }
}
