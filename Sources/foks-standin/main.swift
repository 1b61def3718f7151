// A stand-in for the `foks` CLI, for Botform's tests. FOKS's agent cannot be built here, so this small
// program answers the commands Botform sends (`status`, `--json key list`, `--json bot new --role R`,
// `key revoke ID`) the way FOKS's code does (see docs/foks.md and specs/foks-cli.md): Go field names in
// JSON, integer enums, roles as "OWNER"/"MEMBER/-5", errors as `Error: …` on stderr with exit 255. It is
// NOT FOKS: there is no server, no sigchain, no cryptography; key IDs are random, not derived from tokens.
// State lives in a JSON file under `--home` (or at FOKS_STANDIN_STATE).

import Foundation

// MARK: State

/// One key of the user, as the stand-in remembers it.
struct StandinKey: Codable {
    var id: String
    var name: String
    /// FOKS's DeviceType: 0 computer, 1 mobile, 2 YubiKey, 3 backup, 4 bot token.
    var deviceType: Int
    /// FOKS's role string: "OWNER", "ADMIN", "MEMBER/N".
    var role: String
    var ctimeMs: UInt64
    var revoked: Bool
    var revokedBy: String?
    /// How many more revoke attempts are refused as "not yet in the Merkle tree".
    var pendingTreeRefusals: Int
}

/// The whole state file.
struct StandinState: Codable {
    var user: String
    var host: String
    var uid: String
    var hostID: String
    var agentRunning: Bool
    /// "unlocked", "passphrase", "bot_token" or "yubi".
    var lock: String
    /// The key the agent acts with.
    var activeKeyID: String
    /// How many revoke attempts of a fresh key are refused (SigningKeyNotFullyProvisionedError).
    var notInTreeAttempts: Int
    var keys: [StandinKey]
    /// How many times each command ran (e.g. "key revoke": 3), for tests.
    var calls: [String: Int]
}

struct Failure: Error {
    var message: String
    var code: Int32 = 255
}

// MARK: Encodings (specs/foks-cli.md §1.1)

