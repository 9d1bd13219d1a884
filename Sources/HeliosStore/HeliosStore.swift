import Foundation
import HeliosModel
import Synchronization
import ZooKeeper

/// Helios' state in ZooKeeper, behind domain operations.
public final class HeliosStore: Sendable {
    /// The session the store uses. Only the store speaks ZooKeeper: its users see `events()`.
    let session: ZooKeeperSession
    private let clusterReadCount = Atomic<Int>(0)
    /// This store's election candidates are named `n_<token>-<seq>`: after a lost reply or a
    /// lost delete, it finds its own node again instead of standing twice (Curator's protected mode).
    let candidatePrefix = "n_\(UUID().uuidString.prefix(13).lowercased())-"

    /// How many times this store read the whole cluster (`readCluster`): what a leader with a
    /// current picture of the cluster avoids.
    public var clusterReads: Int { clusterReadCount.load(ordering: .relaxed) }

    /// How many reads and writes this store's session sent to ZooKeeper so far.
    public var zooKeeperRequests: (reads: Int, writes: Int) {
        let counts = session.requests
        return (counts.reads, counts.writes)
    }

    func countClusterRead() {
        clusterReadCount.add(1, ordering: .relaxed)
    }

    /// A store over a session of the caller's (the benchmarks measure raw ZooKeeper beside it).
    public init(session: ZooKeeperSession) {
        self.session = session
    }

    /// Connects under `chroot` and makes sure the tree's structural nodes exist. With
    /// `security`, the session authenticates and creates nodes with the tree's ACLs (`TreeAccess`).
    public static func connect(servers: String, chroot: String = "/helios", sessionTimeout: Duration = .seconds(10),
                               security: StoreSecurity = .open) async throws -> HeliosStore {
        let access = try await access(for: security, servers: servers, chroot: chroot)
        let session = try await ZooKeeperSession.connect(servers: servers, chroot: chroot, sessionTimeout: sessionTimeout,
                                                         access: access)
        let store = HeliosStore(session: session)
        do {
            try await store.checkAccess(security, chroot: chroot)
            try await store.createTree()
        } catch {
            await session.close()
            throw error
        }
        return store
    }

    /// Applies the tree's ACLs to every node under `chroot` (a tree that was open, or re-applied),
    /// as the master's identity; returns how many nodes were secured. Nodes made meanwhile by an
    /// open client keep their open ACL: stop the cluster's processes first, or run it again.
    public static func secure(servers: String, chroot: String = "/helios", master: ZooKeeperIdentity) async throws -> Int {
        let access = try TreeAccess(master: master)
        let session = try await ZooKeeperSession.connect(servers: servers, chroot: chroot,
                                                         access: ZooKeeperAccess(credentials: [master.credential],
                                                                                 acl: access.policy))
        let store = HeliosStore(session: session)
        do {
            try await store.createTree()
            try await store.recordOwner(master)
            let count = try await store.apply(access)
            await session.close()
            return count
        } catch {
            await session.close()
            throw error
        }
    }

    /// The session's credentials and ACLs for `security`. An agent first learns the master's id
    /// from `/status/hosts` (which only the master writes) with a session of its own.
    private static func access(for security: StoreSecurity, servers: String, chroot: String) async throws -> ZooKeeperAccess {
        switch security {
        case .open:
            return .open
        case .master(let identity):
            return ZooKeeperAccess(credentials: [identity.credential], acl: try TreeAccess(master: identity).policy)
        case .agent(let host, let shared, let own):
            let credentials = [shared.credential, own.credential]
            let probe = try await ZooKeeperSession.connect(servers: servers, access: ZooKeeperAccess(credentials: credentials))
            let acl: [ACLEntry]
            let owner: Data
            do {
                let hosts = (chroot == "/" ? "" : chroot) + Paths.statusHosts
                acl = try await probe.acl(of: hosts).acl
                owner = try await probe.get(hosts).data
                await probe.close()
            } catch let error as ZooKeeperError where error.code == .noNode {
                await probe.close()
                throw HeliosStoreError.accessDenied("no master has made the ZooKeeper tree \(chroot) yet; an agent "
                    + "with credentials waits for a master started with --zk-auth-file")
            } catch let error as ZooKeeperError where error.code == .noAuth {
                await probe.close()
                throw HeliosStoreError.accessDenied("ZooKeeper refuses the agents' identity (\(ZooKeeperIdentity.agentsUser)): "
                    + "it is not the one the master's credentials give; make the file again with `helios zk credentials \(host)`")
            } catch {
                await probe.close()
                throw error
            }
            // ZooKeeper shows a digest ACL's hash only to an admin of the node: the master's id is
            // the data of /status/hosts, which only the master may write.
            guard !acl.contains(.anyone), let master = try? CanonicalJSON.decode(TreeOwner.self, from: owner).master
            else { throw HeliosStoreError.openTree(chroot) }
            let tree = TreeAccess(master: master, agents: shared.id) { $0 == host ? own.id : nil }
            return ZooKeeperAccess(credentials: credentials, acl: tree.policy)
        }
    }

