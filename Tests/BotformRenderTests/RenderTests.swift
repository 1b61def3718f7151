import BotformCore
import BotformRender
import Foundation
import Testing

/// Plans for the golden files, built by the real planner from a fixed world.
enum SamplePlans {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let read = Permissions(["products": [.read]])

    static func document(_ plan: Plan, observed: Int) -> PlanDocument {
        PlanDocument(
            createdAt: now, configuration: .init(path: "botform.yaml", sha256: String(repeating: "0", count: 64)),
            options: .init(allowDestroy: []),
            providers: [
                .init(
                    name: "prod", type: "fyso", endpoint: "https://api.fyso.dev", tenant: "acme", caller: "admin",
                    observedBots: observed, listCalls: 1)
            ],
            actions: plan.actions, drift: plan.drift, guards: plan.guards, inputs: plan.inputs)
    }

    static func plan(bots: [DesiredBot], observed: [ObservedBot], owned: [OwnedBot], policy: Policy = Policy()) throws
        -> PlanDocument
    {
        let provider = ProviderConfig(
            name: "prod",
            settings: .fyso(
                FysoSettings(
                    endpoint: .url("https://api.fyso.dev"), tenant: "acme", credentials: nil,
                    timeout: BotformDuration(30, .seconds))))
        let capabilities = ProviderCapabilities(
            canResetSecret: true, canUpdatePermissions: false, seesAllBots: true, caller: "admin")
        let plan = try Planner.plan(
            PlanRequest(
                desired: DesiredState(baseDirectory: ".", providers: [provider], bots: bots, policy: policy),
                observations: [
                    "prod": ProviderObservation(
                        provider: "prod", bots: observed, capabilities: capabilities, listCalls: 1)
                ],
                ownership: Ownership(owned), now: now))
        return document(plan, observed: observed.count)
    }

    static func owned(_ name: String, daysAgo: Double = 1) -> OwnedBot {
        OwnedBot(
            provider: "prod", name: name, id: "id-\(name)", origin: .issued,
            issuedAt: now.addingTimeInterval(-daysAgo * 86_400), permissionsSHA256: read.sha256, secretHeld: true)
    }

    static func observed(_ name: String, _ permissions: Permissions = read, active: Bool = true) -> ObservedBot {
        ObservedBot(id: "id-\(name)", name: name, isActive: active, permissions: permissions)
    }

    static func mixed() throws -> PlanDocument {
        let writer = Permissions(["products": [.read, .update], "inventory": [.create, .read, .update, .delete]])
        let base = try plan(
            bots: [
                DesiredBot(name: "new-bot", provider: "prod", effectivePermissions: read),
                DesiredBot(name: "inventory-agent", provider: "prod", effectivePermissions: writer),
                DesiredBot(
                    name: "rotator", provider: "prod", effectivePermissions: read,
                    rotateEvery: BotformDuration(90, .days)),
                DesiredBot(name: "found", provider: "prod", effectivePermissions: read),
                DesiredBot(name: "guarded", provider: "prod", effectivePermissions: writer, protect: true),
                DesiredBot(name: "comeback", provider: "prod", effectivePermissions: read),
            ],
            observed: [
                observed("inventory-agent"), observed("rotator"), observed("found"), observed("guarded"),
                observed("old-bot"),
                observed("legacy-bot"), observed("comeback", active: false),
            ],
            owned: [
                owned("inventory-agent"), owned("rotator", daysAgo: 97), owned("guarded"), owned("old-bot"),
                owned("gone"), owned("comeback"),
            ])
        // A Sym token due for renewal: issued and sealed, then the old one revoked.
        let renew = PlannedAction(
            address: "prod/rotator/ci", provider: "prod", bot: "rotator", action: .renew, botID: "id-rotator",
            reasons: [ActionReason(.renewalDue, "expires in 5d (renew_before 7d), by the service's clock")],
            label: "ci", lifetimeSeconds: 30 * 86_400, revokeTokenIDs: ["token-old"])
        return PlanDocument(
            createdAt: base.createdAt, configuration: base.configuration, options: base.options,
            providers: base.providers, actions: (base.actions + [renew]).sorted { $0.address < $1.address },
            drift: base.drift, guards: base.guards, inputs: base.inputs, recipients: base.recipients)
    }

    static func driftOnly() throws -> PlanDocument {
        try plan(
            bots: [DesiredBot(name: "steady", provider: "prod", effectivePermissions: read)],
            observed: [observed("steady"), observed("legacy-bot")], owned: [owned("steady")])
    }

    /// Recipients changed: a key was removed and another added; nothing else to do.
    static func rewrap() throws -> PlanDocument {
        var plan = try converged()
        plan.recipients = PlanDocument.RecipientChange(
            entries: ["prod/steady"], added: ["age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg"],
            removed: ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"])
        return plan
    }

    static func converged() throws -> PlanDocument {
        try plan(
            bots: [DesiredBot(name: "steady", provider: "prod", effectivePermissions: read)],
            observed: [observed("steady")], owned: [owned("steady")])
    }
}

@Suite("Rendering")
struct RenderTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// Compares with the golden file; `BOTFORM_UPDATE_GOLDEN=1` rewrites it instead.
    func check(_ text: String, _ name: String) throws {
        let url = Self.golden.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["BOTFORM_UPDATE_GOLDEN"] == "1" {
            try text.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "\(name) differs; rerun with BOTFORM_UPDATE_GOLDEN=1 after checking the change")
    }

