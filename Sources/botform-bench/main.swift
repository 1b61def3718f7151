import AsyncHTTPClient
import BotformCore
import BotformProviders
import BotformSeal
import Foundation
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Measures, against a running sandbox, the same N registrations three ways at the same parallelism:
/// raw calls through the HTTP transport, the apply executor with a custody that discards secrets, and the
/// executor with the sealed file. Prints one JSON line. Usage:
///   botform-bench URL ADMIN_PASSWORD BOTS PARALLELISM SCRATCH_DIR ROUNDS
struct Discard: SecretCustody {
    func ownership() async -> Ownership { Ownership() }
    func recordIntent(_ intent: IssueIntent, entry: EntryKey, id: String?, permissions: Permissions?)
        async throws
    {}
    func recordIssued(_ issued: IssuedCredential) async throws {}
    func recordAborted(_ intent: IssueIntent, entry: EntryKey) async throws {}
    func recordRevoked(entry: EntryKey, id: String) async throws {}
    func recordCreated(provider: String, bot: String, id: String) async throws {}
    func recordAdopted(provider: String, bot: String, id: String, permissions: Permissions?) async throws {}
    func recordForgotten(entry: EntryKey) async throws {}
}

// As the botform executable does: tasks run on NIO's event loops.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

let arguments = CommandLine.arguments

// `botform-bench decode-list FILE [ROUNDS]`: one saved page of the Fyso bot list, read by the provider's
// fast path and by JSONDecoder side by side (best of ROUNDS, default 20).
if arguments.count >= 3, arguments[1] == "decode-list" {
    let body = try Data(contentsOf: URL(fileURLWithPath: arguments[2]))
    let result = try FysoListBenchmark.run(body, rounds: arguments.count > 3 ? Int(arguments[3]) ?? 20 : 20)
    func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
    print(
        "\(result.bots) bots, \(body.count) bytes: fast path \(ms(result.fast))"
            + " (\(result.fastPathTaken ? "taken" : "deferred")), JSONDecoder \(ms(result.decoder))"
            + " (\(String(format: "%.1fx", result.decoder / result.fast))), to ObservedBot \(ms(result.observe));"
            + " identical: \(result.identical)")
    exit(result.identical ? 0 : 1)
}

// `botform-bench render SEALED_FILE [ROUNDS]`: the sealed file read, then rendered again (best of ROUNDS,
// default 20): what an apply's final fold spends before writing.
if arguments.count >= 3, arguments[1] == "render" {
    let file = try SealedCustody.read(path: arguments[2]).file
    var best = Double.infinity
    var bytes = 0
    for _ in 0..<(arguments.count > 3 ? Int(arguments[3]) ?? 20 : 20) {
        let start = ContinuousClock.now
        bytes = file.render().utf8.count
        let elapsed = ContinuousClock.now - start
        best = min(best, Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
    }
    let same = file.renderBytes() == Array(try Data(contentsOf: URL(fileURLWithPath: arguments[2])))
    print(
        "\(file.entries.count) entries, \(bytes) bytes: render \(String(format: "%.2f ms", best * 1000));"
            + " identical to the file: \(same)")
    exit(0)
}

// `botform-bench seal [COUNT]`: COUNT secrets age-encrypted to one recipient, as apply seals them; prints
// the time per secret.
if arguments.count >= 2, arguments[1] == "seal" {
    let count = arguments.count > 2 ? Int(arguments[2]) ?? 2_000 : 2_000
    let recipient = AgeIdentity().recipient
    let secret = Array("fyso_bot_0123456789abcdefghijklmnopqrstuvwxyzABCDEF".utf8)
    let start = ContinuousClock.now
    for _ in 0..<count { _ = try AgeFile.encrypt(secret, to: [recipient]) }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("\(count) secrets sealed: \(String(format: "%.1f", seconds / Double(count) * 1e6)) us each")
    exit(0)
}

guard arguments.count == 7, let bots = Int(arguments[3]), let parallelism = Int(arguments[4]),
    let rounds = Int(arguments[6])
else {
    try? FileHandle.standardError.write(
        contentsOf: Data("usage: botform-bench URL ADMIN_PASSWORD BOTS PARALLELISM SCRATCH_DIR ROUNDS\n".utf8))
    exit(64)
}
let url = arguments[1]
let scratch = arguments[5]
let client = HTTPTransport.makeClient(parallelism: parallelism)
var logger = Logger(label: "bench")
logger.logLevel = .error
let transport = HTTPTransport(
    client: client, baseURL: url, timeout: .seconds(30), logger: logger, concurrency: parallelism)
let provider = FysoProvider(
    name: "prod", tenant: "sandbox", caller: .admin,
    auth: .login(email: "admin@sandbox.local", password: Secret(arguments[2])), transport: transport)
let permissions = Permissions(["products": [.read]])
let recipient = AgeIdentity().recipient

/// This process's CPU time (user + system) so far.
func cpu() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
        + Double(usage.ru_stime.tv_usec) / 1e6
}

