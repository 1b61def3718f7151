import Foundation
import HTTPTypes
import Hummingbird

/// The Sym API the symflow CLI (8.1.0) uses for bots and their tokens (sym-api.md), under `/api/v1/`.
/// Mutations work on a draft of the state that replaces it only when every entry of the request is
/// valid, so a refused request changes nothing, in memory or on disk.
extension SandboxService {
    func addSymRoutes(to router: some RouterMethods<SandboxRequestContext>) {
        let sym = router.group("/api/v1")
        sym.get("users") { request, context in try await self.symListUsers(request, context) }
        sym.patch("users") { request, context in try await self.symUpsertUsers(request, context) }
        sym.post("users/delete") { request, context in try await self.symDeleteUsers(request, context) }
        sym.post("users/identities/delete") { request, context in
            try await self.symDeleteIdentities(request, context)
        }
        sym.get("services") { request, context in
            _ = try await self.symAuthenticate(request, context)
            return try JSONIO.json(SymWire.Services(services: SymService.registered.map(SymWire.Service.init)))
        }
        sym.post("tokens") { request, context in try await self.symIssueToken(request, context) }
        sym.get("tokens") { request, context in try await self.symListTokens(request, context) }
        sym.post("tokens/delete") { request, context in try await self.symRevokeToken(request, context) }
        // Usage tracking: the CLI ignores the answer; the sandbox records the call and answers `{}`.
        sym.post("track/symflow") { _, _ in try JSONIO.json(SymWire.Empty()) }
        sym.get("auth/login") { request, context in try await self.symLogin(request, context) }
    }

    // MARK: Users

    private func symListUsers(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        _ = try await symAuthenticate(request, context)
        let query = request.uri.queryParameters
        let type = query.get("type")
        if let type, type != SymUser.bot, type != SymUser.normal {
            throw APIError.sym(.badRequest, "Invalid user type: \(type). Use bot or normal.")
        }
        let id = query.get("id")?.lowercased()
        let email = query.get("email")
        let users = await store.read { state -> [SymUser] in
            if let id {
                // A deleted user is still found by id, so tokens it issued can name their creator.
                return state.symUsers[id].map { [$0] } ?? []
            }
            if let email { return state.symHuman(email: email).map { [$0] } ?? [] }
            return state.symUsersInOrder.filter { !$0.isDeleted }
        }
        let shown = users.filter { user in type.map { user.type == $0 } ?? true }
        return try JSONIO.json(SymWire.Users(users: shown.map(SymWire.User.init)))
    }

    private func symUpsertUsers(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        _ = try await symAuthenticate(request, context)
        let body = try await JSONIO.decode(SymWire.PatchUsers.self, from: request, context: context)
        let now = wholeSeconds(clock.now)
        let count = try await store.write { state -> Int in
            var draft = state
            for entry in body.users { try Self.upsert(entry, into: &draft, now: now) }
            state = draft
            return body.users.count
        }
        return try JSONIO.json(SymWire.Outcome(succeeded: count, failed: 0, errors: []))
    }

    /// Finds the user by id, else by its sym identity; updates its identities (by service type and
    /// external id) or creates it with the client's id. An existing user's type never changes: the CLI
    /// sends `"type": "normal"` for a bot when it updates one of its identities.
    private static func upsert(_ entry: SymWire.PatchUser, into state: inout SandboxState, now: Date) throws {
        let identities = try (entry.identities ?? []).map(validated)
        let symIdentity = identities.first { $0.serviceType == SymService.symSlug }
        var user: SymUser?
        if let rawID = entry.id, let existing = state.symUsers[rawID.lowercased()] {
            guard !existing.isDeleted else { throw APIError.sym(.conflict, "User \(existing.id) was deleted.") }
            user = existing
        } else if let symIdentity {
            user = Self.user(matching: symIdentity.matcher, in: state)
        }
        if var user {
            for identity in identities {
                if identity.serviceType == SymService.symSlug, let name = Self.name(in: identity.matcher),
                    let holder = Self.user(matching: identity.matcher, in: state), holder.id != user.id
                {
                    throw APIError.sym(.conflict, "A user named \(name) already exists.")
                }
                if let index = user.identities.firstIndex(where: {
                    $0.serviceType == identity.serviceType && $0.externalID == identity.externalID
                }) {
                    user.identities[index] = identity
                } else {
                    user.identities.append(identity)
                }
            }
            state.put(user)
            return
        }
        guard let symIdentity, let name = Self.name(in: symIdentity.matcher) else {
            throw APIError.sym(
                .badRequest,
                "A new user needs a sym identity (service_type sym, external_id cloud) with a username or an email.")
        }
        let type = entry.type ?? SymUser.normal
        guard type == SymUser.bot || type == SymUser.normal else {
            throw APIError.sym(.badRequest, "Invalid user type: \(type). Use bot or normal.")
        }
        let key = type == SymUser.bot ? "username" : "email"
        guard case .string? = symIdentity.matcher[key] else {
            throw APIError.sym(.badRequest, "The sym identity of a \(type) user needs a \(key).")
        }
        guard (1...255).contains(name.count), !name.allSatisfy(\.isWhitespace) else {
            throw APIError.sym(.badRequest, "A username must be 1 to 255 characters and not blank.")
        }
        var id = SandboxService.newID()
        if let rawID = entry.id {
            guard let uuid = UUID(uuidString: rawID) else {
                throw APIError.sym(.badRequest, "Invalid user id: \(rawID). Use a UUID.")
            }
            id = uuid.uuidString.lowercased()
        }
        state.put(
            SymUser(
                id: id, type: type, role: "member", identities: identities,
                createdAt: now))
    }

