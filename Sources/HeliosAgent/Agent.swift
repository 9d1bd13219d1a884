import DockerEngine
import Foundation
import HeliosStore
import Logging
import ServiceLifecycle
import ZooKeeper

/// The agent of one host: registers it, watches its tasks and makes Docker match them.
///
/// Stopping the agent leaves containers running: they belong to the tasks, not to the agent.
public struct Agent: Service {
    public static let version = "0.1.0"

    let configuration: AgentConfiguration
    let logger: Logger

    public init(configuration: AgentConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "host"] = .string(configuration.name)
        self.logger = logger
    }

    public func run() async throws {
        let docker = DockerClient(socketPath: configuration.dockerSocket)
        let agentID = try AgentIdentity.load(from: configuration.stateDirectory)
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await serveOneSession(docker: docker, agentID: agentID)
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("agent session ended, reconnecting", metadata: ["error": "\(error)"])
                    try await Task.sleep(for: .seconds(1))
                }
            }
        }
    }

    /// Connects, registers and reconciles until the session expires or the agent stops.
    private func serveOneSession(docker: DockerClient, agentID: String) async throws {
        let store = try await HeliosStore.connect(servers: configuration.zooKeeper, chroot: configuration.chroot,
                                                  sessionTimeout: configuration.sessionTimeout)
        do {
            try await serve(store: store, docker: docker, agentID: agentID)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// Registers the host, then wakes a reconcile pass on every watch event, reconnection and interval.
    private func serve(store: HeliosStore, docker: DockerClient, agentID: String) async throws {
        let apiVersion = try? await docker.apiVersion()
        let info = HostInfo(hostname: ProcessInfo.processInfo.hostName, agentVersion: Self.version, dockerAPIVersion: apiVersion)
        // Nothing of the host is touched before it is ours.
        while true {
            do {
                try await store.registerHost(configuration.name, agentID: agentID, info: info)
                break
            } catch let error as HeliosStoreError {
                guard case .hostTaken = error else { throw error }
                logger.error("\(error)")
                try await Task.sleep(for: .seconds(2))
            }
        }
        logger.info("agent registered", metadata: ["agent.id": "\(agentID)", "docker.api": "\(apiVersion ?? "unreachable")"])

        let reconciler = Reconciler(host: configuration.name, store: store, docker: docker,
                                    ports: PortAllocator(range: configuration.portRange), logger: logger)
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let host = configuration.name
        let interval = configuration.reconcileInterval
        let events = store.session.watchEvents()
        let states = store.session.stateChanges()
        wake.yield()

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // Watches only wake a pass; the pass re-reads everything (level-triggered).
                for await event in events where HeliosStore.concernsTasks(of: host, event) { wake.yield() }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: interval)
                    wake.yield()
                }
            }
            group.addTask {
                for await state in states {
                    switch state {
                    case .expired: logger.warning("ZooKeeper session expired; renewing it")
                    case .connected, .renewed: wake.yield() // watches may have been missed while away
                    default: continue
                    }
                }
            }
            group.addTask {
                for await _ in wakeups { await reconciler.reconcile() }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
