import BotformCore

/// The OpenAPI 3 description of everything the sandbox serves, at `/_sandbox/openapi.json`, so standard
/// tooling (schema fuzzers, client generators) can be pointed at it. A test checks that it names exactly
/// the routes the router serves, and that the statuses the sandbox answers are documented.
enum SandboxOpenAPI {
    struct Operation: Sendable {
        var method: String
        var path: String
        var summary: String
        var security: Bool
        var requestBody: JSONValue?
        var responses: [Int]
        var tags: [String]
    }

    private static let permissions = object([
        "entities": .object([
            ("type", .string("object")),
            (
                "additionalProperties",
                .object([("type", .string("array")), ("items", enumeration(["create", "read", "update", "delete"]))])
            ),
        ])
    ])

    static let operations: [Operation] =
        [
            Operation(
                method: "post", path: "/api/auth/login", summary: "Admin login: email and password to an admin JWT",
                security: false,
                requestBody: object(["email": string, "password": string], required: ["email", "password"]),
                responses: [200, 400, 401], tags: ["auth"]),
            Operation(
                method: "post", path: "/api/auth/tenant/users", summary: "An admin creates a tenant user (X-Tenant-ID)",
                security: true,
                requestBody: object(
                    ["email": string, "password": string, "name": string, "role": string, "permissions": permissions],
                    required: ["email", "password"]),
                responses: [201, 400, 401, 403, 409], tags: ["auth"]),
            Operation(
                method: "post", path: "/api/auth/tenant/login",
                summary: "Tenant user login (X-Tenant-ID) to a user JWT",
                security: false,
                requestBody: object(["email": string, "password": string], required: ["email", "password"]),
                responses: [200, 400, 401, 403], tags: ["auth"]),
            Operation(
                method: "post", path: "/api/auth/bots/register", summary: "Register a bot; the secret is shown once",
                security: true,
                requestBody: object(
                    ["name": string, "tenantSlug": string, "permissions": permissions], required: ["name"]),
                responses: [201, 400, 401, 403, 404, 409, 429], tags: ["bots"]),
            Operation(
                method: "post", path: "/api/auth/bots/identify", summary: "A bot's name and secret to a bot JWT",
                security: true,
                requestBody: object(["name": string, "secret": string], required: ["name", "secret"]),
                responses: [200, 400, 401, 403], tags: ["bots"]),
            Operation(
                method: "get", path: "/api/auth/bots", summary: "List bots: an admin's whole tenant, a user's own",
                security: true,
                requestBody: nil, responses: [200, 401, 403], tags: ["bots"]),
            Operation(
                method: "post", path: "/api/auth/bots/{id}/revoke", summary: "Revoke a bot permanently", security: true,
                requestBody: nil, responses: [200, 401, 403, 404], tags: ["bots"]),
            Operation(
                method: "post", path: "/api/auth/bots/{id}/reset-secret",
                summary: "New secret for an active bot (admin only)", security: true,
                requestBody: nil, responses: [200, 401, 403, 404], tags: ["bots"]),
            Operation(
                method: "get", path: "/api/entities/{entity}/records", summary: "List records (read)", security: true,
                requestBody: nil, responses: [200, 400, 401, 403, 404], tags: ["records"]),
            Operation(
                method: "post", path: "/api/entities/{entity}/records", summary: "Create a record (create)",
                security: true,
                requestBody: .object([("type", .string("object"))]), responses: [201, 400, 401, 403, 404, 413],
                tags: ["records"]),
            Operation(
                method: "get", path: "/api/entities/{entity}/records/{id}", summary: "Get a record (read)",
                security: true,
                requestBody: nil, responses: [200, 401, 403, 404], tags: ["records"]),
            Operation(
                method: "put", path: "/api/entities/{entity}/records/{id}",
                summary: "Update a record partially (update)",
                security: true,
                requestBody: .object([("type", .string("object"))]), responses: [200, 400, 401, 403, 404],
                tags: ["records"]
            ),
            Operation(
                method: "patch", path: "/api/entities/{entity}/records/{id}",
                summary: "Update a record partially (update)",
                security: true,
                requestBody: .object([("type", .string("object"))]), responses: [200, 400, 401, 403, 404],
                tags: ["records"]
            ),
            Operation(
                method: "delete", path: "/api/entities/{entity}/records/{id}", summary: "Delete a record (delete)",
                security: true,
                requestBody: nil, responses: [200, 401, 403, 404], tags: ["records"]),
            Operation(
                method: "get", path: "/_sandbox/health", summary: "Liveness and the sandbox clock", security: false,
                requestBody: nil, responses: [200], tags: ["control"]),
            Operation(
                method: "get", path: "/_sandbox/tenants", summary: "List tenants", security: false, requestBody: nil,
                responses: [200], tags: ["control"]),
            Operation(
                method: "post", path: "/_sandbox/tenants", summary: "Create a tenant", security: false,
                requestBody: object(["slug": string, "name": string, "owner": string], required: ["slug"]),
                responses: [201, 400, 409], tags: ["control"]),
            Operation(
                method: "post", path: "/_sandbox/tenants/{slug}/api-keys",
                summary: "Create a tenant API key (fyso_ak_…); shown once", security: false,
                requestBody: object(["label": string]), responses: [201, 404], tags: ["control"]),
            Operation(
                method: "post", path: "/_sandbox/tenants/{slug}/users", summary: "Create a tenant user",
                security: false,
                requestBody: object(
                    ["email": string, "password": string, "name": string, "role": string, "permissions": permissions],
                    required: ["email", "password"]),
                responses: [201, 400, 404, 409], tags: ["control"]),
            Operation(
                method: "get", path: "/_sandbox/tenants/{slug}/bots",
                summary: "Bots as stored: creator, lockout, revocation", security: false,
                requestBody: nil, responses: [200, 404], tags: ["control"]),
            Operation(
                method: "post", path: "/_sandbox/admins", summary: "Create an admin", security: false,
                requestBody: object(
                    ["email": string, "password": string, "name": string], required: ["email", "password"]),
                responses: [201, 400, 409], tags: ["control"]),
            Operation(
                method: "get", path: "/_sandbox/clock", summary: "The sandbox clock", security: false, requestBody: nil,
                responses: [200], tags: ["control"]),
            Operation(
                method: "post", path: "/_sandbox/clock/advance", summary: "Move the clock forward", security: false,
                requestBody: object(
                    ["seconds": .object([("type", .string("number")), ("minimum", .integer(0))])], required: ["seconds"]
                ),
                responses: [200, 400], tags: ["control"]),
            Operation(
                method: "get", path: "/_sandbox/faults", summary: "Fault settings and counts", security: false,
                requestBody: nil, responses: [200], tags: ["control"]),
            Operation(
                method: "put", path: "/_sandbox/faults", summary: "Set faults", security: false,
                requestBody: object([
                    "errorRate": number, "errorStatus": integer, "latencyMs": integer, "rateLimitBurst": integer,
                    "retryAfterSeconds": integer,
                    "dropRate": number, "pathPrefix": string, "seed": integer,
                ]), responses: [200, 400], tags: ["control"]),
            Operation(
                method: "delete", path: "/_sandbox/faults", summary: "Clear faults", security: false, requestBody: nil,
                responses: [200], tags: ["control"]),
            Operation(
                method: "get", path: "/_sandbox/settings", summary: "Behaviour switches", security: false,
                requestBody: nil,
                responses: [200], tags: ["control"]),
            Operation(
                method: "put", path: "/_sandbox/settings", summary: "Change behaviour switches", security: false,
                requestBody: .object([("type", .string("object"))]), responses: [200, 400], tags: ["control"]),
            Operation(
                method: "get", path: "/_sandbox/requests", summary: "The request log (since=SEQ, limit=N)",
                security: false,
                requestBody: nil, responses: [200], tags: ["control"]),
            Operation(
                method: "delete", path: "/_sandbox/requests", summary: "Clear the request log", security: false,
                requestBody: nil, responses: [200], tags: ["control"]),
            Operation(
                method: "get", path: "/_sandbox/issued-secrets",
                summary: "Test hook: secrets issued while recordIssuedSecrets is on",
                security: false, requestBody: nil, responses: [200, 404], tags: ["control"]),
            Operation(
                method: "get", path: "/_sandbox/openapi.json", summary: "This document", security: false,
                requestBody: nil,
                responses: [200], tags: ["control"]),
        ] + symOperations

