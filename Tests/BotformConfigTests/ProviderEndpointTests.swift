import BotformConfig
import BotformCore
import Foundation
import Testing

/// Provider URLs that carry credentials, providers that reach one account twice, and the
/// `revoked_names_reusable` setting.
@Suite("Provider endpoints and accounts")
struct ProviderEndpointTests {
    func load(_ text: String) -> LoadedConfig {
        ConfigLoader.load(sources: [ConfigSource(path: "botform.yaml", text: text)], baseDirectory: ".")
    }

    /// Every way a diagnostic reaches a reader: the compiler-style line holds the message and location.
    func printed(_ loaded: LoadedConfig) -> String {
        loaded.diagnostics.all.map(\.description).joined(separator: "\n")
    }

    func provider(_ type: String, url: String, name: String = "prod", tenant: String = "acme") -> String {
        let tenantLine = type == "fyso" ? "    tenant: \(tenant)\n" : ""
        return """
              \(name):
                type: \(type)
                url: '\(url)'
            \(tenantLine)    credentials: {token_env: TOKEN}

            """
    }

    static let userInfoURLs = [
        "https://ci-deployer:hunter2@api.fyso.dev",
        "https://ci-deployer@api.fyso.dev",
        "https://ci-deployer:hunter2@api.fyso.dev/",
        "http://ci-deployer:hunter2@staging.internal:3001",
        "http://ci-deployer:hunter2@localhost:3001",
        "ftp://ci-deployer:hunter2@api.fyso.dev",
        "HTTPS://CI-DEPLOYER:HUNTER2@API.FYSO.DEV:443/",
        "https://ci-deployer:hunter2@api.fyso.dev/v1?x=1",
        "https://ci-deployer:hunter2@api.fyso.dev#top",
        "https://ci-deployer:hun@ter2@api.fyso.dev",
        "https://ci-deployer:hunter2%40x@api.fyso.dev",
        "https://ci-deployer:hunter2#x@api.fyso.dev",
        "https://ci-deployer:hunter2/x@api.fyso.dev",
        "https://ci-deployer:hunter2?x@api.fyso.dev",
        "https://ci-deployer:hunter2 x@api.fyso.dev",
        "https://ci-deployer:hunter2\\x@api.fyso.dev",
        "https://:hunter2@api.fyso.dev",
        "https://ci-deployer:hunter2@",
        "https://ci-deployer:hunter2@[::1]:3001",
        "https:ci-deployer:hunter2@api.fyso.dev",
        "https:/ci-deployer:hunter2@api.fyso.dev",
        "ci-deployer:hunter2@api.fyso.dev",
        "//ci-deployer:hunter2@api.fyso.dev",
    ]

    @Test(
        "a url carrying a user or password is a located error that repeats neither",
        arguments: ["fyso", "sym"], userInfoURLs)
    func userInfoRefused(type: String, url: String) {
        let loaded = load("version: 1\nproviders:\n" + provider(type, url: url))
        #expect(loaded.state == nil, "\(url) was accepted")
        let errors = loaded.diagnostics.errors
        #expect(errors.count == 1, "\(printed(loaded))")
        #expect(errors.allSatisfy { $0.location?.line == 5 }, "\(printed(loaded))")
        let text = printed(loaded).lowercased()
        #expect(!text.contains("hunter2") && !text.contains("ter2"), "\(printed(loaded))")
        #expect(!text.contains("ci-deployer") && !text.contains("deployer"), "\(printed(loaded))")
    }

    @Test("the corpus fixture of credential-carrying urls names no user and no password")
    func fixtureRepeatsNoSecret() {
        let loaded = ConfigLoader.load(
            path: Fixture.root.appendingPathComponent("invalid/url-user-password.yaml").path)
        #expect(loaded.diagnostics.errors.count == 10)
        let text = printed(loaded).lowercased()
        for secret in ["ci-deployer", "hunter2", "s3cret"] {
            #expect(!text.contains(secret), "\(secret) in:\n\(printed(loaded))")
        }
    }

