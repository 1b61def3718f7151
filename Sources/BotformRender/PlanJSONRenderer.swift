import BotformCore
import Foundation

/// The plan as versioned JSON (docs/plan-format.md): the same document `plan --out` saves.
public struct PlanJSONRenderer: Sendable {
    public init() {}

    public func render(_ plan: PlanDocument) throws -> String {
        String(decoding: try plan.jsonData(), as: UTF8.self)
    }
}