    private static let symIdentityIn = object(
        [
            "service_type": string, "external_id": string, "matcher": .object([("type", .string("object"))]),
            "profile": .object([("type", .string("object"))]),
        ], required: ["service_type", "external_id", "matcher"])

    /// The Sym API (sym-api.md), answered as Sym answers: plain JSON objects, errors as `SymError`.
    static let symOperations: [Operation] = [
        Operation(
            method: "get", path: "/api/v1/users", summary: "Sym: users (?type=bot, ?id=, ?email=)", security: true,
            requestBody: nil, responses: [200, 400, 401], tags: [symTag]),
        Operation(
            method: "patch", path: "/api/v1/users", summary: "Sym: create or update users (upsert)", security: true,
            requestBody: object(
                [
                    "users": .object([
                        ("type", .string("array")),
                        (
                            "items",
                            object([
                                "id": string, "type": enumeration(["bot", "normal"]),
                                "identities": .object([("type", .string("array")), ("items", symIdentityIn)]),
                            ])
                        ),
                    ])
                ], required: ["users"]),
            responses: [200, 400, 401, 409], tags: [symTag]),
        Operation(
            method: "post", path: "/api/v1/users/delete",
            summary: "Sym: delete users by id or sym identity; revokes their tokens", security: true,
            requestBody: object(["users": .object([("type", .string("array"))])], required: ["users"]),
            responses: [200, 400, 401, 404], tags: [symTag]),
        Operation(
            method: "post", path: "/api/v1/users/identities/delete", summary: "Sym: delete identities of users",
            security: true,
            requestBody: object(["identities": .object([("type", .string("array"))])], required: ["identities"]),
            responses: [200, 400, 401, 404], tags: [symTag]),
        Operation(
            method: "get", path: "/api/v1/services", summary: "Sym: the org's services", security: true,
            requestBody: nil, responses: [200, 401], tags: [symTag]),
        Operation(
            method: "post", path: "/api/v1/tokens", summary: "Sym: issue a bot token (a JWT; jti is its identifier)",
            security: true,
            requestBody: object(
                ["username": string, "expiry": integer, "label": string], required: ["username", "expiry"]),
            responses: [200, 400, 401, 404], tags: [symTag]),
        Operation(
            method: "get", path: "/api/v1/tokens", summary: "Sym: live bot tokens", security: true, requestBody: nil,
            responses: [200, 401], tags: [symTag]),
        Operation(
            method: "post", path: "/api/v1/tokens/delete", summary: "Sym: revoke a token by identifier", security: true,
            requestBody: object(["identifier": string], required: ["identifier"]), responses: [200, 400, 401, 404],
            tags: [symTag]),
        Operation(
            method: "post", path: "/api/v1/track/symflow", summary: "Sym: usage tracking (always {})", security: false,
            requestBody: nil, responses: [200], tags: [symTag]),
        Operation(
            method: "get", path: "/api/v1/auth/login", summary: "Sym: the caller's org, name and role", security: true,
            requestBody: nil, responses: [200, 401], tags: [symTag]),
    ]