    /// Refuses a tree secured when this store has no credentials, and an open tree when it has:
    /// a clear word at start-up instead of a refused write later.
    private func checkAccess(_ security: StoreSecurity, chroot: String) async throws {
        switch security {
        case .open:
            do {
                _ = try await session.children("/")
            } catch let error as ZooKeeperError where error.code == .noAuth {
                throw HeliosStoreError.accessDenied("the ZooKeeper tree \(chroot) is secured; give this process "
                    + "its credentials with --zk-auth-file")
            }
        case .master(let identity):
            if try await session.acl(of: "/").acl.contains(.anyone) { throw HeliosStoreError.openTree(chroot) }
            try await recordOwner(identity)
        case .agent:
            break // checked before connecting
        }
    }

    /// Tells agents the master's id (they put it in the ACL of each node they create).
    private func recordOwner(_ master: ZooKeeperIdentity) async throws {
        try await session.createPath(Paths.statusHosts)
        try await session.set(Paths.statusHosts, data: CanonicalJSON.encode(TreeOwner(master: master.id)))
    }

    /// Sets `access`'s ACL on every node, a level at a time, each level pipelined.
    private func apply(_ access: TreeAccess) async throws -> Int {
        var level = ["/"]
        var count = 0
        while !level.isEmpty {
            let children = try await concurrently(level, window: 256) { path -> [String] in
                try await self.session.setACL(path, access.acl(for: path))
                return try await self.children(path).map { (path == "/" ? "" : path) + "/" + $0 }
            }
            count += level.count
            level = children.flatMap { $0 }
        }
        return count
    }

    /// Closes the session; the agent's ephemeral `up` node goes with it.
    public func close() async {
        await session.close()
    }

    /// How long ZooKeeper takes to answer one read, or nil when it does not answer.
    public func roundTrip() async -> Duration? {
        let start = ContinuousClock.now
        guard (try? await session.exists("/")) != nil else { return nil }
        return .now - start
    }

    private func createTree() async throws {
        for path in Paths.tree where try await session.exists(path) == nil {
            try await session.createPath(path)
        }
        if try await session.exists(Paths.configVersion) == nil {
            do {
                try await session.create(Paths.configVersion, data: Data("0".utf8))
            } catch let error as ZooKeeperError where error.code == .nodeExists {}
        }
    }

    // MARK: Reading

    func decode<T: Decodable>(_ type: T.Type, at path: String, watch: Bool = false) async throws -> T? {
        try await versioned(type, at: path, watch: watch).value
    }

    /// A node's value and the version of the node; nil and -1 when it does not exist.
    func versioned<T: Decodable>(_ type: T.Type, at path: String, watch: Bool = false) async throws -> (value: T?, version: Int32) {
        let node: (data: Data, stat: NodeStat)
        do {
            node = try await session.get(path, watch: watch)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return (nil, -1)
        }
        do {
            return (try CanonicalJSON.decode(type, from: node.data), node.stat.version)
        } catch {
            throw HeliosStoreError.corrupt(path: path, reason: "\(error)")
        }
    }

    /// Many nodes at once, pipelined; nil for each that does not exist.
    func decodeAll<T: Decodable & Sendable>(_ type: T.Type, at paths: [String], watch: Bool = false) async throws -> [T?] {
        try await concurrently(paths, window: 256) { try await self.decode(type, at: $0, watch: watch) }
    }

    /// Sets a node's data, creating the node when it does not exist.
    func put(_ path: String, _ data: Data) async throws {
        do {
            try await session.set(path, data: data)
        } catch let error as ZooKeeperError where error.code == .noNode {
            do {
                try await session.create(path, data: data)
            } catch let error as ZooKeeperError where error.code == .nodeExists {
                try await session.set(path, data: data) // created meanwhile by another writer
            }
        }
    }

    /// Children of `path`, or none when it does not exist.
    func children(_ path: String, watch: Bool = false) async throws -> [String] {
        do {
            return try await session.children(path, watch: watch)
        } catch let error as ZooKeeperError where error.code == .noNode {
            return []
        }
    }
}

/// The data of `/status/hosts` in a secured tree: the digest id of the master's identity.
struct TreeOwner: Codable {
    var master: String
}
