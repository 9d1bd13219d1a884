/// The metadata ZooKeeper keeps for every node.
public struct NodeStat: Sendable, Equatable {
    public var createdZxid: Int64
    public var modifiedZxid: Int64
    public var createdTime: Int64
    public var modifiedTime: Int64
    /// The data version: the `version` argument of `set` and `delete` checks against it.
    public var version: Int32
    public var childVersion: Int32
    public var aclVersion: Int32
    /// The session that owns an ephemeral node, 0 for a persistent one.
    public var ephemeralOwner: Int64
    public var dataLength: Int32
    public var numberOfChildren: Int32
}

/// How `create` makes a node.
public enum CreateMode: Sendable {
    case persistent
    case ephemeral
    case persistentSequential
    case ephemeralSequential
}

/// The state of a session, as ZooKeeper reports it.
public enum SessionState: Sendable, Equatable {
    case connecting
    case connected
    /// The server expired the session: its ephemeral nodes and watches are gone.
    case expired
    /// A new session replaced the expired one: ephemeral nodes made with `createEphemeral`
    /// are back, watches are armed again and have fired once. Re-read what you watch.
    case renewed
    case authFailed
    case closed
}

/// A watch that fired: something changed at `path`.
public struct WatchEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case created
        case deleted
        case dataChanged
        case childrenChanged
    }

    public var kind: Kind
    public var path: String

    public init(kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }
}
