import BotformCore
import Foundation

/// The JSON the `foks` CLI prints, as Botform reads it. FOKS's generated Go structs have no json tags,
/// so keys are Go field names (`CurrUserAllKeys`, `Di`, `DeviceType`); enums are integers except
/// `StatusCode` (a name such as "OK") and `Role` (a string such as "MEMBER/-5"); entity IDs are `.J…`
/// strings. Fields Botform does not use are ignored; a field it uses that is missing or of another type
/// is an error, so an answer is never half understood. These types are the client's own: the stand-in
/// has none of them.
enum FoksWire {
    /// `foks --json key list` (`lcl.KeyListRes`).
    struct KeyList: Decodable {
        var currUserAllKeys: [ActiveDeviceInfo]?

        enum CodingKeys: String, CodingKey { case currUserAllKeys = "CurrUserAllKeys" }
    }

    /// `lcl.ActiveDeviceInfo`: one key of the current user, revoked ones included.
    struct ActiveDeviceInfo: Decodable {
        var di: DeviceInfo
        /// Whether this is the key the agent acts with.
        var active: Bool?

        enum CodingKeys: String, CodingKey {
            case di = "Di"
            case active = "Active"
        }
    }

    /// `lib.DeviceInfo`.
    struct DeviceInfo: Decodable {
        /// 0 ACTIVE, 1 REVOKED.
        var status: Int
        /// Nil for keys without a label; a bot token always has one.
        var dn: DeviceLabelAndName?
        var key: MemberRole
        /// Unix milliseconds.
        var ctime: UInt64?

        enum CodingKeys: String, CodingKey {
            case status = "Status"
            case dn = "Dn"
            case key = "Key"
            case ctime = "Ctime"
        }
    }

    /// `lib.DeviceLabelAndName`.
    struct DeviceLabelAndName: Decodable {
        var label: DeviceLabel
        var name: String

        enum CodingKeys: String, CodingKey {
            case label = "Label"
            case name = "Name"
        }
    }

    /// `lib.DeviceLabel`: `DeviceType` 4 is a bot token.
    struct DeviceLabel: Decodable {
        var deviceType: Int

        enum CodingKeys: String, CodingKey { case deviceType = "DeviceType" }
    }

    /// `lib.MemberRole`: `DstRole` is the key's role, `Member.Id.Entity` its key ID.
    struct MemberRole: Decodable {
        var dstRole: String
        var entity: String

        enum CodingKeys: String, CodingKey {
            case dstRole = "DstRole"
            case member = "Member"
        }
        enum MemberKeys: String, CodingKey { case id = "Id" }
        enum IdKeys: String, CodingKey { case entity = "Entity" }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            dstRole = try container.decode(String.self, forKey: .dstRole)
            let member = try container.nestedContainer(keyedBy: MemberKeys.self, forKey: .member)
            let id = try member.nestedContainer(keyedBy: IdKeys.self, forKey: .id)
            entity = try id.decode(String.self, forKey: .entity)
        }
    }

    /// `foks status` (`lcl.AgentStatus`), which is JSON without `--json`.
    struct AgentStatus: Decodable {
        var users: [UserContext]?

        enum CodingKeys: String, CodingKey { case users = "Users" }
    }

    /// `lib.UserContext`.
    struct UserContext: Decodable {
        var info: UserInfo
        var lockStatus: Status?

        enum CodingKeys: String, CodingKey {
            case info = "Info"
            case lockStatus = "LockStatus"
        }
    }

    /// `lib.UserInfo`: the user's name, its host, and the role and ID of the key the agent uses.
    struct UserInfo: Decodable {
        var username: String
        var hostAddr: String
        var active: Bool
        var role: String
        var key: String?

        enum CodingKeys: String, CodingKey {
            case username = "Username"
            case hostAddr = "HostAddr"
            case active = "Active"
            case role = "Role"
            case key = "Key"
        }
        enum NameKeys: String, CodingKey { case name = "Name" }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            username = try container.nestedContainer(keyedBy: NameKeys.self, forKey: .username)
                .decode(String.self, forKey: .name)
            hostAddr = try container.decode(String.self, forKey: .hostAddr)
            active = try container.decode(Bool.self, forKey: .active)
            role = try container.decode(String.self, forKey: .role)
            key = try container.decodeIfPresent(String.self, forKey: .key)
        }
    }

    /// `lib.Status`: `Sc` is a status code, marshalled by name ("OK", "PASSPHRASE_LOCKED_ERROR"); a number
    /// is accepted as well.
    struct Status: Decodable {
        var code: String

        enum CodingKeys: String, CodingKey { case code = "Sc" }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if let name = try? container.decode(String.self, forKey: .code) {
                code = name
            } else {
                let number = try container.decode(Int.self, forKey: .code)
                code = Self.names[number] ?? String(number)
            }
        }

        /// The codes Botform explains (proto/lib/status.go).
        static let names = [
            0: "OK", 1033: "YUBI_LOCKED_ERROR", 1034: "PASSPHRASE_LOCKED_ERROR", 1082: "BOT_TOKEN_LOCKED_ERROR",
        ]
    }

    /// Where and why decoding failed, as `CurrUserAllKeys[3].Di.Key.DstRole: missing`. Never a value from
    /// the answer.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])): missing"
        case .valueNotFound(_, let context):
            return "\(path(context.codingPath)): null where a value is needed"
        case .typeMismatch(_, let context):
            return "\(path(context.codingPath)): of another type than expected"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)): cannot be read"
        @unknown default:
            return "cannot be read"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text.isEmpty ? "the output" : text
    }
}
