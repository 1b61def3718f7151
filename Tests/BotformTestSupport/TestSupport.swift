import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

// What several test targets need: temporary directories, child processes, JSON calls. Test-only code;
// no product depends on this target.

/// A temporary directory for one test, removed when the value goes out of scope.
public struct Scratch: ~Copyable {
    public let url: URL

    public init(_ label: String = "test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("botform-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// What a finished child process wrote and how it ended.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
}

/// Runs `process` (configured but not started) to completion, feeding `stdin` and collecting both
/// outputs. stdin is fed and stdout drained on their own threads, so a child that streams cannot block on
/// a full pipe.
public func runToCompletion(_ process: Process, stdin: Data = Data()) throws -> ProcessOutput {
    let input = Pipe()
    let output = Pipe()
    let errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    nonisolated(unsafe) var outData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        try? input.fileHandleForWriting.writeRetrying(stdin)
        try? input.fileHandleForWriting.close()
        group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
        outData = output.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let errData = errors.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ProcessOutput(status: process.terminationStatus, stdout: outData, stderr: errData)
}

extension FileHandle {
    /// Writes all of `data`, retrying when a signal (a child exiting) interrupts the call: Foundation's
    /// non-throwing `write` traps on EINTR.
    public func writeRetrying(_ data: Data) throws {
        var rest = data[...]
        while !rest.isEmpty {
            let written = rest.withUnsafeBytes { Glibc.write(fileDescriptor, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw CocoaError(.fileWriteUnknown)
            }
            rest = rest.dropFirst(written)
        }
    }
}

/// One JSON call, for arranging and inspecting a server in tests: the status and the decoded body (nil
/// when the body is not JSON).
public func jsonCall(
    _ client: HTTPClient, _ method: HTTPMethod, _ url: String, body: Any? = nil, token: String? = nil
) async throws -> (status: Int, json: Any?) {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    if let body {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: [UInt8](try JSONSerialization.data(withJSONObject: body))))
    }
    let response = try await client.execute(request, timeout: .seconds(30))
    let data = try await response.body.collect(upTo: 32 << 20)
    return (Int(response.status.code), try? JSONSerialization.jsonObject(with: Data(data.readableBytesView)))
}
