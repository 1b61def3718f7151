import Foundation
import Testing

@testable import BotformProviders

/// The register and reset-secret answers' fast path against JSONDecoder: on every body it either reads
/// exactly the id and secret JSONDecoder reads, or declines.
@Suite("Fyso issued-secret answer fast path")
struct FysoIssuedFastPathTests {
    static func decoded(_ body: Data) -> FysoWire.Issued? {
        (try? JSONDecoder().decode(FysoWire.Envelope<FysoWire.Issued>.self, from: body))?.data
    }

    static func same(_ a: FysoWire.Issued?, _ b: FysoWire.Issued?) -> Bool {
        a?.id == b?.id && a?.secret == b?.secret && (a == nil) == (b == nil)
    }

    static let clean = [
        #"{"success":true,"data":{"id":"b-1","name":"bot","secret":"fyso_bot_abc","tenantSlug":"t"}}"#,
        #"{"data":{"secret":"s","id":"i"}}"#,
        #" { "data" : { "id" : "i" , "secret" : "s\/\u00e9\n" , "permissions" : {"entities":{"a":["read"]}} } } "#,
        #"{"data":{"id":null,"secret":"s"}}"#,
        #"{"data":{"id":"i"}}"#,
        #"{"data":{}}"#,
        #"{"meta":[1,2.5e3,-0,true,false,null,{"x":"y"}],"data":{"id":"i","secret":"s"},"z":{}}"#,
    ]

    @Test("clean answers: the fast path takes them and reads what JSONDecoder reads")
    func cleanAnswers() throws {
        for text in Self.clean {
            let body = Data(text.utf8)
            let fast = try #require(FysoWire.Issued.fast(body), "declined \(text)")
            #expect(Self.same(fast, Self.decoded(body)), "\(text)")
            #expect(Self.same(FysoWire.Issued.read(body), Self.decoded(body)))
        }
    }

    @Test("odd answers: declined or read the same; `read` always answers as JSONDecoder does")
    func oddAnswers() {
        let odd = [
            "", "null", "[]", #"{"data":null}"#, #"{"data":[]}"#, #"{"data":"x"}"#, #"{"success":true}"#,
            #"{"data":{"id":1,"secret":"s"}}"#, #"{"data":{"id":"i","secret":2}}"#,
            #"{"data":{"id":"a","id":"b","secret":"s"}}"#, #"{"data":{"id":"i"},"data":{"id":"j"}}"#,
            #"{"data":{"id":"i","secret":"s"}} x"#, #"{"data":{"id":"i","secret":"s",}}"#,
            #"{"data":{"i\u0064":"i","secret":"s"}}"#, #"{"d\u0061ta":{"id":"i","secret":"s"}}"#,
            #"{"data":{"id":"i","secret":"\ud800"}}"#, "{\"data\":{\"id\":\"i\",\"secret\":\"a\tb\"}}",
            #"{"data":{"id":"i","secret":"s"}"#, #"{"data":{"id":"i","secret":"s"}}}"#,
        ]
        var bodies = odd.map { Data($0.utf8) }
        bodies.append(
            Data([
                0x7B, 0x22, 0x64, 0x61, 0x74, 0x61, 0x22, 0x3A, 0x7B, 0x22, 0x69, 0x64, 0x22, 0x3A, 0x22, 0xFF, 0x22,
                0x7D, 0x7D,
            ]))
        // Every clean answer cut short and with one byte changed.
        for text in Self.clean {
            let bytes = Array(text.utf8)
            for cut in stride(from: 0, to: bytes.count, by: 3) { bodies.append(Data(bytes[..<cut])) }
            for index in stride(from: 0, to: bytes.count, by: 2) {
                for replacement: UInt8 in [0x22, 0x7D, 0x2C, 0x5C, 0x00, 0x20] {
                    var changed = bytes
                    changed[index] = replacement
                    bodies.append(Data(changed))
                }
            }
        }
        for body in bodies {
            let expected = Self.decoded(body)
            if let fast = FysoWire.Issued.fast(body) {
                #expect(Self.same(fast, expected), "\(String(decoding: body, as: UTF8.self))")
            }
            #expect(Self.same(FysoWire.Issued.read(body), expected), "\(String(decoding: body, as: UTF8.self))")
        }
    }
}
