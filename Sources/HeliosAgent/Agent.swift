import DockerEngine
import Foundation
import HeliosStore
import Logging
import ServiceLifecycle

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
        let registries = try DockerConfig.load(from: configuration.dockerConfig)
        let cache = TaskCache(stateDirectory: configuration.stateDirectory)
        let connectivity = Connectivity()
        let keeper = OfflineKeeper(host: configuration.name, docker: docker, cache: cache, logger: logger)
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await serveOneSession(docker: docker, registries: registries, agentID: agentID,
                                                      cache: cache, connectivity: connectivity)
                        } catch is CancellationError {
                            return
                        } catch {
                            logger.warning("agent session ended, reconnecting", metadata: ["error": "\(error)"])
                            try await Task.sleep(for: .seconds(1))
                        }
                    }
                }
                group.addTask {
                    // Without a session (ZooKeeper away since before this agent started, say),
                    // the cached tasks keep their containers running.
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(2))
                        if !Task.isCancelled && !connectivity.isOnline { await keeper.keep() }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Connects, registers and reconciles until the session expires or the agent stops.
    private func serveOneSession(docker: DockerClient, registries: DockerConfig, agentID: String, cache: TaskCache,
                                 connectivity: Connectivity) async throws {
        let store = try await HeliosStore.connect(servers: configuration.zooKeeper, chroot: configuration.chroot,
                                                  sessionTimeout: configuration.sessionTimeout)
        do {
            try await serve(store: store, docker: docker, registries: registries, agentID: agentID, cache: cache,
                            connectivity: connectivity)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// Registers the host, then wakes a reconcile pass on every watch event, reconnection and
    /// interval, and the task's supervisor on every container that dies.
    private func serve(store: HeliosStore, docker: DockerClient, registries: DockerConfig, agentID: String,
                       cache: TaskCache, connectivity: Connectivity) async throws {
        let apiVersion = try? await docker.apiVersion()
        let info = HostInfo(hostname: ProcessInfo.processInfo.hostName, agentVersion: Self.version, dockerAPIVersion: apiVersion)
        // Nothing of the host is touched before it is ours.
        while true {
            do {
                try await store.registerHost(configuration.name, agentID: agentID, info: info, labels: configuration.labels)
                break
            } catch let error as HeliosStoreError {
                guard case .hostTaken = error else { throw error }
                logger.error("\(error)")
                try await Task.sleep(for: .seconds(2))
            }
        }
        logger.info("agent registered", metadata: ["agent.id": "\(agentID)", "docker.api": "\(apiVersion ?? "unreachable")"])

        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let reconciler = Reconciler(context: HostContext(
            host: configuration.name, store: store, docker: docker,
            ports: PortLedger(allocator: PortAllocator(range: configuration.portRange)),
            reporter: StatusReporter(host: configuration.name, store: store, logger: logger),
            registries: registries, logger: logger, wake: { wake.yield() }, taskCache: cache,
            registration: Registration(agentID: agentID, info: info, labels: configuration.labels)))
        // Online from registration on; the reconciler keeps to its known tasks through short
        // outages, the offline keeper takes over only once this session is over.
        connectivity.set(true)
        defer { connectivity.set(false) }
        let host = configuration.name
        let interval = configuration.reconcileInterval
        let events = store.events()
        wake.yield()

        // The supervisors' work outlives a pass: it ends with the session, before the store closes.
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Watches only wake a pass; the pass re-reads everything (level-triggered).
                    for await event in events {
                        switch event {
                        case .tasksChanged(host), .journalFinished, .reconnected:
                            wake.yield() // after a gap, watches may have been missed
                        case .sessionExpired: logger.warning("ZooKeeper session expired; renewing it")
                        default: continue
                        }
                    }
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: interval)
                        wake.yield()
                    }
                }
                group.addTask {
                    for await _ in wakeups { await reconciler.reconcile() }
                }
                group.addTask {
                    // A container that dies is started again at once, not at the next pass.
                    while !Task.isCancelled {
                        do {
                            for try await event in docker.containerEvents(labels: ["\(HostContext.hostLabel)=\(host)"])
                            where ["die", "destroy", "oom"].contains(event.action) {
                                await reconciler.containerChanged(event)
                            }
                        } catch is CancellationError {
                            return
                        } catch {
                            logger.warning("Docker event stream ended; following it again", metadata: ["error": "\(error)"])
                            try await Task.sleep(for: .seconds(1))
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await reconciler.stop()
            throw error
        }
        await reconciler.stop()
    }
}
