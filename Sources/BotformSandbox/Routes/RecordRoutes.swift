import BotformCore
import Foundation
import Hummingbird

/// The entity records API (`/api/entities/:entity/records`), enough to prove a bot's permissions:
/// GET needs read, POST create, PUT/PATCH update, DELETE delete; anything beyond them is 403.
extension SandboxService {
    func addRecordRoutes(to router: some RouterMethods<SandboxRequestContext>) {
        let records = router.group("/api/entities/:entity/records")
        records.get { request, context in try await self.listRecords(request, context) }
        records.post { request, context in try await self.createRecord(request, context) }
        records.get(":id") { request, context in try await self.getRecord(request, context) }
        records.put(":id") { request, context in try await self.updateRecord(request, context) }
        records.patch(":id") { request, context in try await self.updateRecord(request, context) }
        records.delete(":id") { request, context in try await self.deleteRecord(request, context) }
    }

    /// Field names the platform reserves; writing one is a 400.
    static let reservedFields: Set<String> = [
        "id", "entityId", "name", "createdAt", "updatedAt", "createdBy", "updatedBy",
    ]

    private static func isValidEntity(_ entity: String) -> Bool {
        let bytes = Array(entity.utf8)
        return (1...100).contains(bytes.count)
            && bytes.allSatisfy {
                (97...122).contains($0) || (65...90).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95
            }
    }

    /// The caller, its tenant and the entity, after checking it may perform `action` on the entity.
    private func access(_ action: Action, _ request: Request, _ context: SandboxRequestContext) async throws -> (
        Caller, Tenant, String
    ) {
        let caller = try await authenticate(request, context)
        let entity = context.parameters.get("entity") ?? ""
        guard Self.isValidEntity(entity) else { throw APIError.notFound("entity \"\(entity)\" not found") }
        let (tenant, allowed, who) = try await store.read { state -> (Tenant, Bool, String) in
            guard let tenant = try self.tenantContext(request, caller: caller, state: state) else {
                throw APIError.forbidden("invalid tenant context: send X-Tenant-ID with the tenant's slug")
            }
            switch caller {
            case .bot(let claims):
                let bot = state.bots[claims.subject]
                return (
                    tenant, bot?.permissions.actions(for: entity).contains(action) ?? false,
                    "bot \"\(bot?.name ?? "")\""
                )
            case .user(let user):
                return (tenant, user.permissions.actions(for: entity).contains(action), "user \"\(user.email)\"")
            case .admin, .apiKey:
                return (tenant, true, caller.kind)
            }
        }
        context.trace.record(tenant: tenant.slug)
        guard allowed else { throw APIError.forbidden("\(who) may not \(action.rawValue) \(entity)") }
        return (caller, tenant, entity)
    }

    private struct RecordWire: Encodable {
        var record: EntityRecord

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ string: String) { stringValue = string }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (field, value) in record.fields { try container.encode(value, forKey: Key(field)) }
            try container.encode(record.id, forKey: Key("id"))
            try container.encode(record.entityID, forKey: Key("entityId"))
            try container.encode(Timestamp.string(record.createdAt), forKey: Key("createdAt"))
            try container.encode(Timestamp.string(record.updatedAt), forKey: Key("updatedAt"))
            try container.encode(record.createdBy, forKey: Key("createdBy"))
        }
    }

    private struct PageWire: Encodable {
        var items: [RecordWire]
        var total: Int
        var page: Int
        var limit: Int
        var totalPages: Int
    }

    func listRecords(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let (_, tenant, entity) = try await access(.read, request, context)
        let query = request.uri.queryParameters
        guard let page = Int(query.get("page") ?? "1"), page >= 1 else {
            throw APIError.validation("page must be a whole number from 1")
        }
        guard let requested = Int(query.get("limit") ?? "20"), requested >= 1 else {
            throw APIError.validation("limit must be a whole number from 1")
        }
        let limit = min(requested, 100)
        let descending = query.get("order")?.lowercased() == "desc"
        var all = await store.read { $0.records(tenantID: tenant.id, entity: entity) }
        if descending { all.reverse() }
        let start = min((page - 1) * limit, all.count)
        let items = all[start..<min(start + limit, all.count)].map(RecordWire.init)
        let totalPages = all.isEmpty ? 0 : (all.count + limit - 1) / limit
        return try JSONIO.envelope(
            PageWire(items: items, total: all.count, page: page, limit: limit, totalPages: totalPages))
    }

    private func fields(_ request: Request, _ context: SandboxRequestContext) async throws -> [String: JSONAny] {
        let fields = try await JSONIO.decode([String: JSONAny].self, from: request, context: context)
        if let reserved = fields.keys.sorted().first(where: Self.reservedFields.contains) {
            throw APIError.validation("\"\(reserved)\" is a reserved field name")
        }
        return fields
    }

    private func creatorID(_ caller: Caller) -> String {
        switch caller {
        case .admin(let admin): admin.id
        case .user(let user): user.id
        case .bot(let claims): claims.subject
        case .apiKey(let key): key.id
        }
    }

    func createRecord(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let (caller, tenant, entity) = try await access(.create, request, context)
        let values = try await fields(request, context)
        let now = clock.now
        let creator = creatorID(caller)
        let record = try await store.write { state in
            let record = EntityRecord(
                id: Self.newID(), tenantID: tenant.id, entity: entity,
                entityID: state.entityID(tenantID: tenant.id, entity: entity),
                fields: values, createdAt: now, updatedAt: now, createdBy: creator)
            state.put(record)
            return record
        }
        return try JSONIO.envelope(RecordWire(record: record), status: .created)
    }

    private func existing(_ context: SandboxRequestContext, tenant: Tenant, entity: String) async throws -> EntityRecord
    {
        let id = context.parameters.get("id") ?? ""
        guard let record = await store.read({ $0.records[id.lowercased()] }), record.tenantID == tenant.id,
            record.entity == entity
        else {
            throw APIError.notFound("record \"\(id)\" not found in \(entity)")
        }
        return record
    }

    func getRecord(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let (_, tenant, entity) = try await access(.read, request, context)
        return try JSONIO.envelope(RecordWire(record: try await existing(context, tenant: tenant, entity: entity)))
    }

    func updateRecord(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let (_, tenant, entity) = try await access(.update, request, context)
        let record = try await existing(context, tenant: tenant, entity: entity)
        let values = try await fields(request, context)
        let now = clock.now
        let updated = try await store.write { state -> EntityRecord in
            guard var current = state.records[record.id] else {
                throw APIError.notFound("record \"\(record.id)\" not found")
            }
            current.fields.merge(values) { $1 }
            current.updatedAt = now
            state.put(current)
            return current
        }
        return try JSONIO.envelope(RecordWire(record: updated))
    }

    private struct DeletedWire: Encodable {
        var id: String
        var deleted: Bool
    }

    func deleteRecord(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let (_, tenant, entity) = try await access(.delete, request, context)
        let record = try await existing(context, tenant: tenant, entity: entity)
        try await store.write { state in state.deleteRecord(record.id) }
        return try JSONIO.envelope(DeletedWire(id: record.id, deleted: true))
    }
}
