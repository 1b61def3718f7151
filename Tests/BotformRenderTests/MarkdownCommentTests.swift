import BotformCore
import BotformRender
import Foundation
import Testing

/// The plan as a pull-request comment (`plan --format markdown`): what a reviewer sees first, each change
/// once, drift in words, and a body GitHub accepts whatever the plan's size.
@Suite("Markdown comment")
struct MarkdownCommentTests {
    static let writer = Permissions(["products": [.read, .update], "inventory": [.create, .read, .update, .delete]])

    /// A plan where one bot gains permissions, one loses some, one is reset, one registered, one revoked,
    /// and two bots changed outside Botform (one of them answered by an action).
    static func reviewPlan() throws -> PlanDocument {
        let narrow = Permissions(["products": [.read, .update]])
        return try SamplePlans.plan(
            bots: [
                DesiredBot(name: "inventory-agent", provider: "prod", effectivePermissions: writer),
                DesiredBot(name: "narrowed", provider: "prod", effectivePermissions: SamplePlans.read),
                DesiredBot(
                    name: "rotator", provider: "prod", effectivePermissions: SamplePlans.read,
                    rotateEvery: BotformDuration(90, .days)),
                DesiredBot(name: "new-bot", provider: "prod", effectivePermissions: SamplePlans.read),
                DesiredBot(name: "comeback", provider: "prod", effectivePermissions: SamplePlans.read),
            ],
            observed: [
                SamplePlans.observed("inventory-agent"), SamplePlans.observed("narrowed", narrow),
                SamplePlans.observed("rotator"), SamplePlans.observed("old-bot"), SamplePlans.observed("legacy-bot"),
                SamplePlans.observed("comeback", active: false),
            ],
            owned: [
                SamplePlans.owned("inventory-agent"), owned("narrowed", narrow),
                SamplePlans.owned("rotator", daysAgo: 97), SamplePlans.owned("old-bot"), SamplePlans.owned("comeback"),
            ])
    }

    static func owned(_ name: String, _ permissions: Permissions) -> OwnedBot {
        var bot = SamplePlans.owned(name)
        bot.permissionsSHA256 = permissions.sha256
        return bot
    }

    /// The body without its footer (which names the configuration and endpoints, not changes).
    static func body(_ markdown: String) -> String {
        String(markdown[..<(markdown.range(of: "\n---\n<sub>")?.lowerBound ?? markdown.endIndex)])
    }

    @Test("golden: the review plan and a plan cut to a small budget")
    func golden() throws {
        try RenderTests().check(PlanMarkdownRenderer().render(try Self.reviewPlan()), "markdown-review.md")
        let bots = (0..<40).map {
            DesiredBot(name: String(format: "bot-%03d", $0), provider: "prod", effectivePermissions: SamplePlans.read)
        }
        let many = try SamplePlans.plan(
            bots: bots, observed: [SamplePlans.observed("stray")], owned: [SamplePlans.owned("stray")])
        try RenderTests().check(PlanMarkdownRenderer(limit: 5_000).render(many), "markdown-budget.md")
    }

    @Test("the first line is a hidden marker naming the configuration, normalised")
    func marker() throws {
        var plan = try Self.reviewPlan()
        #expect(PlanMarkdownRenderer().render(plan).hasPrefix("<!-- botform:plan config=botform.yaml -->\n"))
        for (given, expected) in [
            ("./deploy/prod/botform.yaml", "deploy/prod/botform.yaml"), ("deploy/prod/", "deploy/prod"),
            (".", "."), ("a-->b", "a-b"),
        ] {
            plan.configuration.path = given
            let first = PlanMarkdownRenderer().render(plan).split(separator: "\n").first.map(String.init)
            #expect(first == "<!-- botform:plan config=\(expected) -->")
            #expect(first == PlanMarkdownRenderer.marker(configuration: given))
        }
    }

