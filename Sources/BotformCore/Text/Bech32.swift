/// Bech32 (BIP 173) as age uses it for keys: no length limit, one case throughout.
public enum Bech32 {
    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case mixedCase
        case noSeparator
        case invalidCharacter(Character)
        case tooShort
        case badChecksum

        public var description: String {
            switch self {
            case .mixedCase: "mixes upper and lower case"
            case .noSeparator: "has no \"1\" separator"
            case .invalidCharacter(let character): "contains \"\(character)\", which Bech32 does not use"
            case .tooShort: "is too short"
            case .badChecksum: "has a bad checksum (a character was mistyped or lost)"
            }
        }
    }

    private static let alphabet = Array("qpzry9x8gf2tvdw0s3jn54khce6mua7l".utf8)
    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    private static func polymod(_ values: [UInt8]) -> UInt32 {
        let generators: [UInt32] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3]
        var checksum: UInt32 = 1
        for value in values {
            let top = checksum >> 25
            checksum = (checksum & 0x1ff_ffff) << 5 ^ UInt32(value)
            for i in 0..<5 where (top >> i) & 1 == 1 { checksum ^= generators[i] }
        }
        return checksum
    }

    private static func expand(_ hrp: [UInt8]) -> [UInt8] {
        hrp.map { $0 >> 5 } + [0] + hrp.map { $0 & 31 }
    }

    /// Encodes `data` under the human-readable part `hrp` (lower case).
    public static func encode(hrp: String, data: [UInt8]) -> String {
        let hrpBytes = Array(hrp.lowercased().utf8)
        let values = convertBits(data, from: 8, to: 5, pad: true) ?? []
        let checksumInput = expand(hrpBytes) + values + [0, 0, 0, 0, 0, 0]
        let mod = polymod(checksumInput) ^ 1
        let checksum = (0..<6).map { UInt8((mod >> (5 * (5 - UInt32($0)))) & 31) }
        let encoded = (values + checksum).map { alphabet[Int($0)] }
        return hrp.lowercased() + "1" + String(decoding: encoded, as: UTF8.self)
    }

    /// Decodes a Bech32 string into its lower-cased human-readable part and data bytes.
    public static func decode(_ text: String) throws(DecodeError) -> (hrp: String, data: [UInt8]) {
        let bytes = Array(text.utf8)
        let hasLower = bytes.contains { (97...122).contains($0) }
        let hasUpper = bytes.contains { (65...90).contains($0) }
        if hasLower && hasUpper { throw .mixedCase }
        let lowered = bytes.map { (65...90).contains($0) ? $0 + 32 : $0 }
        guard let separator = lowered.lastIndex(of: UInt8(ascii: "1")) else { throw .noSeparator }
        guard separator >= 1, lowered.count - separator - 1 >= 6 else { throw .tooShort }
        let hrp = Array(lowered[..<separator])
        if let bad = hrp.first(where: { $0 < 33 || $0 > 126 }) {
            throw .invalidCharacter(Character(Unicode.Scalar(bad)))
        }
        var values: [UInt8] = []
        values.reserveCapacity(lowered.count - separator - 1)
        for byte in lowered[(separator + 1)...] {
            guard byte < 128, reverse[Int(byte)] >= 0 else {
                throw .invalidCharacter(Character(Unicode.Scalar(byte)))
            }
            values.append(UInt8(reverse[Int(byte)]))
        }
        guard polymod(expand(hrp) + values) == 1 else { throw .badChecksum }
        // Bits that do not fill a byte are dropped; age keys always fill whole bytes.
        let data = convertBits(Array(values.dropLast(6)), from: 5, to: 8, pad: false) ?? []
        return (String(decoding: hrp, as: UTF8.self), data)
    }

    static func convertBits(_ data: [UInt8], from: Int, to: Int, pad: Bool) -> [UInt8]? {
        var accumulator = 0
        var bits = 0
        var result: [UInt8] = []
        let maxValue = (1 << to) - 1
        for value in data {
            guard Int(value) >> from == 0 else { return nil }
            accumulator = (accumulator << from) | Int(value)
            bits += from
            while bits >= to {
                bits -= to
                result.append(UInt8((accumulator >> bits) & maxValue))
            }
        }
        if pad {
            if bits > 0 { result.append(UInt8((accumulator << (to - bits)) & maxValue)) }
        } else if bits >= from || (accumulator << (to - bits)) & maxValue != 0 {
            return nil
        }
        return result
    }
}
