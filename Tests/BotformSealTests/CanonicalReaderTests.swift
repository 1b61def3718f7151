import BotformCore
import Foundation
import Testing

@testable import BotformSeal

/// The line reader of the canonical sealed file (`parseCanonical`) is a fast path: on anything it
/// accepts it must give exactly what the YAML reader gives, and it must decline whatever it cannot read
/// exactly, so the YAML reader (and its located errors) decides.
@Suite("Sealed file: the canonical reader")
struct CanonicalReaderTests {
    /// A deterministic generator, so a failure names its seed and reproduces.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func pick<T>(_ items: [T], _ rng: inout Generator) -> T {
        items[Int.random(in: 0..<items.count, using: &rng)]
    }

    static let recipients = (0..<3).map { _ in AgeIdentity().recipient }
    /// A real armored age file, so the entries are what apply writes.
    static let armored = AgeArmor.armor((try? AgeFile.encrypt(Array("a secret".utf8), to: [recipients[0]])) ?? [])

    /// Names, plain and needing quotes (spaces, colons, YAML words, numbers, a leading dash or `@`).
    static let names = [
        "agent", "bot-00001", "a.b_c+d@e/f", "with space", "colon:inside", "true", "null", "1.5", "-dash", "@at",
        "#hash", "x#y", "Ünïcode", "quote\"d", "back\\slash", "tab\there", "0x1F", "~", "on", "1_000",
        "infinity", "Infinity", "NaN", "inf", "Off", "a-long-name-with.dots",
    ]

    static func time(_ rng: inout Generator) -> Date {
        Date(timeIntervalSince1970: TimeInterval(Int.random(in: 0...4_000_000_000, using: &rng)))
    }

    static func file(_ seed: UInt64, entries count: Int) -> SealedFile {
        var rng = Generator(state: seed)
        var file = SealedFile(recipients: Array(recipients.prefix(Int.random(in: 0...2, using: &rng))))
        if Bool.random(using: &rng) {
            file.origins["prod"] = ProviderOrigin(
                type: .fyso, endpoint: "https://api.fyso.dev", tenant: Bool.random(using: &rng) ? "acme" : nil)
            file.origins[Self.pick(names, &rng)] = ProviderOrigin(
                type: .sym, endpoint: Self.pick(names, &rng), tenant: Self.pick(names, &rng))
        }
        for index in 0..<count {
            let provider = Bool.random(using: &rng) ? "prod" : Self.pick(names, &rng)
            let bot = Bool.random(using: &rng) ? "bot-\(index)" : "\(Self.pick(names, &rng))\(index)"
            let label = Int.random(in: 0..<4, using: &rng) == 0 ? Self.pick(names, &rng) : nil
            let held = Bool.random(using: &rng)
            var entry = SealedEntry(
                provider: provider, bot: bot,
                id: Bool.random(using: &rng) ? UUID().uuidString.lowercased() : names.randomElement(using: &rng),
                origin: Self.pick([.issued, .adopted, .created], &rng),
                issuedAt: Bool.random(using: &rng) ? time(&rng) : nil,
                permissionsSHA256: Bool.random(using: &rng) ? String(repeating: "ab", count: 32) : nil,
                sealedTo: held ? Array(recipients.prefix(Int.random(in: 1...3, using: &rng))) : [],
                secret: held ? armored : nil,
                pending: Self.pick([nil, nil, IssueIntent.register, .reset], &rng), label: label,
                expiresAt: Bool.random(using: &rng) ? time(&rng) : nil,
                retiring: (0..<Int.random(in: 0...2, using: &rng)).map { "old-\($0)" })
            if entry.pending != nil {
                entry.pendingTimes = (0..<Int.random(in: 0...3, using: &rng)).map { _ in time(&rng) }
            }
            entry.lostTimes = (0..<Int.random(in: 0...2, using: &rng)).map { _ in time(&rng) }
            file.entries[entry.address] = entry
        }
        return file
    }

    @Test("rendered files: the canonical reader reads them, and exactly as the YAML reader does")
    func renderedFiles() throws {
        var declined = 0
        for seed in UInt64(1)...200 {
            let file = Self.file(seed, entries: Int(seed % 12))
            let bytes = Array(file.render().utf8)
            let yaml = try SealedFile.parseYAML(bytes, path: "s.yaml")
            guard let fast = SealedFile.parseCanonical(bytes) else {
                declined += 1
                continue
            }
            #expect(fast == yaml, "seed \(seed)")
        }
        // Names with escapes or non-ASCII text are left to the YAML reader; the rest is read fast.
        #expect(declined < 150, "the fast path declined \(declined) of 200 files")
        // The shape Botform writes for plain names is always read fast.
        var plain = SealedFile(recipients: [Self.recipients[0]])
        for index in 0..<50 {
            var entry = SealedEntry(
                provider: "prod", bot: "bot-\(index)", id: "id-\(index)", origin: .issued,
                issuedAt: Date(timeIntervalSince1970: 1_764_000_000 + Double(index)),
                permissionsSHA256: String(repeating: "0f", count: 32), sealedTo: [Self.recipients[0]],
                secret: Self.armored, label: index % 5 == 0 ? "ci" : nil)
            entry.lostTimes = index % 7 == 0 ? [Date(timeIntervalSince1970: 1_764_000_000)] : []
            plain.entries[entry.address] = entry
        }
        plain.origins["prod"] = ProviderOrigin(type: .fyso, endpoint: "https://api.fyso.dev", tenant: "acme")
        let bytes = Array(plain.render().utf8)
        let fast = try #require(SealedFile.parseCanonical(bytes))
        #expect(fast == plain)
        #expect(try SealedFile.parseYAML(bytes, path: "s.yaml") == plain)
    }

    @Test("a file over a megabyte is read in two halves: the same entries; a duplicate across them declines")
    func halves() throws {
        var file = SealedFile(recipients: [Self.recipients[0]])
        for index in 0..<2_000 {
            let entry = SealedEntry(
                provider: "prod", bot: "bot-\(index)", id: "id-\(index)", origin: .issued,
                issuedAt: Date(timeIntervalSince1970: 1_764_000_000), permissionsSHA256: nil,
                sealedTo: [Self.recipients[0]], secret: Self.armored, label: index % 3 == 0 ? "ci" : nil)
            file.entries[entry.address] = entry
        }
        let text = file.render()
        #expect(text.utf8.count > 1 << 20)
        let bytes = Array(text.utf8)
        let fast = try #require(SealedFile.parseCanonical(bytes))
        #expect(fast == file)
        #expect(try SealedFile.parseYAML(bytes, path: "s.yaml") == file)
        // The first entry again at the end: a duplicate key, which the halves must not hide.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let entryStart = try #require(lines.firstIndex { $0.hasPrefix("  ") && !$0.hasPrefix("   ") })
        let nextEntry = try #require(
            lines[(entryStart + 1)...].firstIndex { $0.hasPrefix("  ") && !$0.hasPrefix("   ") })
        let duplicated = text + lines[entryStart..<nextEntry].joined(separator: "\n") + "\n"
        #expect(SealedFile.parseCanonical(Array(duplicated.utf8)) == nil)
        // A damaged line in either half declines the whole file.
        for fraction in [0.25, 0.5, 0.75] {
            var damaged = bytes
            let at = Int(Double(damaged.count) * fraction)
            let lineStart = (damaged[..<at].lastIndex(of: 0x0A) ?? 0) + 1
            damaged.insert(UInt8(ascii: "#"), at: lineStart + 1)
            let yaml = try? SealedFile.parseYAML(damaged, path: "s.yaml")
            let canonical = SealedFile.parseCanonical(damaged)
            #expect(canonical == nil || canonical == yaml)
        }
    }

    @Test("mutated files: whatever the canonical reader accepts, the YAML reader reads the same")
    func mutatedFiles() throws {
        let alphabet = Array(" :-#\"'\\\n\t|>&*!%@{}[],?~0aZ.".utf8)
        var accepted = 0
        var rng = Generator(state: 42)
        for seed in UInt64(1)...40 {
            let bytes = Array(Self.file(seed, entries: 4).render().utf8)
            for _ in 0..<60 {
                var mutated = bytes
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let at = Int.random(in: 0..<mutated.count, using: &rng)
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0: mutated.remove(at: at)
                    case 1: mutated.insert(Self.pick(alphabet, &rng), at: at)
                    case 2: mutated[at] = Self.pick(alphabet, &rng)
                    case 3:
                        // A whole line duplicated or dropped.
                        let lines = mutated.split(separator: 0x0A, omittingEmptySubsequences: false)
                        var edited = Array(lines)
                        let line = Int.random(in: 0..<lines.count, using: &rng)
                        if Bool.random(using: &rng) {
                            edited.insert(lines[line], at: line)
                        } else {
                            edited.remove(at: line)
                        }
                        mutated = Array(edited.joined(separator: [0x0A]))
                    default:
                        // Two lines swapped.
                        var lines = Array(mutated.split(separator: 0x0A, omittingEmptySubsequences: false))
                        lines.swapAt(
                            Int.random(in: 0..<lines.count, using: &rng), Int.random(in: 0..<lines.count, using: &rng))
                        mutated = Array(lines.joined(separator: [0x0A]))
                    }
                    if mutated.isEmpty { break }
                }
                guard let fast = SealedFile.parseCanonical(mutated) else { continue }
                accepted += 1
                let yaml = try? SealedFile.parseYAML(mutated, path: "s.yaml")
                #expect(
                    yaml == fast,
                    "seed \(seed): the canonical reader accepted what the YAML reader reads otherwise:\n\(String(decoding: mutated, as: UTF8.self))"
                )
            }
        }
        // Some mutations keep the file canonical (a changed letter in an id): those must be compared too.
        #expect(accepted > 25)
    }

    @Test("forms only the YAML reader takes: comments, CRLF, flow style, quotes with escapes, other times")
    func declined() throws {
        let entry = "    provider: prod\n    bot: agent\n    id: id-1\n    origin: adopted"
        let base = "version: 1\nrecipients: []\nentries:\n  prod/agent:\n\(entry)\n"
        #expect(SealedFile.parseCanonical(Array(base.utf8)) != nil)
        let variants = [
            base.replacingOccurrences(of: "\n", with: "\r\n"),
            base.replacingOccurrences(of: "id: id-1", with: "id: id-1 # a comment"),
            base.replacingOccurrences(of: "id: id-1", with: "id: \"id\\u002d1\""),
            base.replacingOccurrences(of: "id: id-1", with: "id: 'id-1'"),
            base.replacingOccurrences(
                of: "origin: adopted", with: "origin: adopted\n    issued_at: 2026-11-30T02:22:21.5Z"),
            base.replacingOccurrences(
                of: "origin: adopted", with: "origin: adopted\n    issued_at: 2026-11-30T02:22:21+01:00"),
            base.replacingOccurrences(of: "recipients: []", with: "recipients: [ ]"),
            base.replacingOccurrences(of: "version: 1", with: "version: 01"),
            base + "  prod/agent:\n\(entry)\n",
            "\u{FEFF}" + base,
        ]
        for variant in variants {
            #expect(SealedFile.parseCanonical(Array(variant.utf8)) == nil, "\(variant)")
            // Each is still a sealed file (or a located error) for the YAML reader, through `parse`.
            let viaParse = try? SealedFile.parse(Array(variant.utf8), path: "s.yaml")
            let viaYAML = try? SealedFile.parseYAML(Array(variant.utf8), path: "s.yaml")
            #expect(viaParse == viaYAML)
        }
    }

    @Test("left to the YAML reader: a key of 1,024 characters or more, a time before 1600, a file over the size limit")
    func limits() throws {
        func file(address: String, provider: String, issued: String = "2026-11-30T02:22:21Z") -> [UInt8] {
            Array(
                "version: 1\nrecipients: []\nentries:\n  \(address):\n    provider: \(provider)\n    bot: b\n    origin: adopted\n    issued_at: \(issued)\n"
                    .utf8)
        }
        #expect(SealedFile.parseCanonical(file(address: "p/b", provider: "p")) != nil)
        let long = String(repeating: "p", count: 1_100)
        #expect(SealedFile.parseCanonical(file(address: "\(long)/b", provider: long)) == nil)
        #expect(throws: SealedFileError.self) {
            try SealedFile.parse(file(address: "\(long)/b", provider: long), path: "s")
        }
        for time in ["1500-01-01T00:00:00Z", "1582-10-10T00:00:00Z", "0000-01-01T00:00:00Z"] {
            #expect(SealedFile.parseCanonical(file(address: "p/b", provider: "p", issued: time)) == nil, "\(time)")
        }
        var huge = file(address: "p/b", provider: "p")
        huge += [UInt8](repeating: 0x0A, count: 64 << 20)
        #expect(SealedFile.parseCanonical(huge) == nil)
    }

    @Test("times: the canonical reader's calendar matches Foundation's ISO 8601 parser")
    func times() throws {
        var rng = Generator(state: 7)
        for _ in 0..<2_000 {
            let date = Self.time(&rng)
            var file = SealedFile()
            file.entries["p/b"] = SealedEntry(
                provider: "p", bot: "b", id: nil, origin: .adopted, issuedAt: date, permissionsSHA256: nil,
                sealedTo: [], secret: nil)
            let fast = try #require(SealedFile.parseCanonical(Array(file.render().utf8)))
            #expect(fast.entries["p/b"]?.issuedAt == (try Date(date.formatted(.iso8601), strategy: .iso8601)))
        }
        // Leap days and the ends of months.
        for text in ["2024-02-29T23:59:59Z", "2000-02-29T00:00:00Z", "1970-01-01T00:00:00Z", "2100-12-31T12:00:00Z"] {
            let file =
                "version: 1\nrecipients: []\nentries:\n  p/b:\n    provider: p\n    bot: b\n    origin: adopted\n    issued_at: \(text)\n"
            let fast = try #require(SealedFile.parseCanonical(Array(file.utf8)))
            #expect(fast.entries["p/b"]?.issuedAt == (try Date(text, strategy: .iso8601)))
        }
        for text in ["2023-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-30T24:00:00Z"] {
            let file =
                "version: 1\nrecipients: []\nentries:\n  p/b:\n    provider: p\n    bot: b\n    origin: adopted\n    issued_at: \(text)\n"
            #expect(SealedFile.parseCanonical(Array(file.utf8)) == nil, "\(text)")
        }
    }
}
