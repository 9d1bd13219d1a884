import Foundation
import HeliosModel
import HeliosStore
import Hummingbird
import HummingbirdTLS
import Logging
import ServiceLifecycle
import Synchronization

/// The master: the HTTP API, served by every master, and — on the one the ZooKeeper election
/// made leader — the git sync loop.
public struct Master: Service {
    let configuration: MasterConfiguration
    let logger: Logger

    public init(configuration: MasterConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        if case .open = configuration.zooKeeperSecurity {
            logger.warning("no --zk-auth-file: the ZooKeeper tree is open to every client that reaches ZooKeeper")
        }
        let store = try await HeliosStore.connect(servers: configuration.zooKeeper, chroot: configuration.chroot,
                                                  sessionTimeout: configuration.sessionTimeout,
                                                  security: configuration.zooKeeperSecurity)
        do {
            try await serve(store: store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    private func serve(store: HeliosStore) async throws {
        let metrics = MasterMetrics()
        let leadership = Leadership(metrics: metrics)
        let api = Application(
            router: MasterAPI(store: store, leadership: leadership, access: configuration.access,
                              browseURL: configuration.repoBrowseURL, secure: configuration.tls != nil).router(),
            server: try configuration.tls?.server() ?? .http1(),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort),
                                 serverName: "helios-master"),
            logger: logger)
        let picture = ClusterPicture()
        let sync = try configuration.repository.map {
            try GitSync(remote: $0, branch: configuration.branch, subpath: configuration.subpath,
                        credentials: configuration.gitCredentials, fetchTimeout: configuration.fetchTimeout,
                        verifier: configuration.commitVerifier, mirrorPath: configuration.mirrorPath,
                        store: store, logger: logger, metrics: metrics, picture: picture)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await api.run() }
            group.addTask { await cancelWhenGracefulShutdown { await lead(store: store, sync: sync, picture: picture, leadership: leadership) } }
            try await group.waitForAll()
        }
    }

    /// Stands for election and, while this master leads, runs the leader's work. Its node goes
    /// with its session, so a master that dies is replaced once ZooKeeper expires it; one whose
    /// session expired steps down and stands again.
    private func lead(store: HeliosStore, sync: GitSync?, picture: ClusterPicture, leadership: Leadership) async {
        let id = "http://\(configuration.httpHost):\(configuration.httpPort)"
        while !Task.isCancelled {
            var candidacy: Candidacy?
            do {
                let standing = try await store.standForElection(id: id)
                candidacy = standing
                try await store.awaitLeadership(standing)
                leadership.lead(true)
                logger.info("leading", metadata: ["election.node": "\(standing.name)"])
                try await work(store: store, sync: sync, picture: picture)
            } catch is CancellationError {
            } catch {
                logger.warning("not leading", metadata: ["error": "\(error)"])
            }
            leadership.lead(false)
            if let candidacy { await store.withdraw(candidacy) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// The leader's work, until the session expires (the election node went with it).
    private func work(store: HeliosStore, sync: GitSync?, picture: ClusterPicture) async throws {
        picture.forget() // what another leader wrote meanwhile is read afresh
        let events = store.events()
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let interval = configuration.pollInterval
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // `POST /v1/sync` on any master: sync now. Hosts changing: the next drift check reads
                // them. Only the session expiring ends the lead (the candidacy went with it); a watch
                // that could not be armed while ZooKeeper was away is armed again once it is back.
                if sync != nil { try? await store.watchSyncRequests() }
                for await event in events {
                    switch event {
                    case .sessionExpired: throw HeliosStoreError.lostCandidacy
                    case .hostsChanged: await sync?.hostsChanged()
                    case .syncRequested, .reconnected:
                        guard sync != nil else { continue }
                        wake.yield()
                        try? await store.watchSyncRequests()
                    default: continue
                    }
                }
            }
            let rollouts = RolloutController(store: store, logger: logger, picture: picture)
            group.addTask { try await rollouts.run(every: RolloutController.interval) }
            if let sync {
                group.addTask { await sync.run(wakeups: wakeups) }
                group.addTask {
                    while true {
                        wake.yield()
                        try await Task.sleep(for: await sync.pollInterval(or: interval))
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

/// Whether this master leads now, for the API and the metrics.
final class Leadership: Sendable {
    private let leading = Atomic(false)
    let metrics: MasterMetrics

    init(metrics: MasterMetrics = MasterMetrics()) {
        self.metrics = metrics
    }

    func lead(_ value: Bool) {
        leading.store(value, ordering: .relaxed)
        metrics.leading(value)
    }

    var isLeading: Bool { leading.load(ordering: .relaxed) }
}