    /// An identity of a registered service, with a matcher.
    private static func validated(_ identity: SymWire.IdentityIn) throws -> SymIdentity {
        guard SymService.isRegistered(slug: identity.serviceType, externalID: identity.externalID) else {
            throw APIError.sym(
                .badRequest, "Unknown service: \(identity.serviceType):\(identity.externalID).")
        }
        guard !identity.matcher.isEmpty else {
            throw APIError.sym(.badRequest, "The identity for \(identity.serviceType) needs a matcher.")
        }
        return SymIdentity(
            serviceType: identity.serviceType, externalID: identity.externalID, matcher: identity.matcher,
            profile: identity.profile ?? [:])
    }

    /// The bot named by `username`, or the human named by `email`, in a sym matcher.
    private static func user(matching matcher: [String: JSONAny], in state: SandboxState) -> SymUser? {
        if case .string(let username)? = matcher["username"] { return state.symBot(username: username) }
        if case .string(let email)? = matcher["email"] { return state.symHuman(email: email) }
        return nil
    }

    private static func name(in matcher: [String: JSONAny]) -> String? {
        if case .string(let name)? = matcher["username"] ?? matcher["email"] { return name }
        return nil
    }

    private func symDeleteUsers(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        _ = try await symAuthenticate(request, context)
        let body = try await JSONIO.decode(SymWire.DeleteUsers.self, from: request, context: context)
        let now = clock.now
        let adminUserID = sym.adminUserID
        let count = try await store.write { state -> Int in
            var draft = state
            for entry in body.users {
                var user = try Self.userToDelete(entry, in: draft)
                guard user.id != adminUserID else {
                    throw APIError.sym(.badRequest, "The org admin cannot be deleted.")
                }
                user.deletedAt = now
                draft.put(user)
                // Deleting a bot revokes all its tokens.
                for var token in draft.symTokensInOrder where token.userID == user.id && token.revokedAt == nil {
                    token.revokedAt = now
                    draft.put(token)
                }
            }
            state = draft
            return body.users.count
        }
        return try JSONIO.json(SymWire.Outcome(succeeded: count, failed: 0, errors: []))
    }

    /// The user a `users/delete` entry names: by id, or by its sym identity.
    private static func userToDelete(_ entry: SymWire.DeleteUser, in state: SandboxState) throws -> SymUser {
        if let id = entry.id {
            guard let user = state.symUsers[id.lowercased()], !user.isDeleted else {
                throw APIError.sym(.notFound, "User \(id) not found.")
            }
            return user
        }
        guard let identity = entry.identity, identity.serviceType == SymService.symSlug,
            let name = name(in: identity.matcher)
        else {
            throw APIError.sym(.badRequest, "Name each user by its id or by its sym identity.")
        }
        guard let user = user(matching: identity.matcher, in: state) else {
            throw APIError.sym(
                .notFound, identity.matcher["username"] != nil ? "Unknown bot: \(name)." : "Unknown user: \(name).")
        }
        return user
    }

