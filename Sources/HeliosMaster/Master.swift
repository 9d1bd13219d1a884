import Foundation
import HeliosModel
import HeliosStore
import Hummingbird
import Logging
import ServiceLifecycle

/// The master: the git sync loop and the HTTP API, as one service.
public struct Master: Service {
    let configuration: MasterConfiguration
    let logger: Logger

    public init(configuration: MasterConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let store = try await HeliosStore.connect(servers: configuration.zooKeeper, chroot: configuration.chroot)
        do {
            try await serve(store: store)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    private func serve(store: HeliosStore) async throws {
        let api = Application(
            router: MasterAPI(store: store).router(),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort),
                                 serverName: "helios-master"),
            logger: logger)
        let sync = try configuration.repository.map {
            try GitSync(remote: $0, branch: configuration.branch, mirrorPath: configuration.mirrorPath,
                        store: store, logger: logger)
        }
        let interval = configuration.pollInterval
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await api.run() }
            if let sync {
                group.addTask { await cancelWhenGracefulShutdown { await sync.run(every: interval) } }
            }
            try await group.waitForAll()
        }
    }
}
