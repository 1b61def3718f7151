import BotformConfig
import BotformCore
import Testing

@Suite("ImportedConfiguration")
struct ImportedConfigurationTests {
    static let provider = """
        version: 1
        providers:
          prod:
            type: fyso
            url: https://api.fyso.dev
            tenant: acme
            credentials:
              token_env: FYSO_TOKEN
        roles:
          products-read:
            permissions: {products: [read]}
        bots:
          declared:
            provider: prod
            roles: [products-read]
        """

    static let read = Permissions(["products": [.read]])
    static let mixed = Permissions(["inventory": [.create, .read], "products": [.read, .update]])

    static func bot(_ name: String, _ permissions: Permissions, active: Bool = true) -> ObservedBot {
        ObservedBot(id: "id-\(name)", name: name, isActive: active, permissions: permissions)
    }

    static let observed = [
        bot("reader-1", read), bot("reader-2", read), bot("mixer-1", mixed), bot("mixer-2", mixed),
        bot("loner", Permissions(["orders": [.delete]])), bot("idle", Permissions()), bot("123", read),
        bot("Bad_Name", read), bot("revoked", read, active: false), bot("declared", read),
    ]

    @Test("declares every active bot with its permissions; shared sets become roles; the result loads")
    func roundTrip() throws {
        let imported = ImportedConfiguration(
            provider: "prod", observed: Self.observed, declaredBots: ["declared": "prod"],
            declaredRoles: ["products-read"])
        #expect(imported.bots == 7 && imported.roles == 2 && imported.alreadyDeclared == 1)
        #expect(imported.skipped.map(\.name) == ["Bad_Name"])
        #expect(imported.text.contains("#   Bad_Name (id id-Bad_Name): not a valid Botform bot name"))
        #expect(imported.text.contains("  products-read-2:"), "a generated role avoids the declared one")
        #expect(imported.text.contains("  \"123\":"), "a numeric name is quoted")

        let loaded = ConfigLoader.load(
            sources: [
                ConfigSource(path: "botform.yaml", text: Self.provider),
                ConfigSource(path: "imported.yaml", text: imported.text),
            ], baseDirectory: ".")
        let state = try #require(loaded.state, "\(loaded.diagnostics.sorted)")
        #expect(loaded.diagnostics.errors.isEmpty)
        for observed in Self.observed where observed.isActive && observed.name != "Bad_Name" {
            let declared = try #require(state.bots.first { $0.name == observed.name }, "\(observed.name)")
            #expect(declared.effectivePermissions == observed.permissions, "\(observed.name)")
        }
        #expect(state.bots.first { $0.name == "reader-1" }?.roles == ["products-read-2"])
        #expect(!state.bots.contains { $0.name == "revoked" })
    }

    @Test("the same observation in any order gives the same text")
    func deterministic() {
        let one = ImportedConfiguration(provider: "prod", observed: Self.observed, declaredBots: [:], declaredRoles: [])
        var generator = SplitMix64(seed: 42)
        let other = ImportedConfiguration(
            provider: "prod", observed: Self.observed.shuffled(using: &generator), declaredBots: [:],
            declaredRoles: [])
        #expect(one.text == other.text)
    }
}