    @Test("permission widening comes first, then destruction, then new secrets to deliver")
    func order() throws {
        let markdown = PlanMarkdownRenderer().render(try Self.reviewPlan())
        let widened = try #require(markdown.range(of: "Permissions widen for 1 bot"))
        let destroyed = try #require(markdown.range(of: "revoked or replaced"))
        let secrets = try #require(markdown.range(of: "gets a new secret to deliver"))
        #expect(widened.lowerBound < destroyed.lowerBound && destroyed.lowerBound < secrets.lowerBound)
        #expect(
            markdown.contains(
                "| `prod/inventory-agent` | gains `inventory: create, read, update, delete`, `products: update`; replaced"
            ))
        #expect(markdown.contains("loses `products: update`"))
        #expect(markdown.contains("| `prod/rotator` | secret reset: a new secret to deliver"))
        let cautions = markdown.components(separatedBy: "> [!CAUTION]").count - 1
        #expect(cautions == 1)
    }

    @Test("each change is stated once: every address appears once in the body")
    func statedOnce() throws {
        let plan = try Self.reviewPlan()
        let body = Self.body(PlanMarkdownRenderer().render(plan))
        let addresses = Set(plan.actions.map(\.address) + plan.drift.map(\.address))
        #expect(addresses.count >= 7)
        for address in addresses {
            #expect(body.components(separatedBy: "`\(address)`").count - 1 == 1, "\(address)")
        }
        // The permission change is said as "gains", not a second time as a reason.
        #expect(!body.contains("+create"))
    }

    @Test("drift is said in words, never as a code")
    func driftInWords() throws {
        let plan = try Self.reviewPlan()
        let markdown = PlanMarkdownRenderer().render(plan)
        #expect(markdown.contains("| `prod/legacy-bot` | exists on the service but Botform does not manage it"))
        for kind in DriftItem.Kind.allCases { #expect(!markdown.contains("| \(kind.rawValue) |")) }
        for code in ActionReason.Code.allCases where code.rawValue.contains("_") {
            #expect(!markdown.contains(code.rawValue), "\(code.rawValue)")
        }
        #expect(markdown.contains("answered by an action above"))
    }

    @Test("the footer names the configuration and every provider's endpoint")
    func footer() throws {
        let markdown = PlanMarkdownRenderer().render(try Self.reviewPlan())
        let footer = String(markdown[(markdown.range(of: "\n---\n")?.upperBound ?? markdown.endIndex)...])
        #expect(footer.contains("Configuration `botform.yaml`"))
        #expect(footer.contains("`prod`: fyso at https://api.fyso.dev, tenant `acme`, as admin"))
    }

    @Test("cells cannot break the table or render HTML")
    func escaping() throws {
        var plan = try Self.reviewPlan()
        let legacy = try #require(plan.drift.firstIndex { $0.address == "prod/legacy-bot" })
        plan.drift[legacy].message = "a | b <script>alert(1)</script>\nnext"
        let markdown = PlanMarkdownRenderer().render(plan)
        #expect(markdown.contains("a \\| b &lt;script>alert(1)&lt;/script> next"))
        #expect(!markdown.contains("<script>"))
    }

    @Test(
        "10,000 changes: full detail up to the budget, then counts per action and where the whole plan is",
        arguments: [10_000])
    func large(count: Int) throws {
        let bots = (0..<count).map {
            DesiredBot(
                name: String(format: "bot-%05d", $0), provider: "prod",
                effectivePermissions: $0 % 3 == 0 ? Self.writer : SamplePlans.read)
        }
        // A third gain permissions (replace), a third are new (register), a third are reset (rotation due).
        let observed = bots.indices.filter { $0 % 3 != 1 }.map { SamplePlans.observed(bots[$0].name) }
        let owned = bots.indices.filter { $0 % 3 != 1 }.map { SamplePlans.owned(bots[$0].name, daysAgo: 400) }
        var withRotation = bots
        for index in withRotation.indices { withRotation[index].rotateEvery = BotformDuration(90, .days) }
        let plan = try SamplePlans.plan(bots: withRotation, observed: observed, owned: owned)
        #expect(plan.actions.count == count)
        let markdown = PlanMarkdownRenderer().render(plan)
        #expect(markdown.utf16.count < PlanMarkdownRenderer.githubLimit)
        #expect(markdown.utf16.count <= 65_000)
        #expect(markdown.hasPrefix("<!-- botform:plan config=botform.yaml -->\n"))
        // Summary first, with every count.
        #expect(markdown.contains("**\(plan.summary.register) to register, \(plan.summary.replace) to replace"))
        // Rows listed up to the budget, the widened ones first.
        let rows = markdown.components(separatedBy: "\n| `prod/bot-").count - 1
        #expect(rows > 100 && rows < count)
        #expect(markdown.contains("Permissions widen for 3334 bots"))
        // What was left out, counted per action, and where to see it all.
        let note = try #require(markdown.range(of: "rows not listed"))
        let tail = markdown[note.lowerBound...]
        #expect(tail.contains("to register") && tail.contains("to reset"))
        #expect(tail.contains("job log") && tail.contains("artifact"))
        #expect(markdown.hasSuffix("plan format 1.0</sub>\n"))
    }

    @Test("10,000 drift findings also fit, counted by kind in words")
    func largeDrift() throws {
        let observed = (0..<10_000).map { SamplePlans.observed(String(format: "stray-%05d", $0)) }
        let plan = try SamplePlans.plan(bots: [], observed: observed, owned: [])
        let markdown = PlanMarkdownRenderer().render(plan)
        #expect(markdown.utf16.count <= 65_000)
        #expect(markdown.contains("more not listed here:") && markdown.contains("not managed by Botform"))
        #expect(markdown.contains("10000 changes made outside Botform"))
    }
}
