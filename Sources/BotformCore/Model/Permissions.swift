/// One of the four entity actions Fyso accepts; anything else is refused with 400 by the service.
public enum Action: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case create
    case read
    case update
    case delete

    /// CRUD order, the order the documentation and the plan print actions in.
    public static func < (lhs: Action, rhs: Action) -> Bool { lhs.bit < rhs.bit }

    var bit: UInt8 {
        switch self {
        case .create: 1
        case .read: 2
        case .update: 4
        case .delete: 8
        }
    }
}

/// A set of actions in one byte: permissions of 10,000 bots over hundreds of entities stay small and
/// their unions cheap.
public struct ActionSet: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue & 0x0F
    }

    public init(_ actions: some Sequence<Action>) {
        self.init(rawValue: actions.reduce(0) { $0 | $1.bit })
    }

    public static let all = ActionSet(Action.allCases)

    public func contains(_ action: Action) -> Bool { rawValue & action.bit != 0 }

    /// The actions in CRUD order.
    public var sorted: [Action] { Action.allCases.filter(contains) }
}

/// Entity permissions: entity name to the set of allowed actions. Values compare by content, so two
/// spellings of the same grant (order, duplicates) are equal and never cause a replace.
///
/// Encoded as `{"entity": ["create", "read"]}` with actions in CRUD order; unknown actions are dropped
/// when decoding.
public struct Permissions: Sendable, Hashable, Codable {
    public private(set) var entities: [String: ActionSet]

    public init(_ entities: [String: ActionSet] = [:]) {
        self.entities = entities.filter { !$0.value.isEmpty }
    }

    public init(_ entities: [String: [Action]]) {
        self.init(entities.mapValues { ActionSet($0) })
    }

    public var isEmpty: Bool { entities.isEmpty }

    /// Entity names in a stable order.
    public var entityNames: [String] { entities.keys.sorted() }

    public func actions(for entity: String) -> ActionSet { entities[entity] ?? [] }

    public mutating func grant(_ actions: ActionSet, on entity: String) {
        guard !actions.isEmpty else { return }
        entities[entity, default: []].formUnion(actions)
    }

    /// Both grants together. The smaller map is merged into the larger, whose storage is shared.
    public func union(_ other: Permissions) -> Permissions {
        var (result, smaller) = entities.count >= other.entities.count ? (self, other) : (other, self)
        for (entity, actions) in smaller.entities { result.grant(actions, on: entity) }
        return result
    }

    /// True when every grant here is also granted by `other`.
    public func isSubset(of other: Permissions) -> Bool {
        entities.allSatisfy { entity, actions in actions.isSubset(of: other.actions(for: entity)) }
    }

    /// Per-entity additions and removals from `old` to `self`, in entity order.
    public func changes(from old: Permissions) -> [PermissionChange] {
        Set(entities.keys).union(old.entities.keys).sorted().compactMap { entity in
            let now = actions(for: entity)
            let before = old.actions(for: entity)
            let added = now.subtracting(before).sorted
            let removed = before.subtracting(now).sorted
            guard !added.isEmpty || !removed.isEmpty else { return nil }
            return PermissionChange(entity: entity, added: added, removed: removed)
        }
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode([String: [String]].self)
        self.init(raw.mapValues { ActionSet($0.compactMap(Action.init(rawValue:))) })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(actionNames)
    }

    /// The `{entity: [actions]}` map in CRUD order.
    public var actionNames: [String: [String]] {
        entities.mapValues { $0.sorted.map(\.rawValue) }
    }

    /// A canonical text form, `entity:action,action;...` sorted, used for hashing and display.
    public var canonical: String {
        entityNames.map { entity in
            "\(entity):" + actions(for: entity).sorted.map(\.rawValue).joined(separator: ",")
        }.joined(separator: ";")
    }
}

/// What changed for one entity between two permission sets.
public struct PermissionChange: Sendable, Hashable, Codable {
    public var entity: String
    public var added: [Action]
    public var removed: [Action]

    public init(entity: String, added: [Action], removed: [Action]) {
        self.entity = entity
        self.added = added
        self.removed = removed
    }

    /// `products +update -delete`, the form plan reasons use.
    public var summary: String {
        ([entity] + added.map { "+\($0.rawValue)" } + removed.map { "-\($0.rawValue)" }).joined(separator: " ")
    }
}
