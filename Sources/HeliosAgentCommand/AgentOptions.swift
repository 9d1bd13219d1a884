import ArgumentParser
import DockerEngine
import Foundation
import HeliosAgent
import HeliosModel
import ServiceLifecycle

/// An agent's flags, and the agent they start: `helios agent` and `helios-agent` alike.
public struct AgentOptions: ParsableArguments {
    public static let abstract = "Run an agent: register this host and run its tasks' containers."

    public init() {}

    @OptionGroup var options: DaemonOptions

    // Defaults computed at run time are optional here, so the help names each default once.
    @Option(help: "This host's name in Helios (default: the machine's host name).")
    var name: String?

    @Option(help: "The Docker engine's unix socket (default: $DOCKER_HOST, else /var/run/docker.sock).")
    var dockerSocket: String?

    @Option(help: "How often a full reconcile pass runs without any event, e.g. 30s.")
    var reconcileInterval = DurationArgument(argument: "30s")!

    @Option(help: "Where the agent keeps its id across restarts (default: /var/lib/helios/agent-<name>).")
    var stateDir: String?

    @Option(help: "Host ports for tasks' dynamic ports, e.g. 20000-32767.")
    var portRange = "20000-32767"

    @Option(help: "This host's labels, which deployments' host selectors match: key=value[,key=value…].")
    var labels = ""

    @Option(help: "The ZooKeeper session timeout: a host whose agent is gone is DOWN after it, e.g. 10s.")
    var sessionTimeout = DurationArgument(argument: "10s")!

    @Option(help: "The docker config file with registry credentials for image pulls (default: $DOCKER_CONFIG/config.json, else ~/.docker/config.json).")
    var dockerConfig: String?

    @Option(help: "Host directories jobs may mount (with what is below them), comma-separated; default none. /etc, /proc, /sys and the Docker socket only when named exactly.")
    var allowVolumeRoot: [String] = []

    @Option(help: "Capabilities jobs may add, comma-separated; default none.")
    var allowCapability: [String] = []

    @Flag(help: "Let jobs ask for what is as good as --privileged: SYS_ADMIN, ALL, seccomp/apparmor/systempaths=unconfined.")
    var allowPrivileged = false

    @Option(help: "Network modes jobs may use beyond bridge and none: host, container; comma-separated.")
    var allowNetworkMode: [String] = []

    @Option(help: "The directory of this host's secrets, one file per secret (mode 600, the agent's user's), which jobs reference as env: {NAME: {secret: FILE}}.")
    var secretsDir: String?

    /// The host's policy from the flags.
    var policy: HostPolicy {
        func list(_ values: [String]) -> [String] {
            values.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
        }
        return HostPolicy(volumeRoots: list(allowVolumeRoot), capabilities: Set(list(allowCapability)),
                          allowPrivileged: allowPrivileged, networkModes: Set(list(allowNetworkMode)))
    }

    /// Runs the agent until SIGTERM or SIGINT.
    public func run() async throws {
        let bounds = portRange.split(separator: "-").compactMap { Int($0) }
        guard bounds.count == 2, bounds[0] > 0, bounds[0] <= bounds[1], bounds[1] < 65_536 else {
            throw CLIError("--port-range: expected FIRST-LAST, e.g. 20000-32767, not '\(portRange)'")
        }
        var hostLabels: [String: String] = [:]
        for pair in labels.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw CLIError("--labels: expected key=value[,key=value…], not '\(pair)'")
            }
            hostLabels[parts[0]] = parts[1]
        }
        let logger = options.bootstrapLogging(label: "helios.agent")
        var configuration = AgentConfiguration(
            name: name ?? ProcessInfo.processInfo.hostName, zooKeeper: try options.zooKeeperServers(), chroot: options.chroot,
            dockerSocket: dockerSocket ?? DockerClient.defaultSocketPath, reconcileInterval: reconcileInterval.duration,
            sessionTimeout: sessionTimeout.duration, stateDirectory: stateDir, portRange: bounds[0]...bounds[1],
            labels: hostLabels, dockerConfig: dockerConfig ?? DockerConfig.defaultPath)
        configuration.policy = policy
        configuration.secretsDirectory = secretsDir
        configuration.zooKeeperSecurity = try options.zooKeeperSecurity(host: configuration.name)
        let agent = Agent(configuration: configuration, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [agent], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