    @Test(
        "text, markdown and JSON of a plan with every kind of action",
        arguments: ["mixed", "drift-only", "converged", "rewrap"])
    func golden(name: String) throws {
        let plan: PlanDocument =
            switch name {
            case "mixed": try SamplePlans.mixed()
            case "drift-only": try SamplePlans.driftOnly()
            case "rewrap": try SamplePlans.rewrap()
            default: try SamplePlans.converged()
            }
        try check(PlanTextRenderer().render(plan) + "\n", "\(name).txt")
        try check(PlanMarkdownRenderer().render(plan), "\(name).md")
        try check(try PlanJSONRenderer().render(plan) + "\n", "\(name).json")
    }

    @Test("the mixed sample covers every action kind, a block and drift")
    func coverage() throws {
        let plan = try SamplePlans.mixed()
        #expect(Set(plan.actions.map(\.action)) == Set(ActionKind.allCases))
        #expect(plan.summary.blocked == 1 && plan.summary.drift == 2)
    }

    @Test("all formats state the same facts: every address and reason of the JSON appears in text and markdown")
    func sameFacts() throws {
        let plan = try SamplePlans.mixed()
        let text = PlanTextRenderer().render(plan)
        let markdown = PlanMarkdownRenderer().render(plan)
        for action in plan.actions {
            #expect(text.contains(action.address) && markdown.contains(action.address))
            #expect(text.contains(action.reasonText))
            // Markdown states a permission change once, as what the bot gains or loses, not as the reason.
            for reason in action.reasons {
                if reason.code == .permissionsChanged {
                    for change in reason.changes ?? [] { #expect(markdown.contains("`\(change.entity): ")) }
                } else {
                    #expect(markdown.contains(reason.message))
                }
            }
        }
        // A drift item an action answers is said in that action's row (markdown states each change once).
        let acted = Set(plan.actions.map(\.address))
        for item in plan.drift {
            #expect(text.contains(item.message))
            #expect(markdown.contains(acted.contains(item.address) ? "`\(item.address)`" : item.message))
        }
        #expect(
            text.contains(plan.summary.sentence)
                && markdown.contains(String(plan.summary.sentence.dropFirst(6).dropLast())))
    }

    @Test("the JSON document reads back equal")
    func roundTrip() throws {
        let plan = try SamplePlans.mixed()
        #expect(try PlanDocument.read(try plan.jsonData()) == plan)
        #expect(throws: PlanDocument.ReadError.self) {
            try PlanDocument.read(Data("{\"format_version\": \"2.0\"}".utf8))
        }
        #expect(throws: PlanDocument.ReadError.self) { try PlanDocument.read(Data("version: 1".utf8)) }
    }

    @Test("a plan of 10,000 actions still fits in one pull-request comment, summary first", .timeLimit(.minutes(1)))
    func largeMarkdown() throws {
        let bots = (0..<10_000).map {
            DesiredBot(name: String(format: "bot-%05d", $0), provider: "prod", effectivePermissions: SamplePlans.read)
        }
        let plan = try SamplePlans.plan(bots: bots, observed: [], owned: [])
        let markdown = PlanMarkdownRenderer().render(plan)
        #expect(markdown.utf16.count < 65_000)
        #expect(markdown.hasPrefix("<!-- botform:plan config=botform.yaml -->\n### Botform plan for `botform.yaml`"))
        #expect(markdown.contains("**10000 to register, 0 to replace, 0 to reset, 0 to revoke.**"))
        #expect(markdown.contains("rows not listed** (") && markdown.contains(" to register), to keep this comment"))
    }

    @Test("styles mark symbols, so colour can be added without changing the text")
    func styled() throws {
        let style = TextStyle(
            create: { "<g>\($0)</g>" }, destroy: { "<r>\($0)</r>" }, change: { "<y>\($0)</y>" }, warning: { $0 },
            emphasis: { $0 }, muted: { $0 })
        let text = PlanTextRenderer(style: style).render(try SamplePlans.mixed())
        #expect(text.contains("<g>+</g> bot \"prod/new-bot\""))
        #expect(text.contains("<r>-</r> bot \"prod/old-bot\""))
        #expect(text.contains("<y>~</y> bot \"prod/rotator\""))
    }
}

@Suite("docs/plan.schema.json")
struct PlanSchemaTests {
    @Test("every golden JSON plan validates against the documented schema (Python jsonschema)")
    func goldenPlansValidate() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import jsonschema"]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            try #require(ProcessInfo.processInfo.environment["CI"] == nil, "CI must have python3 with jsonschema")
            print("skipped: python3 with jsonschema is not available")
            return
        }
        let root = RenderTests.golden.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let script = """
            import glob, json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft7Validator.check_schema(schema)
            validator = jsonschema.Draft7Validator(schema)
            failures = []
            for path in sorted(glob.glob(sys.argv[2] + "/*.json")):
                for error in validator.iter_errors(json.load(open(path))):
                    failures.append(f"{path}: {error.message}")
            print("\\n".join(failures))
            sys.exit(1 if failures else 0)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", script, root.appendingPathComponent("docs/plan.schema.json").path, RenderTests.golden.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
    }
}
