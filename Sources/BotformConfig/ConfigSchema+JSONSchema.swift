import BotformCore

extension SchemaObject {
    /// The configuration language as a JSON Schema (draft-07, which yaml-language-server reads), with
    /// `additionalProperties: false` everywhere so editors flag misspelled keys as Botform does.
    public static func jsonSchema() -> JSONValue {
        var document: [(String, JSONValue)] = [
            ("$schema", .string("http://json-schema.org/draft-07/schema#")),
            ("$id", .string("https://botform.dev/schema/config-v1.json")),
        ]
        if case .object(let members) = root.jsonSchema() { document += members }
        return .object(document)
    }

    func jsonSchema() -> JSONValue {
        // Null is allowed wherever Botform reads an empty section (`bots:` with nothing under it).
        var members: [(String, JSONValue)] = [
            ("title", .string(title)),
            ("type", .array([.string("object"), .string("null")])),
            ("additionalProperties", .bool(false)),
            ("properties", .object(fields.map { ($0.key, $0.jsonSchema()) })),
        ]
        // `version` is not required here: in a directory of files, one file states it for all.
        let required = fields.filter { $0.requiredFor == Set(ProviderKind.allCases) }.map(\.key)
        if !required.isEmpty { members.append(("required", .array(required.map(JSONValue.string)))) }
        if field("type") != nil, fields.contains(where: { $0.kinds != nil }) {
            members.append(("allOf", .array(ProviderKind.allCases.map(conditional(for:)))))
        }
        return .object(members)
    }

    /// `if type == kind then: keys of other kinds are forbidden, kind-specific keys required`.
    private func conditional(for kind: ProviderKind) -> JSONValue {
        let forbidden = fields.filter { !$0.applies(to: kind) }.map { ($0.key, JSONValue.bool(false)) }
        let required = fields.filter { $0.requiredFor.contains(kind) && $0.requiredFor != Set(ProviderKind.allCases) }
        var then: [(String, JSONValue)] = [("properties", .object(forbidden))]
        if !required.isEmpty { then.append(("required", .array(required.map { .string($0.key) }))) }
        return .object([
            ("if", .object([("properties", .object([("type", .object([("const", .string(kind.rawValue))]))]))])),
            ("then", .object(then)),
        ])
    }
}

extension SchemaField {
    func jsonSchema() -> JSONValue {
        var members: [(String, JSONValue)] = [("description", .string(description))]
        if case .object(let typeMembers) = type.jsonSchema() {
            members.insert(contentsOf: typeMembers, at: 0)
        }
        return .object(members)
    }
}

extension SchemaType {
    func jsonSchema() -> JSONValue {
        func pattern(_ pattern: String) -> JSONValue {
            .object([("type", .string("string")), ("pattern", .string(pattern))])
        }
        switch self {
        case .string(let regex):
            return regex.map(pattern) ?? .object([("type", .string("string"))])
        case .enumeration(let values):
            return .object([("type", .string("string")), ("enum", .array(values.map(JSONValue.string)))])
        case .integer(let minimum):
            return .object([("type", .string("integer")), ("minimum", .integer(Int64(minimum)))])
        case .versionConstant(let value):
            return .object([("const", .integer(Int64(value)))])
        case .boolean:
            return .object([("type", .string("boolean"))])
        case .duration:
            return pattern(SchemaPattern.duration)
        case .environmentVariable:
            return pattern(SchemaPattern.environmentVariable)
        case .botName:
            return pattern(SchemaPattern.botName)
        case .providerName:
            return pattern(SchemaPattern.providerName)
        case .tokenLabel:
            return pattern(SchemaPattern.tokenLabel)
        case .foksRole:
            return pattern(SchemaPattern.foksRole)
        case .recipient:
            return pattern(SchemaPattern.recipient)
        case .permissions:
            // Duplicates are a warning in Botform, so the schema allows them.
            let actions = JSONValue.object([
                ("type", .array([.string("array"), .string("null")])),
                (
                    "items",
                    .object([
                        ("type", .string("string")), ("enum", .array(Action.allCases.map { .string($0.rawValue) })),
                    ])
                ),
            ])
            return .object([
                ("type", .array([.string("object"), .string("null")])),
                ("propertyNames", pattern(SchemaPattern.entity)),
                ("additionalProperties", actions),
            ])
        case .object(let object):
            return object.jsonSchema()
        case .map(let key, let value):
            var keySchema = key.jsonSchema()
            if case .object(let members) = keySchema {
                keySchema = .object(members.filter { $0.0 != "type" })
            }
            return .object([
                ("type", .array([.string("object"), .string("null")])),
                ("propertyNames", keySchema),
                ("additionalProperties", value.jsonSchema()),
            ])
        case .list(let item):
            return .object([("type", .array([.string("array"), .string("null")])), ("items", item.jsonSchema())])
        }
    }
}