enum BaseX {
    static let base36 = Array("0123456789abcdefghijklmnopqrstuvwxyz")
    static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// Big-endian base conversion, left-padded to basex's encoded length for this many bytes
    /// (ceil(8·n / log2(base))): 3 bytes → 5 base-36 characters, 23 → 31 and 32 → 43 base-62 ones.
    static func encode(_ bytes: [UInt8], alphabet: [Character]) -> String {
        let base = alphabet.count
        let length = Int((Double(bytes.count * 8) / log2(Double(base))).rounded(.up))
        var number = bytes.map { Int($0) }
        var digits: [Character] = []
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            var next: [Int] = []
            for byte in number {
                let value = remainder * 256 + byte
                let quotient = value / base
                remainder = value % base
                if !next.isEmpty || quotient != 0 { next.append(quotient) }
            }
            digits.append(alphabet[remainder])
            number = next
        }
        while digits.count < length { digits.append(alphabet[0]) }
        return String(digits.reversed())
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// An EntityID string: "." + base-62 character of the entity type + base-62 of 32 random bytes.
/// 19 (bot token key) gives ".J…", 4 (device) ".4…". Real IDs are Ed25519 public keys; these are random.
func entityID(type: Int) -> String {
    "." + String(BaseX.base62[type]) + BaseX.encode(randomBytes(32), alphabet: BaseX.base62)
}

// MARK: Roles (proto/lib/extras.go RoleString.Parse, Role.StringErr)

/// Parses a role as `foks bot new --role` does; returns FOKS's long form ("OWNER", "MEMBER/-5").
func parseRole(_ text: String) throws(Failure) -> String {
    let value = text.trimmingCharacters(in: .whitespaces).lowercased()
    switch value {
    case "": throw Failure(message: "cannot parse a len=0 role")
    case "o", "owner": return "OWNER"
    case "a", "admin": return "ADMIN"
    case "n", "none", "∅": return "NONE"
    default: break
    }
    let parts = value.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
    guard parts.count == 2, parts[0] == "m" || parts[0] == "member" else {
        throw Failure(message: "invalid RoleType prefix")
    }
    guard let level = Int(parts[1]) else { throw Failure(message: "bad vizlevel for member") }
    guard (-32_768...32_767).contains(level) else { throw Failure(message: "vizlevel out of range for member") }
    return "MEMBER/\(level)"
}

/// Role order: OWNER > ADMIN > MEMBER/n > MEMBER/m (n > m) > NONE.
func rank(_ role: String) -> (Int, Int) {
    switch role {
    case "OWNER": return (3, 0)
    case "ADMIN": return (2, 0)
    case "NONE": return (0, 0)
    default: return (1, Int(role.dropFirst("MEMBER/".count)) ?? 0)
    }
}

func isAbove(_ lhs: String, _ rhs: String) -> Bool {
    let (a, b) = (rank(lhs), rank(rhs))
    return a.0 > b.0 || (a.0 == b.0 && a.1 > b.1)
}

// MARK: Command line

struct Invocation {
    var home: String?
    var json: Bool
    var words: [String]
    var flags: [String: String]
}

/// Splits global flags (`--home`/`-H`, `--json`/`-j`) from the command words and its flags.
func parse(_ arguments: [String], environment: [String: String]) throws(Failure) -> Invocation {
    var home: String?
    var json = ["1", "true", "yes"].contains(environment["FOKS_JSON_OUTPUT"]?.lowercased() ?? "")
    var words: [String] = []
    var flags: [String: String] = [:]
    var index = 0
    let valued: Set<String> = [
        "--home", "-H", "--role", "--host", "--token", "--config", "--socket", "--user", "--type",
    ]
    while index < arguments.count {
        let argument = arguments[index]
        index += 1
        var name = argument
        var value: String?
        if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
            name = String(argument[..<equals])
            value = String(argument[argument.index(after: equals)...])
        }
        if valued.contains(name) {
            if value == nil {
                guard index < arguments.count else { throw Failure(message: "flag needs an argument: \(name)") }
                value = arguments[index]
                index += 1
            }
            if name == "--home" || name == "-H" { home = value } else { flags[name] = value }
        } else if name == "--json" || name == "-j" {
            json = true
        } else if name.hasPrefix("-") {
            flags[name] = ""
        } else {
            words.append(argument)
        }
    }
    return Invocation(home: home, json: json, words: words, flags: flags)
}

/// The command's canonical name, with FOKS's aliases folded ("bot-token mk" → "bot new").
func commandName(_ words: [String]) -> (String, [String]) {
    guard let first = words.first else { return ("", []) }
    let rest = Array(words.dropFirst())
    switch first {
    case "status", "help", "version": return (first, rest)
    case "ctl": return ("ctl " + (rest.first ?? ""), Array(rest.dropFirst()))
    case "standin": return ("standin " + (rest.first ?? ""), Array(rest.dropFirst()))
    case "bot", "bot-token":
        let verb = rest.first ?? ""
        return ("bot " + (verb == "mk" ? "new" : verb), Array(rest.dropFirst()))
    case "key":
        let verb = rest.first ?? ""
        return ("key " + (verb == "ls" ? "list" : verb), Array(rest.dropFirst()))
    default: return (first, rest)
    }
}