    @Test("a url whose path or fragment holds an @ is not taken for user information")
    func atInPath() throws {
        let state = try #require(
            load("version: 1\nproviders:\n" + provider("fyso", url: "https://api.fyso.dev/@v1")).state)
        #expect(state.providers.first?.origin.endpoint == "https://api.fyso.dev/@v1")
    }

    static let sameAccount: [(String, String)] = [
        ("https://api.fyso.dev", "https://api.fyso.dev"),
        ("HTTPS://API.fyso.dev:443/", "https://api.fyso.dev"),
        ("https://api.fyso.dev/", "https://API.FYSO.DEV"),
        ("https://api.fyso.dev/v1/", "https://api.fyso.dev:443/v1"),
        ("http://localhost:80", "http://LOCALHOST/"),
        ("embedded", "embedded"),
    ]

    static let otherAccount: [(String, String)] = [
        ("https://api.fyso.dev:8443", "https://api.fyso.dev"),
        ("https://api.fyso.dev/v2", "https://api.fyso.dev"),
        ("https://eu.fyso.dev", "https://api.fyso.dev"),
        ("http://localhost:3001", "https://localhost:3001"),
        ("embedded", "http://localhost:3001"),
    ]

    func twoFysoProviders(_ first: String, _ second: String, secondTenant: String = "acme") -> LoadedConfig {
        load(
            "version: 1\nproviders:\n" + provider("fyso", url: first, name: "prod", tenant: "acme")
                + provider("fyso", url: second, name: "prod-again", tenant: secondTenant))
    }

    @Test(
        "two providers at one endpoint and tenant, however spelled, are an error at the second", arguments: sameAccount)
    func sameAccountRefused(first: String, second: String) throws {
        for (a, b) in [(first, second), (second, first)] {
            let loaded = twoFysoProviders(a, b)
            #expect(loaded.state == nil)
            let error = try #require(loaded.diagnostics.errors.first, "\(a) and \(b) were accepted")
            #expect(loaded.diagnostics.errors.count == 1, "\(printed(loaded))")
            #expect(error.location == BotformCore.SourceLocation(file: "botform.yaml", line: 8, column: 3))
            #expect(
                error.message.hasPrefix(
                    #"provider "prod-again" addresses the same account as provider "prod" (line 3): fyso at "#))
        }
    }

    @Test(
        "providers at different endpoints, or different tenants of one endpoint, are distinct", arguments: otherAccount)
    func otherAccountAccepted(first: String, second: String) {
        #expect(twoFysoProviders(first, second).diagnostics.errors.isEmpty)
        #expect(twoFysoProviders(first, first, secondTenant: "acme-qa").diagnostics.errors.isEmpty)
    }

    @Test("revoked_names_reusable reads as true, false, or unknown when unset")
    func revokedNamesReusable() throws {
        let loaded = ConfigLoader.load(
            path: Fixture.root.appendingPathComponent("valid/revoked-names-reusable.yaml").path)
        let state = try #require(loaded.state, "\(loaded.diagnostics.all)")
        func setting(_ name: String) -> Bool?? {
            guard case .fyso(let fyso)? = state.provider(named: name)?.settings else { return .none }
            return .some(fyso.revokedNamesReusable)
        }
        #expect(setting("prod") == .some(false))
        #expect(setting("qa") == .some(true))
        #expect(setting("eu") == .some(nil))
    }

    @Test("the schema offers revoked_names_reusable for fyso providers only")
    func schemaField() throws {
        let field = try #require(SchemaObject.provider.field("revoked_names_reusable"))
        #expect(field.kinds == [.fyso] && field.requiredFor.isEmpty)
        guard case .boolean = field.type else {
            Issue.record("revoked_names_reusable is not a boolean")
            return
        }
    }
}