    private func symDeleteIdentities(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        _ = try await symAuthenticate(request, context)
        let body = try await JSONIO.decode(SymWire.DeleteIdentities.self, from: request, context: context)
        let outcome = try await store.write { state -> SymWire.Outcome in
            var draft = state
            var outcome = SymWire.Outcome(succeeded: 0, failed: 0, errors: [])
            for entry in body.identities {
                guard var user = draft.symUsers[entry.userID.lowercased()], !user.isDeleted else {
                    throw APIError.sym(.notFound, "User \(entry.userID) not found.")
                }
                guard entry.serviceType != SymService.symSlug else {
                    throw APIError.sym(.badRequest, "The sym identity cannot be deleted; delete the user instead.")
                }
                let before = user.identities.count
                user.identities.removeAll {
                    $0.serviceType == entry.serviceType && $0.externalID == entry.externalID
                }
                if user.identities.count < before {
                    draft.put(user)
                    outcome.succeeded += 1
                } else {
                    outcome.failed += 1
                    outcome.errors.append(
                        "User \(user.id) has no identity for \(entry.serviceType):\(entry.externalID).")
                }
            }
            state = draft
            return outcome
        }
        return try JSONIO.json(outcome)
    }

    // MARK: Tokens

    private func symIssueToken(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let caller = try await symAuthenticate(request, context)
        let body = try await JSONIO.decode(SymWire.IssueToken.self, from: request, context: context)
        guard case .integer(let expiry) = body.expiry, (1...Int64(SymAPI.maxExpirySeconds)).contains(expiry) else {
            throw APIError.sym(
                .badRequest,
                "Invalid expiry: \(Self.shown(body.expiry)). Use a whole number of seconds from 1 to "
                    + "\(SymAPI.maxExpirySeconds) (5 years).")
        }
        if let label = body.label, label.count > 255 {
            throw APIError.sym(.badRequest, "A label must be at most 255 characters.")
        }
        let now = wholeSeconds(clock.now)
        guard let bot = await store.read({ $0.symBot(username: body.username) }) else {
            throw APIError.sym(.notFound, "Unknown bot: \(body.username).")
        }
        let token = SymToken(
            identifier: Self.newID(), userID: bot.id, createdByID: caller.userID, label: body.label, createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(expiry)), lastUsedAt: now, revokedAt: nil)
        let jwt = try await tokens.sign(SymTokenClaims(token: token, org: sym.slug, username: body.username))
        try await store.write { state in
            // The bot may have been deleted while the token was signed.
            guard state.symUsers[bot.id]?.isDeleted == false else {
                throw APIError.sym(.notFound, "Unknown bot: \(body.username).")
            }
            state.put(token)
        }
        noteIssued(jwt)
        return try JSONIO.json(SymWire.AccessToken(accessToken: jwt))
    }

    private static func shown(_ value: JSONAny) -> String {
        switch value {
        case .integer(let number): String(number)
        case .double(let number): String(number)
        case .string(let text): "\"\(text.prefix(40))\""
        case .bool(let flag): String(flag)
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }

    private func symListTokens(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        _ = try await symAuthenticate(request, context)
        let now = clock.now
        let tokens = await store.read { state in
            state.symTokensInOrder.filter { $0.isLive(at: now) }.map { token in
                SymWire.Token(
                    identifier: token.identifier,
                    user: SymWire.UserRef(id: token.userID, type: state.symUsers[token.userID]?.type ?? SymUser.bot),
                    createdBy: SymWire.UserRef(
                        id: token.createdByID, type: state.symUsers[token.createdByID]?.type ?? SymUser.normal),
                    label: token.label, createdAt: Timestamp.string(token.createdAt),
                    expiresAt: Timestamp.string(token.expiresAt), updatedAt: Timestamp.string(token.lastUsedAt))
            }
        }
        return try JSONIO.json(SymWire.Tokens(tokens: tokens))
    }

    private func symRevokeToken(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        _ = try await symAuthenticate(request, context)
        let body = try await JSONIO.decode(SymWire.RevokeToken.self, from: request, context: context)
        let now = clock.now
        try await store.write { state in
            // An expired token can still be revoked; a revoked or unknown one is not found.
            guard var token = state.symTokens[body.identifier.lowercased()], token.revokedAt == nil else {
                throw APIError.sym(.notFound, "Token \(body.identifier) not found.")
            }
            token.revokedAt = now
            state.put(token)
        }
        return try JSONIO.json(SymWire.Outcome(succeeded: 1, failed: 0, errors: []))
    }

    // MARK: Status

    private func symLogin(_ request: Request, _ context: SandboxRequestContext) async throws -> Response {
        let caller = try await symAuthenticate(request, context)
        let userID = caller.userID
        let user = await store.read { $0.symUsers[userID] }
        let role: String =
            switch caller {
            case .admin: "admin"
            case .bot(let bot): bot.role
            }
        return try JSONIO.json(
            SymWire.Login(organization: sym.slug, username: user?.symIdentifier ?? "", role: role))
    }

    private func wholeSeconds(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
}