let helpText = """
    foks-standin: a STAND-IN for the `foks` CLI, for Botform's tests. It is not FOKS: no agent, no server,
    no cryptography; it answers a few commands as FOKS's code does and keeps its state in a JSON file.

    Global flags: --home/-H DIR (state in DIR/foks-standin-state.json; or set FOKS_STANDIN_STATE),
                  --json/-j (or FOKS_JSON_OUTPUT=1)
    Commands (as FOKS):
      status                                 agent status JSON (always JSON)
      key list [--current-user-keys]         the user's keys, revoked ones included (JSON with --json)
      bot new [--role R]                     a new bot token (default role o); aliases bot-token, mk
      key revoke KEYID                       revoke a key (.J… for a bot token)
      ctl start | ctl stop                   mark the agent running or stopped
    Stand-in setup (not FOKS):
      standin init --user U --host H [--role R]   a fresh state: one computer key at role R (default o)
      standin set KNOB VALUE                      agent running|stopped; lock unlocked|passphrase|bot_token|yubi;
                                                  role R (of the active key); not-in-tree N (refused revokes
                                                  of each new key)
      standin add-key --role R --type N           a key made outside Botform (type 4: a bot token);
                                                  prints its id and name as JSON
      standin sample-tokens N                     N tokens encoded as `bot new` encodes them (no state)
    Test hooks (environment):
      FOKS_STANDIN_STATE=FILE            the state file, when --home is not given
      FOKS_STANDIN_LOG=FILE              append each call's arguments (one JSON array a line)
      FOKS_STANDIN_FAIL="CMD=TEXT"       CMD (e.g. "bot new") fails with `Error: TEXT`, exit 255
      FOKS_STANDIN_HANG=CMD              CMD never returns (write the pid to FOKS_STANDIN_PID_FILE first)
      FOKS_STANDIN_GARBAGE=CMD           CMD prints text that is not JSON
      FOKS_STANDIN_BAD_TOKEN=1           bot new prints a token that breaks the canonical grammar
      FOKS_STANDIN_NOT_IN_TREE=N         like `standin set not-in-tree N`, for this call's new key

    """

// MARK: State file

struct Store {
    var url: URL

    init(invocation: Invocation, environment: [String: String]) throws(Failure) {
        if let home = invocation.home {
            url = URL(fileURLWithPath: home).appendingPathComponent("foks-standin-state.json")
        } else if let path = environment["FOKS_STANDIN_STATE"] {
            url = URL(fileURLWithPath: path)
        } else {
            throw Failure(message: "foks-standin: no state: pass --home DIR or set FOKS_STANDIN_STATE")
        }
    }

    func load() throws(Failure) -> StandinState {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw Failure(message: "no active user")
        }
        do {
            return try JSONDecoder().decode(StandinState.self, from: data)
        } catch {
            throw Failure(message: "foks-standin: cannot read state \(url.path): \(error)")
        }
    }

    func save(_ state: StandinState) throws(Failure) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try encoder.encode(state).write(to: url, options: .atomic)
        } catch {
            throw Failure(message: "foks-standin: cannot write state \(url.path): \(error)")
        }
    }
}

func nowMs() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

func newKey(role: String, type: Int, name: String, notInTree: Int) -> StandinKey {
    StandinKey(
        id: entityID(type: type == 4 ? 19 : 4), name: name, deviceType: type, role: role, ctimeMs: nowMs(),
        revoked: false, revokedBy: nil, pendingTreeRefusals: notInTree)
}

// MARK: JSON output (Go field names, json.MarshalIndent with four spaces)

