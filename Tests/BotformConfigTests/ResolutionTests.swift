import BotformConfig
import BotformCore
import Foundation
import Testing

@Suite("Resolution")
struct ResolutionTests {
    func state(_ name: String) throws -> DesiredState {
        let loaded = ConfigLoader.load(path: Fixture.root.appendingPathComponent("valid/\(name)").path)
        return try #require(loaded.state, "\(loaded.diagnostics.all)")
    }

    @Test("effective permissions are the union of roles, transitively, and the bot's own")
    func effectivePermissions() throws {
        let bot = try #require(try state("design-example.yaml").bots.first)
        #expect(bot.address == "prod/inventory-agent")
        #expect(
            bot.effectivePermissions
                == Permissions([
                    "products": [.read, .update], "categories": [.read],
                    "inventory": [.create, .read, .update, .delete],
                ]))
        #expect(bot.permissions == Permissions(["products": [.update]]))
        #expect(bot.rotateEvery == BotformDuration(90, .days))
        #expect(bot.protect)
    }

    @Test("roles included twice over different paths count once")
    func diamondIncludes() throws {
        let loaded = try state("every-feature.yaml")
        let adminLite = try #require(loaded.roles.first { $0.name == "admin-lite" })
        #expect(
            adminLite.effectivePermissions
                == Permissions([
                    "products": [.read, .update], "orders": [.create, .update], "invoices": [.read, .delete],
                ]))
    }

    @Test("every provider type resolves with its settings and defaults")
    func providers() throws {
        let loaded = try state("every-feature.yaml")
        #expect(loaded.providers.map(\.name) == ["ci", "keys", "prod", "sandbox"])
        guard case .fyso(let prod)? = loaded.provider(named: "prod")?.settings else {
            Issue.record("prod is not fyso")
            return
        }
        #expect(prod.endpoint == .url("https://api.fyso.dev"), "a trailing slash is dropped")
        #expect(prod.tenant == "acme-prod")
        #expect(prod.timeout == BotformDuration(45, .seconds))
        #expect(
            prod.credentials
                == .login(
                    email: .environment("FYSO_EMAIL"), password: .file("/run/secrets/fyso-password"), caller: .user))
        guard case .fyso(let sandbox)? = loaded.provider(named: "sandbox")?.settings else {
            Issue.record("sandbox is not fyso")
            return
        }
        #expect(sandbox.endpoint == .embedded && sandbox.tenant == "sandbox" && sandbox.credentials == nil)
        #expect(sandbox.timeout == BotformDuration(30, .seconds))
        guard case .sym(let ci)? = loaded.provider(named: "ci")?.settings,
            case .foks(let keys)? = loaded.provider(named: "keys")?.settings
        else {
            Issue.record("ci or keys has the wrong type")
            return
        }
        #expect(ci.token == .file(Fixture.root.appendingPathComponent("valid/secrets/sym.jwt").path))
        #expect(keys.host == "myorg.foks.app" && keys.binary == "/usr/local/bin/foks")
        #expect(keys.home == Fixture.root.appendingPathComponent("valid/.foks-home").path)
    }

    @Test("bots resolve their provider, tokens and FOKS roles")
    func bots() throws {
        let loaded = try state("every-feature.yaml")
        #expect(
            loaded.bots.map(\.address) == [
                "ci/deployer", "keys/auditor", "keys/signer", "prod/billing-agent", "prod/inventory-agent",
                "sandbox/trial-bot",
            ])
        let deployer = try #require(loaded.bots.first { $0.name == "deployer" })
        #expect(deployer.tokens.map(\.label) == ["ci", "nightly build"])
        #expect(deployer.tokens[0].renewBefore == BotformDuration(14, .days))
        #expect(deployer.tokens[1].expiresIn == BotformDuration(720, .hours))
        #expect(deployer.tokens[1].renewBefore.seconds == 720 * 3_600 / 3, "renew_before defaults to a third")
        #expect(loaded.bots.first { $0.name == "signer" }?.foksRole == .member(-1))
        #expect(loaded.bots.first { $0.name == "auditor" }?.foksRole == .member(0))
    }

    @Test("policy and output resolve, paths against the configuration's directory")
    func policyAndOutput() throws {
        let loaded = try state("every-feature.yaml")
        #expect(loaded.policy == Policy(unmanaged: .revoke, maxDestroy: 0))
        #expect(loaded.output.sealedPath == Fixture.root.appendingPathComponent("valid/out/secrets.sealed.yaml").path)
        #expect(
            loaded.output.recipients.map(\.description) == [
                "age14qpvnskj0hth8lg8y3vrjjq8cknugnpshtzhpq88pe80mk8tzpns8uuvnx",
                "age16jsg7tjugg76mtnlmj64tvdm464axnjnqk0gk2vzvaeyvpc7kddskyhkwr",
            ])
        #expect(loaded.output.recipientsFile == Fixture.root.appendingPathComponent("valid/recipients.txt").path)
    }

    @Test("a directory's files merge; dotfiles, sealed files and non-YAML are skipped")
    func directory() throws {
        let path = Fixture.root.appendingPathComponent("valid/dir-split").path
        let loaded = ConfigLoader.load(path: path)
        #expect(
            loaded.files.map { ($0 as NSString).lastPathComponent } == [
                "00-providers.yaml", "10-roles.yml", "20-bots.yaml", "30-output.yaml",
            ])
        let state = try #require(loaded.state)
        #expect(state.bots.first?.effectivePermissions == Permissions(["products": [.read]]))
        #expect(state.policy.maxDestroy == 2)
        #expect(state.output.sealedPath == path + "/secrets.sealed.yaml")
    }

    @Test("the same permissions written differently are equal")
    func permissionSpelling() throws {
        let text = """
            version: 1
            providers: {p: {type: fyso, url: embedded}}
            bots:
              one: {permissions: {products: [update, read, read]}}
              two: {permissions: {products: [read, update]}}
            """
        let loaded = ConfigLoader.load(sources: [ConfigSource(path: "x.yaml", text: text)], baseDirectory: ".")
        let bots = try #require(loaded.state?.bots)
        #expect(bots[0].effectivePermissions == bots[1].effectivePermissions)
    }

    @Test("a missing path is an error that names it")
    func missingPath() {
        let loaded = ConfigLoader.load(path: "/nonexistent/botform.yaml")
        #expect(
            loaded.diagnostics.all.map(\.description) == [
                #"error: no such file or directory: "/nonexistent/botform.yaml""#
            ])
    }
}
