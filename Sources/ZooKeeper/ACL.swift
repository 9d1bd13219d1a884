internal import CZooKeeper
import Foundation

/// Who may do what with a node: one entry of its access control list.
public struct ACLEntry: Sendable, Hashable {
    /// What an entry allows.
    public struct Permissions: OptionSet, Sendable, Hashable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        public static let read = Permissions(rawValue: 1 << 0)
        public static let write = Permissions(rawValue: 1 << 1)
        public static let create = Permissions(rawValue: 1 << 2)
        public static let delete = Permissions(rawValue: 1 << 3)
        public static let admin = Permissions(rawValue: 1 << 4)
        public static let all: Permissions = [.read, .write, .create, .delete, .admin]
    }

    public var permissions: Permissions
    /// `world`, `auth`, `digest`, `ip`.
    public var scheme: String
    public var id: String

    public init(permissions: Permissions, scheme: String, id: String) {
        self.permissions = permissions
        self.scheme = scheme
        self.id = id
    }

    /// Everyone may do everything (ZooKeeper's `OPEN_ACL_UNSAFE`).
    public static let anyone = ACLEntry(permissions: .all, scheme: "world", id: "anyone")

    /// The identities the creating session authenticated with (`addAuth`) get `permissions`.
    public static func creator(_ permissions: Permissions = .all) -> ACLEntry {
        ACLEntry(permissions: permissions, scheme: "auth", id: "")
    }
}

/// An `ACL_vector` built from Swift values, freed with the owner.
final class ACLVector {
    let pointer: UnsafeMutablePointer<ACL_vector>
    private let entries: UnsafeMutablePointer<ACL>
    private let count: Int

    init(_ acl: [ACLEntry]) {
        count = acl.count
        entries = .allocate(capacity: max(1, acl.count))
        for (index, entry) in acl.enumerated() {
            (entries + index).initialize(to: ACL(perms: entry.permissions.rawValue,
                                                 id: Id(scheme: strdup(entry.scheme), id: strdup(entry.id))))
        }
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: ACL_vector(count: Int32(acl.count), data: entries))
    }

    deinit {
        for index in 0..<count {
            free(entries[index].id.scheme)
            free(entries[index].id.id)
        }
        entries.deallocate()
        pointer.deallocate()
    }
}

/// What a session proves to the server and how the nodes it creates are protected.
public struct ZooKeeperAccess: Sendable {
    /// An identity added to every connection of a session (`zoo_add_auth`).
    public struct Credential: Sendable, CustomStringConvertible {
        /// `digest`, for one.
        public var scheme: String
        /// For `digest`, `user:password`. Never printed.
        public var value: String

        public init(scheme: String, value: String) {
            self.scheme = scheme
            self.value = value
        }

        public var description: String { "\(scheme) credential (hidden)" }
    }

    public var credentials: [Credential]
    private let policy: (@Sendable (String) -> [ACLEntry]?)?

    /// - Parameters:
    ///   - credentials: the identities the session authenticates as.
    ///   - acl: the ACL of a node the session creates, by its path (relative to the chroot; the
    ///     chroot itself is `/`); nil for a node open to everyone. A create that names its ACL wins.
    public init(credentials: [Credential] = [], acl: (@Sendable (String) -> [ACLEntry]?)? = nil) {
        self.credentials = credentials
        self.policy = acl
    }

    /// No credentials, every node open to everyone.
    public static let open = ZooKeeperAccess()

    func acl(_ path: String) -> [ACLEntry]? { policy?(path) }
}
