import ArgumentParser
import DockerEngine
import Foundation
import HeliosAgent
import ServiceLifecycle

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run an agent: register this host and run its tasks' containers.")

    @OptionGroup var options: DaemonOptions

    @Option(help: "This host's name in Helios.")
    var name = ProcessInfo.processInfo.hostName

    @Option(help: "The Docker engine's unix socket (default: $DOCKER_HOST, else /var/run/docker.sock).")
    var dockerSocket = DockerClient.defaultSocketPath

    @Option(help: "How often a full reconcile pass runs without any event, e.g. 30s.")
    var reconcileInterval = DurationArgument(argument: "30s")!

    @Option(help: "Where the agent keeps its id across restarts (default: /var/lib/helios/agent-<name>).")
    var stateDir: String?

    func run() async throws {
        let logger = options.bootstrapLogging(label: "helios.agent")
        let agent = Agent(configuration: AgentConfiguration(
            name: name, zooKeeper: try options.zooKeeperServers(), chroot: options.chroot,
            dockerSocket: dockerSocket, reconcileInterval: reconcileInterval.duration, stateDirectory: stateDir),
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [agent], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
