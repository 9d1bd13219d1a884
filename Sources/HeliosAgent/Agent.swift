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
        let sessions = AgentSessions(agent: self, docker: docker, registries: registries, agentID: agentID, cache: cache,
                                     connectivity: connectivity)
        let group = ServiceGroup(configuration: .init(
            services: [.endsTheGroup(sessions), .endsTheGroup(OfflineKeeping(keeper: keeper, connectivity: connectivity))],
            logger: logger))
        // The group runs until the agent stops: graceful shutdown cancels it (containers stay).
        do {
            try await cancelWhenGracefulShutdown { try await group.run() }
        } catch where Task.isCancelled || Task.isShuttingDownGracefully {
            // Stopped, as asked.
        }
    }

    /// Connects, registers and reconciles until the session expires or the agent stops.
    fileprivate func serveOneSession(docker: DockerClient, registries: DockerConfig, agentID: String, cache: TaskCache,
                                 connectivity: Connectivity) async throws {
        let store = try await HeliosStore.connect(servers: configuration.zooKeeper, chroot: configuration.chroot,
                                                  sessionTimeout: configuration.sessionTimeout,
                                                  security: configuration.zooKeeperSecurity)
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
            registration: Registration(agentID: agentID, info: info, labels: configuration.labels),
            policy: configuration.policy, secrets: HostSecrets(directory: configuration.secretsDirectory)))
        // Online from registration on; the reconciler keeps to its known tasks through short
        // outages, the offline keeper takes over only once this session is over.
        connectivity.set(true)
        defer { connectivity.set(false) }
        let host = configuration.name
        let interval = configuration.reconcileInterval
        let events = store.events()
        wake.yield()

        // The session's loops end together; the supervisors' work outlives a pass and ends with
        // the session, before the store closes.
        let reporter = reconciler.context.reporter
        let loops = ServiceGroup(configuration: .init(services: [
            .endsTheGroup(WatchPump(host: host, events: events, wake: { wake.yield() }, logger: logger)),
            .endsTheGroup(ReconcileTicker(interval: interval, wake: { wake.yield() })),
            .endsTheGroup(ReconcileLoop(wakeups: wakeups, reconciler: reconciler)),
            .endsTheGroup(DockerEventFollower(host: host, docker: docker, reconciler: reconciler, logger: logger)),
            .endsTheGroup(reporter),
        ], logger: logger))
        do {
            try await loops.run()
        } catch {
            await reconciler.stop()
            throw error
        }
        await reconciler.stop()
    }
}

/// Connects to ZooKeeper, registers the host and serves it; when a session ends (the store
/// could not be reached, a loop of the session failed), the next one begins.
struct AgentSessions: Service, CustomStringConvertible {
    let agent: Agent
    let docker: DockerClient
    let registries: DockerConfig
    let agentID: String
    let cache: TaskCache
    let connectivity: Connectivity
    var description: String { "ZooKeeper sessions" }

    func run() async throws {
        while !Task.isCancelled {
            do {
                try await agent.serveOneSession(docker: docker, registries: registries, agentID: agentID, cache: cache,
                                                connectivity: connectivity)
            } catch where Task.isCancelled {
                return
            } catch {
                agent.logger.warning("agent session ended, reconnecting", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
