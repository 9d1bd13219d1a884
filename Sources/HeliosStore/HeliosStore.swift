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

    func countClusterRead() {
        clusterReadCount.add(1, ordering: .relaxed)
    }

    /// A store over a session of the caller's (the benchmarks measure raw ZooKeeper beside it).
    public init(session: ZooKeeperSession) {
        self.session = session
    }

    /// Connects under `chroot` and makes sure the tree's structural nodes exist.
    public static func connect(servers: String, chroot: String = "/helios",
                               sessionTimeout: Duration = .seconds(10)) async throws -> HeliosStore {
        let session = try await ZooKeeperSession.connect(servers: servers, chroot: chroot, sessionTimeout: sessionTimeout)
        let store = HeliosStore(session: session)
        do {
            try await store.createTree()
        } catch {
            await session.close()
            throw error
        }
        return store
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
