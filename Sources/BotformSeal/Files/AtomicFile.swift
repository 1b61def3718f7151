import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writing files so that a crash leaves either the old content or the new, never a mix, and with the
/// mode a secret deserves.
enum AtomicFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Replaces `path` with `contents` (mode 0600): temporary file in the same directory, fsync, rename,
    /// fsync of the directory.
    /// A file's bytes, read straight into an array (a sealed file of 10,000 bots is 8 MB: read through
    /// `Data` it is copied once more); nil when it cannot be opened, as `FileManager.contents(atPath:)`.
    static func contents(of path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var filled = 0
        while true {
            if filled == bytes.count { bytes.append(contentsOf: [UInt8](repeating: 0, count: 65_536)) }
            let count = bytes.withUnsafeMutableBytes { buffer in
                buffer.baseAddress.map { read(fd, $0 + filled, buffer.count - filled) } ?? -1
            }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            filled += count
        }
        bytes.removeLast(bytes.count - filled)
        return bytes
    }

    static func replace(_ path: String, with contents: [UInt8], mode: mode_t = 0o600) throws {
        let directory =
            (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temporary =
            "\(directory)/.\((path as NSString).lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(description: "cannot create \(temporary): \(errorText())") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        try writeAll(fd, contents, path: temporary)
        guard fchmod(fd, mode) == 0, fsync(fd) == 0 else {
            close(fd)
            throw Failure(description: "cannot write \(temporary): \(errorText())")
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw Failure(description: "cannot replace \(path): \(errorText())") }
        ok = true
        syncDirectory(directory)
    }

    /// Creates `path` with `contents`, durably, unless it exists (then returns false). The file has `mode`
    /// from the moment it exists (O_EXCL, no chmod afterwards), and no other process can slip in between a
    /// check and the write.
    static func createNew(_ path: String, with contents: [UInt8], mode: mode_t = 0o600) throws -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0, errno == EEXIST { return false }
        guard fd >= 0 else { throw Failure(description: "cannot create \(path): \(errorText())") }
        do {
            try writeAll(fd, contents, path: path)
            guard fsync(fd) == 0 else { throw Failure(description: "cannot write \(path): \(errorText())") }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        close(fd)
        let directory = (path as NSString).deletingLastPathComponent
        syncDirectory(directory.isEmpty ? "." : directory)
        return true
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "cannot write \(path): \(errorText())")
            }
            offset += written
        }
    }

    /// Makes a directory entry (a new or renamed file) durable.
    static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}
