import Crypto
import Foundation
import ZooKeeper

/// A ZooKeeper digest identity: a user and its password. The password never prints.
public struct ZooKeeperIdentity: Sendable, Equatable, CustomStringConvertible {
    public let user: String
    let password: String

    /// The agents' shared identity: it reads the configuration and registers hosts.
    public static let agentsUser = "helios-agents"
    /// The identity of the agent on `host`: only it writes the host's status and history.
    public static func agentUser(_ host: String) -> String { "agent-\(host)" }

    public init(user: String, password: String) throws {
        guard !user.isEmpty, !user.contains(":"), !user.contains(where: \.isWhitespace) else {
            throw CredentialsError("a ZooKeeper user name must be non-empty, without ':' or spaces (got '\(user)')")
        }
        guard password.count >= 16 else {
            throw CredentialsError("the password of ZooKeeper user '\(user)' is shorter than 16 characters")
        }
        self.user = user
        self.password = password
    }

    /// A new identity with a random password.
    public static func generate(user: String) throws -> ZooKeeperIdentity {
        try ZooKeeperIdentity(user: user, password: Self.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }))
    }

    /// The id ZooKeeper's digest scheme keeps in ACLs: `user:base64(sha1(user:password))`.
    public var id: String {
        "\(user):" + Data(Insecure.SHA1.hash(data: Data("\(user):\(password)".utf8))).base64EncodedString()
    }

    /// An identity derived from this one (the master's): its password is an HMAC of `user` keyed by
    /// this password, so the master knows every agent's id without a list, and an agent's
    /// credentials give away neither the master's nor another agent's.
    public func derived(user: String) throws -> ZooKeeperIdentity {
        let code = HMAC<SHA256>.authenticationCode(for: Data("helios zookeeper identity \(user)".utf8),
                                                   using: SymmetricKey(data: Data(password.utf8)))
        return try ZooKeeperIdentity(user: user, password: Self.encode(Data(code)))
    }

    var credential: ZooKeeperAccess.Credential { .init(scheme: "digest", value: "\(user):\(password)") }

    /// The line of a credentials file.
    public var line: String { "\(user):\(password)" }

    public var description: String { "ZooKeeper user \(user)" }

    private static func encode(_ bytes: Data) -> String {
        bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// A credentials file that cannot be used.
public struct CredentialsError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// How a store authenticates to ZooKeeper and protects the nodes it creates.
public enum StoreSecurity: Sendable {
    /// No credentials; nodes open to everyone (a cluster without `--zk-auth-file`).
    case open
    /// The master's identity: it owns the tree.
    case master(ZooKeeperIdentity)
    /// An agent: the agents' shared identity and its host's own.
    case agent(host: String, shared: ZooKeeperIdentity, own: ZooKeeperIdentity)

    /// Reads a credentials file (`user:password` per line, `#` comments), which must be readable
    /// by its owner only. One identity is the master's; `helios-agents` with `agent-<host>` an agent's.
    public static func load(_ path: String, host: String? = nil) throws -> StoreSecurity {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let attributes, let contents = FileManager.default.contents(atPath: path) else {
            throw CredentialsError("cannot read the ZooKeeper credentials file \(path)")
        }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw CredentialsError("the ZooKeeper credentials file \(path) is readable by others (mode "
                + String(mode & 0o777, radix: 8) + "); chmod 600 it")
        }
        let identities = try String(decoding: contents, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
            .map { line -> ZooKeeperIdentity in
                guard let colon = line.firstIndex(of: ":") else {
                    throw CredentialsError("\(path): a line is not user:password")
                }
                return try ZooKeeperIdentity(user: String(line[..<colon]), password: String(line[line.index(after: colon)...]))
            }
        if let host {
            let own = ZooKeeperIdentity.agentUser(host)
            guard let shared = identities.first(where: { $0.user == ZooKeeperIdentity.agentsUser }),
                  let mine = identities.first(where: { $0.user == own }) else {
                throw CredentialsError("\(path) must hold the identities \(ZooKeeperIdentity.agentsUser) and \(own) "
                    + "(helios zk credentials \(host) makes them)")
            }
            return .agent(host: host, shared: shared, own: mine)
        }
        guard identities.count == 1, let master = identities.first else {
            throw CredentialsError("\(path) must hold exactly one identity, the master's")
        }
        return .master(master)
    }

    /// The credentials file of the agent on `host`, from the master's identity.
    public static func agentFile(host: String, master: ZooKeeperIdentity) throws -> String {
        """
        # ZooKeeper credentials of the Helios agent on \(host). Keep it readable by root only.
        \(try master.derived(user: ZooKeeperIdentity.agentsUser).line)
        \(try master.derived(user: ZooKeeperIdentity.agentUser(host)).line)

        """
    }
}

/// Who may do what in the Helios tree (DESIGN.md §4), as one rule per path: the master's
/// identity everything everywhere; the agents' shared identity reads the configuration and the
/// journal and may add hosts and job histories; each agent's own identity everything in its
/// host's status and its host's part of each job's history; anyone else nothing. The master's
/// stores create with it, agents' stores create their own nodes with it, and `secure` applies it
/// to a tree that was open.
public struct TreeAccess: Sendable {
    /// Digest ids (`user:hash`).
    public let master: String
    public let agents: String
    /// The id of the agent on a host, when known (an agent knows only its own).
    let agent: @Sendable (String) -> String?

    public init(master: String, agents: String, agent: @escaping @Sendable (String) -> String?) {
        self.master = master
        self.agents = agents
        self.agent = agent
    }

    /// What the master knows: every id follows from its identity.
    public init(master identity: ZooKeeperIdentity) throws {
        let agents = try identity.derived(user: ZooKeeperIdentity.agentsUser).id
        self.init(master: identity.id, agents: agents) { host in
            try? identity.derived(user: ZooKeeperIdentity.agentUser(host)).id
        }
    }

    /// The ACL of the node at `path` (relative to the chroot; the chroot itself is `/`).
    public func acl(for path: String) -> [ACLEntry] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var acl = [ACLEntry(permissions: .all, scheme: "digest", id: master)]
        func grant(_ permissions: ACLEntry.Permissions, to id: String?) {
            if let id { acl.append(ACLEntry(permissions: permissions, scheme: "digest", id: id)) }
        }
        switch parts.first {
        case nil, "config",
             "status" where parts.count == 1,
             "history" where parts.count == 1:
            grant(.read, to: agents)
        case "status" where parts[1] == "hosts":
            if parts.count == 2 { grant([.read, .create], to: agents) } else { grant(.all, to: agent(parts[2])) }
        case "history" where parts[1] == "jobs":
            // history/jobs/<job>/hosts/<host>/events/<seq>
            if parts.count <= 4 { grant([.read, .create], to: agents) } else { grant(.all, to: agent(parts[4])) }
        default:
            break // /sync, /masters, /audit, /status/deployments: the master's alone
        }
        return acl
    }

    /// The ACL of a session under this access (the argument of `ZooKeeperAccess`).
    var policy: @Sendable (String) -> [ACLEntry]? { { [self] path in acl(for: path) } }
}