func printJSON(_ value: Any) throws(Failure) {
    do {
        let data = try JSONSerialization.data(
            withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    } catch {
        throw Failure(message: "foks-standin: cannot encode output: \(error)")
    }
}

func statusObject(_ sc: String) -> [String: Any] { ["Sc": sc] }

func lockCode(_ state: StandinState) -> String {
    switch state.lock {
    case "passphrase": "PASSPHRASE_LOCKED_ERROR"
    case "bot_token": "BOT_TOKEN_LOCKED_ERROR"
    case "yubi": "YUBI_LOCKED_ERROR"
    default: "OK"
    }
}

func activeKey(_ state: StandinState) -> StandinKey? {
    state.keys.first { $0.id == state.activeKeyID && !$0.revoked }
}

func userInfo(_ state: StandinState, key: StandinKey) -> [String: Any] {
    [
        "Fqu": ["Uid": state.uid, "HostID": state.hostID],
        "Username": ["Name": state.user, "NameUtf8": state.user],
        "HostAddr": state.host,
        "Active": true,
        "YubiInfo": NSNull(),
        "Role": key.role,
        "KeyGenus": key.deviceType == 4 ? 3 : 0,
        "ViewToken": NSNull(),
        "Key": key.id,
        "Devname": key.name,
    ]
}

func userContext(_ state: StandinState, key: StandinKey) -> [String: Any] {
    [
        "Info": userInfo(state, key: key),
        "Key": key.id,
        "Puks": [Any](),
        "Mtime": nowMs(),
        "Devname": key.name,
        "LockStatus": statusObject(lockCode(state)),
        "NetworkStatus": statusObject("OK"),
    ]
}

func deviceInfo(_ state: StandinState, key: StandinKey) -> [String: Any] {
    [
        "Di": [
            "Status": key.revoked ? 1 : 0,
            "Dn": [
                "Label": ["DeviceType": key.deviceType, "Name": key.name.lowercased(), "Serial": 1],
                "Nv": 0,
                "Name": key.name,
            ],
            "Key": [
                "DstRole": key.role,
                "Member": [
                    "Id": ["Entity": key.id, "Host": state.hostID],
                    "SrcRole": key.role,
                    "Keys": ["T": 1],
                ],
            ],
            "Ctime": key.ctimeMs,
            "Provisioned": ["Signer": state.activeKeyID, "Chain": ["Seqno": 1, "Time": key.ctimeMs]],
            "Revoked": key.revoked
                ? ["Revoker": key.revokedBy ?? state.activeKeyID, "Chain": ["Seqno": 2, "Time": nowMs()]] as Any
                : NSNull(),
        ] as [String: Any],
        "Active": key.id == state.activeKeyID,
        "Unlocked": key.id == state.activeKeyID && state.lock == "unlocked",
    ]
}

// MARK: Commands

/// The checks `quickStartLambda` with NeedUser and NeedUnlockedUser makes: an agent, a user, unlocked.
func requireUnlockedUser(_ state: StandinState, home: String?) throws(Failure) -> StandinKey {
    try requireAgent(state, home: home)
    guard let key = activeKey(state) else { throw Failure(message: "no active user") }
    switch state.lock {
    case "passphrase": throw Failure(message: "secret key material is passphrase locked")
    case "bot_token": throw Failure(message: "previously used bot token is missing, so user is locked")
    case "yubi": throw Failure(message: "yubikey is locked")
    default: return key
    }
}

func requireAgent(_ state: StandinState, home: String?) throws(Failure) {
    guard state.agentRunning else {
        let socket = (home ?? "~/.config/foks") + "/foks.sock"
        throw Failure(
            message: "could not connect to the FOKS agent; start it via `foks ctl start` (socket file: \(socket))")
    }
}

func botNew(_ state: inout StandinState, invocation: Invocation, environment: [String: String]) throws(Failure) {
    let role = try parseRole(invocation.flags["--role"].flatMap { $0.isEmpty ? nil : $0 } ?? "o")
    let active = try requireUnlockedUser(state, home: invocation.home)
    // client/agent/yubi.go prepareNewDevice, then the server's OpenDeviceProvision.
    if isAbove(role, active.role) {
        throw Failure(message: "role error: cannot provision a key with a role greater than current active user")
    }
    if role == "NONE" { throw Failure(message: "revoke error: cannot revoke a device via provision") }
    if active.role != "OWNER" { throw Failure(message: "permission error: only owner devices can add new devices") }
    let seed = randomBytes(26)
    var name = BaseX.encode(Array(seed[0..<3]), alphabet: BaseX.base36)
    let key = BaseX.encode(Array(seed[3..<26]), alphabet: BaseX.base62)
    if environment["FOKS_STANDIN_BAD_TOKEN"] == "1" {
        // A first name character that no 3-byte seed can produce: breaks the canonical grammar.
        name = "z" + name.dropFirst()
    }
    if state.keys.contains(where: { $0.name.lowercased() == name.lowercased() }) {
        throw Failure(message: "device name already exists")
    }
    let refusals = environment["FOKS_STANDIN_NOT_IN_TREE"].flatMap(Int.init) ?? state.notInTreeAttempts
    state.keys.append(newKey(role: role, type: 4, name: name, notInTree: refusals))
    let token = name + "." + key
    if invocation.json {
        try printJSON(token)
    } else {
        print(
            "Bot Token Generated\n-------------------\n\nBot Token was generated with control over this account, "
                + "at role=\(role).\n\nPlease copy this bot token to a safe place, and never share it!\n\n   \(token)\n"
        )
    }
}

func keyRevoke(_ state: inout StandinState, invocation: Invocation, arguments: [String]) throws(Failure) {
    guard arguments.count == 1, let target = arguments.first else {
        throw Failure(message: "expected exactly one argument, a key ID")
    }
    guard target.hasPrefix("."), target.count > 2 else { throw Failure(message: "bad entity ID") }
    let revoker = try requireUnlockedUser(state, home: invocation.home)
    // client/libclient/rotate_mgr.go checkRevoke, then lib/core/chain.go and server/engine/user.go.
    guard let index = state.keys.firstIndex(where: { $0.id == target }) else {
        throw Failure(message: "key not found")
    }
    var key = state.keys[index]
    if key.revoked { throw Failure(message: "revoke error: device already revoked") }
    if isAbove(key.role, revoker.role) { throw Failure(message: "revoke error: device has higher role") }
    let owners = state.keys.filter { !$0.revoked && $0.role == "OWNER" }
    if key.role == "OWNER", owners.count <= 1 {
        throw Failure(message: "revoke error: cannot revoke last owner device")
    }
    if revoker.role != "OWNER" {
        throw Failure(message: "permission error: only owner devices can revoke devices or rotate PUKs")
    }
    if key.pendingTreeRefusals > 0 {
        state.keys[index].pendingTreeRefusals -= 1
        throw Failure(message: "signing key not fully provisioned")
    }
    key.revoked = true
    key.revokedBy = revoker.id
    state.keys[index] = key
}

func keyList(_ state: StandinState, invocation: Invocation) throws(Failure) {
    let active = try requireUnlockedUser(state, home: invocation.home)
    if invocation.json {
        let object: [String: Any] = [
            "CurrUser": userContext(state, key: active),
            "CurrUserAllKeys": state.keys.map { deviceInfo(state, key: $0) },
            "AllUsers": [
                [
                    "Info": userInfo(state, key: active), "LockStatus": statusObject(lockCode(state)),
                    "NetworkStatus": statusObject("OK"),
                ]
            ],
        ]
        try printJSON(object)
        return
    }
    let types = ["computer", "mobile", "yubikey", "backup", "bot-token"]
    for key in state.keys {
        let created = Date(timeIntervalSince1970: Double(key.ctimeMs) / 1000).formatted(.iso8601.year().month().day())
        let type = key.deviceType < types.count ? types[key.deviceType] : "?"
        print(
            "\(key.id == state.activeKeyID ? "*" : " ") | \(key.name) | \(type) | \(created) | \(key.id)"
                + (key.revoked ? " | ❌" : ""))
    }
}

func status(_ state: StandinState, invocation: Invocation) throws(Failure) {
    try requireAgent(state, home: invocation.home)
    guard let active = state.keys.first(where: { $0.id == state.activeKeyID }) else {
        throw Failure(message: "no active user")
    }
    let socket = (invocation.home ?? "~/.config/foks") + "/foks.sock"
    try printJSON([
        "Pid": Int(ProcessInfo.processInfo.processIdentifier), "Socket": socket,
        "Users": [userContext(state, key: active)],
    ])
}

func standinSet(_ state: inout StandinState, arguments: [String]) throws(Failure) {
    guard arguments.count == 2 else { throw Failure(message: "standin set KNOB VALUE", code: 2) }
    let value = arguments[1]
    switch arguments[0] {
    case "agent":
        guard value == "running" || value == "stopped" else { throw Failure(message: "agent running|stopped", code: 2) }
        state.agentRunning = value == "running"
    case "lock":
        guard ["unlocked", "passphrase", "bot_token", "yubi"].contains(value) else {
            throw Failure(message: "lock unlocked|passphrase|bot_token|yubi", code: 2)
        }
        state.lock = value
    case "role":
        let role = try parseRole(value)
        guard let index = state.keys.firstIndex(where: { $0.id == state.activeKeyID }) else {
            throw Failure(message: "no active key", code: 2)
        }
        state.keys[index].role = role
    case "not-in-tree":
        guard let count = Int(value), count >= 0 else { throw Failure(message: "not-in-tree N", code: 2) }
        state.notInTreeAttempts = count
    default:
        throw Failure(message: "unknown knob \"\(arguments[0])\"", code: 2)
    }
}

// MARK: Main

func run() throws(Failure) {
    let environment = ProcessInfo.processInfo.environment
    let arguments = Array(CommandLine.arguments.dropFirst())
    let invocation = try parse(arguments, environment: environment)
    let (command, rest) = commandName(invocation.words)
    if command == "help" || command.isEmpty || invocation.flags["--help"] != nil || invocation.flags["-h"] != nil {
        FileHandle.standardOutput.write(Data(helpText.utf8))
        return
    }
    if command == "version" {
        print("foks-standin (a stand-in for foks, not FOKS)")
        return
    }
    if let log = environment["FOKS_STANDIN_LOG"], let line = try? JSONSerialization.data(withJSONObject: arguments) {
        if let handle = FileHandle(forWritingAtPath: log)
            ?? {
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                return FileHandle(forWritingAtPath: log)
            }()
        {
            handle.seekToEndOfFile()
            handle.write(line + Data("\n".utf8))
            try? handle.close()
        }
    }
    if environment["FOKS_STANDIN_HANG"] == command {
        if let pidFile = environment["FOKS_STANDIN_PID_FILE"] {
            try? Data("\(ProcessInfo.processInfo.processIdentifier)".utf8).write(
                to: URL(fileURLWithPath: pidFile), options: .atomic)
        }
        while true { sleep(3600) }
    }
    if let fail = environment["FOKS_STANDIN_FAIL"], let equals = fail.firstIndex(of: "="),
        fail[..<equals] == command
    {
        throw Failure(message: String(fail[fail.index(after: equals)...]))
    }
    if environment["FOKS_STANDIN_GARBAGE"] == command {
        print("this is not JSON {")
        return
    }
    if command == "standin sample-tokens" {
        // Tokens encoded as `bot new` encodes them, no state touched: for tests of the encoding.
        let count = rest.first.flatMap(Int.init) ?? 1
        for _ in 0..<count {
            let seed = randomBytes(26)
            print(
                BaseX.encode(Array(seed[0..<3]), alphabet: BaseX.base36) + "."
                    + BaseX.encode(Array(seed[3..<26]), alphabet: BaseX.base62))
        }
        return
    }
    let store = try Store(invocation: invocation, environment: environment)
    if command == "standin init" {
        guard let user = invocation.flags["--user"], let host = invocation.flags["--host"] else {
            throw Failure(message: "standin init needs --user U --host H", code: 2)
        }
        let role = try parseRole(invocation.flags["--role"] ?? "o")
        let device = newKey(role: role, type: 0, name: "laptop", notInTree: 0)
        try store.save(
            StandinState(
                user: user, host: host, uid: entityID(type: 1), hostID: entityID(type: 2), agentRunning: true,
                lock: "unlocked", activeKeyID: device.id, notInTreeAttempts: 0, keys: [device], calls: [:]))
        return
    }
    var state = try store.load()
    state.calls[command, default: 0] += 1
    defer { try? store.save(state) }
    switch command {
    case "status": try status(state, invocation: invocation)
    case "key list": try keyList(state, invocation: invocation)
    case "bot new": try botNew(&state, invocation: invocation, environment: environment)
    case "key revoke": try keyRevoke(&state, invocation: invocation, arguments: rest)
    case "ctl start": state.agentRunning = true
    case "ctl stop": state.agentRunning = false
    case "standin set": try standinSet(&state, arguments: rest)
    case "standin add-key":
        let role = try parseRole(invocation.flags["--role"] ?? "o")
        let type = invocation.flags["--type"].flatMap(Int.init) ?? 4
        let name = BaseX.encode(randomBytes(3), alphabet: BaseX.base36)
        let key = newKey(role: role, type: type, name: name, notInTree: 0)
        state.keys.append(key)
        try printJSON(["id": key.id, "name": key.name])
    default:
        throw Failure(message: "unknown command \"\(invocation.words.joined(separator: " "))\" for \"foks\"")
    }
}

do {
    try run()
} catch {
    FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
    exit(error.code)
}