    static let symTag = "sym"

    static let document: JSONValue = {
        var paths: [(String, JSONValue)] = []
        for path in uniquePaths {
            let methods = operations.filter { $0.path == path }.map { ($0.method, operationObject($0)) }
            paths.append((path, .object(methods)))
        }
        return .object([
            ("openapi", .string("3.0.3")),
            (
                "info",
                .object([
                    ("title", .string("Botform sandbox: Fyso Bot Identity API and Sym bot API")),
                    ("version", .string(BotformVersion.current)),
                    (
                        "description",
                        .string(
                            "A local, Fyso- and Sym-compatible bot API for trying and testing Botform. /_sandbox/ answers loopback peers only."
                        )
                    ),
                ])
            ),
            ("paths", .object(paths)),
            (
                "components",
                .object([
                    (
                        "securitySchemes",
                        .object([("bearer", .object([("type", .string("http")), ("scheme", .string("bearer"))]))])
                    ),
                    (
                        "schemas",
                        .object([
                            (
                                "Error",
                                .object([
                                    ("type", .string("object")),
                                    (
                                        "properties",
                                        .object([
                                            ("success", .object([("type", .string("boolean"))])),
                                            (
                                                "error",
                                                .object([
                                                    (
                                                        "oneOf",
                                                        .array([
                                                            object(["code": string, "message": string]),
                                                            string,
                                                        ])
                                                    )
                                                ])
                                            ),
                                            ("message", string),
                                        ])
                                    ),
                                ])
                            ),
                            (
                                "SymError",
                                object(
                                    [
                                        "error": .object([("type", .string("boolean"))]), "message": string,
                                        "code": string,
                                    ],
                                    required: ["error", "message"])
                            ),
                            ("SymObject", .object([("type", .string("object"))])),
                            (
                                "Envelope",
                                .object([
                                    ("type", .string("object")),
                                    ("required", .array([.string("success")])),
                                    (
                                        "properties",
                                        .object([
                                            ("success", .object([("type", .string("boolean"))])), ("data", .object([])),
                                        ])
                                    ),
                                ])
                            ),
                        ])
                    ),
                ])
            ),
        ])
    }()

