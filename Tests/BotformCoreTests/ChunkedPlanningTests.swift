import Foundation
import Testing

@testable import BotformCore

/// A large provider's declared bots are planned in parallel chunks; the plan must be exactly the one a
/// single pass makes (same actions in the same order, same drift, same input digests).
@Suite("Planner: chunked planning of large configurations")
struct ChunkedPlanningTests {
    @Test("9,000 bots in every situation: chunked and single-pass plans are identical")
    func identical() throws {
        var world = World()
        for index in 0..<9_000 {
            let name = "bot-\(index)"
            switch index % 9 {
            case 0: world.declare(name)
            case 1:
                world.declare(name)
                world.owned(name)
                world.onService(name)
            case 2:
                world.declare(name, World.readWrite)
                world.owned(name)
                world.onService(name)
            case 3:
                world.declare(name)
                world.owned(name)
            case 4:
                world.declare(name)
                world.onService(name)
            case 5:
                world.declare(name)
                world.owned(name, secretHeld: false)
                world.onService(name)
            case 6:
                world.declare(name, rotateEvery: BotformDuration(1, .hours))
                world.owned(name, issuedDaysAgo: 2)
                world.onService(name)
            case 7: world.onService(name)
            default:
                world.owned(name)
                world.onService(name)
            }
        }
        world.policy.maxDestroy = 10
        var request = world.request()
        let chunked = try Planner.plan(request)
        request.chunked = false
        let single = try Planner.plan(request)
        #expect(chunked.actions.count > 5_000)
        #expect(chunked.actions == single.actions)
        #expect(chunked.drift == single.drift)
        #expect(chunked.inputs == single.inputs)
        #expect(chunked.guards == single.guards)
    }
}