func seconds(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// N bare register calls, `parallelism` at a time.
func raw(prefix: String) async throws -> Double {
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        func add() {
            let index = next
            next += 1
            group.addTask {
                _ = try await provider.execute(.register(name: "\(prefix)-\(index)", permissions: permissions))
            }
        }
        for _ in 0..<min(parallelism, bots) { add() }
        while try await group.next() != nil { if next < bots { add() } }
    }
    return seconds(start)
}

/// N register actions through the executor with `custody`.
func executor(prefix: String, custody: any SecretCustody) async -> (Double, ApplyResult) {
    let actions = (0..<bots).map { index in
        PlannedAction(
            address: "prod/\(prefix)-\(index)", provider: "prod", bot: "\(prefix)-\(index)", action: .register,
            permissions: permissions,
            reasons: [ActionReason(.notOnService, "benchmark")])
    }
    let plan = PlanDocument(
        createdAt: Date(), configuration: .init(path: "-", sha256: "-"), options: .init(), providers: [],
        actions: actions, drift: [], guards: [],
        inputs: [:])
    let start = ContinuousClock.now
    let result = await ApplyExecutor(providers: ["prod": provider], custody: custody, parallelism: parallelism) { _ in }
        .run(plan)
    return (seconds(start), result)
}

if ProcessInfo.processInfo.environment["BENCH_MICRO"] != nil {
    let secret = Secret("dK9mXqP3nR8vTw2zAe7yLs4cBhJfGu6i")
    var start = ContinuousClock.now
    for _ in 0..<1_000 { _ = try AgeFile.encrypt(Array(secret.reveal().utf8), to: [recipient]) }
    print("encrypt x1000: \(seconds(start))")
    let custody = try SealedCustody(path: "\(scratch)/micro.sealed.yaml", recipients: [recipient])
    start = ContinuousClock.now
    for index in 0..<1_000 {
        try await custody.recordIntent(.register, provider: "prod", bot: "b\(index)", id: nil, permissions: permissions)
    }
    print("intent x1000 sequential: \(seconds(start))")
    start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<1_000 {
            group.addTask {
                try await custody.recordIssued(
                    provider: "prod", bot: "b\(index)", id: "id\(index)", permissions: permissions, secret: secret,
                    at: Date())
            }
        }
        try await group.waitForAll()
    }
    print("issued x1000 concurrent: \(seconds(start)) \(await custody.journalStatistics())")
    exit(0)
}

if ProcessInfo.processInfo.environment["BENCH_SEALED_ONLY"] != nil {
    let custody = try SealedCustody(path: "\(scratch)/only.sealed.yaml", recipients: [recipient])
    let (time, _) = await executor(prefix: "only", custody: custody)
    print("sealed only: \(time)")
    exit(0)
}

var rows: [String] = []
for round in 0..<rounds {
    var cpuMark = cpu()
    let rawTime = try await raw(prefix: "raw\(round)")
    let rawCPU = cpu() - cpuMark
    let path = "\(scratch)/bench-\(round).sealed.yaml"
    let custody = try SealedCustody(path: path, recipients: [recipient])
    // Alternate which goes first, so drift in the machine's speed during a round does not favour one.
    var discardTime = 0.0
    var sealedTime = 0.0
    var executorCPU = 0.0
    var sealedCPU = 0.0
    var discarded: ApplyResult?
    var sealed: ApplyResult?
    for sealing in round.isMultiple(of: 2) ? [false, true] : [true, false] {
        cpuMark = cpu()
        if sealing {
            (sealedTime, sealed) = await executor(prefix: "sea\(round)", custody: custody)
            sealedCPU = cpu() - cpuMark
        } else {
            (discardTime, discarded) = await executor(prefix: "exe\(round)", custody: Discard())
            executorCPU = cpu() - cpuMark
        }
    }
    let statistics = await custody.journalStatistics()
    let checkpointStart = ContinuousClock.now
    try await custody.checkpoint()
    let checkpoint = seconds(checkpointStart)
    guard discarded?.isComplete == true, sealed?.isComplete == true else {
        try? FileHandle.standardError.write(contentsOf: Data("round \(round): some registrations failed\n".utf8))
        exit(1)
    }
    rows.append(
        "{\"raw\": \(rawTime), \"executor\": \(discardTime), \"sealed\": \(sealedTime), \"checkpoint\": \(checkpoint), \"fsyncs\": \(statistics.syncs), \"records\": \(statistics.records), \"cpu\": {\"raw\": \(rawCPU), \"executor\": \(executorCPU), \"sealed\": \(sealedCPU)}}"
    )
}
try await shutDown(client)
print("[" + rows.joined(separator: ", ") + "]")

/// In an async function, so the async `shutdown()` is chosen (top-level code picks the future-returning one).
func shutDown(_ client: HTTPClient) async throws { try await client.shutdown() }