    private static var uniquePaths: [String] {
        var seen: Set<String> = []
        return operations.map(\.path).filter { seen.insert($0).inserted }
    }

    private static func operationObject(_ operation: Operation) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("summary", .string(operation.summary)),
            ("tags", .array(operation.tags.map(JSONValue.string))),
        ]
        var parameters: [JSONValue] = operation.path.split(separator: "/").filter { $0.hasPrefix("{") }.map { segment in
            .object([
                ("name", .string(String(segment.dropFirst().dropLast()))), ("in", .string("path")),
                ("required", .bool(true)),
                ("schema", string),
            ])
        }
        if operation.security && !operation.tags.contains(symTag) {
            parameters.append(
                .object([
                    ("name", .string("X-Tenant-ID")), ("in", .string("header")), ("required", .bool(false)),
                    ("schema", string),
                ]))
        }
        if operation.security {
            members.append(("security", .array([.object([("bearer", .array([]))])])))
        }
        if operation.path == "/api/auth/tenant/login" {
            parameters.append(
                .object([
                    ("name", .string("X-Tenant-ID")), ("in", .string("header")), ("required", .bool(true)),
                    ("schema", string),
                ]))
        }
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if let body = operation.requestBody {
            members.append(
                (
                    "requestBody",
                    .object([
                        ("required", .bool(true)),
                        ("content", .object([("application/json", .object([("schema", body)]))])),
                    ])
                ))
        }
        members.append(
            (
                "responses",
                .object(
                    operation.responses.map { status in
                        let sym = operation.tags.contains(symTag)
                        let schema =
                            status < 400
                            ? (sym ? "#/components/schemas/SymObject" : "#/components/schemas/Envelope")
                            : (sym ? "#/components/schemas/SymError" : "#/components/schemas/Error")
                        return (
                            String(status),
                            .object([
                                ("description", .string(description(status))),
                                (
                                    "content",
                                    .object([
                                        (
                                            "application/json",
                                            .object([("schema", .object([("$ref", .string(schema))]))])
                                        )
                                    ])
                                ),
                            ])
                        )
                    })
            ))
        return .object(members)
    }

    private static func description(_ status: Int) -> String {
        [
            200: "OK", 201: "Created", 400: "Invalid request", 401: "Missing or invalid credentials",
            403: "Not permitted",
            404: "Not found", 409: "Conflict", 413: "Body larger than 1 MiB", 429: "Limit reached",
        ][status] ?? "Status \(status)"
    }

    private static let string = JSONValue.object([("type", .string("string"))])
    private static let number = JSONValue.object([("type", .string("number"))])
    private static let integer = JSONValue.object([("type", .string("integer"))])

    private static func enumeration(_ values: [String]) -> JSONValue {
        .object([("type", .string("string")), ("enum", .array(values.map(JSONValue.string)))])
    }

    private static func object(_ properties: KeyValuePairs<String, JSONValue>, required: [String] = []) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("type", .string("object")), ("properties", .object(properties.map { ($0.key, $0.value) })),
        ]
        if !required.isEmpty { members.append(("required", .array(required.map(JSONValue.string)))) }
        return .object(members)
    }
}
