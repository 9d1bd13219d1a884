internal import CGit2

/// A git object id (SHA-1), as 40 hex digits.
public struct ObjectID: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The full hex form.
    public let hex: String

    /// Parses 40 hex digits; nil for anything else.
    public init?(hex: String) {
        guard hex.count == 40, hex.allSatisfy(\.isHexDigit) else { return nil }
        self.hex = hex.lowercased()
    }

    init(_ oid: git_oid) {
        var oid = oid
        var buffer = [CChar](repeating: 0, count: 41)
        _ = git_oid_fmt(&buffer, &oid)
        hex = String(cString: buffer)
    }

    var oid: git_oid {
        var oid = git_oid()
        _ = git_oid_fromstr(&oid, hex)
        return oid
    }

    /// The short form shown to people.
    public var short: String { String(hex.prefix(7)) }

    public var description: String { hex }
}
